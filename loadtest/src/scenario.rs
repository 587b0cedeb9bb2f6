//! The scenarios: set up providers and users through the public API, then
//! measure.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::report::Latencies;

#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build().expect("http client");
        Api { base, client }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<(u16, Value)> {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("{path}: is the server up?"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn sign_in(&self, telegram_id: i64) -> anyhow::Result<String> {
        let (status, body) =
            self.post("/api/auth/dev", None, json!({ "telegram_id": telegram_id, "first_name": "Load" })).await?;
        anyhow::ensure!(status == 200, "dev sign-in failed ({status}): start the server with DEV_LOGIN=1");
        Ok(body["token"].as_str().unwrap_or_default().to_owned())
    }

    pub async fn users(&self, first_id: i64, n: usize) -> anyhow::Result<Vec<String>> {
        let mut tokens = Vec::with_capacity(n);
        for chunk in (0..n as i64).collect::<Vec<_>>().chunks(64) {
            let batch = join_all(chunk.iter().map(|i| self.sign_in(first_id + i))).await;
            for token in batch {
                tokens.push(token?);
            }
        }
        Ok(tokens)
    }

    /// A provider open around the clock on a 5-minute grid, with one
    /// 5-minute service. Returns (slug, service id).
    async fn provider(&self, telegram_id: i64, run: &str, index: usize) -> anyhow::Result<(String, String)> {
        self.open_provider(telegram_id, &format!("load-{run}-{index}"), json!({})).await
    }

    /// A provider as `provider`, whose clients get one reminder each,
    /// `minutes` before the visit. Returns (slug, service id).
    pub async fn reminding_provider(&self, telegram_id: i64, minutes: u32) -> anyhow::Result<(String, String)> {
        let slug = format!("remind-{}", run_id().0);
        self.open_provider(telegram_id, &slug, json!({ "reminder_offsets_min": [minutes] })).await
    }

    /// Around the clock on a 5-minute grid, one 5-minute service; `rules`
    /// on top of the profile.
    async fn open_provider(&self, telegram_id: i64, slug: &str, rules: Value) -> anyhow::Result<(String, String)> {
        let token = self.sign_in(telegram_id).await?;
        let mut profile = json!({ "slug": slug, "display_name": "Load", "timezone": "Europe/Berlin",
            "slot_step_min": 5, "min_notice_min": 0, "horizon_days": 366 });
        if let (Some(profile), Some(rules)) = (profile.as_object_mut(), rules.as_object()) {
            profile.extend(rules.clone());
        }
        let (status, body) = self.send(reqwest::Method::PUT, "/api/provider", Some(&token), Some(profile)).await?;
        anyhow::ensure!(status == 200, "provider setup failed: {body}");
        let (_, service) =
            self.post("/api/provider/services", Some(&token), json!({ "name": "Slot", "duration_min": 5 })).await?;
        let weekly: Vec<Value> = (1..=7).map(|d| json!({ "weekday": d, "start": "00:00", "end": "24:00" })).collect();
        self.send(reqwest::Method::PUT, "/api/provider/schedule", Some(&token), Some(json!({ "weekly": weekly })))
            .await?;
        Ok((slug.to_owned(), service["id"].as_str().unwrap_or_default().to_owned()))
    }

    /// A provider open 09:00–13:00 with a 60-minute service, for live
    /// watching. Returns (slug, service id, the provider's token).
    pub async fn live_provider(&self) -> anyhow::Result<(String, String, String)> {
        let (run, first_id) = run_id();
        let token = self.sign_in(first_id + 90_000).await?;
        let slug = format!("live-{run}");
        let profile = json!({ "slug": slug, "display_name": "Live", "timezone": "Europe/Berlin",
            "slot_step_min": 60, "min_notice_min": 0, "horizon_days": 366 });
        let (status, body) = self.send(reqwest::Method::PUT, "/api/provider", Some(&token), Some(profile)).await?;
        anyhow::ensure!(status == 200, "provider setup failed: {body}");
        let (_, service) =
            self.post("/api/provider/services", Some(&token), json!({ "name": "Visit", "duration_min": 60 })).await?;
        let weekly: Vec<Value> = (1..=7).map(|d| json!({ "weekday": d, "start": "09:00", "end": "13:00" })).collect();
        self.send(reqwest::Method::PUT, "/api/provider/schedule", Some(&token), Some(json!({ "weekly": weekly })))
            .await?;
        Ok((slug, service["id"].as_str().unwrap_or_default().to_owned(), token))
    }

    pub async fn sign_in_client(&self) -> anyhow::Result<String> {
        self.sign_in(run_id().1 + 95_000).await
    }

    pub async fn book_raw(&self, token: &str, slug: &str, service: &str, start: &str) -> anyhow::Result<(u16, Value)> {
        self.post("/api/bookings", Some(token), json!({ "provider": slug, "service": service, "start": start })).await
    }

    pub async fn cancel_as_provider(&self, token: &str, id: &str) -> anyhow::Result<()> {
        let (status, body) = self.post(&format!("/api/provider/bookings/{id}/cancel"), Some(token), json!({})).await?;
        anyhow::ensure!(status == 200, "cancel failed: {status} {body}");
        Ok(())
    }

    pub async fn book(&self, token: &str, slug: &str, service: &str, start: &str) -> anyhow::Result<(u16, Duration)> {
        let started = Instant::now();
        let (status, _) = self
            .post("/api/bookings", Some(token), json!({ "provider": slug, "service": service, "start": start }))
            .await?;
        Ok((status, started.elapsed()))
    }
}

/// A run id, so repeated runs against one database do not collide.
pub fn run_id() -> (String, i64) {
    let seconds = jiff::Timestamp::now().as_second();
    (format!("{:x}", seconds), (seconds % 100_000) * 100_000 + 1_000_000_000)
}

/// The `n`-th 5-minute slot of 2027-07-01 onwards, in Berlin summer time.
pub fn nth_slot(n: usize) -> String {
    let minutes = n * 5;
    let date =
        jiff::civil::date(2027, 7, 1).checked_add(jiff::Span::new().days((minutes / 1440) as i64)).expect("date");
    format!("{date}T{:02}:{:02}:00+02:00", minutes % 1440 / 60, minutes % 60)
}

/// What `storm` measured.
pub struct StormFigures {
    pub latencies: Latencies,
    pub statuses: std::collections::BTreeMap<u16, usize>,
}

pub async fn storm(api: &Api, racers: usize) -> anyhow::Result<StormFigures> {
    let (run, first_id) = run_id();
    let (slug, service) = api.provider(first_id, &run, 0).await?;
    let tokens = api.users(first_id + 1, racers).await?;
    let start = nth_slot(120);
    // `LOADTEST_STORM_PAUSE_MS`: a quiet moment between the set-up and the
    // race, announced on stderr, so a profiler attached then samples the
    // race alone (`perf record -p <server> -- sleep 1`).
    let pause = std::env::var("LOADTEST_STORM_PAUSE_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(0);
    if pause > 0 {
        eprintln!("storm: set up; racing in {pause} ms");
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let started = Instant::now();
    let results = join_all(tokens.iter().map(|token| api.book(token, &slug, &service, &start))).await;
    let wall = started.elapsed();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut latencies = Vec::new();
    for result in results {
        let (status, latency) = result?;
        *statuses.entry(status).or_default() += 1;
        latencies.push(latency);
    }
    let latencies = Latencies::new(latencies);
    println!("storm: {racers} racers for one slot ({wall:.2?} wall)\n");
    println!("{}", Latencies::header());
    println!("{}", latencies.row("reply time, all racers"));
    println!("\noutcomes: {statuses:?}");
    Ok(StormFigures { latencies, statuses })
}

/// What `throughput` measured.
pub struct ThroughputFigures {
    pub bookings: usize,
    pub seconds: f64,
}

impl ThroughputFigures {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.bookings as f64 / self.seconds } else { 0.0 }
    }
}

pub async fn throughput(api: &Api, providers: usize, seconds: u64) -> anyhow::Result<ThroughputFigures> {
    let (run, first_id) = run_id();
    let mut calendars = Vec::with_capacity(providers);
    for index in 0..providers {
        calendars.push(api.provider(first_id + index as i64, &run, index).await?);
    }
    // A few clients per provider, so every booking is a fresh user action.
    let clients = Arc::new(api.users(first_id + 50_000, 8).await?);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let booked = Arc::new(AtomicUsize::new(0));
    let workers = calendars.into_iter().enumerate().map(|(index, (slug, service))| {
        let (api, clients, booked) = (api.clone(), clients.clone(), booked.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let token = &clients[(index + n) % clients.len()];
                let (status, latency) = api.book(token, &slug, &service, &nth_slot(n)).await?;
                anyhow::ensure!(status == 201, "booking failed with {status}");
                latencies.push(latency);
                booked.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    });
    let started = Instant::now();
    let mut latencies = Vec::new();
    for worker in join_all(workers).await {
        latencies.extend(worker??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = booked.load(Ordering::Relaxed);
    println!("throughput: {providers} providers booked in parallel for {seconds} s\n");
    println!("{}", Latencies::header());
    println!("{}", Latencies::new(latencies).row("booking reply time"));
    println!("\nbookings: {total} in {elapsed:.1} s = {:.0} bookings/s", total as f64 / elapsed);
    Ok(ThroughputFigures { bookings: total, seconds: elapsed })
}
