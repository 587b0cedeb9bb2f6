//! Load generator for a running Just Book Me server (started with
//! `DEV_LOGIN=1`, which it uses to create its users). Every scenario prints a
//! table; nothing here asserts a speed — the figures are for reading.
//!
//! ```sh
//! DEV_LOGIN=1 cargo run --release &
//! cargo run --release -p loadtest -- storm --racers 500
//! cargo run --release -p loadtest -- throughput --providers 100 --seconds 10
//! cargo run --release -p loadtest -- live --sessions 1000
//! cargo run --release -p loadtest -- shutdown --server-bin target/release/justbookme --sessions 10000
//! cargo build --release -p justbookme && cargo run --release -p loadtest -- chaos   # as root
//! cargo run --release -p loadtest -- baseline-sqlite --seconds 10
//! cargo run --release -p loadtest -- baseline-postgres --url postgres://postgres@127.0.0.1:5432/postgres
//! cargo run --release -p loadtest -- report --sqlite-url http://127.0.0.1:18080 [--quick]
//! cargo run --release -p loadtest -- report --live-url http://127.0.0.1:18082 --live-pid PID --sessions 10000
//! cargo run --release -p loadtest -- bare-broadcast-server --port 18090
//! cargo run --release -p loadtest -- reminders --count 1000   # starts target/release/justbookme itself
//! ```
//!
//! `report` measures every figure against a baseline run in the same
//! invocation (the server's booking transaction straight against the
//! database: `baseline.rs`; the live WebSocket rows against a bare
//! tokio-tungstenite broadcast server: `bare.rs`; reminders against
//! Telegram's limit, held by a fake Bot API: `reminders.rs`) and writes
//! `target/loadtest/report.md` and `report.svg` with the ratios.
//!
//! `shutdown`, `reminders` and `chaos` start their own servers: the first two one on a free
//! loopback port, `chaos` everything (PostgreSQL, Redis, two nodes in network
//! namespaces, a fake Bot API), talking only to the namespace addresses it
//! created.

mod bare;
mod baseline;
mod chaos;
mod fake_bot;
mod live;
mod reminders;
mod report;
mod scenario;
mod server;
mod shutdown;
mod summary;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

