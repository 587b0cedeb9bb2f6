//! `justbookme backup PATH`: a consistent copy of the SQLite database, taken
//! while the server keeps running (policy §4, protection against data loss).
//!
//! The copy is SQLite's `VACUUM INTO`: it reads the database inside one read
//! transaction, so it is a snapshot of one instant — every commit before it,
//! none after — while the server's writers go on (WAL lets readers and a
//! writer work at once). It is written next to `PATH` under a temporary name,
//! flushed to disk, checked with `PRAGMA quick_check`, and only then linked to
//! `PATH`: a half-written copy never carries the final name, and an existing
//! file is never overwritten (the link fails if the name is taken).
//!
//! PostgreSQL has its own online backup tool, `pg_dump`; this command does
//! not wrap it (it would need the client binaries of the server's version)
//! and says so instead. The README gives the exact lines.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, Instant},
};

use sqlx::{
    Connection,
    sqlite::{SqliteConnectOptions, SqliteConnection},
};

use crate::store::is_postgres_url;

/// What a finished backup reports.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "DATABASE_URL names PostgreSQL: back it up with pg_dump, e.g.\n  \
         pg_dump --format=custom --no-owner --no-privileges --file=justbookme.dump \"$DATABASE_URL\"\n\
         (see the README, \"Backups\", for the restore line)"
    )]
    Postgres,
    #[error("{0} already exists: a backup never overwrites a file; choose a new name")]
    TargetExists(PathBuf),
    #[error("the directory of {0} does not exist")]
    NoTargetDirectory(PathBuf),
    #[error("DATABASE_URL names an in-memory SQLite database: there is nothing on disk to back up")]
    InMemory,
    #[error("the SQLite database {0} does not exist")]
    NoDatabase(PathBuf),
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Sqlite { context: String, source: sqlx::Error },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

fn sqlite(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Sqlite { context, source }
}

/// Copies the database `database_url` names to `target`, which must not exist.
pub async fn backup(database_url: &str, target: &Path) -> Result<Backup, BackupError> {
    let started = Instant::now();
    if is_postgres_url(database_url) {
        return Err(BackupError::Postgres);
    }
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(sqlite(format!("DATABASE_URL {database_url:?} is not a SQLite URL")))?
        // `?mode=rwc` in the server's URL creates a missing database; a
        // backup of a database that is not there must fail instead.
        .create_if_missing(false)
        // The server's writers hold the lock only for a commit; wait for it.
        .busy_timeout(Duration::from_secs(30));
    let source = options.get_filename().to_owned();
    if source == Path::new(":memory:") || database_url.contains("mode=memory") {
        return Err(BackupError::InMemory);
    }
    if !source.exists() {
        return Err(BackupError::NoDatabase(source));
    }
    if target.exists() {
        return Err(BackupError::TargetExists(target.to_owned()));
    }
    let directory = match target.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new("."),
        Some(dir) => dir,
        None => return Err(BackupError::NoTargetDirectory(target.to_owned())),
    };
    if !directory.is_dir() {
        return Err(BackupError::NoTargetDirectory(target.to_owned()));
    }
    let file_name = target.file_name().ok_or_else(|| BackupError::NoTargetDirectory(target.to_owned()))?;
    let partial = directory.join(format!(".{}.partial-{}", file_name.to_string_lossy(), std::process::id()));
    let copied = copy_into(options, &partial).await;
    let linked = copied.and_then(|()| {
        // A hard link refuses an existing name, where a rename would replace it.
        std::fs::hard_link(&partial, target).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::TargetExists(target.to_owned()),
            _ => BackupError::Io { context: format!("naming the copy {}", target.display()), source: error },
        })
    });
    let _ = std::fs::remove_file(&partial);
    linked?;
    sync_directory(directory)?;
    let bytes = std::fs::metadata(target).map_err(io(format!("reading {}", target.display())))?.len();
    Ok(Backup { path: target.to_owned(), bytes, took: started.elapsed() })
}

/// `VACUUM INTO partial`, then fsync and a quick integrity check of the copy.
async fn copy_into(options: SqliteConnectOptions, partial: &Path) -> Result<(), BackupError> {
    let mut connection = SqliteConnection::connect_with(&options).await.map_err(sqlite("opening the database"))?;
    let destination = partial.to_str().ok_or_else(|| BackupError::Io {
        context: format!("{} is not valid UTF-8", partial.display()),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    sqlx::query("VACUUM INTO $1")
        .bind(destination)
        .execute(&mut connection)
        .await
        .map_err(sqlite(format!("copying into {}", partial.display())))?;
    connection.close().await.map_err(sqlite("closing the database"))?;
    // VACUUM INTO does not promise the copy is on disk when it returns.
    std::fs::File::open(partial).and_then(|file| file.sync_all()).map_err(io("flushing the copy to disk"))?;
    // Immutable: nobody else has the copy open, so no locks and no -shm file.
    let copy = SqliteConnectOptions::new().filename(partial).immutable(true);
    let mut connection = SqliteConnection::connect_with(&copy).await.map_err(sqlite("opening the copy"))?;
    let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut connection)
        .await
        .map_err(sqlite("checking the copy"))?;
    connection.close().await.map_err(sqlite("closing the copy"))?;
    if verdict != "ok" {
        return Err(BackupError::Corrupt(verdict));
    }
    Ok(())
}

/// Makes the new directory entry durable too (the copy's name survives a crash).
fn sync_directory(directory: &Path) -> Result<(), BackupError> {
    std::fs::File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(io(format!("flushing the directory {}", directory.display())))
}
