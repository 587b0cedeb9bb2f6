//! `loadtest chaos`: real faults under load, with the figures that say
//! whether the cluster kept its promises.
//!
//! Everything runs on this machine and is created here: a private
//! PostgreSQL and a private redis-server in the root namespace, two server
//! nodes each in its own network namespace (three veth links each: HTTP,
//! PostgreSQL, Redis), a fake Telegram Bot API in this process. Load goes
//! only to the namespace addresses made here (10.213.x.y), never elsewhere.
//!
//! Phases: a baseline, node A cut from Redis, node B cut from PostgreSQL,
//! PostgreSQL restarted (`pg_ctl stop -m fast` + start, what
//! `pg_ctlcluster … restart` does), then one of the two nodes killed with
//! SIGKILL every few seconds and started again by this orchestrator. After
//! each phase the load pauses until every booking attempt has a definitive
//! answer (503s and unanswered requests are retried with the same
//! Idempotency-Key), and a table row is printed.

mod load;
pub mod netns;
mod nodes;
pub mod postgres;
mod report;

use std::{
    collections::HashSet,
    net::Ipv4Addr,
    path::PathBuf,
    process::{Child, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::fake_bot::{self, FakeBot};
use netns::{Link, Netns};
use postgres::PrivatePostgres;
use {load::*, nodes::*, report::*};

/// The client gives up on a request after this long; a request without an
/// answer by then counts as hung.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after a heal pushes, readiness and bookings may take to come back
/// before the phase says "not recovered".
const RECOVERY_LIMIT: Duration = Duration::from_secs(90);
/// The server's HTTP port inside each namespace.
const PORT: u16 = 8080;

pub struct ChaosOptions {
    pub redis_cut: Duration,
    pub pg_cut: Duration,
    pub kill_every: Duration,
    pub kill_for: Duration,
    pub baseline: Duration,
    pub providers: usize,
    pub pace: Duration,
    pub server_bin: Option<PathBuf>,
}

struct Chaos {
    shared: Arc<Shared>,
    nodes: [Node; 2],
    postgres: Arc<Mutex<PrivatePostgres>>,
    bot: FakeBot,
    run: String,
    probe: Probe,
    rows: Vec<Row>,
    _redis: Redis,
}

impl Chaos {
    async fn healthy(&self, node: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let probe = request(&self.shared, node, reqwest::Method::GET, "/readyz", None, None).await;
            if probe.is_ok_and(|(s, _)| s == 200) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Whether `node` served a booking after `since` (within the recovery limit).
    async fn books_again(&self, node: usize, since: Instant) -> bool {
        let deadline = Instant::now() + RECOVERY_LIMIT;
        while Instant::now() < deadline {
            if self.shared.last_ok[node].lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t > since) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Recovery verdict after a heal at `since`: both processes still
    /// running, ready, booking, and pushes resumed.
    async fn recovered(&mut self, since: Instant, resumed: bool, restarted_by_us: bool) -> String {
        let mut problems = Vec::new();
        for node in 0..2 {
            let name = self.nodes[node].name;
            if !self.nodes[node].alive() {
                problems.push(format!("node {name} exited"));
            } else if !self.healthy(node, RECOVERY_LIMIT).await {
                problems.push(format!("node {name} not ready"));
            } else if !self.books_again(node, since).await {
                problems.push(format!("node {name} books nothing"));
            }
        }
        if !resumed {
            problems.push("live pushes did not resume".into());
        }
        match (problems.is_empty(), restarted_by_us) {
            (true, false) => "yes".into(),
            (true, true) => "yes (killed node restarted by the orchestrator)".into(),
            (false, _) => format!("NO: {}", problems.join(", ")),
        }
    }

    /// Pauses the load until every attempt has a definitive answer, then
    /// compares what was acknowledged with what the database holds.
    async fn row(&mut self, phase: &str, resume: Option<f64>, recovered: String) -> anyhow::Result<()> {
        self.shared.paused.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + RECOVERY_LIMIT * 2;
        while self.shared.busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let unresolved = self.shared.busy.load(Ordering::SeqCst);
        let counters = self.shared.take_counters();
        let (found, overlaps) = {
            let postgres = self.postgres.clone();
            let pattern = format!("chaos-{}-%", self.run);
            tokio::task::spawn_blocking(move || {
                let postgres = postgres.lock().unwrap_or_else(|e| e.into_inner());
                let ids = postgres.psql(
                    "jbm",
                    &format!(
                        "SELECT b.id FROM bookings b JOIN providers p ON p.id = b.provider_id \
                         WHERE p.slug LIKE '{pattern}' AND b.status IN ('pending', 'confirmed')"
                    ),
                )?;
                let overlaps = postgres.psql(
                    "jbm",
                    "SELECT count(*) FROM bookings a JOIN bookings b ON a.provider_id = b.provider_id \
                     AND a.id < b.id WHERE a.status IN ('pending', 'confirmed') \
                     AND b.status IN ('pending', 'confirmed') \
                     AND tstzrange(a.occupied_from, a.occupied_to) && tstzrange(b.occupied_from, b.occupied_to)",
                )?;
                Ok::<_, anyhow::Error>((ids.lines().map(str::to_owned).collect::<HashSet<String>>(), overlaps))
            })
            .await??
        };
        let acknowledged = self.shared.acknowledged.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let bot = self.bot.figures();
        let row = Row {
            phase: if unresolved > 0 { format!("{phase} ({unresolved} attempts unresolved)") } else { phase.into() },
            counters,
            acknowledged: acknowledged.len(),
            found: found.len(),
            missing: acknowledged.difference(&found).count(),
            unacknowledged: found.difference(&acknowledged).count(),
            overlaps,
            messages: bot.messages,
            reminders: bot.reminders,
            duplicates: bot.duplicates,
            duplicate_reminders: bot.duplicate_reminders,
            resume,
            recovered,
        };
        println!("{}\n{}\n", header(), row.print());
        self.rows.push(row);
        self.shared.paused.store(false, Ordering::SeqCst);
        Ok(())
    }
}

fn run_id() -> String {
    format!("{:x}", jiff::Timestamp::now().as_second() % 0x100_0000)
}

pub async fn chaos(options: ChaosOptions) -> anyhow::Result<()> {
    if let Some(reason) = netns::unavailable_reason() {
        bail!("chaos needs network namespaces: {reason}");
    }
    let bin = match options.server_bin.clone() {
        Some(bin) => bin,
        None => std::env::current_exe()?.with_file_name("justbookme"),
    };
    anyhow::ensure!(bin.exists(), "no server binary at {} (cargo build --release, or --server-bin)", bin.display());
    let workdir = std::env::temp_dir().join(format!("jbm-chaos-{}", std::process::id()));
    std::fs::create_dir_all(&workdir)?;

    // Two hosts, three links each.
    let mut namespaces = Vec::new();
    for _ in 0..2 {
        let mut ns = Netns::create()?;
        let links = (ns.add_link()?, ns.add_link()?, ns.add_link()?);
        namespaces.push((ns, links));
    }
    let db_hosts: Vec<Ipv4Addr> = namespaces.iter().map(|(_, l)| l.1.host_addr).collect();
    let redis_hosts: Vec<Ipv4Addr> = namespaces.iter().map(|(_, l)| l.2.host_addr).collect();
    let postgres = tokio::task::spawn_blocking(move || PrivatePostgres::start(&db_hosts)).await??;
    postgres.create_database("jbm")?;
    let redis = Redis::start(&redis_hosts)?;
    let bot = FakeBot::default();

    let mut nodes = Vec::new();
    for ((ns, (http, db, redis_link)), name) in namespaces.into_iter().zip(["A", "B"]) {
        let bot_port = bot.listen(http.host_addr, 0).await?;
        let env: Vec<(String, String)> = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("DATABASE_URL", postgres.url(db.host_addr, "jbm")),
            ("REDIS_URL", format!("redis://{}:{}", redis_link.host_addr, redis.port)),
            ("BIND_ADDR", format!("{}:{PORT}", http.peer_addr)),
            ("DEV_LOGIN", "1".into()),
            ("TELEGRAM_BOT_TOKEN", fake_bot::BOT_TOKEN.into()),
            ("TELEGRAM_API_URL", format!("http://{}:{bot_port}", http.host_addr)),
            ("RATE_SIGN_IN_PER_MIN", "0".into()),
            ("RATE_BOOKING_PER_MIN", "0".into()),
            ("RATE_BOOKING_PER_IP_PER_MIN", "0".into()),
            ("RATE_WS_CONNECT_PER_MIN", "0".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let base = format!("http://{}:{PORT}", http.peer_addr);
        let log = workdir.join(format!("node-{name}.log"));
        nodes.push(Node { name, bin: bin.clone(), env, log, child: None, base, db, redis: redis_link, ns });
    }
    let [mut a, b]: [Node; 2] = nodes.try_into().map_err(|_| anyhow::anyhow!("two nodes"))?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).connect_timeout(Duration::from_secs(3)).build()?;
    let shared = Arc::new(Shared {
        http,
        bases: [a.base.clone(), b.base.clone()],
        counters: Counters::default(),
        acknowledged: Mutex::new(HashSet::new()),
        paused: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        busy: AtomicUsize::new(0),
        last_ok: [Mutex::new(None), Mutex::new(None)],
        frames: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
    });
    // One after the other: both would run the migrations.
    a.spawn()?;
    let run = run_id();
    let mut chaos = Chaos {
        shared: shared.clone(),
        nodes: [a, b],
        postgres: Arc::new(Mutex::new(postgres)),
        bot,
        run: run.clone(),
        probe: Probe { slug: format!("chaos-{run}-probe"), service: String::new(), token: String::new(), next: 0 },
        rows: Vec::new(),
        _redis: redis,
    };
    anyhow::ensure!(chaos.healthy(0, Duration::from_secs(60)).await, "node A did not start: see {}", workdir.display());
    chaos.nodes[1].spawn()?;
    anyhow::ensure!(chaos.healthy(1, Duration::from_secs(60)).await, "node B did not start: see {}", workdir.display());

    // Providers, clients, watchers.
    let id0 = jiff::Timestamp::now().as_second() % 100_000 * 1_000 + 2_000_000_000;
    let probe_service = provider(&shared, id0, &chaos.probe.slug, json!({}), ("09:00", "21:00"), 60).await?;
    chaos.probe.service = probe_service.clone();
    chaos.probe.token = sign_in(&shared, id0 + 1, "Probe").await?;
    let mut tasks = Vec::new();
    let watch = json!({ "type": "watch", "provider": chaos.probe.slug, "service": probe_service,
        "from": "2027-03-01", "to": "2027-03-31" })
    .to_string();
    for node in 0..2 {
        tasks.push(tokio::spawn(watcher(shared.clone(), node, watch.clone())));
    }
    let mut remind = Vec::new();
    for k in 0..20 {
        let slug = format!("chaos-{run}-r{k}");
        let rules = json!({ "reminder_offsets_min": [k % 5 + 1] });
        remind.push((slug.clone(), provider(&shared, id0 + 10 + k, &slug, rules, ("00:00", "24:00"), 5).await?));
    }
    let reminder_client = sign_in(&shared, id0 + 40, "Rita").await?;
    tasks.push(tokio::spawn(reminders(shared.clone(), reminder_client, remind)));
    for p in 0..options.providers {
        let slug = format!("chaos-{run}-load{p}");
        let service = provider(&shared, id0 + 100 + p as i64, &slug, json!({}), ("00:00", "24:00"), 5).await?;
        for node in 0..2 {
            let token = sign_in(&shared, id0 + 200 + (p * 2 + node) as i64, "Client").await?;
            let task = worker(shared.clone(), node, token, slug.clone(), service.clone(), options.pace);
            tasks.push(tokio::spawn(task));
        }
    }

    println!(
        "chaos: 2 nodes in network namespaces, private PostgreSQL + Redis, {} providers booked from both nodes, \
         a watcher per node; logs in {}\n",
        options.providers,
        workdir.display()
    );

    // Baseline.
    tokio::time::sleep(options.baseline).await;
    let since = Instant::now();
    let resume = chaos.probe.resume(&shared, 0, 1, since).await;
    let recovered = chaos.recovered(since, resume.is_some(), false).await;
    chaos.row("baseline (push B → A)", resume, recovered).await?;

    // Node A ↔ Redis cut.
    chaos.nodes[0].redis.cut()?;
    tokio::time::sleep(options.redis_cut).await;
    chaos.nodes[0].redis.heal(&chaos.nodes[0].ns)?;
    let healed = Instant::now();
    let resume = chaos.probe.resume(&shared, 0, 1, healed).await;
    let recovered = chaos.recovered(healed, resume.is_some(), false).await;
    chaos.row(&format!("A ↔ Redis cut {} s", options.redis_cut.as_secs()), resume, recovered).await?;

    // Node B ↔ PostgreSQL cut; readiness is sampled while cut.
    chaos.nodes[1].db.cut()?;
    let cut_at = Instant::now();
    tokio::time::sleep(options.pg_cut.min(Duration::from_secs(3))).await;
    let asked = Instant::now();
    let ready = request(&shared, 1, reqwest::Method::GET, "/readyz", None, None).await;
    let readyz = match ready {
        Ok((status, _)) => format!("/readyz {status} in {:.2} s", asked.elapsed().as_secs_f64()),
        Err(error) => format!("/readyz no answer ({error})"),
    };
    tokio::time::sleep(options.pg_cut.saturating_sub(cut_at.elapsed())).await;
    chaos.nodes[1].db.heal(&chaos.nodes[1].ns)?;
    let healed = Instant::now();
    let resume = chaos.probe.resume(&shared, 1, 0, healed).await;
    let recovered = chaos.recovered(healed, resume.is_some(), false).await;
    let phase = format!("B ↔ PostgreSQL cut {} s; while cut: {readyz}", options.pg_cut.as_secs());
    chaos.row(&phase, resume, recovered).await?;

    // PostgreSQL restarted under load.
    let postgres = chaos.postgres.clone();
    let restart_started = Instant::now();
    tokio::task::spawn_blocking(move || postgres.lock().unwrap_or_else(|e| e.into_inner()).restart()).await??;
    let took = restart_started.elapsed().as_secs_f64();
    let healed = Instant::now();
    let resume = chaos.probe.resume(&shared, 0, 1, healed).await;
    let recovered = chaos.recovered(healed, resume.is_some(), false).await;
    chaos.row(&format!("PostgreSQL restarted (down {took:.1} s)"), resume, recovered).await?;

    // One of the two nodes SIGKILLed every `kill_every`, started again at once.
    let started = Instant::now();
    let (mut kills, mut worst_resume, mut worst_ready) = (0, Some(0.0f64), 0.0f64);
    while started.elapsed() < options.kill_for {
        let victim = kills % 2;
        let cycle = Instant::now();
        chaos.nodes[victim].kill();
        chaos.nodes[victim].spawn()?;
        kills += 1;
        let respawned = Instant::now();
        if chaos.healthy(victim, RECOVERY_LIMIT).await {
            worst_ready = worst_ready.max(respawned.elapsed().as_secs_f64());
        }
        let resume = chaos.probe.resume(&shared, victim, 1 - victim, respawned).await;
        worst_resume = match (worst_resume, resume) {
            (Some(w), Some(r)) => Some(w.max(r)),
            _ => None,
        };
        tokio::time::sleep(options.kill_every.saturating_sub(cycle.elapsed())).await;
    }
    let since = Instant::now();
    let recovered = chaos.recovered(since, worst_resume.is_some(), true).await;
    let phase = format!(
        "SIGKILL a node every {} s for {} s ({kills} kills; ready again ≤ {worst_ready:.1} s)",
        options.kill_every.as_secs(),
        options.kill_for.as_secs()
    );
    chaos.row(&phase, worst_resume, recovered).await?;

    // Let pushes still in the outbox go, then the final figures.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = Instant::now();
    let resume = chaos.probe.resume(&shared, 1, 0, since).await;
    let recovered = chaos.recovered(since, resume.is_some(), false).await;
    chaos.row("end", resume, recovered).await?;
    shared.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.abort();
    }

    println!("chaos summary (figures cumulative except the request counts, which are per phase):\n");
    println!("{}", header());
    for row in &chaos.rows {
        println!("{}", row.print());
    }
    let last = chaos.rows.last().context("rows")?;
    println!(
        "\nacknowledged {} vs found {} (missing {}), overlapping active bookings {}, duplicate messages {} \
         (reminders {}), 5xx other than 503: {}",
        last.acknowledged,
        last.found,
        last.missing,
        last.overlaps,
        last.duplicates,
        last.duplicate_reminders,
        chaos.rows.iter().map(|r| r.counters[3]).sum::<u64>()
    );
    drop(chaos);
    let _ = std::fs::remove_dir_all(&workdir);
    Ok(())
}
