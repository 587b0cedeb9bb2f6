//! No third parties (policy §5): the server binary runs in a network
//! namespace whose only link leads to a fake Telegram Bot API; the namespace
//! has no default route, so any other destination fails at once. Every
//! feature that could reach out — Telegram sign-in, a booking and its push,
//! a reminder, `/start`, `/privacy`, a live WebSocket, the Mini App page and
//! every file it loads — is shown to work, and the namespace's own kernel
//! counters show that nothing else was even attempted: every TCP connection
//! it opened arrived at the fake Bot API, no packet lacked a route, and not
//! one UDP datagram (a DNS query, say) left.
//!
//! Needs root and iproute2 (as the fault tests, whose namespace helpers it
//! uses); without them it skips
//! loudly, and under `CI=true` a skip is a failure.

use std::{
    collections::{BTreeSet, HashMap},
    io::Write,
    net::Ipv4Addr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    fake_telegram::{Call, FakeTelegram, message_from},
    faults::netns::{self, Netns},
    helpers::{
        Api, BOT_TOKEN, Backend, DAY, ServerProcess, TestDatabase, every_day, now_unix, server_environment,
        sign_init_data, slot,
    },
    live::{next_json, open, send, starts, watch},
};

const WAIT: Duration = Duration::from_secs(15);

/// Whether namespaces can be used; a loud skip otherwise, a failure under CI.
fn netns_enabled() -> bool {
    netns::unavailable_reason().is_none_or(|reason| crate::helpers::skip_loudly("the no-third-parties test", &reason))
}

/// A TCP relay on `listen` to the fake Bot API on loopback, counting the
/// connections it accepts: the fake's only way in from the namespace.
async fn counting_relay(listen: Ipv4Addr, target: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((listen, 0)).await.expect("bind the relay");
    let port = listener.local_addr().expect("relay address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    actix_web::rt::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            actix_web::rt::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, target)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, accepted)
}

/// The namespace's IP counters (`/proc/net/snmp` and `snmp6`, read from
/// inside it), as `Tcp.ActiveOpens`, `Ip6OutNoRoutes`, ….
fn counters(ns: &Netns) -> HashMap<String, i64> {
    let output =
        ns.command("cat").args(["/proc/net/snmp", "/proc/net/snmp6"]).output().expect("read the namespace's counters");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut counters = HashMap::new();
    let mut header: Option<Vec<&str>> = None;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            // snmp: a line of names, then a line of values, same prefix.
            [prefix, rest @ ..] if prefix.ends_with(':') => match header.take() {
                Some(names) if names[0] == *prefix => {
                    for (name, value) in names[1..].iter().zip(rest) {
                        counters.insert(format!("{}.{name}", prefix.trim_end_matches(':')), value.parse().unwrap_or(0));
                    }
                }
                _ => header = Some(fields.clone()),
            },
            // snmp6: one `name value` per line.
            [name, value] => {
                counters.insert((*name).to_owned(), value.parse().unwrap_or(0));
            }
            _ => {}
        }
    }
    counters
}

