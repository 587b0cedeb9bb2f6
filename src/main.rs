use std::path::PathBuf;

use actors::domain::UserId;
use clap::{Parser, Subcommand};
use justbookme::{backup, config::Config, retention, startup::Application, store, telegram::support};
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
    /// Copy the SQLite database to PATH (a new file) while the server runs.
    /// For PostgreSQL it points at pg_dump instead (see the README, "Backups").
    Backup {
        /// Where the copy goes; refused if it exists.
        path: PathBuf,
    },
    /// Apply the retention rules now (what every node does daily): delete
    /// old access-log lines, expired sessions, old finished outbox messages
    /// and support conversations; print how many of each.
    Purge,
    /// Support conversations (for operators, with or without SUPPORT_CHAT_ID).
    Support {
        #[command(subcommand)]
        action: SupportAction,
    },
}

#[derive(Subcommand)]
enum SupportAction {
    /// Every open conversation with its messages, the longest waiting first.
    List,
    /// Send an answer to a user (the bot sends it, with TELEGRAM_BOT_TOKEN
    /// through TELEGRAM_API_URL) and keep it in their conversation.
    Reply {
        /// The user id `support list` shows.
        user: uuid::Uuid,
        /// The answer (the words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Finish the user's open conversation.
    Done {
        /// The user id `support list` shows.
        user: uuid::Uuid,
    },
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
        Command::Backup { path } => match backup::backup(&config.database_url, &path).await {
            Ok(done) => {
                println!("backup written to {} ({} bytes, {:?})", done.path.display(), done.bytes, done.took);
            }
            Err(error) => {
                eprintln!("backup failed: {error}");
                std::process::exit(1);
            }
        },
        Command::Support { action } => {
            let store = store::connect(&config.database_url).await?;
            match action {
                SupportAction::List => support::list(&*store, &mut std::io::stdout().lock()).await?,
                SupportAction::Reply { user, text } => {
                    support::reply(&config, &*store, UserId(user), &text.join(" ")).await?;
                    println!("sent to user {user}");
                }
                SupportAction::Done { user } => match support::finish(&*store, UserId(user)).await? {
                    true => println!("finished the conversation of user {user}"),
                    false => println!("user {user} has no open conversation"),
                },
            }
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
