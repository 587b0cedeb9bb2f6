//! The access log (privacy policy §2, technical data), written off the
//! request's hot path.
//!
//! The HTTP middleware (`http::access_log`) hands each line to
//! [`AccessLogSender::send`], which never waits: it puts the line on a
//! bounded queue with `try_send`, and a full queue drops the line (counted
//! in `access_log_dropped_total`) rather than slow the request down. One
//! writer task per node drains the queue and writes up to
//! [`BATCH_ROWS`] lines at a time in one `INSERT`, at the latest
//! [`BATCH_WAIT`] after the first line of a batch arrived. The User-Agent
//! travels raw only this far: the writer parses it (woothee) into device
//! type, browser and OS, and only those are stored.

use std::{sync::Arc, time::Duration};

use actors::domain::UserId;
use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::store::{AccessEntry, AccessRecord, Store};

/// Lines waiting for the writer. At the default batch size that is a few
/// seconds of a heavy load; past it lines are dropped, never waited for.
pub const QUEUE: usize = 16_384;
/// Most lines one `INSERT` writes (9 values each, far below both
/// databases' limit on bound parameters).
pub const BATCH_ROWS: usize = 500;
/// How long the first line of a batch waits for company.
pub const BATCH_WAIT: Duration = Duration::from_secs(1);

/// A line as the middleware saw it; the User-Agent is still raw.
#[derive(Debug)]
pub struct PendingLine {
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    pub ip: String,
    pub user_agent: Option<String>,
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Where request handling puts lines; cheap to clone.
#[derive(Clone)]
pub struct AccessLogSender(mpsc::Sender<PendingLine>);

impl AccessLogSender {
    /// Queues `line` without waiting; a full queue drops it (and counts).
    pub fn send(&self, line: PendingLine) {
        if self.0.try_send(line).is_err() {
            metrics::counter!("access_log_dropped_total").increment(1);
        }
    }
}

/// Stops the writer after it wrote what is queued.
pub struct AccessLogWriter(oneshot::Sender<oneshot::Sender<()>>);

impl AccessLogWriter {
    /// Writes what is still queued, then ends the writer; returns when done
    /// (or at `deadline`, whatever is left then is lost).
    pub async fn flush_and_stop(self, deadline: tokio::time::Instant) {
        let (done, flushed) = oneshot::channel();
        if self.0.send(done).is_ok() {
            let _ = tokio::time::timeout_at(deadline, flushed).await;
        }
    }
}

/// Starts the writer task on the current runtime.
pub fn start(store: Arc<dyn Store>) -> (AccessLogSender, AccessLogWriter) {
    let (sender, lines) = mpsc::channel(QUEUE);
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(write_batches(store, lines, stopped));
    (AccessLogSender(sender), AccessLogWriter(stop))
}

async fn write_batches(
    store: Arc<dyn Store>,
    mut lines: mpsc::Receiver<PendingLine>,
    mut stop: oneshot::Receiver<oneshot::Sender<()>>,
) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    loop {
        tokio::select! {
            received = lines.recv_many(&mut batch, BATCH_ROWS) => {
                if received == 0 {
                    return;
                }
                let until = tokio::time::Instant::now() + BATCH_WAIT;
                while batch.len() < BATCH_ROWS {
                    let room = BATCH_ROWS - batch.len();
                    match tokio::time::timeout_at(until, lines.recv_many(&mut batch, room)).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                write(store.as_ref(), &mut batch).await;
            }
            done = &mut stop => {
                while let Ok(line) = lines.try_recv() {
                    batch.push(line);
                    if batch.len() == BATCH_ROWS {
                        write(store.as_ref(), &mut batch).await;
                    }
                }
                write(store.as_ref(), &mut batch).await;
                if let Ok(done) = done {
                    let _ = done.send(());
                }
                return;
            }
        }
    }
}

/// Writes and empties `batch`. A failed write is logged and dropped: the
/// access log must never hold up or take down the service.
async fn write(store: &dyn Store, batch: &mut Vec<PendingLine>) {
    if batch.is_empty() {
        return;
    }
    let records: Vec<AccessRecord> = batch.drain(..).map(parse).collect();
    match store.record_access(&records).await {
        Ok(()) => metrics::counter!("access_log_written_total").increment(records.len() as u64),
        Err(error) => {
            metrics::counter!("access_log_dropped_total").increment(records.len() as u64);
            tracing::warn!(%error, lines = records.len(), "access log: a batch could not be written");
        }
    }
}

fn parse(line: PendingLine) -> AccessRecord {
    let agent = describe_user_agent(line.user_agent.as_deref().unwrap_or(""));
    AccessRecord {
        user_id: line.user_id,
        entry: AccessEntry {
            at: line.at,
            ip: line.ip,
            device: agent.device,
            browser: agent.browser,
            os: agent.os,
            method: line.method,
            route: line.route,
            status: line.status,
        },
    }
}

/// What a User-Agent tells, as stored.
#[derive(Debug, PartialEq, Eq)]
pub struct UserAgentSummary {
    pub device: String,
    pub browser: String,
    pub os: String,
}

/// Longest OS version kept ("17.5.1" and "4.4.2" are far shorter). woothee
/// reads any run of digits as a version, so a client could otherwise store
/// kilobytes of its own text in every line it causes; a longer version is
/// made up and dropped, the OS name kept.
const MAX_OS_VERSION_LEN: usize = 12;

/// Device type, browser and OS of a User-Agent (woothee). Device types are
/// woothee's categories, with `pc` called `desktop`; a mobile OS keeps its
/// version ("Android 14", "iPhone 17.5") because that is how people tell
/// their phones apart; browsers are named without version.
pub fn describe_user_agent(user_agent: &str) -> UserAgentSummary {
    const UNKNOWN: &str = "unknown";
    fn known(value: &str) -> &str {
        if value.is_empty() || value == woothee::woothee::VALUE_UNKNOWN { UNKNOWN } else { value }
    }
    let Some(result) = woothee::parser::Parser::new().parse(user_agent) else {
        return UserAgentSummary { device: UNKNOWN.into(), browser: UNKNOWN.into(), os: UNKNOWN.into() };
    };
    let device = match known(result.category) {
        "pc" => "desktop",
        other => other,
    };
    let os = known(result.os);
    let os = match (os, known(&result.os_version)) {
        ("Android" | "iPhone" | "iPad" | "iPod", version)
            if version != UNKNOWN && version.len() <= MAX_OS_VERSION_LEN =>
        {
            format!("{os} {version}")
        }
        _ => os.to_owned(),
    };
    UserAgentSummary { device: device.into(), browser: known(result.name).into(), os }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(device: &str, browser: &str, os: &str) -> UserAgentSummary {
        UserAgentSummary { device: device.into(), browser: browser.into(), os: os.into() }
    }

    #[test]
    fn user_agents_are_reduced_to_device_browser_and_os() {
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/124.0.0.0 Mobile Safari/537.36 Telegram-Android/11.0.0";
        assert_eq!(describe_user_agent(android), summary("smartphone", "Chrome", "Android 14"));
        let desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(describe_user_agent(desktop), summary("desktop", "Chrome", "Windows 10"));
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_user_agent(firefox), summary("desktop", "Firefox", "Linux"));
        assert_eq!(describe_user_agent(""), summary("unknown", "unknown", "unknown"));
        assert_eq!(describe_user_agent("reqwest/0.12").device, "unknown");
    }