/// Waits for a message to `chat` at the fake API, beyond its first `after`,
/// that `matches`.
async fn message_to(fake: &FakeTelegram, chat: i64, after: usize, what: &str, matches: impl Fn(&Call) -> bool) -> Call {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(call) = fake.messages_to(chat).into_iter().skip(after).find(|c| c.status == 200 && matches(c)) {
            return call;
        }
        assert!(Instant::now() < deadline, "no {what} reached chat {chat}: {:?}", fake.messages_to(chat));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn text(call: &Call) -> &str {
    call.body["text"].as_str().unwrap_or_default()
}

/// Every `http(s)://host` named in `source`, skipping `//` comment lines.
fn hosts(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("://") {
            let scheme = &line[..i];
            if !(scheme.ends_with("http")
                || scheme.ends_with("https")
                || scheme.ends_with("wss")
                || scheme.ends_with("ws"))
            {
                continue;
            }
            let host: String =
                line[i + 3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
            found.insert(host);
        }
    }
    found
}

/// Paths `source` (HTML, CSS or a module) loads, resolved against /assets/.
fn references(source: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for opener in ["src=\"", "href=\"", "from '", "import '", "import('", "url("] {
        for (i, _) in source.match_indices(opener) {
            let rest = &source[i + opener.len()..];
            let end = rest.find(['"', '\'', ')']).unwrap_or(rest.len());
            let target = rest[..end].trim_matches(['"', '\'']);
            if let Some(local) = target.strip_prefix("./") {
                paths.push(format!("/assets/{local}"));
            } else if target.starts_with('/') || target.contains("://") {
                paths.push(target.to_owned());
            }
        }
    }
    paths
}

/// Fetches `/` and, transitively, every file it loads; all must be ours and
/// name no host but Telegram's. Returns the files fetched.
async fn the_mini_app_loads_only_from_us(api: &Api) -> Vec<String> {
    let page = api.client.get(format!("{}/", api.address)).send().await.expect("GET /");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    for directive in ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:"] {
        assert!(csp.contains(directive), "the CSP keeps the browser on our origin ({directive}): {csp}");
    }
    assert!(!csp.contains("://"), "the CSP names no other host: {csp}");
    let mut queue = vec![("/".to_owned(), page.text().await.expect("page"))];
    let mut fetched = vec!["/".to_owned()];
    while let Some((path, source)) = queue.pop() {
        // Telegram's own script (vendored, README "The Mini App") may name
        // Telegram's hosts (and the SVG namespace, an identifier, never fetched).
        let telegrams = path == "/assets/telegram-web-app.js";
        for host in hosts(&source) {
            let allowed = if telegrams {
                host == "t.me" || host == "telegram.org" || host.ends_with(".telegram.org") || host == "www.w3.org"
            } else {
                // Share links into Telegram (`https://t.me/<bot>?startapp=…`) are shown, not fetched.
                host == "t.me"
            };
            assert!(allowed, "{path} names the third-party host {host:?}");
        }
        for reference in references(&source) {
            assert!(reference.starts_with('/'), "{path} loads {reference} from another origin");
            if fetched.contains(&reference) {
                continue;
            }
            let response = api.client.get(format!("{}{reference}", api.address)).send().await.expect("asset");
            assert_eq!(response.status(), 200, "{path} loads {reference}");
            fetched.push(reference.clone());
            queue.push((reference, response.text().await.expect("asset body")));
        }
    }
    for expected in ["/assets/telegram-web-app.js", "/assets/app.js", "/assets/core.js", "/assets/app.css"] {
        assert!(fetched.iter().any(|f| f == expected), "the walk reached {expected}: {fetched:?}");
    }
    fetched
}

#[actix_web::test]
async fn every_feature_works_with_only_the_bot_api_reachable_and_nothing_else_is_tried() {
    if !netns_enabled() {
        return;
    }
    tokio::time::timeout(Duration::from_secs(120), only_the_bot_api())
        .await
        .expect("the test finishes within 2 minutes");
}

