//! The bare broadcast: the baseline for the live rows of the report. A
//! minimal WebSocket server (tokio + tokio-tungstenite, default
//! configuration) that answers a session's `watch` with one `slots` frame
//! and, whenever any connection sends [`TRIGGER`], sends one identical
//! frame to every watching session — the simplest fast fan-out: the frame
//! is one shared `Utf8Bytes` (a reference count, never copied before the
//! socket's own write buffer), handed through a `tokio::sync::broadcast`
//! channel to one task per connection, which reads the client's frames and
//! writes what the channel brings.
//!
//! It runs as a child process (`loadtest bare-broadcast-server`, started by
//! `report` from this same binary), so its resident memory per idle session
//! can be read apart from the load client's, as the real server's is.
//! Measured with the same client code as `live` (`live::measure`).

use std::{
    io::BufRead,
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    process::{Child, Command, Stdio},
    time::Instant,
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::broadcast::{self, error::RecvError},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, Utf8Bytes},
};

use crate::live::{self, LiveResult, Target, Trigger};

/// The message that makes the bare server broadcast (from a connection that
/// does not watch: the load client's "booker").
pub const TRIGGER: &str = r#"{"type":"broadcast"}"#;

/// A `slots` frame of the real server's shape, for a standalone run without
/// `--frame-file` (the report passes the frame the real server sent).
const SAMPLE_FRAME: &str = r#"{"from":"2027-06-01","provider":"live-sample","service":"019ae4f1-6c1d-7cc2-9d5c-1b2f0c8e4a11","slots":[{"end":"2027-06-01T11:00:00+02:00","start":"2027-06-01T10:00:00+02:00"},{"end":"2027-06-01T12:00:00+02:00","start":"2027-06-01T11:00:00+02:00"},{"end":"2027-06-01T13:00:00+02:00","start":"2027-06-01T12:00:00+02:00"}],"to":"2027-06-01","type":"slots"}"#;

/// Serves forever on `listener`: every connection answered by [`session`].
pub async fn serve(listener: TcpListener, frame: Utf8Bytes) -> anyhow::Result<()> {
    let (pushes, _) = broadcast::channel::<Utf8Bytes>(64);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of descriptors, say: the client's open will time out and say so.
                eprintln!("bare-broadcast-server: accept: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let (pushes, frame) = (pushes.clone(), frame.clone());
        tokio::spawn(async move {
            let _ = session(stream, pushes, frame).await;
        });
    }
}

/// One connection: a `watch` subscribes it and gets the frame at once,
/// [`TRIGGER`] sends the frame to every subscriber; anything else is read
/// and ignored (pings are answered by tungstenite).
async fn session(stream: TcpStream, pushes: broadcast::Sender<Utf8Bytes>, frame: Utf8Bytes) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async_with_config(stream, Some(live::ws_config())).await?;
    let mut feed: Option<broadcast::Receiver<Utf8Bytes>> = None;
    loop {
        let next = async {
            match feed.as_mut() {
                Some(feed) => feed.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if text.as_str() == TRIGGER {
                        let _ = pushes.send(frame.clone());
                    } else if text.as_str().contains(r#""type":"watch""#) {
                        feed.get_or_insert_with(|| pushes.subscribe());
                        ws.send(Message::Text(frame.clone())).await?;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ok(()),
            },
            pushed = next => match pushed {
                Ok(frame) => ws.send(Message::Text(frame)).await?,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// `loadtest bare-broadcast-server`: binds 127.0.0.1:`port` (0: any free
/// port), prints `listening ADDR` on a line of its own, serves forever.
pub async fn main(port: u16, frame_file: Option<&Path>) -> anyhow::Result<()> {
    let frame = match frame_file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?,
        None => SAMPLE_FRAME.to_owned(),
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("listening {}", listener.local_addr()?);
    serve(listener, Utf8Bytes::from(frame)).await
}

/// The bare server as a child process; killed and reaped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(frame_file: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["bare-broadcast-server", "--port", "0", "--frame-file"])
            .arg(frame_file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting loadtest bare-broadcast-server")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("the child's stdout")?;
        let read = std::io::BufReader::new(stdout).read_line(&mut line);
        let addr = read.ok().and_then(|_| line.trim().strip_prefix("listening ")?.parse().ok());
        match addr {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("bare-broadcast-server did not say where it listens: {line:?}")
            }
        }
    }
}

/// The booker's change against the bare server: the trigger message, sent
/// on a WebSocket of its own that watches nothing; the undo is the same
/// message (the real server's cancel pushes a frame too).
struct Broadcast {
    booker: WebSocketStream<TcpStream>,
}

impl Trigger for Broadcast {
    async fn change(&mut self, _round: usize) -> anyhow::Result<Instant> {
        let t0 = Instant::now();
        self.booker.send(Message::text(TRIGGER)).await?;
        Ok(t0)
    }

    async fn undo(&mut self, _round: usize) -> anyhow::Result<()> {
        self.booker.send(Message::text(TRIGGER)).await?;
        Ok(())
    }
}

/// Starts the bare server (a child process) with `frame` as its frame, and
/// measures it with the live client: `sessions` sessions sending `watch`,
/// `rounds` rounds, its resident memory before and after opening them.
pub(crate) async fn measure(
    frame: &str,
    watch: &str,
    sessions: usize,
    sources: u8,
    rounds: usize,
) -> anyhow::Result<LiveResult> {
    let frame_file = std::env::temp_dir().join(format!("loadtest-bare-frame-{}.json", std::process::id()));
    std::fs::write(&frame_file, frame)?;
    let child = Server::start(&frame_file);
    let _ = std::fs::remove_file(&frame_file);
    let child = child?;
    let target = Target { addr: child.addr, ws_url: format!("ws://{}/", child.addr), watch: watch.to_owned() };
    let booker = live::connect(Ipv4Addr::LOCALHOST, child.addr, &target.ws_url).await?;
    booker.get_ref().set_nodelay(true)?;
    let mut trigger = Broadcast { booker };
    live::measure(&target, sessions, sources, rounds, Some(child.child.id()), &mut trigger).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bare server in-process, measured by the live client: every
    /// session gets its snapshot and one push per change and undo.
    #[tokio::test]
    async fn the_live_client_times_every_broadcast_to_every_session() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, Utf8Bytes::from_static(SAMPLE_FRAME)));
        let watch = r#"{"from":"2027-06-01","provider":"p","service":"s","to":"2027-06-01","type":"watch"}"#;
        let target = Target { addr, ws_url: format!("ws://{addr}/"), watch: watch.to_owned() };
        let booker = live::connect(Ipv4Addr::LOCALHOST, addr, &target.ws_url).await.unwrap();
        let mut trigger = Broadcast { booker };
        let result = live::measure(&target, 20, 4, 3, None, &mut trigger).await.unwrap();
        assert_eq!(result.latencies.len(), 20 * 3);
        assert_eq!(result.frame, SAMPLE_FRAME);
        server.abort();
    }
}
