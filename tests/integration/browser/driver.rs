//! Chromium and chromedriver: finding them (or skipping loudly), one
//! chromedriver per phone on a port it picks itself, and a browser session
//! whose viewport is a phone's.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};

/// The CSS viewport of every phone: an iPhone 12–16's 390×844.
pub const VIEWPORT: (u64, u64) = (390, 844);

/// How long chromedriver and Chromium get to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Debian's Chromium and its chromedriver.
#[derive(Clone, Debug)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Browser {
    /// The installed browser, or `None` after saying loudly that browser tests
    /// are skipped. Under CI a missing browser is a failure, not a skip: a
    /// green CI run must mean the Mini App was really clicked through.
    pub fn available() -> Option<Browser> {
        if let (Some(chromium), Some(chromedriver)) = (find_chromium(), find_program("chromedriver")) {
            return Some(Browser { chromium, chromedriver });
        }
        let reason = "browser tests need Debian's chromium and chromium-driver (apt-get install chromium \
            chromium-driver; `bash .ci/run` installs them); no Mini App screen was opened in this run";
        crate::helpers::skip_loudly("the browser suite", reason);
        None
    }
}

/// Chromium's real binary. Debian's `/usr/bin/chromium` is a shell wrapper
/// that sources `/etc/chromium.d` (extra flags, extensions, API keys) and on
/// some machines prints a shell error about `/dev/shm`; the binary it execs
/// runs the same browser without either, so prefer it when it is there.
fn find_chromium() -> Option<PathBuf> {
    let wrapper = find_program("chromium")?;
    let real = Path::new("/usr/lib/chromium/chromium");
    Some(if real.is_file() { real.to_path_buf() } else { wrapper })
}

/// `name` on `PATH`, or in `/usr/bin` (where Debian puts it) if `PATH` is bare.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// A chromedriver process of this test's own, killed when dropped.
pub struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Chromedriver {
    /// Starts chromedriver with `--port=0` and reads the port it reports, so
    /// parallel tests never race for a port, then waits until `/status` says
    /// it is ready for sessions. A chromedriver that dies before reporting a
    /// port (seen once in CI, under load, with nothing else to learn) is
    /// started again, up to three times.
    ///
    /// `zone` (IANA) is the clock of the Chromium it starts: Chromium takes
    /// its time zone from `TZ`, which it inherits from chromedriver.
    pub async fn start(binary: &Path, zone: &str) -> Chromedriver {
        let mut output = Vec::new();
        for _ in 0..3 {
            match Self::spawn(binary, zone).await {
                Ok(driver) => return driver.ready().await,
                Err(lines) => output = lines,
            }
        }
        panic!("chromedriver exited before reporting its port three times; it said:\n{}", output.join("\n"));
    }

    /// One chromedriver, once it reported its port; otherwise what it printed.
    async fn spawn(binary: &Path, zone: &str) -> Result<Chromedriver, Vec<String>> {
        let mut child = Command::new(binary)
            .arg("--port=0")
            .env("TZ", zone)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Chromium inherits this; its logging would drown the test output.
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = said.clone();
        // A thread, not a task: it keeps draining stdout (so chromedriver never
        // blocks on a full pipe) for as long as chromedriver lives.
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let port = line
                    .split_once("started successfully on port ")
                    .and_then(|(_, rest)| rest.trim_end_matches(|c: char| !c.is_ascii_digit()).parse::<u16>().ok());
                if let Some(port) = port
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
                if port_tx.is_some() {
                    log.lock().expect("log").push(line);
                }
            }
        });
        let mut driver = Chromedriver { child, url: String::new() };
        let port = match tokio::time::timeout(START_TIMEOUT, port_rx).await {
            Ok(Ok(port)) => port,
            Ok(Err(_)) => return Err(said.lock().expect("log").clone()),
            Err(_) => panic!("chromedriver did not report its port within {START_TIMEOUT:?}"),
        };
        driver.url = format!("http://127.0.0.1:{port}");
        Ok(driver)
    }

    /// Waits until `/status` says chromedriver takes sessions.
    async fn ready(self) -> Chromedriver {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let status = client.get(format!("{}/status", self.url)).send().await;
            if let Ok(response) = status
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return self;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("chromedriver at {} did not become ready", self.url);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends a session synchronously (WebDriver `DELETE /session/{id}`, which
    /// makes chromedriver quit Chromium). For `Drop`, where nothing can be
    /// awaited: a test that panicked must not leave a browser running. The
    /// request runs on a runtime of its own, on a thread of its own, as the
    /// test's runtime may be the one unwinding.
    pub fn delete_session_blocking(&self, session_id: &str) {
        let url = format!("{}/session/{session_id}", self.url);
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                let request = reqwest::Client::new().delete(url).timeout(Duration::from_secs(15)).send();
                let _ = request.await;
            });
        })
        .join();
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new Chromium session on `driver`: headless, with its own profile in
/// `profile` (so two phones share no storage), no network chatter of its
/// own, and the console kept for failure reports. [`fit_viewport`] then
/// makes it phone-sized.
///
/// Site isolation is off so that the cross-site Mini App frame shares the
/// page's renderer: chromedriver only reads the console of the page's own
/// process, and the Mini App's errors are what a failure report needs. The
/// frame stays cross-site in every way a page can observe (origin, storage
/// partitioning, `postMessage`).
pub async fn new_session(driver: &Chromedriver, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
        "--force-device-scale-factor=1".to_owned(),
        "--hide-scrollbars".to_owned(),
        "--lang=en".to_owned(),
        "--disable-site-isolation-trials".to_owned(),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object") };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    tokio::time::timeout(START_TIMEOUT, ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url))
        .await
        .unwrap_or_else(|_| panic!("Chromium did not start within {START_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()))
}

/// Makes the page viewport exactly [`VIEWPORT`]. `--window-size` sets the
/// *window*: new headless Chromium draws invisible window chrome (about 140 px
/// of height) and will not make a window narrower than 500 px, so
/// `innerWidth` starts at 500. Resizing the window by the measured difference
/// fixes both, and the viewport is checked, not assumed.
pub async fn fit_viewport(client: &Client) {
    let mut inner = (0, 0);
    for _ in 0..3 {
        let size = client.execute("return [window.innerWidth, window.innerHeight]", vec![]).await.expect("measure");
        inner = (size[0].as_u64().unwrap_or(0), size[1].as_u64().unwrap_or(0));
        if inner == VIEWPORT {
            return;
        }
        let (_, _, width, height) = client.get_window_rect().await.expect("window rect");
        let width = (width + VIEWPORT.0).saturating_sub(inner.0);
        let height = (height + VIEWPORT.1).saturating_sub(inner.1);
        client.set_window_size(width as u32, height as u32).await.expect("resize the window");
    }
    panic!("cannot give Chromium a {VIEWPORT:?} viewport: it stays {inner:?}");
}

/// The browser's console (every frame's, the Mini App's included), drained:
/// chromedriver's logging endpoint hands each entry out once.
pub async fn console_log(client: &Client) -> Vec<String> {
    let Ok(entries) = client.issue_cmd(BrowserLog).await else { return Vec::new() };
    entries
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| format!("[{}] {}", e["level"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

/// chromedriver's `POST /session/{id}/se/log` (not in the W3C protocol, so
/// fantoccini has no method for it).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}
