//! Backups (policy §4, protection against data loss), taken the way an
//! operator takes them: while the server runs and bookings keep arriving.
//! SQLite: `justbookme backup PATH`; PostgreSQL: the README's own `pg_dump`
//! and `pg_restore` lines, read from the README and run as written. Either
//! copy, restored under a fresh server, holds every booking acknowledged
//! before the backup started, and nothing that was never acknowledged.

use std::{
    collections::HashSet,
    io::Write,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::helpers::{Api, Backend, ServerProcess, TestDatabase, every_day, postgres_admin_url};

/// Clients booking their own hours of June 2027 one after another, each
/// noting when every 201 arrived.
struct BookingStream {
    acknowledged: Arc<Mutex<Vec<(Instant, String)>>>,
    stop: Arc<AtomicBool>,
    workers: Vec<actix_web::rt::task::JoinHandle<()>>,
}

const CLIENTS: usize = 4;

impl BookingStream {
    async fn start(api: &Api) -> (Self, String) {
        let (provider, service) = api.provider(1, "anna", json!({}), every_day("00:00", "24:00")).await;
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = api
            .many_users(100, CLIENTS)
            .await
            .into_iter()
            .enumerate()
            .map(|(i, token)| {
                let (api, service, acknowledged, stop) =
                    (api.clone(), service.clone(), acknowledged.clone(), stop.clone());
                actix_web::rt::spawn(async move {
                    // 28 days × 24 hours, dealt round-robin to the clients.
                    for slot in (i..28 * 24).step_by(CLIENTS) {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let start = format!("2027-06-{:02}T{:02}:00:00+02:00", 1 + slot / 24, slot % 24);
                        let reply = api.book(&token, "anna", &service, &start).await;
                        assert_eq!(reply.status, 201, "booking {start}: {}", reply.body);
                        let id = reply.body["id"].as_str().expect("id").to_owned();
                        acknowledged.lock().expect("lock").push((Instant::now(), id));
                    }
                })
            })
            .collect();
        (BookingStream { acknowledged, stop, workers }, provider)
    }

    fn count(&self) -> usize {
        self.acknowledged.lock().expect("lock").len()
    }

    /// Stops the clients; every id acknowledged, with when.
    async fn finish(self) -> Vec<(Instant, String)> {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.expect("a booking client failed");
        }
        Arc::try_unwrap(self.acknowledged).expect("workers done").into_inner().expect("lock")
    }
}

/// Waits until the stream has acknowledged `n` bookings.
async fn until_booked(stream: &BookingStream, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while stream.count() < n {
        assert!(Instant::now() < deadline, "only {} bookings in 60 s", stream.count());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every booking id the provider holds in June 2027, as a server says.
async fn bookings_found(api: &Api, provider: &str) -> HashSet<String> {
    let reply = api.get("/api/provider/bookings?from=2027-06-01&to=2027-06-30", Some(provider)).await;
    reply.ok().as_array().expect("a list").iter().map(|b| b["id"].as_str().expect("id").to_owned()).collect()
}

/// Compares a restored copy with what the clients were told: everything
/// acknowledged before `backup_started` is there, nothing never acknowledged is.
fn check_restored(found: &HashSet<String>, acknowledged: &[(Instant, String)], backup_started: Instant, what: &str) {
    let before: Vec<&String> = acknowledged.iter().filter(|(at, _)| *at < backup_started).map(|(_, id)| id).collect();
    let missing: Vec<&&String> = before.iter().filter(|id| !found.contains(id.as_str())).collect();
    assert!(
        missing.is_empty(),
        "{what}: {} bookings acknowledged before the backup are missing: {missing:?}",
        missing.len()
    );
    let ever: HashSet<&String> = acknowledged.iter().map(|(_, id)| id).collect();
    let unknown: Vec<&String> = found.iter().filter(|id| !ever.contains(id)).collect();
    assert!(unknown.is_empty(), "{what}: the copy holds bookings never acknowledged: {unknown:?}");
    let after = acknowledged.len() - before.len();
    let _ = writeln!(
        std::io::stderr(),
        "{what}: {} acknowledged before the backup, all found; the copy holds {} (of {after} acknowledged after it started)",
        before.len(),
        found.len()
    );
}

/// Runs `justbookme backup path` on `database_url` as its own process (off
/// the test's runtime, so the booking clients keep going meanwhile).
async fn run_backup(database_url: &str, path: &Path) -> std::process::Output {
    let (url, path) = (database_url.to_owned(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_justbookme"))
            .env_clear()
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .arg("backup")
            .arg(path)
            .output()
            .expect("run justbookme backup")
    })
    .await
    .expect("backup thread")
}

#[actix_web::test]
async fn an_online_sqlite_backup_restores_every_acknowledged_booking() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let server = ServerProcess::start(&db.url).await;
    let (stream, provider) = BookingStream::start(&server.api).await;
    until_booked(&stream, 40).await;

    let copies = tempfile::tempdir().expect("temp dir");
    let copy = copies.path().join("justbookme-backup.db");
    let started = Instant::now();
    let before = stream.count();
    let output = run_backup(&db.url, &copy).await;
    let during = stream.count() - before;
    let took = started.elapsed();
    assert!(output.status.success(), "backup failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("backup written to"));
    let _ = writeln!(std::io::stderr(), "sqlite backup took {took:?}; {during} bookings acknowledged meanwhile");
    // Bookings still arrive after the copy was taken.
    until_booked(&stream, stream.count() + 8).await;

    // A second backup to the same name is refused and leaves the copy alone.
    let size = std::fs::metadata(&copy).expect("the copy").len();
    let again = run_backup(&db.url, &copy).await;
    assert!(!again.status.success(), "a backup overwrote an existing file");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&copy).expect("the copy").len(), size);
    let leftovers: Vec<PathBuf> = std::fs::read_dir(copies.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| *p != copy)
        .collect();
    assert!(leftovers.is_empty(), "no partial files are left: {leftovers:?}");

    let acknowledged = stream.finish().await;
    let mut restored = ServerProcess::start(&format!("sqlite://{}?mode=rwc", copy.display())).await;
    let found = bookings_found(&restored.api, &provider).await;
    check_restored(&found, &acknowledged, started, "sqlite backup");
    // The original goes on, and has everything.
    assert_eq!(bookings_found(&server.api, &provider).await.len(), acknowledged.len());
    restored.kill_9();
}

