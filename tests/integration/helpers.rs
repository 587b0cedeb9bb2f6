//! `spawn_app` and friends: one real server per test, on a fresh database.

use std::{collections::HashMap, io::Write};

use actors::calendar::Calendars;
use hmac::{Hmac, Mac};
use justbookme::{config::Config, startup::Application};
use serde_json::{Value, json};
use sha2::Sha256;

pub const BOT_TOKEN: &str = "7000000001:TEST-token_for-integration-tests";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` (an `async fn(Backend)`) once per backend as two tests.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name(crate::helpers::Backend::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if crate::helpers::postgres_admin_url().is_some() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// A suite that cannot run here: under CI a failure (a green CI must mean
/// everything ran), otherwise said loudly once per suite, and `false`.
pub fn skip_loudly(suite: &'static str, reason: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{suite} must run under CI, but: {reason}");
    }
    static WARNED: std::sync::Mutex<Vec<&str>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !warned.contains(&suite) {
        warned.push(suite);
        // Straight to stderr: libtest's capture would swallow eprintln!.
        let _ = writeln!(std::io::stderr(), "\n!!! {} SKIPPED: {reason}.\n", suite.to_uppercase());
    }
    false
}

/// The admin URL for PostgreSQL tests, or `None` after saying loudly that
/// they are skipped. Under CI a missing PostgreSQL is a failure, not a skip.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let reason = "TEST_POSTGRES_URL is not set; `bash .ci/run` \
                (or TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres) runs it";
            skip_loudly("the PostgreSQL suite", reason);
            None
        }
    }
}

/// Whether the Redis half of the suite runs (`TEST_REDIS_URL` set, which also
/// promises a `redis-server` binary for tests that start their own). Loud
/// skip otherwise; under CI a skip is a failure.
pub fn redis_enabled() -> bool {
    std::env::var("TEST_REDIS_URL").is_ok_and(|v| !v.is_empty())
        || skip_loudly("the Redis suite", "TEST_REDIS_URL is not set (bash .ci/run sets it)")
}

/// A private `redis-server` on a free port, so a test may kill and restart it.
pub struct RedisServer {
    pub port: u16,
    /// Addresses it listens on besides loopback (a namespace link's host side).
    also_on: Vec<std::net::Ipv4Addr>,
    child: Option<std::process::Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        Self::start_on(&[]).await
    }

    /// Listening on loopback and on `also_on` too.
    pub async fn start_on(also_on: &[std::net::Ipv4Addr]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let mut server = RedisServer { port, also_on: also_on.to_vec(), child: None };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(self.also_on.iter().map(ToString::to_string))
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (bash .ci/run installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two nodes on one PostgreSQL and one private, killable Redis; `None`
/// (skipped loudly) without them.
pub async fn two_nodes(extra: &[(&str, &str)]) -> Option<(TestDatabase, RedisServer, TestApp, TestApp)> {
    two_nodes_on(Backend::Postgres, extra).await
}

/// [`two_nodes`] on either backend: on SQLite both nodes open one database
/// file (two processes' worth of pools in one), with Redis between them.
pub async fn two_nodes_on(
    backend: Backend,
    extra: &[(&str, &str)],
) -> Option<(TestDatabase, RedisServer, TestApp, TestApp)> {
    if (backend == Backend::Postgres && postgres_admin_url().is_none()) || !redis_enabled() {
        return None;
    }
    let db = TestDatabase::new(backend).await;
    let redis = RedisServer::start().await;
    let url = redis.url();
    let mut config = vec![("DATABASE_URL", db.url.as_str()), ("REDIS_URL", url.as_str())];
    config.extend_from_slice(extra);
    let a = spawn_app_with(backend, &config).await;
    let b = spawn_app_with(backend, &config).await;
    Some((db, redis, a, b))
}

/// A database that exists for one test and is dropped with it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                TestDatabase { url, cleanup: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().expect("checked by the caller");
                let name = format!("jbm_test_{}", uuid::Uuid::now_v7().simple());
                run_admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
                let mut url = url::Url::parse(&admin).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                TestDatabase { url: url.to_string(), cleanup: Some((admin, name)), _dir: None }
            }
        }
    }
}

async fn run_admin_sql(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to TEST_POSTGRES_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.expect("admin SQL");
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.cleanup.take() {
            // Drop runs inside the test's runtime; do the async cleanup on a
            // thread of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    runtime.block_on(run_admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
                }
            })
            .join();
        }
    }
}

/// Talks to one server over HTTP, like a client app would.
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(address: String) -> Self {
        // An idle connection is dropped before the server's 5 s keep-alive
        // closes it: reusing one the server is closing at that moment fails
        // with "error sending request" (seen once on a loaded machine).
        let client = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        Api { address, client }
    }
}

pub struct TestApp {
    pub api: Api,
    /// The node's calendars, for fault injection.
    pub calendars: Calendars,
    /// The node's live hub, for session counts.
    pub hub: actix::Addr<justbookme::live::LiveHub>,
    /// Kept so the database lives (and is dropped) with the app.
    pub _db: TestDatabase,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts a server with the test defaults (dev login on, a bot token) plus
/// `overrides` (`("DEV_LOGIN", "")` switches a default off).
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    let (app, application) = build_app(backend, overrides).await;
    actix_web::rt::spawn(application.run_until_stopped());
    app
}

/// Like [`spawn_app_with`], but the server stops (gracefully, as on
/// SIGTERM) when the returned sender fires; the handle ends when it exited.
pub async fn spawn_stoppable_app(
    backend: Backend,
    overrides: &[(&str, &str)],
) -> (TestApp, tokio::sync::oneshot::Sender<()>, actix_web::rt::task::JoinHandle<std::io::Result<()>>) {
    let (app, application) = build_app(backend, overrides).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = actix_web::rt::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    (app, stop, running)
}

async fn build_app(backend: Backend, overrides: &[(&str, &str)]) -> (TestApp, Application) {
    let db = TestDatabase::new(backend).await;
    let mut values: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DEV_LOGIN", "1"),
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN),
        // Never the real Telegram: port 9 refuses; bot tests start a fake.
        ("TELEGRAM_API_URL", "http://127.0.0.1:9"),
        // Tests sign in hundreds of users from one address; the rate-limit
        // tests switch limits back on.
        ("RATE_SIGN_IN_PER_MIN", "0"),
        ("RATE_BOOKING_PER_MIN", "0"),
        ("RATE_BOOKING_PER_IP_PER_MIN", "0"),
        ("RATE_WS_CONNECT_PER_MIN", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (key, value) in overrides {
        values.insert((*key).to_owned(), (*value).to_owned());
    }
    let config = Config::from_values(&values).expect("test config");
    let app = Application::build(config).await.expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let calendars = app.calendars();
    let hub = app.hub();
    (TestApp { api: Api::new(address), calendars, hub, _db: db }, app)
}

/// A response read whole: status, content type and JSON body (Null if none).
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// Asserts an RFC 9457 problem with `status`, returning its `field`.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Option<String> {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{}", self.body);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.body);
        self.body["field"].as_str().map(str::to_owned)
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!((200..300).contains(&self.status), "status {} body {}", self.status, self.body);
        &self.body
    }
}

impl TestApp {
    /// The database URL the server uses (for arranging data directly).
    pub fn database_url(&self) -> String {
        self._db.url.clone()
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Api {
    pub async fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => read(response).await,
            // The server is gone (a kill -9 test): status 0, the error as body.
            Err(error) => Reply { status: 0, content_type: String::new(), body: Value::String(error.to_string()) },
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request("GET", path, token, None).await
    }

    /// Signs in through the dev login and returns the bearer token.
    pub async fn dev_sign_in(&self, telegram_id: i64, first_name: &str) -> String {
        let reply = self
            .request(
                "POST",
                "/api/auth/dev",
                None,
                Some(json!({ "telegram_id": telegram_id, "first_name": first_name })),
            )
            .await;
        reply.ok()["token"].as_str().expect("token").to_owned()
    }

    /// A signed-in provider with a profile, one service and a schedule.
    /// Returns (token, service id).
    pub async fn provider(&self, telegram_id: i64, slug: &str, profile: Value, schedule: Value) -> (String, String) {
        let token = self.dev_sign_in(telegram_id, slug).await;
        let mut body = json!({ "slug": slug, "display_name": slug, "timezone": "Europe/Berlin",
            "slot_step_min": 60, "min_notice_min": 0, "horizon_days": 366 });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), profile.as_object()) {
            body.extend(extra.clone());
        }
        self.request("PUT", "/api/provider", Some(&token), Some(body)).await.ok();
        let service = self
            .request(
                "POST",
                "/api/provider/services",
                Some(&token),
                Some(json!({ "name": "Visit", "duration_min": 60 })),
            )
            .await;
        let service_id = service.ok()["id"].as_str().expect("service id").to_owned();
        self.request("PUT", "/api/provider/schedule", Some(&token), Some(schedule)).await.ok();
        (token, service_id)
    }
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, content_type, body }
}

/// The day most tests book on: a Tuesday in Berlin summer time.
pub const DAY: &str = "2027-06-01";

/// `HH:MM` on [`DAY`], as the API writes it.
pub fn slot(time: &str) -> String {
    format!("{DAY}T{time}:00+02:00")
}

/// Every weekday open `start`–`end`, as a schedule body.
pub fn every_day(start: &str, end: &str) -> Value {
    json!({ "weekly": (1..=7).map(|d| json!({ "weekday": d, "start": start, "end": end })).collect::<Vec<_>>() })
}

/// Signs Mini App init data the way Telegram does, written from Telegram's
/// documentation and independent of the server's verifier: the fields are
/// percent-encoded into a query string, and `hash` is
/// HMAC-SHA256(HMAC-SHA256("WebAppData", token), sorted "k=v" lines).
pub fn sign_init_data(bot_token: &str, fields: &[(&str, String)]) -> String {
    let mut sorted: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    sorted.sort();
    let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("hmac key");
    secret.update(bot_token.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.finalize().into_bytes()).expect("hmac key");
    mac.update(sorted.join("\n").as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in fields {
        query.append_pair(key, value);
    }
    query.append_pair("hash", &hash);
    query.finish()
}

pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Api {
    /// The provider id of a signed-in provider.
    pub async fn provider_id(&self, token: &str) -> actors::domain::ProviderId {
        actors::domain::ProviderId(
            self.get("/api/provider", Some(token)).await.ok()["id"].as_str().expect("id").parse().expect("uuid"),
        )
    }

    /// Books `start` for `service` at provider `slug` as the holder of `token`.
    pub async fn book(&self, token: &str, slug: &str, service: &str, start: &str) -> Reply {
        self.request(
            "POST",
            "/api/bookings",
            Some(token),
            Some(json!({ "provider": slug, "service": service, "start": start })),
        )
        .await
    }

    /// `n` signed-in users with telegram ids from `first_id`, signed in concurrently.
    pub async fn many_users(&self, first_id: i64, n: usize) -> Vec<String> {
        let futures = (0..n).map(|i| self.dev_sign_in(first_id + i as i64, "Racer"));
        futures_util::future::join_all(futures).await
    }
}

/// The test environment of a server process (nothing inherited but PATH):
/// dev login on, rate limits off, never the real Telegram, plus `extra`.
pub fn server_environment<'c>(
    command: &'c mut std::process::Command,
    database_url: &str,
    bind: &str,
    extra: &[(&str, &str)],
) -> &'c mut std::process::Command {
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", bind)
        .env("DEV_LOGIN", "1")
        .env("RATE_SIGN_IN_PER_MIN", "0")
        .env("RATE_BOOKING_PER_MIN", "0")
        .env("RATE_BOOKING_PER_IP_PER_MIN", "0")
        .env("RUST_LOG", "warn")
        .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
        .envs(extra.iter().copied())
        .stdout(std::process::Stdio::null())
}

/// The server binary as a separate process (for multi-node, crash and
/// restart tests). Killed when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub api: Api,
}

impl ServerProcess {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    pub async fn start_with(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let bind = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_justbookme"));
        Self::spawn(server_environment(&mut command, database_url, &bind, extra), &bind).await
    }

    /// Starts `command` (a server listening on `bind`) and waits until it is
    /// healthy; a process that exits first fails at once, saying how.
    pub async fn spawn(command: &mut std::process::Command, bind: &str) -> Self {
        let child = command.spawn().expect("start the server binary");
        let mut server = ServerProcess { child, api: Api::new(format!("http://{bind}")) };
        for _ in 0..300 {
            if server.api.get("/healthz", None).await.status == 200 {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited at start: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server process did not become healthy");
    }

    /// SIGKILL: no graceful shutdown, no flush, like a power cut of the process.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Moves a booking `days` into the past with `status`, as if its time had
/// come and the provider had marked it (the actions refuse a visit to come).
pub async fn happened(app: &TestApp, backend: Backend, id: &str, days: i64, status: &str) {
    let id = uuid::Uuid::parse_str(id).expect("a booking id");
    let url = app.database_url();
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
            let shift = days * 86_400;
            sqlx::query(
                "UPDATE bookings SET status = $1, starts_at = starts_at - $2, ends_at = ends_at - $2, \
                 occupied_from = occupied_from - $2, occupied_to = occupied_to - $2 WHERE id = $3",
            )
            .bind(status)
            .bind(shift)
            .bind(id)
            .execute(&pool)
            .await
            .expect("moved");
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
            sqlx::query(
                "UPDATE bookings SET status = $1, starts_at = starts_at - make_interval(days => $2), \
                 ends_at = ends_at - make_interval(days => $2), occupied_from = occupied_from - make_interval(days => $2), \
                 occupied_to = occupied_to - make_interval(days => $2) WHERE id = $3",
            )
            .bind(status)
            .bind(i32::try_from(days).expect("days"))
            .bind(id)
            .execute(&pool)
            .await
            .expect("moved");
        }
    }
}

/// Runs `sql` on the server's database directly (arranging what the API
/// cannot, as if time had passed), on either backend.
pub async fn sql_execute(backend: Backend, url: &str, sql: impl Into<String>) {
    let sql = sqlx::AssertSqlSafe(sql.into());
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            sqlx::query(sql).execute(&pool).await.expect("executed");
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            sqlx::query(sql).execute(&pool).await.expect("executed");
        }
    }
}

/// The one column `sql` selects from the server's database, on either backend.
pub async fn sql_column<T>(backend: Backend, url: &str, sql: impl Into<String>) -> Vec<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: Send + Unpin,
{
    let sql = sqlx::AssertSqlSafe(sql.into());
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            sqlx::query_scalar(sql).fetch_all(&pool).await.expect("selected")
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            sqlx::query_scalar(sql).fetch_all(&pool).await.expect("selected")
        }
    }
}
