//! One typed configuration, read from the environment (and optionally a file
//! with the same `KEY=value` lines; the environment wins), validated at start
//! with messages that say what to fix.

use std::{collections::HashMap, fmt, net::SocketAddr, path::Path, time::Duration};

use url::Url;

use crate::{client_address::TrustedProxies, rate_limit::Limits};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/justbookme.db?mode=rwc";

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` (default, embedded) or `postgres://…`.
    pub database_url: String,
    /// Unset: in-process bus and rate limiter.
    pub redis_url: Option<String>,
    /// Unset: the bot is off and only the dev login can sign anyone in.
    pub telegram_bot_token: Option<BotToken>,
    pub telegram_api_url: Url,
    pub bind_addr: SocketAddr,
    /// Base of links in bot messages.
    pub public_url: Option<Url>,
    /// `POST /api/auth/dev` exists only when this is set (`DEV_LOGIN=1`).
    pub dev_login: bool,
    pub init_data_max_age: Duration,
    pub session_ttl: Duration,
    /// How long a node may serve a signed-in user or a provider from memory (0: never); see `crate::memo`.
    pub cache: Duration,
    /// A provider calendar with no request for this long is stopped.
    pub calendar_idle: Duration,
    /// Requests queued per calendar before it answers 503 + Retry-After.
    pub calendar_queue_limit: usize,
    /// How often each node looks for requests past their answer deadline
    /// (and, once a minute, for morning digests due).
    pub deadline_sweep: Duration,
    pub rate_limits: Limits,
    pub heartbeat: Heartbeat,
    /// On SIGTERM/Ctrl-C the process exits within this, whatever is open.
    pub shutdown_grace: Duration,
    /// Set (with `PUBLIC_URL`): updates come by webhook, not long polling.
    pub telegram_webhook_secret: Option<String>,
    /// The privacy policy served and sent by `/privacy` (`POLICY_FILE`, or its
    /// older name `PRIVACY_POLICY_FILE`); default: the copy compiled in.
    pub privacy_policy_file: Option<std::path::PathBuf>,
    /// The operators' chat: what users write after `/support` is copied
    /// there, and a reply to such a copy goes back to its writer. Unset:
    /// messages are only kept, and `justbookme support` answers them.
    pub support_chat_id: Option<i64>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (empty: none).
    pub trusted_proxies: TrustedProxies,
    /// The access log (policy §2) is written; `ACCESS_LOG=off` exists only
    /// to measure what it costs.
    pub access_log: bool,
    /// Access-log lines and finished outbox messages are purged after this.
    pub access_log_retention: Duration,
    /// A JSON body must have arrived whole this long after the handler
    /// starts reading it, or the request gets 408 and the connection is
    /// closed (slow senders cannot hold connections; issue 16).
    pub body_timeout: Duration,
    pub caps: Caps,
}

/// What one account or connection may hold or send (issue 16): bounds on
/// storage and work a single user can cause, far above any real use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Messages one WebSocket may send per second (a burst of twice that).
    pub ws_messages_per_sec: u32,
    /// Clients a provider may add by hand (clients who book come on their own).
    pub client_book: usize,
    /// Services a provider may have, retired ones included (bookings keep them).
    pub services: usize,
    /// Support messages one user may write in 24 hours.
    pub support_messages_per_day: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { ws_messages_per_sec: 20, client_book: 5000, services: 100, support_messages_per_day: 200 }
    }
}

/// WebSocket liveness: the server pings every `interval`; a session silent
/// for `timeout` is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    pub interval: Duration,
    pub timeout: Duration,
}

/// A Telegram bot token (`<bot id>:<secret>`). Never printed: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

