//! The shutdown scenario: start the server, open N WebSocket sessions (from
//! several 127.0.0.x source addresses), send SIGTERM, and measure how long
//! until every session got its close frame — with which code — and until the
//! process exited. DESIGN §8: every session gets 1001 (going away) and the
//! process exits within `SHUTDOWN_GRACE_SECS`.

use std::{
    net::{Ipv4Addr, SocketAddr},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

use crate::{live::open_watching, report::Latencies, scenario::Api, server::Server};

pub struct ShutdownOptions {
    /// The server binary to start (`target/release/justbookme`).
    pub server_bin: String,
    pub sessions: usize,
    pub sources: u8,
    pub grace_secs: u64,
}

/// How one session ended after SIGTERM.
#[derive(Clone, Copy)]
enum Ending {
    Close(CloseCode, Instant),
    /// The stream ended (or broke) without a close frame.
    Dropped,
}

pub async fn shutdown(options: ShutdownOptions) -> anyhow::Result<()> {
    let grace = [("SHUTDOWN_GRACE_SECS", options.grace_secs.to_string())];
    let mut server = Server::start(&options.server_bin, "shutdown", &grace)?;
    server.wait_healthy().await?;
    let api = Api::new(server.base());
    let (slug, service, _) = api.live_provider().await?;
    let target = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port));
    let ws_url = format!("ws://{target}/ws");
    let day = "2027-06-01";
    let watch = json!({ "type": "watch", "provider": slug, "service": service, "from": day, "to": day }).to_string();

    let endings: Arc<Mutex<Vec<Ending>>> = Arc::new(Mutex::new(Vec::with_capacity(options.sessions)));
    let snapshotted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let opening = Instant::now();
    for i in 0..options.sessions {
        let mut ws = open_watching(i, options.sources, target, &ws_url, &watch).await?;
        let (endings, snapshotted) = (endings.clone(), snapshotted.clone());
        tokio::spawn(async move {
            let ending = loop {
                match ws.next().await {
                    Some(Ok(Message::Text(_))) => {
                        snapshotted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break Ending::Close(frame.map_or(CloseCode::Status, |f| f.code), Instant::now());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break Ending::Dropped,
                }
            };
            endings.lock().await.push(ending);
        });
    }
    while snapshotted.load(std::sync::atomic::Ordering::Relaxed) < options.sessions {
        anyhow::ensure!(opening.elapsed() < Duration::from_secs(180), "sessions did not all get their snapshot");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let opened_in = opening.elapsed();

    let signalled = Instant::now();
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status()?;
    anyhow::ensure!(status.success(), "kill -TERM failed");
    let exit = loop {
        if let Some(status) = server.child.try_wait()? {
            break status;
        }
        anyhow::ensure!(signalled.elapsed() < Duration::from_secs(60), "the server did not exit within 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let exited_in = signalled.elapsed();
    // Give the client side a moment to read what was already sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    while endings.lock().await.len() < options.sessions && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let endings = endings.lock().await.clone();
    let mut told = Vec::new();
    let (mut other_codes, mut dropped) = (0, 0);
    for ending in &endings {
        match ending {
            Ending::Close(CloseCode::Away, at) => told.push(at.duration_since(signalled)),
            Ending::Close(_, _) => other_codes += 1,
            Ending::Dropped => dropped += 1,
        }
    }
    let never = options.sessions - endings.len();
    println!(
        "shutdown: {} sessions from {} source addresses (opened and snapshotted in {opened_in:.2?}), \
         SHUTDOWN_GRACE_SECS={}\n",
        options.sessions, options.sources, options.grace_secs
    );
    println!("| sessions | got 1001 | other close code | dropped without close | no ending seen |");
    println!("|---:|---:|---:|---:|---:|");
    println!("| {} | {} | {other_codes} | {dropped} | {never} |\n", options.sessions, told.len());
    println!("{}", Latencies::header());
    println!("{}", Latencies::new(told).row("SIGTERM → 1001 received"));
    println!("\nprocess exited {exit} {exited_in:.2?} after SIGTERM (grace {} s)", options.grace_secs);
    Ok(())
}
