//! A fake Telegram Bot API server: records every call (JSON bodies, and
//! multipart/form-data ones with their uploaded files), answers the methods
//! the bot uses with well-formed objects, delivers scripted updates through
//! `getUpdates` (forgetting those a later offset confirmed, as Telegram
//! does), and can be told to answer 403 or 429 for a chat. teloxide talks to
//! it over real HTTP via `TELEGRAM_API_URL`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

pub const BOT_ID: i64 = 7000000001;

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub body: Value,
    pub at: Instant,
    /// What the fake answered: 200, 403 or 429.
    pub status: u16,
    /// Files uploaded with a multipart call (`sendDocument`).
    pub files: Vec<Upload>,
    /// The `result` the fake answered (a sent message, with its `message_id`).
    pub result: Value,
}

/// A file a multipart call carried.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The method's field it fills (`document`), resolved from `attach://`.
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    updates: Vec<Value>,
    next_update: i64,
    next_message: i64,
    blocked: HashSet<i64>,
    /// chat → (how many more 429s, retry_after seconds)
    limited: HashMap<i64, (u32, u32)>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State { next_update: 1, next_message: 1, ..Default::default() }));
        let shared = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(web::JsonConfig::default().limit(1 << 20))
                .route("/bot{token}/{method}", web::post().to(answer))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind the fake Telegram");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        FakeTelegram { url: format!("http://127.0.0.1:{port}"), state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Queues an update (`message` or `callback_query` object) for getUpdates.
    pub fn push_update(&self, kind: &str, object: Value) {
        self.with(|s| {
            let id = s.next_update;
            s.next_update += 1;
            s.updates.push(json!({ "update_id": id, kind: object }));
        });
    }

    pub fn block(&self, chat: i64) {
        self.with(|s| s.blocked.insert(chat));
    }

    pub fn rate_limit(&self, chat: i64, times: u32, retry_after: u32) {
        self.with(|s| s.limited.insert(chat, (times, retry_after)));
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        let method = method.to_ascii_lowercase();
        self.with(|s| s.calls.iter().filter(|c| c.method == method).cloned().collect())
    }

    /// Whether every update pushed so far was confirmed by a later
    /// getUpdates offset (so no poller will see it again).
    pub fn all_updates_confirmed(&self) -> bool {
        self.with(|s| s.updates.is_empty())
    }

    /// Waits until `method` was called `count` times, or `within` passes.
    pub async fn wait_for_calls(&self, method: &str, count: usize, within: Duration) -> Vec<Call> {
        let deadline = Instant::now() + within;
        loop {
            let calls = self.calls(method);
            if calls.len() >= count || Instant::now() > deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// sendMessage calls to `chat` (answered or not).
    pub fn messages_to(&self, chat: i64) -> Vec<Call> {
        self.calls("sendMessage").into_iter().filter(|c| c.body["chat_id"] == chat).collect()
    }

    /// Waits until `count` messages reached `chat` successfully, or `within` passes.
    pub async fn wait_for_messages(&self, chat: i64, count: usize, within: Duration) -> Vec<Call> {
        let deadline = Instant::now() + within;
        loop {
            let delivered: Vec<Call> = self.messages_to(chat).into_iter().filter(|c| c.status == 200).collect();
            if delivered.len() >= count || Instant::now() > deadline {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn user(id: i64, first_name: &str) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": first_name, "language_code": "en" })
}

/// A private-chat message from `chat`, as Telegram would send it.
pub fn message_from(chat: i64, text: &str) -> Value {
    let mut message = json!({ "message_id": 1000 + chat, "date": 1_800_000_000, "text": text,
        "chat": { "id": chat, "type": "private", "first_name": "User" }, "from": user(chat, "User") });
    if text.starts_with('/') {
        let length = text.split_whitespace().next().unwrap_or(text).len();
        message["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": length }]);
    }
    message
}

/// A message in group chat `chat` from the user `from`, as Telegram would send it.
pub fn group_message(chat: i64, from: i64, text: &str) -> Value {
    json!({ "message_id": 5000 + from, "date": 1_800_000_000, "text": text,
        "chat": { "id": chat, "type": "supergroup", "title": "Support" }, "from": user(from, "Operator") })
}

/// A message in group chat `chat` from `from`, replying to the message
/// `reply_to` the bot sent there.
pub fn reply_in_group(chat: i64, from: i64, reply_to: i64, text: &str) -> Value {
    let mut message = group_message(chat, from, text);
    message["reply_to_message"] = json!({ "message_id": reply_to, "date": 1_800_000_000, "text": "a support message",
        "chat": { "id": chat, "type": "supergroup", "title": "Support" },
        "from": { "id": BOT_ID, "is_bot": true, "first_name": "Just Book Me", "username": "jstbk_bot" } });
    message
}

/// A press of an inline button (`data`) under a message the bot sent to `chat`.
pub fn button_press(chat: i64, data: &str, id: &str) -> Value {
    json!({ "id": id, "from": user(chat, "User"), "chat_instance": "1", "data": data,
        "message": { "message_id": 1, "date": 1_800_000_000, "text": "a booking",
            "chat": { "id": chat, "type": "private", "first_name": "User" },
            "from": { "id": BOT_ID, "is_bot": true, "first_name": "Just Book Me", "username": "jstbk_bot" } } })
}

async fn answer(
    state: web::Data<Arc<Mutex<State>>>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    // Telegram's method names are case-insensitive (teloxide says `GetMe`).
    let method = path.into_inner().1.to_ascii_lowercase();
    // JSON for most methods; multipart/form-data for those that may carry a
    // file (setWebhook, sendDocument): then its text fields become a JSON
    // object and its files are kept aside.
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (body, files) = match serde_json::from_slice::<Value>(&body) {
        Ok(json) => (json, Vec::new()),
        Err(_) => multipart(content_type, &body),
    };
    if method == "getupdates" {
        return get_updates(&state, &body).await;
    }
    let mut s = state.lock().unwrap();
    // Multipart fields are text: a chat id arrives as "123".
    let chat = body["chat_id"].as_i64().or_else(|| body["chat_id"].as_str()?.parse().ok()).unwrap_or_default();
    let (status, response) = if method == "sendmessage" && s.blocked.contains(&chat) {
        (403, json!({ "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user" }))
    } else if method == "sendmessage" && s.limited.get(&chat).is_some_and(|(n, _)| *n > 0) {
        let entry = s.limited.get_mut(&chat).unwrap();
        entry.0 -= 1;
        let wait = entry.1;
        (
            429,
            json!({ "ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {wait}"),
            "parameters": { "retry_after": wait } }),
        )
    } else {
        let result = match method.as_str() {
            "getme" => json!({ "id": BOT_ID, "is_bot": true, "first_name": "Just Book Me", "username": "jstbk_bot",
                "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
                "can_connect_to_business": false, "has_main_web_app": true }),
            "sendmessage" | "editmessagetext" => {
                let id = s.next_message;
                s.next_message += 1;
                json!({ "message_id": id, "date": 1_800_000_000, "text": body["text"],
                    "chat": { "id": chat, "type": "private", "first_name": "User" },
                    "from": { "id": BOT_ID, "is_bot": true, "first_name": "Just Book Me", "username": "jstbk_bot" } })
            }
            "senddocument" => {
                let id = s.next_message;
                s.next_message += 1;
                let (name, size) = files.first().map(|f| (f.file_name.clone(), f.bytes.len())).unwrap_or_default();
                json!({ "message_id": id, "date": 1_800_000_000, "caption": body["caption"],
                    "document": { "file_id": format!("doc{id}"), "file_unique_id": format!("u{id}"),
                        "file_name": name, "mime_type": "application/json", "file_size": size },
                    "chat": { "id": chat, "type": "private", "first_name": "User" },
                    "from": { "id": BOT_ID, "is_bot": true, "first_name": "Just Book Me", "username": "jstbk_bot" } })
            }
            _ => json!(true),
        };
        (200, json!({ "ok": true, "result": result }))
    };
    let result = response["result"].clone();
    s.calls.push(Call { method, body, at: Instant::now(), status, files, result });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(response)
}

async fn get_updates(state: &web::Data<Arc<Mutex<State>>>, body: &Value) -> HttpResponse {
    let offset = body["offset"].as_i64().unwrap_or(0);
    // An offset confirms every update before it: Telegram never hands
    // those out again, to this poller or the next (after a restart).
    state.lock().unwrap().updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
    for _ in 0..10 {
        let ready: Vec<Value> = {
            let s = state.lock().unwrap();
            s.updates.iter().filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset).cloned().collect()
        };
        if !ready.is_empty() {
            return HttpResponse::Ok().json(json!({ "ok": true, "result": ready }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    HttpResponse::Ok().json(json!({ "ok": true, "result": [] }))
}

/// A multipart/form-data body: its text fields as a JSON object, and its
/// files (a field whose value is `attach://<part>` names the file part).
fn multipart(content_type: &str, body: &[u8]) -> (Value, Vec<Upload>) {
    let Some(boundary) = content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"')) else {
        return (Value::Object(Default::default()), Vec::new());
    };
    let delimiter = format!("--{boundary}");
    let mut fields = serde_json::Map::new();
    let mut parts: HashMap<String, (String, Vec<u8>)> = HashMap::new();
    for part in split_bytes(body, delimiter.as_bytes()).into_iter().skip(1) {
        // Each part: "\r\n" headers "\r\n\r\n" content "\r\n" (the last is "--").
        let Some(split) = find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(disposition) = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
        else {
            continue;
        };
        let quoted = |key: &str| disposition.split(&format!("{key}=\"")).nth(1)?.split('"').next().map(str::to_owned);
        let Some(name) = quoted("name") else { continue };
        match quoted("filename") {
            Some(file_name) => {
                parts.insert(name, (file_name, content.to_vec()));
            }
            None => {
                fields.insert(name, Value::String(String::from_utf8_lossy(content).into_owned()));
            }
        }
    }
    let mut files = Vec::new();
    for (field, value) in &fields {
        if let Some(id) = value.as_str().and_then(|v| v.strip_prefix("attach://"))
            && let Some((file_name, bytes)) = parts.get(id)
        {
            files.push(Upload { field: field.clone(), file_name: file_name.clone(), bytes: bytes.clone() });
        }
    }
    (Value::Object(fields), files)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut bytes: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    while let Some(at) = find(bytes, delimiter) {
        pieces.push(&bytes[..at]);
        bytes = &bytes[at + delimiter.len()..];
    }
    pieces.push(bytes);
    pieces
}