const DEFAULT_URL: &str = "http://127.0.0.1:8080";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Parser)]
struct Cli {
    /// Base URL of the server under test (loopback only; default
    /// http://127.0.0.1:8080) — for `baseline-postgres`, the PostgreSQL
    /// server to make its scratch database on (default
    /// postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, global = true)]
    url: Option<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// N users book the same slot at the same moment: reply times and outcomes.
    Storm {
        #[arg(long, default_value_t = 500)]
        racers: usize,
    },
    /// N WebSocket sessions watch one provider; booking → push latency.
    Live {
        #[arg(long, default_value_t = 1000)]
        sessions: usize,
        /// Source addresses 127.0.0.2 … to spread the sessions over.
        #[arg(long, default_value_t = 64)]
        sources: u8,
        #[arg(long, default_value_t = 20)]
        bookings: usize,
        /// Make the bookings on this node instead (cross-node latency).
        #[arg(long)]
        book_url: Option<String>,
        /// The server's pid, to report resident memory per idle session.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Starts the server, opens N WebSocket sessions, sends SIGTERM: how
    /// soon every session gets 1001 and the process exits.
    Shutdown {
        /// The server binary to start (on its own port and SQLite file).
        #[arg(long, default_value = "target/release/justbookme")]
        server_bin: String,
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        #[arg(long, default_value_t = 64)]
        sources: u8,
        #[arg(long, default_value_t = 5)]
        grace_secs: u64,
    },
    /// P providers booked in parallel, each by a stream of clients: bookings/s.
    Throughput {
        #[arg(long, default_value_t = 100)]
        providers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The raw SQLite writer loop: the server's booking transaction on one
    /// connection to a fresh, migrated database file, as fast as it goes.
    BaselineSqlite {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Where the scratch database goes (default: the temp directory).
        /// Put it on the server's disk for a comparable figure.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// pgbench running the server's booking transaction
    /// (loadtest/pgbench-booking.sql) on a scratch database; best client count.
    BaselinePostgres {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, value_delimiter = ',', default_value = "4,8,16,32")]
        clients: Vec<u32>,
    },
    /// Every figure as a ratio to its baseline, measured in this invocation:
    /// `throughput` against the server(s) given, then the matching baseline;
    /// writes target/loadtest/report.md and report.svg.
    Report {
        /// Short runs (3 s each), for a laptop.
        #[arg(long)]
        quick: bool,
        /// A server running on SQLite (default: `--url`, when no server is given).
        #[arg(long)]
        sqlite_url: Option<String>,
        /// A server running on PostgreSQL.
        #[arg(long)]
        postgres_url: Option<String>,
        /// The PostgreSQL the pgbench baseline makes its scratch database on
        /// (the one the PostgreSQL server uses, for a comparable figure).
        #[arg(long, default_value = DEFAULT_PG)]
        pg_url: String,
        /// Where the SQLite baseline's scratch file goes (the server's disk).
        #[arg(long)]
        sqlite_dir: Option<PathBuf>,
        /// Seconds per throughput run and per baseline run (default 10, 3 with --quick).
        #[arg(long)]
        seconds: Option<u64>,
        #[arg(long, default_value_t = 100)]
        providers: usize,
        /// Racers for the storm row (0: no storm row).
        #[arg(long, default_value_t = 1000)]
        storm_racers: usize,
        /// A server (any backend) to measure live WebSocket pushes on: booking
        /// → push p99 and memory per idle session, against the bare broadcast
        /// server (`bare-broadcast-server`) run right after with the same client.
        #[arg(long)]
        live_url: Option<String>,
        /// The `--live-url` server's pid, for the memory-per-session row
        /// (without it, only the bare server's figure is printed).
        #[arg(long)]
        live_pid: Option<u32>,
        /// WebSocket sessions for the live rows (default 10,000, 1,000 with --quick).
        #[arg(long)]
        sessions: Option<usize>,
        /// Timed bookings (broadcasts) per live run.
        #[arg(long, default_value_t = 20)]
        live_rounds: usize,
        /// Source addresses 127.0.0.2 … the live sessions are spread over.
        #[arg(long, default_value_t = 64)]
        sources: u8,
        /// Reminders falling due at once for the reminders row, on a server
        /// `report` starts itself from `--server-bin` with a fake Bot API
        /// (default 1,000, 300 with --quick; 0: no reminders row).
        #[arg(long)]
        reminders: Option<usize>,
        /// The server binary for the reminders row.
        #[arg(long, default_value = "target/release/justbookme")]
        server_bin: String,
        /// Where report.md and report.svg go.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/loadtest"))]
        out: PathBuf,
    },
    /// N reminders falling due at once on a server this starts itself (its
    /// own SQLite file), sent to a fake Bot API holding Telegram's 30/s:
    /// messages/s, duplicates, 429s.
    Reminders {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value = "target/release/justbookme")]
        server_bin: String,
    },
    /// The bare broadcast server the live rows are measured against (`report`
    /// starts it itself): answers a `watch` with a `slots` frame, and sends
    /// that frame to every watcher whenever a connection sends
    /// `{"type":"broadcast"}`. Prints `listening ADDR`.
    BareBroadcastServer {
        /// 0: any free port.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The frame to send (default: a `slots` frame of the server's shape).
        #[arg(long)]
        frame_file: Option<PathBuf>,
    },
    /// Real faults under load (needs root): two nodes in network namespaces,
    /// private PostgreSQL and Redis; cuts, a restart and SIGKILLs; a table.
    Chaos {
        /// Node A cut from Redis for this long.
        #[arg(long, default_value_t = 30)]
        redis_cut_secs: u64,
        /// Node B cut from PostgreSQL for this long.
        #[arg(long, default_value_t = 30)]
        pg_cut_secs: u64,
        /// Kill one of the two nodes (alternately) this often …
        #[arg(long, default_value_t = 10)]
        kill_every_secs: u64,
        /// … for this long.
        #[arg(long, default_value_t = 120)]
        kill_for_secs: u64,
        /// Steady load before the first fault.
        #[arg(long, default_value_t = 10)]
        baseline_secs: u64,
        /// Providers booked from both nodes at once (one worker per node each).
        #[arg(long, default_value_t = 12)]
        providers: usize,
        /// Pause between one worker's bookings, in milliseconds. Every booking
        /// pushes its provider, and Telegram allows about one message a second
        /// per chat: a faster pace only grows the outbox's queue, and the
        /// reminders (the figure that matters) wait behind it.
        #[arg(long, default_value_t = 1500)]
        pace_ms: u64,
        /// Short phases (5 s cuts, kills for 20 s): a smoke run.
        #[arg(long)]
        quick: bool,
        /// The server binary (default: `justbookme` next to this program).
        #[arg(long)]
        server_bin: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Scenario::Chaos {
        redis_cut_secs,
        pg_cut_secs,
        kill_every_secs,
        kill_for_secs,
        baseline_secs,
        providers,
        pace_ms,
        quick,
        server_bin,
    } = cli.scenario
    {
        let secs = |normal: u64, short: u64| std::time::Duration::from_secs(if quick { short } else { normal });
        let options = chaos::ChaosOptions {
            redis_cut: secs(redis_cut_secs, 5),
            pg_cut: secs(pg_cut_secs, 5),
            kill_every: secs(kill_every_secs, 5),
            kill_for: secs(kill_for_secs, 20),
            baseline: secs(baseline_secs, 3),
            providers,
            pace: std::time::Duration::from_millis(pace_ms),
            server_bin,
        };
        return chaos::chaos(options).await;
    }
    match cli.scenario {
        Scenario::BaselineSqlite { seconds, dir } => {
            let dir = dir.unwrap_or_else(std::env::temp_dir);
            let rate = baseline::sqlite(&dir, seconds).await?;
            println!(
                "baseline-sqlite: {} bookings in {:.1} s = {:.0} bookings/s ({})",
                rate.bookings,
                rate.seconds,
                rate.per_second(),
                rate.how
            );
            return Ok(());
        }
        Scenario::BaselinePostgres { seconds, clients } => {
            let url = cli.url.as_deref().unwrap_or(DEFAULT_PG);
            let rate = baseline::postgres(url, seconds, &clients).await?;
            println!("baseline-postgres: best {:.0} bookings/s ({})", rate.per_second(), rate.how);
            return Ok(());
        }
        Scenario::Report {
            quick,
            sqlite_url,
            postgres_url,
            pg_url,
            sqlite_dir,
            seconds,
            providers,
            storm_racers,
            live_url,
            live_pid,
            sessions,
            live_rounds,
            sources,
            reminders,
            server_bin,
            out,
        } => {
            let sqlite_url = match (&sqlite_url, &postgres_url, &live_url) {
                (None, None, None) => Some(cli.url.clone().unwrap_or_else(|| DEFAULT_URL.to_owned())),
                _ => sqlite_url,
            };
            let options = ReportOptions {
                seconds: seconds.unwrap_or(if quick { 3 } else { 10 }),
                pg_clients: if quick { vec![4, 16] } else { vec![4, 8, 16, 32] },
                sqlite_url,
                postgres_url,
                pg_url,
                sqlite_dir: sqlite_dir.unwrap_or_else(std::env::temp_dir),
                providers,
                storm_racers,
                live: live_url.map(|url| LiveRows {
                    url,
                    pid: live_pid,
                    sessions: sessions.unwrap_or(if quick { 1_000 } else { 10_000 }),
                    rounds: live_rounds,
                    sources,
                }),
                reminders: reminders.unwrap_or(if quick { 300 } else { 1_000 }),
                server_bin,
                out,
            };
            return report(options).await;
        }
        Scenario::BareBroadcastServer { port, frame_file } => return bare::main(port, frame_file.as_deref()).await,
        Scenario::Reminders { count, server_bin } => {
            reminders::reminders(&server_bin, count).await?.print();
            return Ok(());
        }
        _ => {}
    }
    let base = cli.url.clone().unwrap_or_else(|| DEFAULT_URL.to_owned());
    let api = server_api(&base)?;
    match cli.scenario {
        Scenario::Storm { racers } => scenario::storm(&api, racers).await.map(drop),
        Scenario::Shutdown { server_bin, sessions, sources, grace_secs } => {
            shutdown::shutdown(shutdown::ShutdownOptions { server_bin, sessions, sources, grace_secs }).await
        }
        Scenario::Throughput { providers, seconds } => scenario::throughput(&api, providers, seconds).await.map(drop),
        Scenario::Live { sessions, sources, bookings, book_url, server_pid } => {
            let options = live::LiveOptions { sessions, sources, bookings, book_url, server_pid };
            live::live(&api, &base, options).await
        }
        Scenario::Chaos { .. }
        | Scenario::BaselineSqlite { .. }
        | Scenario::BaselinePostgres { .. }
        | Scenario::BareBroadcastServer { .. }
        | Scenario::Reminders { .. }
        | Scenario::Report { .. } => unreachable!("handled above"),
    }
}

