//! The cluster under test: a private redis-server and the server nodes,
//! each in its own network namespace.

use super::*;

/// A private redis-server on 127.0.0.1 and the namespaces' Redis links.
pub(super) struct Redis {
    pub(super) port: u16,
    pub(super) child: Child,
}

impl Redis {
    pub(super) fn start(listen: &[Ipv4Addr]) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut args = vec!["--port".to_owned(), port.to_string(), "--bind".to_owned(), "127.0.0.1".to_owned()];
        args.extend(listen.iter().map(Ipv4Addr::to_string));
        args.extend(["--save", "", "--appendonly", "no", "--protected-mode", "no"].map(str::to_owned));
        let child = std::process::Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .spawn()
            .context("starting redis-server (apt-get install redis-server)")?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Redis { port, child });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("redis-server did not start")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One server node in its own namespace.
pub(super) struct Node {
    pub(super) name: &'static str,
    pub(super) bin: PathBuf,
    pub(super) env: Vec<(String, String)>,
    pub(super) log: PathBuf,
    pub(super) child: Option<Child>,
    pub(super) base: String,
    pub(super) db: Link,
    pub(super) redis: Link,
    /// Last field: dropped after the process is killed.
    pub(super) ns: Netns,
}

impl Node {
    pub(super) fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = self
            .ns
            .command(self.bin.to_str().context("server binary path")?)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting the server in its namespace")?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no graceful shutdown.
    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process is still running (it never exits by itself).
    pub(super) fn alive(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
