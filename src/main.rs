use std::path::PathBuf;

use clap::{Parser, Subcommand};
use justbookme::{config::Config, retention, startup::Application, store};
use tracing_subscriber::EnvFilter;

/// Just Book Me: bookings inside Telegram.
///
/// Configuration comes from the environment (DATABASE_URL, TELEGRAM_BOT_TOKEN,
/// BIND_ADDR, … — see the README), optionally on top of a file of KEY=value lines.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// A file of KEY=value lines; environment variables override it.
    #[arg(long, env = "JUSTBOOKME_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Apply the retention rules now (what every node does daily): delete
    /// old access-log lines, expired sessions and old finished outbox
    /// messages; print how many of each.
    Purge,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).unwrap_or_else(|error| {
        eprintln!("{error}");
        std::process::exit(2);
    });
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            store::migrate(&config.database_url).await?;
            tracing::info!("migrations applied");
        }
        Command::Purge => {
            let store = store::connect(&config.database_url).await?;
            let report = retention::purge(store.as_ref(), config.access_log_retention, jiff::Timestamp::now()).await?;
            for (table, count) in &report.0 {
                println!("{table}: {count}");
            }
        }
        Command::Serve => {
            let bind = config.bind_addr;
            let app = Application::build(config).await?;
            tracing::info!(%bind, port = app.port(), "Just Book Me is listening");
            app.run_until_stopped().await?;
        }
    }
    Ok(())
}
