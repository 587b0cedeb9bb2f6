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
//! ```
//!
//! `shutdown` and `chaos` start their own servers: `shutdown` one on a free
//! loopback port, `chaos` everything (PostgreSQL, Redis, two nodes in network
//! namespaces, a fake Bot API), talking only to the namespace addresses it
//! created.

mod chaos;
mod live;
mod report;
mod scenario;
mod shutdown;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    /// Base URL of the server under test (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
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
    let url = reqwest::Url::parse(&cli.url)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    anyhow::ensure!(loopback, "load is only ever sent to this machine (127.0.0.0/8, ::1, localhost)");
    let api = scenario::Api::new(cli.url.trim_end_matches('/').to_owned());
    match cli.scenario {
        Scenario::Storm { racers } => scenario::storm(&api, racers).await,
        Scenario::Shutdown { server_bin, sessions, sources, grace_secs } => {
            shutdown::shutdown(shutdown::ShutdownOptions { server_bin, sessions, sources, grace_secs }).await
        }
        Scenario::Throughput { providers, seconds } => scenario::throughput(&api, providers, seconds).await,
        Scenario::Live { sessions, sources, bookings, book_url, server_pid } => {
            let options = live::LiveOptions { sessions, sources, bookings, book_url, server_pid };
            live::live(&api, &cli.url, options).await
        }
        Scenario::Chaos { .. } => unreachable!("handled above"),
    }
}
