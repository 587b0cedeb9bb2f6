//! A private PostgreSQL cluster for fault tests: `initdb` into a temporary
//! directory, its own port, listening on 127.0.0.1 and on the addresses
//! given (host sides of namespace links), trust authentication for loopback
//! and 10.213.0.0/16. It may be restarted or stopped at will: the machine's
//! shared server is never touched, since other tests run beside it.
//!
//! PostgreSQL refuses to run as root, and CI runs as root, so every program
//! runs as the `postgres` user (uid/gid from /etc/passwd) when we are root.
//! Shared by `loadtest chaos` and the fault tests (`#[path]` include): `std`
//! and `anyhow` only.

#![allow(dead_code)]

use std::{
    net::{Ipv4Addr, TcpListener},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The newest installed PostgreSQL's `bin` directory (Debian layout), or
/// `JBM_PG_BIN`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("JBM_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// (uid, gid) of the `postgres` user.
fn postgres_user() -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:")).context("no `postgres` user on this machine")?;
    let fields: Vec<&str> = line.split(':').collect();
    Ok((fields.get(2).context("uid")?.parse()?, fields.get(3).context("gid")?.parse()?))
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    listen: Vec<Ipv4Addr>,
    user: Option<(u32, u32)>,
    child: Option<Child>,
}

impl PrivatePostgres {
    /// Initializes and starts a cluster listening on 127.0.0.1 and `listen`.
    pub fn start(listen: &[Ipv4Addr]) -> anyhow::Result<Self> {
        let bin = bin_dir().context("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")?;
        let user = if is_root() { Some(postgres_user()?) } else { None };
        let dir = std::env::temp_dir().join(format!("jbm-pg-{}-{:x}", std::process::id(), nanos()));
        std::fs::create_dir_all(&dir)?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = PrivatePostgres { port, bin, dir, listen: listen.to_vec(), user, child: None };
        let data = server.data_dir();
        let output = server
            .command("initdb")
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .context("running initdb")?;
        if !output.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        // Trust the namespaces' links too (initdb trusts local and loopback).
        let hba = data.join("pg_hba.conf");
        let mut rules = std::fs::read_to_string(&hba)?;
        rules.push_str("\nhost all all 10.213.0.0/16 trust\n");
        std::fs::write(&hba, rules)?;
        server.spawn()?;
        Ok(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        // pg_ctl's progress dots would land in the middle of a test's or the
        // load generator's output.
        command.stdin(Stdio::null()).stdout(Stdio::null());
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// A URL for `database` on `host` (127.0.0.1 or one of the listen addresses).
    pub fn url(&self, host: Ipv4Addr, database: &str) -> String {
        format!("postgres://postgres@{host}:{}/{database}", self.port)
    }

    /// Creates a database (through loopback).
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        self.psql("postgres", &format!("CREATE DATABASE {name}")).map(drop)
    }

    /// Runs SQL through `psql` on loopback and returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let output = self
            .command("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", database])
            .args(["-v", "ON_ERROR_STOP=1", "-XAtqc", sql])
            .stdout(Stdio::piped())
            .output()
            .context("running psql")?;
        if !output.status.success() {
            bail!("psql failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let mut addresses = vec!["127.0.0.1".to_owned()];
        addresses.extend(self.listen.iter().map(Ipv4Addr::to_string));
        let log = std::fs::File::create(self.dir.join("postgres.log"))?;
        if let Some((uid, gid)) = self.user {
            std::os::unix::fs::chown(self.dir.join("postgres.log"), Some(uid), Some(gid))?;
        }
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string()])
            .args(["-c", &format!("listen_addresses={}", addresses.join(","))])
            .args(["-c", &format!("unix_socket_directories={}", self.dir.display())])
            .args(["-c", "max_connections=200", "-c", "shared_buffers=32MB"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting postgres")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self
                .command("pg_isready")
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("postgres exited ({status}): see {}", self.dir.join("postgres.log").display());
            }
            if Instant::now() > deadline {
                bail!("postgres did not accept connections within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `pg_ctl stop -m fast` (what `pg_ctlcluster … restart` does first):
    /// clients are disconnected, the cluster shuts down cleanly.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let status = self.command("pg_ctl").arg("-D").arg(self.data_dir()).args(["stop", "-m", "fast", "-w"]).status();
        if !status.is_ok_and(|s| s.success()) {
            let _ = child.kill();
        }
        let _ = child.wait();
        Ok(())
    }

    /// Stops (fast) and starts again on the same port and data: a restart.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop()?;
        self.spawn()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Immediate: nothing of a throwaway cluster needs to be flushed.
            let _ =
                self.command("pg_ctl").arg("-D").arg(self.data_dir()).args(["stop", "-m", "immediate", "-w"]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