/// The API of a server on this machine: load is only ever sent to loopback.
fn server_api(base: &str) -> anyhow::Result<scenario::Api> {
    let url = reqwest::Url::parse(base)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    anyhow::ensure!(loopback, "load is only ever sent to this machine (127.0.0.0/8, ::1, localhost)");
    Ok(scenario::Api::new(base.trim_end_matches('/').to_owned()))
}

struct ReportOptions {
    seconds: u64,
    pg_clients: Vec<u32>,
    sqlite_url: Option<String>,
    postgres_url: Option<String>,
    pg_url: String,
    sqlite_dir: PathBuf,
    providers: usize,
    storm_racers: usize,
    live: Option<LiveRows>,
    reminders: usize,
    server_bin: String,
    out: PathBuf,
}

/// The live rows: the real server, then the bare broadcast server.
struct LiveRows {
    url: String,
    pid: Option<u32>,
    sessions: usize,
    rounds: usize,
    sources: u8,
}

/// Each server's throughput, then its baseline, one after the other in this
/// process; then the storm; then the table and the chart.
async fn report(options: ReportOptions) -> anyhow::Result<()> {
    use summary::{Goal, Row};
    let seconds = options.seconds;
    let mut rows = Vec::new();
    let mut storm_api = None;
    if let Some(base) = &options.sqlite_url {
        let api = server_api(base)?;
        println!("== ours, SQLite: throughput at {base}, {} providers, {seconds} s", options.providers);
        let ours = scenario::throughput(&api, options.providers, seconds).await?;
        println!("\n== baseline, SQLite: the booking transaction alone, {seconds} s");
        let rate = baseline::sqlite(&options.sqlite_dir, seconds).await?;
        println!("baseline-sqlite: {:.0} bookings/s ({})\n", rate.per_second(), rate.how);
        rows.push(Row {
            label: "bookings/s SQLite".into(),
            ours: ours.per_second(),
            baseline: Some(rate.per_second()),
            unit: "bookings/s",
            goal: Goal::RatioAtLeast(0.8),
            note: format!(
                "ours: `throughput --providers {}` over HTTP; baseline: the same transaction, {}",
                options.providers, rate.how
            ),
        });
        storm_api.get_or_insert((api, "SQLite"));
    }
    if let Some(base) = &options.postgres_url {
        let api = server_api(base)?;
        println!("== ours, PostgreSQL: throughput at {base}, {} providers, {seconds} s", options.providers);
        let ours = scenario::throughput(&api, options.providers, seconds).await?;
        println!("\n== baseline, PostgreSQL: pgbench, {seconds} s per client count");
        let rate = baseline::postgres(&options.pg_url, seconds, &options.pg_clients).await?;
        println!("baseline-postgres: best {:.0} bookings/s ({})\n", rate.per_second(), rate.how);
        rows.push(Row {
            label: "bookings/s PostgreSQL".into(),
            ours: ours.per_second(),
            baseline: Some(rate.per_second()),
            unit: "bookings/s",
            goal: Goal::RatioAtLeast(0.8),
            note: format!(
                "ours: `throughput --providers {}` over HTTP; baseline: loadtest/pgbench-booking.sql, best of {:?} \
                 clients: {}",
                options.providers, options.pg_clients, rate.how
            ),
        });
        storm_api.get_or_insert((api, "PostgreSQL"));
    }
    if let (Some((api, backend)), racers) = (storm_api, options.storm_racers)
        && racers > 0
    {
        println!("== storm on the {backend} server: {racers} racers");
        let storm = scenario::storm(&api, racers).await?;
        rows.push(Row {
            label: format!("storm p99 reply, {racers} racers, {backend}"),
            ours: storm.latencies.percentile_ms(99.0),
            baseline: None,
            unit: "ms",
            goal: Goal::AtMost(100.0),
            note: format!("outcomes {:?}", storm.statuses),
        });
    }
    if let Some(live) = &options.live {
        rows.extend(live_rows(live).await?);
    }
    if options.reminders > 0 {
        println!(
            "== reminders: {} falling due at once, a server started from {}",
            options.reminders, options.server_bin
        );
        let figures = reminders::reminders(&options.server_bin, options.reminders).await?;
        figures.print();
        rows.push(Row {
            label: format!("reminders/s, {} due at once", summary::figure(options.reminders as f64)),
            ours: figures.per_second(),
            baseline: Some(reminders::TELEGRAM_PER_SECOND as f64),
            unit: "messages/s",
            goal: Goal::AtLeast(28.0),
            note: format!(
                "ours: falling due → the last delivered {:.1?} ({} of {} delivered; first → last {:.1}/s), duplicates {}, answered 429 {}; \
                 baseline: Telegram's overall limit, which the fake Bot API enforces (a send beyond 30 within one \
                 second is answered 429); the fake alone answers {:.0} sends/s",
                figures.drained_in,
                figures.count - figures.missing,
                figures.count,
                figures.sustained_per_second(),
                figures.duplicates,
                figures.too_many,
                figures.fake_capacity
            ),
        });
    }
    let heading = format!(
        "# Load test report\n\n{} — each figure and its baseline measured one after the other in one `loadtest \
         report` run ({seconds} s each{}) on this machine.",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        options.live.as_ref().map_or(String::new(), |live| format!(
            "; live rows: {} sessions, {} bookings, then the bare server the same",
            summary::figure(live.sessions as f64),
            live.rounds
        )),
    );
    summary::write(&options.out, &rows, &heading)?;
    println!("{}", summary::markdown(&rows, &heading));
    let out = options.out.canonicalize().unwrap_or(options.out);
    println!("written: {0}/report.md, {0}/report.svg", out.display());
    Ok(())
}

