//! The live scenario: N WebSocket sessions (from several 127.0.0.x source
//! addresses, like many phones) watch one provider; bookings are made and
//! every push is timestamped against the booking it follows.
//!
//! The client half — opening the sessions, timestamping every frame, the
//! rounds of change / wait / undo / wait, the percentiles, resident memory of
//! the serving process — is [`measure`], shared with the bare broadcast
//! baseline (`bare.rs`); only the [`Trigger`] differs: against the real
//! server an HTTP booking and the provider's cancel, against the bare server
//! one WebSocket message that makes it broadcast.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_tungstenite::{
    client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use crate::{report::Latencies, scenario::Api};

pub struct LiveOptions {
    pub sessions: usize,
    pub sources: u8,
    pub bookings: usize,
    /// Where bookings are made (another node for the cross-node figure).
    pub book_url: Option<String>,
    /// The server's pid, to read its resident memory before and after.
    pub server_pid: Option<u32>,
}

/// The serving process's resident memory (VmRSS), KiB.
pub(crate) fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The read buffer of every WebSocket here, client's and bare server's: the
/// real server's largest accepted frame (4 KiB). tungstenite's default, 128
/// KiB, is zero-filled before every read — 1.3 GB of memset for one push to
/// 10,000 sessions, which would time the client, not the server.
pub(crate) const READ_BUFFER_BYTES: usize = 4 * 1024;

pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES)
}

/// Opens one WebSocket from `source` to the server at `target`.
pub(crate) async fn connect(
    source: Ipv4Addr,
    target: SocketAddr,
    url: &str,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.into(), 0))?;
    let stream = socket.connect(target).await?;
    let (ws, _) = client_async_with_config(url, stream, Some(ws_config())).await?;
    Ok(ws)
}

/// Session `i` of many, from one of `sources` loopback addresses (like many
/// phones: one address alone would run out of ports), watching `watch`.
pub(crate) async fn open_watching(
    i: usize,
    sources: u8,
    target: SocketAddr,
    url: &str,
    watch: &str,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let source = Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(sources.max(1))) as u8);
    let mut ws = connect(source, target, url).await.with_context(|| format!("session {i} from {source}"))?;
    ws.send(Message::text(watch.to_owned())).await?;
    Ok(ws)
}

/// What makes every watching session get a push, once per round.
pub(crate) trait Trigger {
    /// Sends the change (a booking; the bare server's broadcast message) and
    /// returns the moment just before the request was made (`reqwest`'s
    /// send, tungstenite's send called) — what its pushes are timed against.
    async fn change(&mut self, round: usize) -> anyhow::Result<Instant>;
    /// Undoes it, so the next round can make the same change (its push is
    /// waited for, not timed).
    async fn undo(&mut self, round: usize) -> anyhow::Result<()>;
}

/// Where the sessions connect and what they send first.
pub(crate) struct Target {
    pub addr: SocketAddr,
    pub ws_url: String,
    /// The first frame every session sends (a `watch`).
    pub watch: String,
}

/// What one run measured.
pub(crate) struct LiveResult {
    pub sessions: usize,
    /// Change → push received, one sample per session per round.
    pub latencies: Latencies,
    pub opened_in: Duration,
    /// The serving process's resident memory (KiB) before the sessions
    /// opened and once they were all open and idle, when its pid was given.
    pub memory_kib: Option<(u64, u64)>,
    /// The first timed push as one session received it (the bare server
    /// sends a frame of exactly this text).
    pub frame: String,
    /// The first frame every session sent (the bare server gets the same).
    pub watch: String,
}

impl LiveResult {
    /// Resident memory per idle session, bytes.
    pub fn bytes_per_session(&self) -> Option<f64> {
        self.memory_kib.map(|(before, idle)| (idle.saturating_sub(before) * 1024) as f64 / self.sessions as f64)
    }

    pub fn p99_ms(&self) -> f64 {
        self.latencies.percentile_ms(99.0)
    }

    pub fn p50_ms(&self) -> f64 {
        self.latencies.percentile_ms(50.0)
    }
}

