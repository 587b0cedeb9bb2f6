//! The load: booking workers on both nodes, a reminders stream, a
//! WebSocket watcher per node, and the counters every answer lands in.

use super::*;

/// Counters of one phase; every request made by the load, the reminders
/// stream and the probes lands here.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) ok: AtomicU64,
    pub(super) conflict: AtomicU64,
    pub(super) unavailable: AtomicU64,
    other_5xx: AtomicU64,
    other_4xx: AtomicU64,
    pub(super) hung: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) slowest_ms: AtomicU64,
}

/// Slots frames a watcher received: when, and the free starts they listed.
pub(super) type Frames = Mutex<Vec<(Instant, HashSet<String>)>>;

pub(super) struct Shared {
    pub(super) http: reqwest::Client,
    pub(super) bases: [String; 2],
    pub(super) counters: Counters,
    pub(super) acknowledged: Mutex<HashSet<String>>,
    pub(super) paused: AtomicBool,
    pub(super) stop: AtomicBool,
    /// Workers with an attempt still waiting for a definitive answer.
    pub(super) busy: AtomicUsize,
    /// Per node: when a booking last succeeded there.
    pub(super) last_ok: [Mutex<Option<Instant>>; 2],
    /// Per node: slots frames the watcher received (time, free starts).
    pub(super) frames: [Frames; 2],
}

pub(super) enum Outcome {
    Acknowledged(String),
    Definitive,
    Retry,
}

impl Shared {
    /// Books once; classifies and counts the answer.
    pub(super) async fn book(&self, node: usize, token: &str, body: &Value, key: &str) -> Outcome {
        let started = Instant::now();
        let sent = self
            .http
            .post(format!("{}/api/bookings", self.bases[node]))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await;
        let c = &self.counters;
        match sent {
            Ok(response) => {
                c.slowest_ms.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                let status = response.status().as_u16();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                match status {
                    200..=299 => {
                        c.ok.fetch_add(1, Ordering::Relaxed);
                        *self.last_ok[node].lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                        Outcome::Acknowledged(answer["id"].as_str().unwrap_or_default().to_owned())
                    }
                    409 | 422 => {
                        c.conflict.fetch_add(1, Ordering::Relaxed);
                        Outcome::Definitive
                    }
                    503 => {
                        c.unavailable.fetch_add(1, Ordering::Relaxed);
                        Outcome::Retry
                    }
                    500..=599 => {
                        c.other_5xx.fetch_add(1, Ordering::Relaxed);
                        Outcome::Retry
                    }
                    _ => {
                        c.other_4xx.fetch_add(1, Ordering::Relaxed);
                        Outcome::Definitive
                    }
                }
            }
            Err(error) if error.is_timeout() => {
                c.hung.fetch_add(1, Ordering::Relaxed);
                Outcome::Retry
            }
            Err(_) => {
                c.refused.fetch_add(1, Ordering::Relaxed);
                Outcome::Retry
            }
        }
    }