    /// Found by the `user_agent` fuzz target: `CPU OS 16_6444…4` (100
    /// digits) was kept whole as the OS "iPad 16.6444…4".
    #[test]
    fn a_made_up_os_version_is_dropped_not_stored() {
        let digits = "4".repeat(100);
        let ipad = format!("Mozilla/5.0 (iPad; CPU OS 16_{digits} like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148");
        assert_eq!(describe_user_agent(&ipad).os, "iPad");
        let android =
            format!("Mozilla/5.0 (Linux; Android 14.{digits}; Pixel 8) Chrome/124.0.0.0 Mobile Safari/537.36");
        assert_eq!(describe_user_agent(&android).os, "Android");
        let real = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
        assert_eq!(describe_user_agent(real).os, "iPhone 17.5.1");
    }

    #[test]
    fn telegram_on_an_iphone_is_a_smartphone() {
        let ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                   Mobile/15E148";
        let parsed = describe_user_agent(ios);
        assert_eq!((parsed.device.as_str(), parsed.os.as_str()), ("smartphone", "iPhone 17.5"), "{parsed:?}");
    }

    /// A request never waits for the log: with the queue full, `send`
    /// returns at once and the line is dropped.
    #[tokio::test]
    async fn a_full_queue_drops_the_line_instead_of_waiting() {
        let (sender, mut lines) = mpsc::channel(1);
        let log = AccessLogSender(sender);
        let line = |route: &str| PendingLine {
            at: Timestamp::now(),
            user_id: None,
            ip: "127.0.0.1".into(),
            user_agent: None,
            method: "GET".into(),
            route: route.into(),
            status: 200,
        };
        // `send` is not async: it cannot wait, it can only drop.
        log.send(line("/first"));
        log.send(line("/second"));
        assert_eq!(lines.recv().await.map(|line| line.route), Some("/first".to_owned()));
        assert!(lines.try_recv().is_err(), "the second line was dropped, not queued");
    }
}
