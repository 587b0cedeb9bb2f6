//! The live scenario: N WebSocket sessions (from several 127.0.0.x source
//! addresses, like many phones) watch one provider; bookings are made and
//! every push is timestamped against the booking it follows.

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
use tokio::sync::Mutex;
use tokio_tungstenite::{client_async, tungstenite::Message};

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

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Opens one WebSocket from `source` to the server at `target`.
async fn connect(
    source: Ipv4Addr,
    target: SocketAddr,
    url: &str,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.into(), 0))?;
    let stream = socket.connect(target).await?;
    let (ws, _) = client_async(url, stream).await?;
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

pub async fn live(api: &Api, base: &str, options: LiveOptions) -> anyhow::Result<()> {
    let (slug, service, token) = api.live_provider().await?;
    let booker = match &options.book_url {
        Some(url) => Api::new(url.trim_end_matches('/').to_owned()),
        None => api.clone(),
    };
    let url = reqwest::Url::parse(base)?;
    let target: SocketAddr = (
        url.host_str().context("url host")?.parse::<Ipv4Addr>().context("use an IPv4 loopback URL")?,
        url.port_or_known_default().unwrap_or(80),
    )
        .into();
    let ws_url = format!("ws://{target}/ws");
    let day = "2027-06-01";
    let watch = json!({ "type": "watch", "provider": slug, "service": service, "from": day, "to": day }).to_string();

    let memory_before = options.server_pid.and_then(resident_kib);
    let received: Arc<Vec<Mutex<Vec<Instant>>>> =
        Arc::new((0..options.sessions).map(|_| Mutex::new(Vec::new())).collect());
    let ready = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(options.sessions);
    let opening = Instant::now();
    for i in 0..options.sessions {
        let mut ws = open_watching(i, options.sources, target, &ws_url, &watch).await?;
        let (received, ready) = (received.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let mut first = true;
            while let Some(Ok(frame)) = ws.next().await {
                if let Message::Text(_) = frame {
                    if first {
                        first = false;
                        ready.fetch_add(1, Ordering::Relaxed);
                    } else {
                        received[i].lock().await.push(Instant::now());
                    }
                }
            }
        }));
    }
    while ready.load(Ordering::Relaxed) < options.sessions {
        anyhow::ensure!(opening.elapsed() < Duration::from_secs(120), "sessions did not all get their snapshot");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let opened_in = opening.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory_idle = options.server_pid.and_then(resident_kib);

    // Book, then wait until every session got the push, `bookings` times.
    let hours = ["09:00", "10:00", "11:00", "12:00"];
    let client = booker.sign_in_client().await?;
    let mut started = Vec::new();
    for round in 0..options.bookings {
        let start = format!("{day}T{}:00+02:00", hours[round % hours.len()]);
        let t0 = Instant::now();
        let (status, body) = booker.book_raw(&client, &slug, &service, &start).await?;
        anyhow::ensure!(status == 201, "booking failed: {status} {body}");
        started.push(t0);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut done = 0;
            for r in received.iter() {
                if r.lock().await.len() > round {
                    done += 1;
                }
            }
            if done == options.sessions {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "only {done} of {} sessions got push {round}", options.sessions);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Free the slot again for the next rounds (its push is not timed).
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        booker.cancel_as_provider(&token, &id).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut done = 0;
            for r in received.iter() {
                if r.lock().await.len() > round + 1 {
                    done += 1;
                }
            }
            if done == options.sessions {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "cancel push {round} incomplete");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for r in received.iter() {
            r.lock().await.pop();
        }
    }
    let mut latencies = Vec::new();
    for r in received.iter() {
        for (round, at) in r.lock().await.iter().enumerate() {
            latencies.push(at.duration_since(started[round]));
        }
    }
    for task in tasks {
        task.abort();
    }

    println!(
        "live: {} sessions from {} source addresses ({}), {} bookings\n",
        options.sessions,
        options.sources,
        if options.book_url.is_some() { "booked on another node" } else { "booked on the same node" },
        options.bookings
    );
    println!("{}", Latencies::header());
    println!("{}", Latencies::new(latencies).row("booking → push received"));
    println!("\nall sessions open and snapshotted in {opened_in:.2?}");
    if let (Some(before), Some(idle)) = (memory_before, memory_idle) {
        let per_session = (idle.saturating_sub(before) * 1024) as f64 / options.sessions as f64;
        println!("server resident memory: {before} KiB → {idle} KiB = {per_session:.0} bytes per idle session");
    }
    Ok(())
}