/// Every frame every session received after its snapshot, timestamped as
/// its reader task got it whole.
struct Watchers {
    received: Arc<Vec<std::sync::Mutex<Vec<Instant>>>>,
    /// Pushes received by all sessions together (the cheap thing to poll).
    pushes: Arc<AtomicUsize>,
    first_frame: Arc<std::sync::Mutex<Option<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Watchers {
    /// Opens `sessions` sessions one after the other, each sending the
    /// watch, and waits until every one got its snapshot.
    async fn open(target: &Target, sessions: usize, sources: u8) -> anyhow::Result<Self> {
        let received: Arc<Vec<_>> = Arc::new((0..sessions).map(|_| std::sync::Mutex::new(Vec::new())).collect());
        let pushes = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicUsize::new(0));
        let first_frame = Arc::new(std::sync::Mutex::new(None));
        let mut tasks = Vec::with_capacity(sessions);
        let opening = Instant::now();
        for i in 0..sessions {
            let mut ws = open_watching(i, sources, target.addr, &target.ws_url, &target.watch).await?;
            let (received, pushes, ready, first_frame) =
                (received.clone(), pushes.clone(), ready.clone(), first_frame.clone());
            tasks.push(tokio::spawn(async move {
                let mut snapshot = true;
                while let Some(Ok(frame)) = ws.next().await {
                    if let Message::Text(text) = frame {
                        let at = Instant::now();
                        if snapshot {
                            snapshot = false;
                            ready.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let mut mine = received[i].lock().expect("lock");
                        if i == 0 && mine.is_empty() {
                            *first_frame.lock().expect("lock") = Some(text.as_str().to_owned());
                        }
                        mine.push(at);
                        drop(mine);
                        pushes.fetch_add(1, Ordering::Release);
                    }
                }
            }));
        }
        while ready.load(Ordering::Relaxed) < sessions {
            anyhow::ensure!(opening.elapsed() < Duration::from_secs(300), "sessions did not all get their snapshot");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Watchers { received, pushes, first_frame, tasks })
    }

    /// Waits until every session has received `count` pushes.
    async fn wait_for(&self, count: usize, what: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.pushes.load(Ordering::Acquire) >= count * self.received.len() {
                let done = self.received.iter().filter(|r| r.lock().expect("lock").len() >= count).count();
                if done == self.received.len() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                let done = self.received.iter().filter(|r| r.lock().expect("lock").len() >= count).count();
                anyhow::bail!("only {done} of {} sessions got {what}", self.received.len());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Opens `sessions` watching sessions on `target`, reads the serving
/// process's memory (`pid`) before and once they are idle, then `rounds`
/// times: `trigger.change`, wait until every session got its push,
/// `trigger.undo`, wait for that push too.
///
/// **What is timed**, per session per round: from the moment just before
/// the change request is made (an HTTP
/// `POST /api/bookings` against the real server, a WebSocket text message
/// against the bare one) until that session's reader task, in this process,
/// has the push frame decoded whole (`Instant::now()` right after
/// tungstenite yields it). Both sides therefore include the request's trip,
/// the server's work (for the real server the booking itself: HTTP, the
/// calendar, the SQLite commit, the hub; for the bare one a broadcast
/// channel), the kernel's loopback, and this client's scheduling of its N
/// reader tasks on its own runtime — the same client code and the same
/// number of sockets in both runs. The undo's push is not timed; only one
/// change is in flight at a time.
pub(crate) async fn measure(
    target: &Target,
    sessions: usize,
    sources: u8,
    rounds: usize,
    pid: Option<u32>,
    trigger: &mut impl Trigger,
) -> anyhow::Result<LiveResult> {
    anyhow::ensure!(sessions > 0 && rounds > 0, "at least one session and one round");
    let memory_before = pid.and_then(resident_kib);
    let opening = Instant::now();
    let watchers = Watchers::open(target, sessions, sources).await?;
    let opened_in = opening.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory_idle = pid.and_then(resident_kib);

    let mut sent = Vec::with_capacity(rounds);
    for round in 0..rounds {
        sent.push(trigger.change(round).await?);
        watchers.wait_for(2 * round + 1, &format!("push {round}")).await?;
        trigger.undo(round).await?;
        watchers.wait_for(2 * round + 2, &format!("the undo's push {round}")).await?;
    }
    let mut latencies = Vec::with_capacity(sessions * rounds);
    for r in watchers.received.iter() {
        let r = r.lock().expect("lock");
        // Pushes 0, 2, 4, …: the changes; 1, 3, 5, …: the undos.
        for (round, at) in r.iter().step_by(2).take(rounds).enumerate() {
            latencies.push(at.duration_since(sent[round]));
        }
    }
    let frame = watchers.first_frame.lock().expect("lock").clone().unwrap_or_default();
    Ok(LiveResult {
        sessions,
        latencies: Latencies::new(latencies),
        opened_in,
        memory_kib: memory_before.zip(memory_idle),
        frame,
        watch: target.watch.clone(),
    })
}

/// The real server's change: a client books one of the four hours, the
/// provider cancels it.
struct Booking {
    booker: Api,
    client: String,
    slug: String,
    service: String,
    provider_token: String,
    day: &'static str,
    booked: Option<String>,
    /// The booking request's reply times (201), for the record.
    replies: Vec<Duration>,
}

impl Trigger for Booking {
    async fn change(&mut self, round: usize) -> anyhow::Result<Instant> {
        let hours = ["09:00", "10:00", "11:00", "12:00"];
        let start = format!("{}T{}:00+02:00", self.day, hours[round % hours.len()]);
        let t0 = Instant::now();
        let (status, body) = self.booker.book_raw(&self.client, &self.slug, &self.service, &start).await?;
        self.replies.push(t0.elapsed());
        anyhow::ensure!(status == 201, "booking failed: {status} {body}");
        self.booked = Some(body["id"].as_str().unwrap_or_default().to_owned());
        Ok(t0)
    }

    async fn undo(&mut self, _round: usize) -> anyhow::Result<()> {
        let id = self.booked.take().context("nothing booked")?;
        self.booker.cancel_as_provider(&self.provider_token, &id).await
    }
}

/// The real server's run: a fresh provider, `sessions` sessions watching
/// one day of it, `bookings` rounds of booking and cancelling. Returns the
/// figures and the booking replies' latencies.
pub(crate) async fn run(api: &Api, base: &str, options: &LiveOptions) -> anyhow::Result<(LiveResult, Latencies)> {
    let (slug, service, provider_token) = api.live_provider().await?;
    let booker = match &options.book_url {
        Some(url) => Api::new(url.trim_end_matches('/').to_owned()),
        None => api.clone(),
    };
    let url = reqwest::Url::parse(base)?;
    let addr: SocketAddr = (
        url.host_str().context("url host")?.parse::<Ipv4Addr>().context("use an IPv4 loopback URL")?,
        url.port_or_known_default().unwrap_or(80),
    )
        .into();
    let day = "2027-06-01";
    let watch = json!({ "type": "watch", "provider": slug, "service": service, "from": day, "to": day }).to_string();
    let target = Target { addr, ws_url: format!("ws://{addr}/ws"), watch };
    let client = booker.sign_in_client().await?;
    let mut trigger = Booking { booker, client, slug, service, provider_token, day, booked: None, replies: Vec::new() };
    let result =
        measure(&target, options.sessions, options.sources, options.bookings, options.server_pid, &mut trigger).await?;
    Ok((result, Latencies::new(trigger.replies)))
}

/// Prints one run's table (and more rows, e.g. the booking replies).
pub(crate) fn print(result: &LiveResult, what: &str, more: &[String]) {
    println!("{}", Latencies::header());
    println!("{}", result.latencies.row(what));
    for row in more {
        println!("{row}");
    }
    println!("\nall {} sessions open and snapshotted in {:.2?}", result.sessions, result.opened_in);
    if let (Some((before, idle)), Some(per_session)) = (result.memory_kib, result.bytes_per_session()) {
        println!("resident memory: {before} KiB → {idle} KiB = {per_session:.0} bytes per idle session");
    }
}

pub async fn live(api: &Api, base: &str, options: LiveOptions) -> anyhow::Result<()> {
    let (result, replies) = run(api, base, &options).await?;
    println!(
        "live: {} sessions from {} source addresses ({}), {} bookings\n",
        options.sessions,
        options.sources,
        if options.book_url.is_some() { "booked on another node" } else { "booked on the same node" },
        options.bookings
    );
    print(&result, "booking → push received", &[replies.row("booking → 201 reply")]);
    Ok(())
}