async fn only_the_bot_api() {
    let mut ns = Netns::create().expect("namespace");
    let link = ns.add_link().expect("link");
    let route = ns.command("ip").args(["route", "show", "default"]).output().expect("ip route");
    assert!(String::from_utf8_lossy(&route.stdout).trim().is_empty(), "the namespace has no default route");
    let fake = FakeTelegram::start().await;
    let fake_port: u16 = fake.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("fake port");
    let (relay_port, relayed) = counting_relay(link.host_addr, fake_port).await;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let bind = format!("{}:8080", link.peer_addr);
    let api_url = format!("http://{}:{relay_port}", link.host_addr);
    let mut command = ns.command(env!("CARGO_BIN_EXE_justbookme"));
    let extra = [
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN),
        ("TELEGRAM_API_URL", api_url.as_str()),
        ("PUBLIC_URL", "https://app.example.test/"),
        ("RATE_WS_CONNECT_PER_MIN", "0"),
    ];
    let server = ServerProcess::spawn(server_environment(&mut command, &db.url, &bind, &extra), &bind).await;
    let api = &server.api;

    // The Mini App and every file it loads.
    let files = the_mini_app_loads_only_from_us(api).await;

    // Telegram sign-in (the client; the photo URL is kept, never fetched).
    let (_, service) = api.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let user = json!({ "id": 2, "first_name": "Carol", "language_code": "en",
        "photo_url": "https://t.me/i/userpic/320/carol.svg" });
    let init_data = sign_init_data(BOT_TOKEN, &[("user", user.to_string()), ("auth_date", now_unix().to_string())]);
    let signed_in = api.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": init_data }))).await;
    let carol = signed_in.ok()["token"].as_str().expect("token").to_owned();

    // A live watcher sees the booking take its slot.
    let mut watcher = open(api).await;
    send(&mut watcher, watch("anna", &service, DAY, DAY)).await;
    let before = next_json(&mut watcher, WAIT).await.expect("a snapshot");
    assert!(starts(&before).contains(&slot("10:00")));
    assert_eq!(api.book(&carol, "anna", &service, &slot("10:00")).await.status, 201);
    let after = next_json(&mut watcher, WAIT).await.expect("a live update");
    assert!(!starts(&after).contains(&slot("10:00")), "{after}");

    // The provider's push, through the Bot API.
    let push = message_to(&fake, 1, 0, "booking push", |c| text(c).contains("Carol")).await;
    assert!(text(&push).contains("10:00"), "{}", text(&push));

    // The reminders, made due now.
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("open the server's database");
    let due = sqlx::query("UPDATE outbox SET due_at = unixepoch() WHERE kind = 'reminder'")
        .execute(&pool)
        .await
        .expect("make the reminders due");
    assert!(due.rows_affected() >= 1, "the booking has reminders");
    message_to(&fake, 2, 0, "reminder", |c| text(c).starts_with("Reminder")).await;

    // /start and /privacy.
    let seen = fake.messages_to(2).len();
    fake.push_update("message", message_from(2, "/start anna"));
    let welcome = message_to(&fake, 2, seen, "/start answer", |c| !text(c).starts_with("Reminder")).await;
    assert_eq!(
        welcome.body["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://app.example.test/?startapp=anna"
    );
    let seen = fake.messages_to(2).len();
    fake.push_update("message", message_from(2, "/privacy"));
    message_to(&fake, 2, seen, "/privacy answer", |c| text(c).starts_with("Privacy Policy")).await;

    // Nothing else was tried. Every connection the namespace opened reached
    // the fake Bot API (the relay's count catches up with the kernel's).
    let settled = Instant::now();
    let (opened, accepted) = loop {
        let opened = counters(&ns)["Tcp.ActiveOpens"];
        tokio::time::sleep(Duration::from_millis(200)).await;
        let accepted = relayed.load(Ordering::SeqCst) as i64;
        if accepted >= opened || settled.elapsed() > Duration::from_secs(5) {
            break (opened, accepted);
        }
    };
    let counters = counters(&ns);
    assert!(opened >= 1, "the bot reached the fake Bot API");
    assert_eq!(accepted, opened, "TCP connections opened from the namespace vs. accepted by the fake Bot API");
    for name in ["Ip.OutNoRoutes", "Ip6OutNoRoutes", "Udp.OutDatagrams", "Udp6OutDatagrams", "UdpLite.OutDatagrams"] {
        assert_eq!(counters.get(name).copied().unwrap_or(0), 0, "{name}: something tried another destination");
    }
    let _ = writeln!(
        std::io::stderr(),
        "no third parties: {opened} TCP connections from the server's namespace, all to the fake Bot API; \
         0 unroutable packets, 0 UDP datagrams; {} Bot API calls; {} Mini App files",
        fake.calls("getUpdates").len() + fake.calls("sendMessage").len(),
        files.len()
    );
}