impl BotToken {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = text.split_once(':').is_some_and(|(id, secret)| {
            (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) && url_safe(secret)
        });
        valid.then(|| Self(text.to_owned())).ok_or_else(|| "expected <bot id>:<secret>, as BotFather gives it".into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The numeric bot id, the part before the colon.
    pub fn bot_id(&self) -> i64 {
        self.0.split(':').next().and_then(|id| id.parse().ok()).unwrap_or_default()
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({}:…)", self.bot_id())
    }
}

/// Every problem found, so that one start tells the operator everything to fix.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|problem| format!("  - {problem}\n")).collect::<String>())]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Reads the process environment, on top of `file` if given.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut values = match file {
            Some(path) => parse_file(
                &std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?,
            )?,
            None => HashMap::new(),
        };
        for key in KEYS {
            if let Ok(value) = std::env::var(key) {
                values.insert((*key).to_owned(), value);
            }
        }
        Ok(Self::from_values(&values)?)
    }

    /// Builds and validates a configuration from `KEY → value` pairs.
    pub fn from_values(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut r = Reader { values, problems: Vec::new() };
        // A value with a problem reads as its default; any problem fails the whole.
        let database_url = r
            .read("DATABASE_URL", |v| {
                let url = v.unwrap_or(DEFAULT_DATABASE_URL);
                match url.starts_with("sqlite:") || crate::store::is_postgres_url(url) {
                    true => Ok(url.to_owned()),
                    false => Err(format!("expected sqlite://PATH or postgres://…, got {url:?}")),
                }
            })
            .unwrap_or_default();
        let redis_url = r.read("REDIS_URL", |v| match v {
            Some(url) if !url.starts_with("redis://") && !url.starts_with("rediss://") => {
                Err(format!("expected redis://HOST:PORT, got {url:?}"))
            }
            other => Ok(other.map(str::to_owned)),
        });
        let telegram_bot_token = r.read("TELEGRAM_BOT_TOKEN", |v| v.map(BotToken::parse).transpose()).flatten();
        let telegram_api_url = r.read("TELEGRAM_API_URL", |v| parse_url(v.unwrap_or("https://api.telegram.org")));
        let public_url = r.read("PUBLIC_URL", |v| v.map(parse_url).transpose()).flatten();
        let bind_addr = r.read("BIND_ADDR", |v| {
            v.unwrap_or("127.0.0.1:8080")
                .parse::<SocketAddr>()
                .map_err(|_| "expected HOST:PORT with an IP address, e.g. 127.0.0.1:8080".to_owned())
        });
        let dev_login = r.read("DEV_LOGIN", parse_flag).unwrap_or_default();
        let init_data_max_age = r.positive("INIT_DATA_MAX_AGE", 86_400);
        let session_ttl_days = r.positive("SESSION_TTL_DAYS", 30);
        let cache_secs = r
            .read("CACHE_SECS", |v| {
                v.map_or(Ok(30), |text| {
                    text.parse::<u64>().map_err(|_| format!("expected whole seconds (0 = no cache), got {text:?}"))
                })
            })
            .unwrap_or(30);

        let telegram_webhook_secret = r.get("TELEGRAM_WEBHOOK_SECRET");
        if let Some(secret) = telegram_webhook_secret {
            if secret.len() > 256 || !url_safe(secret) {
                r.note("TELEGRAM_WEBHOOK_SECRET", "1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)");
            }
            if r.get("PUBLIC_URL").is_none() {
                r.note("TELEGRAM_WEBHOOK_SECRET", "webhook mode needs PUBLIC_URL (where Telegram posts)");
            }
        }
        let calendar_idle = r.positive("CALENDAR_IDLE_SECS", 600);
        // Far above the 500 simultaneous bookings of one slot the tests storm with.
        let queue_limit = r.positive("CALENDAR_QUEUE_LIMIT", 2048);
        let shutdown_grace = r.positive("SHUTDOWN_GRACE_SECS", 5);
        let deadline_sweep_ms = r.positive("DEADLINE_SWEEP_MS", 2000);
        let support_chat_id = r
            .read("SUPPORT_CHAT_ID", |v| {
                v.map(|text| match text.parse::<i64>() {
                    Ok(id) if id != 0 => Ok(id),
                    _ => Err(format!("expected a Telegram chat id such as -1001234567890, got {text:?}")),
                })
                .transpose()
            })
            .flatten();
        let trusted_proxies = r.read("TRUSTED_PROXIES", |v| TrustedProxies::parse(v.unwrap_or(""))).unwrap_or_default();
        let access_log = r.read("ACCESS_LOG", |v| parse_flag(Some(v.unwrap_or("on")))).unwrap_or(true);
        let access_log_retention_days = r.positive("ACCESS_LOG_RETENTION_DAYS", 30);
        // Below the 10 s deadline of the whole request, or it would never fire.
        let body_timeout = r.positive("BODY_TIMEOUT_SECS", DEFAULT_BODY_TIMEOUT.as_secs());
        if body_timeout >= crate::http::deadline::REQUEST_TIMEOUT.as_secs() {
            let limit = crate::http::deadline::REQUEST_TIMEOUT.as_secs();
            r.note("BODY_TIMEOUT_SECS", &format!("must be below the {limit} s request deadline"));
        }

        let defaults = Limits::default();
        let rate_limits = Limits {
            sign_in_per_ip: r.rate("RATE_SIGN_IN_PER_MIN", defaults.sign_in_per_ip),
            booking_per_user: r.rate("RATE_BOOKING_PER_MIN", defaults.booking_per_user),
            booking_per_ip: r.rate("RATE_BOOKING_PER_IP_PER_MIN", defaults.booking_per_ip),
            ws_connect_per_ip: r.rate("RATE_WS_CONNECT_PER_MIN", defaults.ws_connect_per_ip),
            support_per_user: r.rate("RATE_SUPPORT_PER_MIN", defaults.support_per_user),
            sign_in_failures_per_ip: r.rate("RATE_SIGN_IN_FAILURES_PER_MIN", defaults.sign_in_failures_per_ip),
        };
        let default_caps = Caps::default();
        let caps = Caps {
            ws_messages_per_sec: r
                .positive("WS_MESSAGES_PER_SEC", default_caps.ws_messages_per_sec.into())
                .try_into()
                .unwrap_or(u32::MAX),
            client_book: r
                .positive("CLIENT_BOOK_MAX", default_caps.client_book as u64)
                .try_into()
                .unwrap_or(usize::MAX),
            services: r.positive("SERVICES_MAX", default_caps.services as u64).try_into().unwrap_or(usize::MAX),
            support_messages_per_day: r
                .positive("SUPPORT_MESSAGES_PER_DAY", default_caps.support_messages_per_day as u64)
                .try_into()
                .unwrap_or(usize::MAX),
        };
        let heartbeat_secs = r.read("WS_HEARTBEAT_SECS", |v| parse_positive(v, 10));
        let timeout_secs = r.read("WS_TIMEOUT_SECS", |v| parse_positive(v, 30));
        if let (Some(interval), Some(timeout)) = (heartbeat_secs, timeout_secs)
            && timeout <= interval
        {
            r.note("WS_TIMEOUT_SECS", "must be longer than WS_HEARTBEAT_SECS");
        }

        let (Some(telegram_api_url), Some(bind_addr), Some(heartbeat_secs), Some(timeout_secs), true) =
            (telegram_api_url, bind_addr, heartbeat_secs, timeout_secs, r.problems.is_empty())
        else {
            return Err(ConfigError(r.problems));
        };
        Ok(Config {
            database_url,
            redis_url: redis_url.flatten(),
            telegram_bot_token,
            telegram_api_url,
            bind_addr,
            public_url,
            dev_login,
            init_data_max_age: Duration::from_secs(init_data_max_age),
            session_ttl: Duration::from_secs(session_ttl_days * 86_400),
            cache: Duration::from_secs(cache_secs),
            calendar_idle: Duration::from_secs(calendar_idle),
            deadline_sweep: Duration::from_millis(deadline_sweep_ms),
            calendar_queue_limit: usize::try_from(queue_limit).unwrap_or(usize::MAX),
            rate_limits,
            privacy_policy_file: r
                .get("POLICY_FILE")
                .or_else(|| r.get("PRIVACY_POLICY_FILE"))
                .map(std::path::PathBuf::from),
            telegram_webhook_secret: telegram_webhook_secret.map(str::to_owned),
            support_chat_id,
            heartbeat: Heartbeat {
                interval: Duration::from_secs(heartbeat_secs),
                timeout: Duration::from_secs(timeout_secs),
            },
            shutdown_grace: Duration::from_secs(shutdown_grace),
            trusted_proxies,
            access_log,
            access_log_retention: Duration::from_secs(access_log_retention_days.saturating_mul(86_400)),
            body_timeout: Duration::from_secs(body_timeout),
            caps,
        })
    }
}

