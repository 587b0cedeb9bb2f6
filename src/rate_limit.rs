//! GCRA rate limiting per user and per IP address: in Redis (shared by all
//! nodes, one atomic script on Redis's own clock) when `REDIS_URL` is set,
//! with governor in-process otherwise — and as the fallback whenever Redis
//! does not answer, so a Redis outage never stops the service (each node then
//! enforces the same limits on its own).

use std::{collections::HashMap, num::NonZeroU32, sync::Arc, time::Duration};

use deadpool_redis::Pool;
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

/// What is limited.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Sign-ins, per client IP.
    SignInPerIp,
    /// Booking writes (book, cancel, reschedule, provider actions), per user.
    BookingPerUser,
    /// Booking writes, per client IP (many users may share a carrier NAT).
    BookingPerIp,
    /// WebSocket connections, per client IP.
    WsConnectPerIp,
    /// Support writes through the bot (`/support` and each message), per
    /// Telegram user.
    SupportPerUser,
    /// Failed sign-ins (a forged or stale `initData`), per client IP: only
    /// failures count, so a shared address with one bad client still signs
    /// everyone else in.
    SignInFailurePerIp,
}

impl Rule {
    const ALL: [Rule; 6] = [
        Rule::SignInPerIp,
        Rule::BookingPerUser,
        Rule::BookingPerIp,
        Rule::WsConnectPerIp,
        Rule::SupportPerUser,
        Rule::SignInFailurePerIp,
    ];

    fn name(self) -> &'static str {
        match self {
            Rule::SignInPerIp => "sign-in-ip",
            Rule::BookingPerUser => "booking-user",
            Rule::BookingPerIp => "booking-ip",
            Rule::WsConnectPerIp => "ws-ip",
            Rule::SupportPerUser => "support-user",
            Rule::SignInFailurePerIp => "sign-in-failure-ip",
        }
    }
}

/// Requests per minute per rule (the burst is the same number); 0 = no limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub sign_in_per_ip: u32,
    pub booking_per_user: u32,
    pub booking_per_ip: u32,
    pub ws_connect_per_ip: u32,
    pub support_per_user: u32,
    pub sign_in_failures_per_ip: u32,
}

impl Default for Limits {
    /// A busy morning never meets these: a client books or moves a few times
    /// a minute at most; a salon's Wi-Fi is dozens of people, not hundreds.
    fn default() -> Self {
        // Support: a person types a few messages a minute; ten is a burst
        // nobody writing by hand reaches.
        Limits {
            sign_in_per_ip: 60,
            booking_per_user: 30,
            booking_per_ip: 300,
            ws_connect_per_ip: 300,
            support_per_user: 10,
            sign_in_failures_per_ip: 10,
        }
    }
}

impl Limits {
    fn per_minute(&self, rule: Rule) -> u32 {
        match rule {
            Rule::SignInPerIp => self.sign_in_per_ip,
            Rule::BookingPerUser => self.booking_per_user,
            Rule::BookingPerIp => self.booking_per_ip,
            Rule::WsConnectPerIp => self.ws_connect_per_ip,
            Rule::SupportPerUser => self.support_per_user,
            Rule::SignInFailurePerIp => self.sign_in_failures_per_ip,
        }
    }
}

/// GCRA in one script: the theoretical arrival time (TAT) of the key moves
/// by one emission interval per request; a request is refused while it would
/// come earlier than TAT minus the burst tolerance. Uses `TIME`, so all nodes
/// share Redis's clock, not their own.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return allow_at - now
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return 0
"#;

/// How long Redis may take before the local limiter decides instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

pub struct RateLimiter {
    limits: Limits,
    local: HashMap<Rule, Arc<DefaultKeyedRateLimiter<String>>>,
    redis: Option<(Pool, redis::Script)>,
}

impl RateLimiter {
    pub fn new(limits: Limits, redis: Option<Pool>) -> Self {
        let local = Rule::ALL
            .into_iter()
            .filter_map(|rule| {
                let per_minute = NonZeroU32::new(limits.per_minute(rule))?;
                let quota = Quota::per_minute(per_minute).allow_burst(per_minute);
                Some((rule, Arc::new(DefaultKeyedRateLimiter::keyed(quota))))
            })
            .collect();
        RateLimiter { limits, local, redis: redis.map(|pool| (pool, redis::Script::new(GCRA))) }
    }

    /// `Err(retry_after)` when `key` is over its limit for `rule`.
    pub async fn check(&self, rule: Rule, key: &str) -> Result<(), Duration> {
        let per_minute = self.limits.per_minute(rule);
        if per_minute == 0 {
            return Ok(());
        }
        if let Some((pool, script)) = &self.redis {
            let interval_ms = 60_000 / u64::from(per_minute);
            let tolerance_ms = interval_ms * u64::from(per_minute - 1);
            let shared = async {
                let mut conn = pool.get().await?;
                let mut invocation = script.key(format!("justbookme:rl:{}:{key}", rule.name()));
                anyhow::Ok(invocation.arg(interval_ms).arg(tolerance_ms).invoke_async::<u64>(&mut conn).await?)
            };
            match tokio::time::timeout(REDIS_TIMEOUT, shared).await {
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(wait_ms)) => return Err(Duration::from_millis(wait_ms)),
                Ok(Err(error)) => tracing::warn!(%error, "rate limiter: Redis failed, limiting locally"),
                Err(_) => tracing::warn!("rate limiter: Redis timed out, limiting locally"),
            }
        }
        let Some(limiter) = self.local.get(&rule) else { return Ok(()) };
        // The limiter's own clock: a new one would calibrate itself (CPUID) on every refusal.
        limiter.check_key(&key.to_owned()).map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets keys that have fully recovered (keeps memory flat).
    pub fn forget_idle_keys(&self) {
        for limiter in self.local.values() {
            limiter.retain_recent();
        }
    }
}
