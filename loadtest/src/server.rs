//! A server under test that `loadtest` starts itself: the release binary as
//! a child process on a free loopback port, with a SQLite file of its own
//! and the rate limits off; killed (and its files removed) when dropped, so a
//! scenario that fails half-way leaves nothing running.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::Context;

pub struct Server {
    pub child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    /// Starts `binary` with `env` on top of the load settings. Nothing is
    /// inherited but PATH: a shell's TELEGRAM_BOT_TOKEN or REDIS_URL must not
    /// reach the server under test.
    pub fn start(binary: &str, name: &str, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("jbm-{name}-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
            .env("DATABASE_URL", format!("sqlite://{}/load.db?mode=rwc", dir.display()))
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DEV_LOGIN", "1")
            .env("RATE_SIGN_IN_PER_MIN", "0")
            .env("RATE_BOOKING_PER_MIN", "0")
            .env("RATE_BOOKING_PER_IP_PER_MIN", "0")
            .env("RATE_WS_CONNECT_PER_MIN", "0")
            // `LOADTEST_SERVER_LOG=info` (any RUST_LOG filter) to see more of it.
            .env("RUST_LOG", std::env::var("LOADTEST_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .envs(env.iter().map(|(key, value)| (key, value)))
            // The server logs to stdout: shown only when asked for.
            .stdout(if std::env::var_os("LOADTEST_SERVER_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .with_context(|| format!("start {binary}"))?;
        Ok(Server { child, port, dir })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's own database, for what only a database can stage (an
    /// outage's backlog falling due at once).
    pub fn database_url(&self) -> String {
        format!("sqlite://{}/load.db", self.dir.display())
    }

    pub async fn wait_healthy(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..400 {
            let url = format!("{}/healthz", self.base());
            if client.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server did not become healthy")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `LOADTEST_KEEP_DB=1`: left for a look afterwards.
        if std::env::var_os("LOADTEST_KEEP_DB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