/// Reads values by key, noting every problem under its key.
struct Reader<'a> {
    values: &'a HashMap<String, String>,
    problems: Vec<String>,
}

impl<'a> Reader<'a> {
    /// The value, trimmed; blank counts as unset.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn note(&mut self, key: &str, message: &str) {
        self.problems.push(format!("{key}: {message}"));
    }

    /// `parse`d, or `None` with the problem noted.
    fn read<T>(&mut self, key: &str, parse: impl FnOnce(Option<&'a str>) -> Result<T, String>) -> Option<T> {
        parse(self.get(key)).map_err(|message| self.note(key, &message)).ok()
    }

    fn positive(&mut self, key: &str, default: u64) -> u64 {
        self.read(key, |v| parse_positive(v, default)).unwrap_or(default)
    }

    /// A limit per minute (0 = no limit).
    fn rate(&mut self, key: &str, default: u32) -> u32 {
        let parse = |text: &str| {
            text.parse().map_err(|_| format!("expected a whole number per minute (0 = no limit), got {text:?}"))
        };
        self.read(key, |v| v.map_or(Ok(default), parse)).unwrap_or(default)
    }
}

/// How long a request body may take to arrive (`BODY_TIMEOUT_SECS`).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The keys read from the environment and the config file.
pub const KEYS: &[&str] = &[
    "DATABASE_URL",
    "REDIS_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "BIND_ADDR",
    "PUBLIC_URL",
    "DEV_LOGIN",
    "INIT_DATA_MAX_AGE",
    "SESSION_TTL_DAYS",
    "CACHE_SECS",
    "CALENDAR_IDLE_SECS",
    "CALENDAR_QUEUE_LIMIT",
    "DEADLINE_SWEEP_MS",
    "RATE_SIGN_IN_PER_MIN",
    "RATE_BOOKING_PER_MIN",
    "RATE_BOOKING_PER_IP_PER_MIN",
    "RATE_WS_CONNECT_PER_MIN",
    "WS_HEARTBEAT_SECS",
    "WS_TIMEOUT_SECS",
    "SHUTDOWN_GRACE_SECS",
    "POLICY_FILE",
    "PRIVACY_POLICY_FILE",
    "TELEGRAM_WEBHOOK_SECRET",
    "SUPPORT_CHAT_ID",
    "RATE_SUPPORT_PER_MIN",
    "TRUSTED_PROXIES",
    "ACCESS_LOG",
    "ACCESS_LOG_RETENTION_DAYS",
    "RATE_SIGN_IN_FAILURES_PER_MIN",
    "WS_MESSAGES_PER_SEC",
    "CLIENT_BOOK_MAX",
    "SERVICES_MAX",
    "SUPPORT_MESSAGES_PER_DAY",
    "BODY_TIMEOUT_SECS",
];