#[actix_web::test]
async fn backup_refuses_postgresql_and_points_at_pg_dump() {
    let copies = tempfile::tempdir().expect("temp dir");
    let output = run_backup("postgres://postgres@127.0.0.1:1/none", &copies.path().join("copy")).await;
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("pg_dump"), "{said}");
    assert!(std::fs::read_dir(copies.path()).expect("dir").next().is_none(), "nothing written");
}

/// The README's line that starts with `program --`, in its "Backups" section.
fn readme_line(program: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = readme.split("\n## Backups").nth(1).expect("a Backups section in the README");
    let section = section.split("\n## ").next().unwrap_or(section);
    let lines: Vec<&str> = section.lines().filter(|l| l.starts_with(&format!("{program} --"))).collect();
    assert_eq!(lines.len(), 1, "exactly one `{program}` line in the README's Backups section: {lines:?}");
    lines[0].to_owned()
}

/// The directory holding `pg_dump` and `pg_restore`: the newest PostgreSQL
/// under /usr/lib/postgresql, else PATH. `None` (said loudly) without them;
/// under CI that is a failure.
fn pg_client_bin() -> Option<PathBuf> {
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    candidates.sort();
    let from_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let found = candidates
        .into_iter()
        .rev()
        .map(|(_, bin)| bin)
        .chain(from_path)
        .find(|bin| bin.join("pg_dump").is_file() && bin.join("pg_restore").is_file());
    if found.is_none() {
        let reason = "no pg_dump/pg_restore (apt-get install postgresql-client; bash .ci/run installs it)";
        crate::helpers::skip_loudly("the PostgreSQL backup test", reason);
    }
    found
}

/// Runs one README line with `sh` in `dir`, the client binaries first on PATH.
async fn run_readme_line(line: String, dir: &Path, bin: &Path, env: &[(&str, &str)]) {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = std::process::Command::new("sh");
    command.args(["-c", &line]).current_dir(dir).env("PATH", path).envs(env.iter().copied());
    let output = tokio::task::spawn_blocking(move || command.output().expect("run sh")).await.expect("thread");
    assert!(output.status.success(), "`{line}` failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[actix_web::test]
async fn the_readme_pg_dump_line_backs_up_online_and_restores_every_acknowledged_booking() {
    if postgres_admin_url().is_none() {
        return;
    }
    let Some(bin) = pg_client_bin() else { return };
    let db = TestDatabase::new(Backend::Postgres).await;
    let server = ServerProcess::start(&db.url).await;
    let (stream, provider) = BookingStream::start(&server.api).await;
    until_booked(&stream, 40).await;

    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    run_readme_line(readme_line("pg_dump"), dir.path(), &bin, &[("DATABASE_URL", &db.url)]).await;
    let _ = writeln!(std::io::stderr(), "pg_dump took {:?}", started.elapsed());
    until_booked(&stream, stream.count() + 8).await;
    let acknowledged = stream.finish().await;

    // The restore goes into an empty database, as the README says.
    let fresh = TestDatabase::new(Backend::Postgres).await;
    run_readme_line(readme_line("pg_restore"), dir.path(), &bin, &[("RESTORE_URL", &fresh.url)]).await;
    let mut restored = ServerProcess::start(&fresh.url).await;
    let found = bookings_found(&restored.api, &provider).await;
    check_restored(&found, &acknowledged, started, "pg_dump backup");
    restored.kill_9();
}
