//! A fake Telegram Bot API server: records every call, answers the methods
//! the bot uses with well-formed objects, delivers scripted updates through
//! `getUpdates`, and can be told to answer 403 or 429 for a chat. teloxide
//! talks to it over real HTTP via `TELEGRAM_API_URL`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

pub const BOT_ID: i64 = 7000000001;

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub body: Value,
    pub at: Instant,
    /// What the fake answered: 200, 403 or 429.
    pub status: u16,
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
    body: web::Bytes,
) -> HttpResponse {
    // Telegram's method names are case-insensitive (teloxide says `GetMe`).
    let method = path.into_inner().1.to_ascii_lowercase();
    // JSON for most methods; multipart/form-data for those that may carry a
    // file (setWebhook): then its text fields become a JSON object.
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| multipart_fields(&body));
    if method == "getupdates" {
        return get_updates(&state, &body).await;
    }
    let mut s = state.lock().unwrap();
    let chat = body["chat_id"].as_i64().unwrap_or_default();
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
            _ => json!(true),
        };
        (200, json!({ "ok": true, "result": result }))
    };
    s.calls.push(Call { method, body, at: Instant::now(), status });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(response)
}

async fn get_updates(state: &web::Data<Arc<Mutex<State>>>, body: &Value) -> HttpResponse {
    let offset = body["offset"].as_i64().unwrap_or(0);
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

/// The text fields of a multipart/form-data body, as a JSON object.
fn multipart_fields(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split("Content-Disposition: form-data; name=\"").skip(1) {
        let Some((name, rest)) = part.split_once('"') else { continue };
        let Some((_, value)) = rest.split_once("\r\n\r\n") else { continue };
        let value = value.split("\r\n--").next().unwrap_or_default();
        fields.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    Value::Object(fields)
}