fn url_safe(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} must be an http:// or https:// URL"));
    }
    Ok(url)
}

fn parse_flag(text: Option<&str>) -> Result<bool, String> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(format!("expected 1 or 0, got {other:?}")),
    }
}

/// A positive whole number (seconds, days or a count), at most ten years of seconds.
fn parse_positive(text: Option<&str>, default: u64) -> Result<u64, String> {
    let Some(text) = text else { return Ok(default) };
    match text.parse::<u64>() {
        Ok(0) => Err("must be greater than 0".into()),
        Ok(value) if value <= 10 * 365 * 86_400 => Ok(value),
        _ => Err(format!("expected a positive whole number, got {text:?}")),
    }
}

/// `KEY=value` lines; blank lines and `#` comments are skipped, values may be quoted.
fn parse_file(text: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut values = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("config file line {}: expected KEY=value", number + 1))?;
        let key = key.trim();
        if !KEYS.contains(&key) {
            anyhow::bail!("config file line {}: unknown key {key:?} (known: {})", number + 1, KEYS.join(", "));
        }
        let value = value.trim().trim_matches('"');
        values.insert(key.to_owned(), value.to_owned());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_values(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn defaults_run_a_single_node_without_services() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert!(!config.dev_login, "dev login is never on by default");
        assert!(config.telegram_bot_token.is_none());
        assert!(config.redis_url.is_none());
        assert_eq!(config.init_data_max_age, Duration::from_secs(86_400));
        assert_eq!(config.trusted_proxies, TrustedProxies::default(), "X-Forwarded-For is never trusted by default");
        assert!(config.access_log);
        assert_eq!(config.access_log_retention, Duration::from_secs(30 * 86_400));
    }

    #[test]
    fn access_log_keys_are_read_and_checked() {
        let config =
            config(&[("ACCESS_LOG", "off"), ("ACCESS_LOG_RETENTION_DAYS", "7"), ("TRUSTED_PROXIES", "10.0.0.0/8")])
                .unwrap();
        assert!(!config.access_log);
        assert_eq!(config.access_log_retention, Duration::from_secs(7 * 86_400));
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        let text = config_error(&[("TRUSTED_PROXIES", "proxy.local"), ("ACCESS_LOG_RETENTION_DAYS", "0")]);
        assert!(text.contains("TRUSTED_PROXIES") && text.contains("ACCESS_LOG_RETENTION_DAYS"), "{text}");
    }

    fn config_error(pairs: &[(&str, &str)]) -> String {
        config(pairs).unwrap_err().to_string()
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let error = config(&[
            ("DATABASE_URL", "mysql://x"),
            ("BIND_ADDR", "localhost"),
            ("DEV_LOGIN", "maybe"),
            ("INIT_DATA_MAX_AGE", "-5"),
            ("TELEGRAM_BOT_TOKEN", "nonsense"),
        ])
        .unwrap_err();
        let text = error.to_string();
        for key in ["DATABASE_URL", "BIND_ADDR", "DEV_LOGIN", "INIT_DATA_MAX_AGE", "TELEGRAM_BOT_TOKEN"] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
    }

    #[test]
    fn the_token_never_appears_in_debug_output() {
        let config = config(&[("TELEGRAM_BOT_TOKEN", "123456:SECRET-part_x")]).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert_eq!(config.telegram_bot_token.unwrap().bot_id(), 123456);
    }

    #[test]
    fn the_support_chat_is_a_telegram_chat_id() {
        assert_eq!(config(&[]).unwrap().support_chat_id, None);
        assert_eq!(config(&[("SUPPORT_CHAT_ID", "-1001234567890")]).unwrap().support_chat_id, Some(-1001234567890));
        for wrong in ["0", "@operators", "1.5"] {
            let error = config(&[("SUPPORT_CHAT_ID", wrong)]).unwrap_err().to_string();
            assert!(error.contains("SUPPORT_CHAT_ID"), "{wrong}: {error}");
        }
    }

    #[test]
    fn the_body_timeout_stays_below_the_request_deadline() {
        assert_eq!(config(&[]).unwrap().body_timeout, Duration::from_secs(5));
        assert_eq!(config(&[("BODY_TIMEOUT_SECS", "2")]).unwrap().body_timeout, Duration::from_secs(2));
        for wrong in ["0", "10", "60", "soon"] {
            assert!(config_error(&[("BODY_TIMEOUT_SECS", wrong)]).contains("BODY_TIMEOUT_SECS"), "{wrong}");
        }
    }

    #[test]
    fn file_values_are_parsed_and_unknown_keys_refused() {
        let values = parse_file("# comment\nDEV_LOGIN=1\nBIND_ADDR = \"127.0.0.1:9000\"\n").unwrap();
        assert_eq!(values["DEV_LOGIN"], "1");
        assert_eq!(values["BIND_ADDR"], "127.0.0.1:9000");
        assert!(parse_file("DATABSE_URL=x").is_err());
    }
}
