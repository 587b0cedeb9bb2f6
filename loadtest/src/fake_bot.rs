//! A tiny fake Telegram Bot API (HTTP/1.1 with keep-alive, JSON bodies)
//! inside the load generator: it answers what the server's bot calls
//! (`getMe`, `getUpdates` with nothing new, `setMyCommands`, …) and records
//! every `sendMessage`, so duplicate pushes and reminders can be counted.
//! With a limit ([`FakeBot::limited`]) it enforces Telegram's overall rate
//! as Telegram does: a send beyond it within one second is answered 429.

use std::{
    collections::{HashMap, VecDeque},
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

pub const BOT_TOKEN: &str = "7000000001:CHAOS-fake-token";

#[derive(Default)]
struct Sent {
    /// (chat, text) → how many times it was sent.
    messages: HashMap<(i64, String), u32>,
    /// When each reminder was accepted, in order.
    reminder_times: Vec<Instant>,
    /// When the sends of the last second were accepted (for the limit).
    last_second: VecDeque<Instant>,
    /// Sends answered 429.
    too_many: u64,
}

#[derive(Clone, Default)]
pub struct FakeBot {
    sent: Arc<Mutex<Sent>>,
    /// Sends accepted per second at most (Telegram: about 30).
    per_second: Option<usize>,
}

/// What the fake has seen so far.
pub struct BotFigures {
    pub messages: u64,
    pub reminders: u64,
    /// Sends beyond the first of one (chat, text).
    pub duplicates: u64,
    pub duplicate_reminders: u64,
    /// Sends answered 429 (over the limit).
    pub too_many: u64,
}

impl FakeBot {
    /// A fake that answers 429 to a send beyond `per_second` within one second.
    pub fn limited(per_second: usize) -> Self {
        FakeBot { per_second: Some(per_second), ..Self::default() }
    }

    /// When each reminder was accepted, in order.
    pub fn reminder_times(&self) -> Vec<Instant> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).reminder_times.clone()
    }

    /// Listens on `address`:`port` (0 = any free port); returns the port.
    pub async fn listen(&self, address: Ipv4Addr, port: u16) -> anyhow::Result<u16> {
        let listener = TcpListener::bind(SocketAddr::from((address, port))).await?;
        let port = listener.local_addr()?.port();
        let bot = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(bot.clone().serve(stream));
            }
        });
        Ok(port)
    }

    pub fn figures(&self) -> BotFigures {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let mut figures =
            BotFigures { messages: 0, reminders: 0, duplicates: 0, duplicate_reminders: 0, too_many: sent.too_many };
        for ((_, text), &count) in &sent.messages {
            let reminder = text.starts_with("Reminder:");
            figures.messages += u64::from(count);
            figures.duplicates += u64::from(count - 1);
            if reminder {
                figures.reminders += u64::from(count);
                figures.duplicate_reminders += u64::from(count - 1);
            }
        }
        figures
    }

    async fn serve(self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            let Some((method, body)) = read_request(&mut stream, &mut buffer).await else { return };
            let (status, answer) = self.answer(&method, &body).await;
            let bytes = answer.to_string();
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{bytes}",
                bytes.len()
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    async fn answer(&self, method: &str, body: &Value) -> (&'static str, Value) {
        let result = match method {
            "getme" => json!({ "id": 7000000001i64, "is_bot": true, "first_name": "Chaos", "username": "chaos_bot",
                "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
                "can_connect_to_business": false, "has_main_web_app": true }),
            "getupdates" => {
                // Long polling with nothing to deliver: wait a little, like Telegram.
                tokio::time::sleep(Duration::from_millis(500)).await;
                json!([])
            }
            "sendmessage" => return self.send_message(body),
            _ => json!(true),
        };
        ("200 OK", json!({ "ok": true, "result": result }))
    }

    fn send_message(&self, body: &Value) -> (&'static str, Value) {
        let chat = body["chat_id"].as_i64().unwrap_or_default();
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(limit) = self.per_second {
            while sent.last_second.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1)) {
                sent.last_second.pop_front();
            }
            if sent.last_second.len() >= limit {
                sent.too_many += 1;
                let refusal = "Too Many Requests: retry after 1";
                let answer = json!({ "ok": false, "error_code": 429, "description": refusal,
                    "parameters": { "retry_after": 1 } });
                return ("429 Too Many Requests", answer);
            }
            sent.last_second.push_back(now);
        }
        if text.starts_with("Reminder:") {
            sent.reminder_times.push(now);
        }
        *sent.messages.entry((chat, text.clone())).or_default() += 1;
        let result = json!({ "message_id": sent.messages.len(), "date": 1_800_000_000, "text": text,
            "chat": { "id": chat, "type": "private", "first_name": "User" } });
        ("200 OK", json!({ "ok": true, "result": result }))
    }
}

/// Reads one request: the lower-cased Bot API method (the last path segment)
/// and its JSON body (`Null` if it is not JSON). `None` when the peer closed.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Value)> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() > 1 << 20 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let method = path.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    buffer.drain(..head_end + length);
    Some((method, body))
}