/// Booking → push p99 and memory per idle session: the real server at
/// `live.url`, then the bare broadcast server (a child process) with the
/// same client, the same number of sessions and rounds, and the frame the
/// real server pushed.
async fn live_rows(live: &LiveRows) -> anyhow::Result<Vec<summary::Row>> {
    use summary::{Goal, Row};
    let api = server_api(&live.url)?;
    let n = summary::figure(live.sessions as f64);
    println!("== ours: live at {}, {n} sessions, {} bookings", live.url, live.rounds);
    let options = live::LiveOptions {
        sessions: live.sessions,
        sources: live.sources,
        bookings: live.rounds,
        book_url: None,
        server_pid: live.pid,
    };
    let (ours, replies) = live::run(&api, &live.url, &options).await?;
    live::print(&ours, "booking → push received", &[replies.row("booking → 201 reply")]);
    println!(
        "\n== baseline: bare broadcast server, {n} sessions, {} broadcasts of the {} bytes frame",
        live.rounds,
        ours.frame.len()
    );
    let bare = bare::measure(&ours.frame, &ours.watch, live.sessions, live.sources, live.rounds).await?;
    live::print(&bare, "trigger → broadcast received", &[]);
    println!();
    let mut rows = vec![Row {
        label: format!("booking → push p99, {n} sessions"),
        ours: ours.p99_ms(),
        baseline: Some(bare.p99_ms()),
        unit: "ms",
        goal: Goal::AtMostAndRatioAtMost { limit: 50.0, ratio: 1.5 },
        note: format!(
            "ours: `live --sessions {}`, {} bookings then cancels, p50 {:.1} ms (the booking's 201 reply: p50 {:.1} ms, \
             p99 {:.1} ms); baseline: `bare-broadcast-server` (tokio-tungstenite, one shared frame through a broadcast \
             channel), {} broadcasts triggered by a WebSocket message, p50 {:.1} ms; same client, frame {} bytes; timed \
             from the request made to the push decoded, per session",
            live.sessions,
            live.rounds,
            ours.p50_ms(),
            replies.percentile_ms(50.0),
            replies.percentile_ms(99.0),
            2 * live.rounds,
            bare.p50_ms(),
            ours.frame.len(),
        ),
    }];
    match (ours.bytes_per_session(), bare.bytes_per_session()) {
        (Some(ours_bytes), Some(bare_bytes)) => rows.push(Row {
            label: format!("memory per idle session, {n} sessions"),
            ours: ours_bytes / 1024.0,
            baseline: Some(bare_bytes / 1024.0),
            unit: "KiB",
            goal: Goal::AtMost(8.0),
            note: format!(
                "resident memory (VmRSS) after opening the sessions and 500 ms idle, minus before, per session: ours {:?} \
                 KiB, baseline (the bare server's process) {:?} KiB",
                ours.memory_kib.unwrap_or_default(),
                bare.memory_kib.unwrap_or_default(),
            ),
        }),
        (None, Some(bare_bytes)) => println!(
            "no memory row: give --live-pid (the bare server: {:.0} bytes per idle session)",
            bare_bytes
        ),
        _ => {}
    }
    Ok(rows)
}