    /// Books until the answer is definitive (retrying 503s, 5xx, timeouts
    /// and refused connections with the same key). Returns the id if acknowledged.
    pub(super) async fn book_until_definitive(
        &self,
        node: usize,
        token: &str,
        body: &Value,
        key: &str,
    ) -> Option<String> {
        let started = Instant::now();
        loop {
            match self.book(node, token, body, key).await {
                Outcome::Acknowledged(id) => {
                    self.acknowledged.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone());
                    return Some(id);
                }
                Outcome::Definitive => return None,
                Outcome::Retry if self.stop.load(Ordering::Relaxed) || started.elapsed() > RECOVERY_LIMIT * 2 => {
                    return None;
                }
                Outcome::Retry => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    pub(super) fn take_counters(&self) -> [u64; 8] {
        let c = &self.counters;
        [&c.ok, &c.conflict, &c.unavailable, &c.other_5xx, &c.other_4xx, &c.hung, &c.refused, &c.slowest_ms]
            .map(|a| a.swap(0, Ordering::Relaxed))
    }
}

/// `YYYY-MM-DDTHH:MM:00+00:00`, `minutes` after `base` (UTC providers).
pub(super) fn at(base: jiff::civil::DateTime, minutes: i64) -> anyhow::Result<String> {
    let time = base.checked_add(jiff::Span::new().minutes(minutes))?;
    Ok(format!("{}+00:00", time.strftime("%Y-%m-%dT%H:%M:%S")))
}

pub(super) async fn request(
    shared: &Shared,
    node: usize,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = shared.http.request(method, format!("{}{path}", shared.bases[node])).timeout(REQUEST_TIMEOUT);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

pub(super) async fn sign_in(shared: &Shared, telegram_id: i64, name: &str) -> anyhow::Result<String> {
    let body = json!({ "telegram_id": telegram_id, "first_name": name });
    let (status, answer) = request(shared, 0, reqwest::Method::POST, "/api/auth/dev", None, Some(body)).await?;
    anyhow::ensure!(status == 200, "dev sign-in failed: {status} {answer}");
    answer["token"].as_str().map(str::to_owned).context("token")
}

/// A provider in UTC (no DST to think about); returns its service id.
pub(super) async fn provider(
    shared: &Shared,
    telegram_id: i64,
    slug: &str,
    rules: Value,
    hours: (&str, &str),
    minutes: u32,
) -> anyhow::Result<String> {
    let token = sign_in(shared, telegram_id, slug).await?;
    let mut profile = json!({ "slug": slug, "display_name": slug, "timezone": "UTC", "min_notice_min": 0,
        "horizon_days": 366, "slot_step_min": minutes });
    if let (Some(profile), Some(rules)) = (profile.as_object_mut(), rules.as_object()) {
        profile.extend(rules.clone());
    }
    let put = reqwest::Method::PUT;
    let (status, answer) = request(shared, 0, put.clone(), "/api/provider", Some(&token), Some(profile)).await?;
    anyhow::ensure!(status == 200, "provider {slug}: {status} {answer}");
    let service = json!({ "name": "Visit", "duration_min": minutes });
    let (status, answer) =
        request(shared, 0, reqwest::Method::POST, "/api/provider/services", Some(&token), Some(service)).await?;
    anyhow::ensure!(status == 201 || status == 200, "service of {slug}: {status} {answer}");
    let weekly: Vec<Value> = (1..=7).map(|d| json!({ "weekday": d, "start": hours.0, "end": hours.1 })).collect();
    let (status, _) =
        request(shared, 0, put, "/api/provider/schedule", Some(&token), Some(json!({ "weekly": weekly }))).await?;
    anyhow::ensure!(status == 200, "schedule of {slug}: {status}");
    answer["id"].as_str().map(str::to_owned).context("service id")
}

/// Keeps one WebSocket watching the probe provider on `node`, reconnecting
/// (and watching again) whenever it drops, as the Mini App does.
pub(super) async fn watcher(shared: Arc<Shared>, node: usize, watch: String) {
    let url = format!("{}/ws", shared.bases[node].replacen("http://", "ws://", 1));
    while !shared.stop.load(Ordering::Relaxed) {
        let connected = tokio::time::timeout(Duration::from_secs(3), tokio_tungstenite::connect_async(&url)).await;
        let Ok(Ok((mut ws, _))) = connected else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if ws.send(Message::text(watch.clone())).await.is_err() {
            continue;
        }
        while let Some(Ok(frame)) = ws.next().await {
            let Message::Text(text) = frame else { continue };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
            if frame["type"] != "slots" {
                continue;
            }
            let starts = frame["slots"]
                .as_array()
                .map(|s| s.iter().filter_map(|s| s["start"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let mut frames = shared.frames[node].lock().unwrap_or_else(|e| e.into_inner());
            frames.push((Instant::now(), starts));
            let excess = frames.len().saturating_sub(64);
            frames.drain(..excess);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The probe provider's bookings, one new slot per probe.
pub(super) struct Probe {
    pub(super) slug: String,
    pub(super) service: String,
    pub(super) token: String,
    pub(super) next: usize,
}

impl Probe {
    /// Seconds from `since` until `healed`'s watcher shows a booking made
    /// on `other` after `since`: the time until live pushes resumed.
    pub(super) async fn resume(&mut self, shared: &Shared, healed: usize, other: usize, since: Instant) -> Option<f64> {
        let base = jiff::civil::date(2027, 3, 1).at(9, 0, 0, 0);
        while since.elapsed() < RECOVERY_LIMIT {
            let n = self.next;
            self.next += 1;
            let start = at(base, (n / 12 * 24 * 60 + n % 12 * 60) as i64).ok()?;
            let body = json!({ "provider": self.slug, "service": self.service, "start": start });
            let booked_at = Instant::now();
            let key = format!("probe-{n}");
            if shared.book_until_definitive(other, &self.token, &body, &key).await.is_none() {
                continue;
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                let seen = shared.frames[healed]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .find(|(at, starts)| *at >= booked_at && !starts.is_empty() && !starts.contains(&start))
                    .map(|(at, _)| *at);
                if let Some(seen) = seen {
                    return Some(seen.duration_since(since).as_secs_f64());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        None
    }
}

/// Steady load: one worker per (node, provider); the two nodes' workers for a
/// provider race for the same slots, so the no-overlap rule is exercised
/// across nodes all the time.
pub(super) async fn worker(
    shared: Arc<Shared>,
    node: usize,
    token: String,
    slug: String,
    service: String,
    pace: Duration,
) {
    let base = jiff::civil::date(2027, 1, 1).at(0, 0, 0, 0);
    let mut n: i64 = 0;
    let mut busy = false;
    while !shared.stop.load(Ordering::Relaxed) {
        if shared.paused.load(Ordering::Relaxed) && !busy {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if !busy {
            busy = true;
            shared.busy.fetch_add(1, Ordering::SeqCst);
        }
        let Ok(start) = at(base, n * 5) else { return };
        let body = json!({ "provider": slug, "service": service, "start": start });
        let key = format!("{slug}-{n}");
        match shared.book(node, &token, &body, &key).await {
            Outcome::Acknowledged(id) => {
                shared.acknowledged.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
                n += 1;
                busy = false;
            }
            Outcome::Definitive => {
                n += 1;
                busy = false;
            }
            Outcome::Retry => {}
        }
        if !busy {
            shared.busy.fetch_sub(1, Ordering::SeqCst);
        }
        tokio::time::sleep(if busy { Duration::from_millis(250) } else { pace }).await;
    }
}

/// Every 15 s, a booking on the 5-minute grid 1.5–6.5 minutes ahead, at a
/// provider whose one reminder offset (1–5 minutes, four providers each) puts
/// the reminder 20–80 s after the booking: reminders go out during the run,
/// and through its faults.
pub(super) async fn reminders(shared: Arc<Shared>, token: String, providers: Vec<(String, String)>) {
    let mut used = HashSet::new();
    let mut n = 0usize;
    while !shared.stop.load(Ordering::Relaxed) {
        let now = jiff::Timestamp::now().as_second();
        let slot = (now + 90 + 299) / 300 * 300;
        let offset = ((slot - now - 20) / 60).clamp(1, 5) as usize;
        // Providers k with k % 5 + 1 == offset; the first not booked at `slot`.
        let free = (0..providers.len()).filter(|k| k % 5 + 1 == offset).find(|k| !used.contains(&(*k, slot)));
        if let (Some(k), Ok(start)) = (free, jiff::Timestamp::from_second(slot)) {
            used.insert((k, slot));
            let (slug, service) = &providers[k];
            let start = format!("{}+00:00", start.strftime("%Y-%m-%dT%H:%M:%S"));
            let body = json!({ "provider": slug, "service": service, "start": start });
            shared.busy.fetch_add(1, Ordering::SeqCst);
            shared.book_until_definitive(n % 2, &token, &body, &format!("remind-{n}")).await;
            shared.busy.fetch_sub(1, Ordering::SeqCst);
        }
        n += 1;
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}
