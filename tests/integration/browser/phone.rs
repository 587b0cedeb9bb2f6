//! [`TelegramPhone`]: one user's phone with Telegram open on the Mini App,
//! and the verbs tests use on it.
//!
//! WebDriver commands go either into the Mini App's frame or to the client
//! page around it. Every verb picks the right one itself: app verbs
//! ([`wait_for`](TelegramPhone::wait_for), [`click`](TelegramPhone::click)…)
//! act inside the Mini App, Telegram verbs
//! ([`press_main_button`](TelegramPhone::press_main_button),
//! [`answer_popup`](TelegramPhone::answer_popup)…) on the client, as a
//! user's thumb would.
//!
//! Waiting verbs poll for up to [`WAIT`] and then fail with what the Mini
//! App was showing, the Telegram events it sent, the browser console and a
//! screenshot: a browser test that just says "timed out" is no help.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use fantoccini::{Client, Locator, elements::Element, error::CmdError, wd::WindowHandle};
use serde_json::Value;
use tempfile::TempDir;
use tokio::time::{Instant, sleep};

use super::{
    client::{self, ClientConfig, ClientServer, Launch, TgUser, Theme},
    driver::{self, Browser, Chromedriver},
};
use crate::helpers::TestApp;

/// How long a waiting verb waits: generous, because a loaded CI machine runs
/// browsers next to the rest of the suite.
pub const WAIT: Duration = Duration::from_secs(20);

const POLL: Duration = Duration::from_millis(50);

/// The zone a phone's clock is on unless a test says otherwise: the test
/// providers' own, so a phone sees one clock whatever the machine's zone is
/// (a phone elsewhere sees two: see `open_in_zone`).
pub const HOME_ZONE: &str = "Europe/Berlin";

/// What the header of the fake client says, like a bot's name would.
const TITLE: &str = "Just Book Me";

/// A phone with Telegram open on the Mini App: a Chromium of its own (its
/// own profile, so two phones share no storage), showing the fake Telegram
/// client page with the Mini App in its frame.
///
/// Call [`close`](Self::close) at the end of a test. A test that panics
/// first still ends its browser when the phone is dropped.
pub struct TelegramPhone {
    client: Client,
    /// The client page's window, for getting back to it from anywhere.
    window: WindowHandle,
    /// Whether WebDriver commands currently go into the Mini App's frame.
    in_frame: AtomicBool,
    init_data: String,
    launch_url: String,
    server: ClientServer,
    cleanup: Cleanup,
}

/// Where the phone's Mini App comes from.
enum MiniApp<'a> {
    /// The server under test, at its address.
    Server(&'a str),
    /// The harness's own fixture app, for testing the fake client itself.
    Fixture,
}

/// The state of a bottom-bar button (MainButton) as the client draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BottomButton {
    pub text: String,
    pub active: bool,
    pub progress: bool,
    /// CSS colours as computed, e.g. `rgb(36, 129, 204)`.
    pub color: String,
    pub text_color: String,
}

impl TelegramPhone {
    /// Opens the Mini App of `app` as `user` would in Telegram: initData
    /// signed with the server's bot token, `theme`'s colours, and the start
    /// parameter `launch` carries. `None` when the browser is not installed
    /// (after a loud skip; under CI that panics instead).
    /// The phone's clock is on [`HOME_ZONE`].
    pub async fn open(app: &TestApp, user: TgUser, theme: Theme, launch: Launch<'_>) -> Option<TelegramPhone> {
        Self::launch(MiniApp::Server(&app.address), user, theme, launch, HOME_ZONE).await
    }

    /// [`open`](Self::open) on a phone whose clock is on the IANA zone `zone`.
    pub async fn open_in_zone(
        app: &TestApp,
        user: TgUser,
        theme: Theme,
        launch: Launch<'_>,
        zone: &str,
    ) -> Option<TelegramPhone> {
        Self::launch(MiniApp::Server(&app.address), user, theme, launch, zone).await
    }

    /// Opens the harness's fixture Mini App instead of the server's.
    pub(super) async fn open_fixture(user: TgUser, theme: Theme, launch: Launch<'_>) -> Option<TelegramPhone> {
        Self::launch(MiniApp::Fixture, user, theme, launch, HOME_ZONE).await
    }

    async fn launch(
        app: MiniApp<'_>,
        user: TgUser,
        theme: Theme,
        launch: Launch<'_>,
        zone: &str,
    ) -> Option<TelegramPhone> {
        let browser = Browser::available()?;
        let init_data = client::init_data(&user, launch);
        let mut launch_url = String::new();
        let server = ClientServer::start(&ClientConfig { title: TITLE.to_owned(), theme }, |port| {
            let base = match app {
                MiniApp::Server(address) => format!("{address}/"),
                MiniApp::Fixture => client::fixture_url(port),
            };
            launch_url = client::launch_url(&base, &init_data, theme, launch);
            launch_url.clone()
        });
        let profile = tempfile::Builder::new().prefix("jbm-chromium-").tempdir().expect("a profile directory");
        let driver = Chromedriver::start(&browser.chromedriver, zone).await;
        let client = driver::new_session(&driver, &browser.chromium, profile.path()).await;
        let response = client.session_creation_response().expect("a session");
        let cleanup = Cleanup {
            session_id: response.session_id().to_owned(),
            browser_pid: client.capabilities().and_then(|c| c.get("goog:processID")?.as_u64()).map(|p| p as u32),
            closed: false,
            driver,
            _profile: profile,
        };
        driver::fit_viewport(&client).await;
        client.goto(&server.page_url()).await.expect("open the client page");
        let window = client.window().await.expect("the client page's window");
        Some(TelegramPhone { client, window, in_frame: AtomicBool::new(false), init_data, launch_url, server, cleanup })
    }

    /// The signed initData the Mini App was launched with.
    pub fn init_data(&self) -> &str {
        &self.init_data
    }

    /// The Mini App's URL as the client framed it (launch parameters included).
    pub fn launch_url(&self) -> &str {
        &self.launch_url
    }

    /// The WebDriver client with commands going into the Mini App, for what
    /// the verbs below do not cover. Valid until the next verb.
    pub async fn in_app(&self) -> &Client {
        self.enter_app().await.expect("enter the Mini App's frame");
        &self.client
    }

    /// The WebDriver client with commands going to the client page around
    /// the Mini App. Valid until the next verb.
    pub async fn in_client(&self) -> &Client {
        self.enter_client().await;
        &self.client
    }

    /// Waits until `css` matches a displayed element in the Mini App.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.poll(Side::App, &format!("`{css}` to show"), async || visible(&self.client, css).await).await
    }

    /// Waits for `css` in the Mini App and clicks it (again and again while
    /// something covers it, e.g. during a transition).
    pub async fn click(&self, css: &str) {
        self.poll(Side::App, &format!("`{css}` to be clickable"), async || {
            let Some(element) = visible(&self.client, css).await? else { return Ok(None) };
            element.click().await.map(Some)
        })
        .await
    }

    /// Waits for the input `css` in the Mini App, empties it and types `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        self.poll(Side::App, &format!("`{css}` to take input"), async || {
            let Some(element) = visible(&self.client, css).await? else { return Ok(None) };
            element.clear().await?;
            element.send_keys(text).await.map(Some)
        })
        .await
    }

    /// The visible text of `css` in the Mini App, once it shows.
    pub async fn text(&self, css: &str) -> String {
        self.poll(Side::App, &format!("the text of `{css}`"), async || {
            let Some(element) = visible(&self.client, css).await? else { return Ok(None) };
            element.text().await.map(Some)
        })
        .await
    }

    /// Waits until nothing displayed in the Mini App matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        self.poll(Side::App, &format!("`{css}` to go away"), async || {
            Ok(visible(&self.client, css).await?.is_none().then_some(()))
        })
        .await
    }

    /// Waits until the JavaScript expression `predicate` is truthy in the
    /// Mini App (e.g. `document.querySelectorAll('.slot').length === 8`).
    pub async fn wait_until(&self, predicate: &str) {
        self.poll(Side::App, &format!("`{predicate}`"), async || is_truthy(&self.client, predicate).await).await
    }

    /// Waits until the JavaScript expression `predicate` is truthy on the
    /// client page (e.g. about `window.tgEvents`).
    pub async fn wait_until_client(&self, predicate: &str) {
        self.poll(Side::Client, &format!("client: `{predicate}`"), async || is_truthy(&self.client, predicate).await)
            .await
    }

    /// Runs `script` (a function body: `return …` for a value) in the Mini App.
    pub async fn eval(&self, script: &str) -> Value {
        let result = match self.enter_app().await {
            Ok(()) => self.client.execute(script, vec![]).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(value) => value,
            Err(error) => panic!("{}", self.report(&format!("script failed in the Mini App: {error}\n{script}")).await),
        }
    }

    /// Taps Telegram's MainButton once it is shown and active.
    pub async fn press_main_button(&self) {
        self.poll(Side::Client, "an active MainButton", async || {
            let Some(button) = visible(&self.client, "#tg-main-button").await? else { return Ok(None) };
            if button.attr("data-active").await?.as_deref() != Some("true") {
                return Ok(None);
            }
            button.click().await.map(Some)
        })
        .await
    }

    /// The MainButton as shown, or `None` while the app hides it.
    pub async fn main_button(&self) -> Option<BottomButton> {
        self.enter_client().await;
        let state = self
            .client
            .execute(
                "const b = document.getElementById('tg-main-button');
                 if (b.hidden) return null;
                 const style = getComputedStyle(b);
                 return { text: b.textContent, active: b.dataset.active === 'true',
                          progress: b.dataset.progress === 'true',
                          color: style.backgroundColor, text_color: style.color };",
                vec![],
            )
            .await
            .expect("read the MainButton");
        (!state.is_null()).then(|| BottomButton {
            text: state["text"].as_str().unwrap_or_default().to_owned(),
            active: state["active"] == true,
            progress: state["progress"] == true,
            color: state["color"].as_str().unwrap_or_default().to_owned(),
            text_color: state["text_color"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// Taps the Back button in Telegram's header once the app shows it.
    pub async fn press_back(&self) {
        self.poll(Side::Client, "the Back button", async || {
            let Some(back) = visible(&self.client, "#tg-back").await? else { return Ok(None) };
            back.click().await.map(Some)
        })
        .await
    }

    /// The text of the popup the app opened (title, message and button
    /// labels, one per line), once there is one.
    pub async fn popup_text(&self) -> String {
        self.poll(Side::Client, "a popup", async || {
            let Some(popup) = visible(&self.client, "#tg-popup").await? else { return Ok(None) };
            popup.text().await.map(Some)
        })
        .await
    }

    /// Answers the app's popup with the button whose id is `button_id`
    /// (`""` for a button the app gave no id).
    pub async fn answer_popup(&self, button_id: &str) {
        let css = format!("#tg-popup [data-popup-button=\"{}\"]", button_id.replace('\\', "\\\\").replace('"', "\\\""));
        self.poll(Side::Client, &format!("popup button `{button_id}`"), async || {
            let Some(button) = visible(&self.client, &css).await? else { return Ok(None) };
            button.click().await.map(Some)
        })
        .await
    }

    /// The types of the events the Mini App sent Telegram, oldest first
    /// (`iframe_ready`, `web_app_ready`, `web_app_setup_main_button`…).
    pub async fn events(&self) -> Vec<String> {
        self.event_log().await.iter().map(|e| e["eventType"].as_str().unwrap_or_default().to_owned()).collect()
    }

    /// The events the Mini App sent Telegram, with their data:
    /// `{"eventType": …, "eventData": … or null}`.
    pub async fn event_log(&self) -> Vec<Value> {
        self.enter_client().await;
        let log = self.client.execute("return window.tgEvents", vec![]).await.expect("read window.tgEvents");
        log.as_array().cloned().unwrap_or_default()
    }

    /// Checks the Mini App's current screen: every visible control has an
    /// accessible name (a label, `aria-label`/`aria-labelledby`, or text), so
    /// a screen-reader user can tell what each one does; and no stray
    /// `null`/`undefined` (a missing value rendered as text) shows.
    pub async fn check_screen(&self) {
        let text = self.eval("return document.getElementById('app').innerText").await;
        let text = text.as_str().unwrap_or_default();
        assert!(
            !text.split_whitespace().any(|word| word == "null" || word == "undefined"),
            "a missing value shows as text:\n{text}"
        );
        let unnamed = self
            .eval(
                "return [...document.querySelectorAll('main input, main select, main textarea, main button, main a')]
                   .filter((el) => el.getClientRects().length > 0)
                   .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')
                     || el.getAttribute('aria-labelledby') || el.textContent.trim()))
                   .map((el) => el.outerHTML.slice(0, 160));",
            )
            .await;
        let screen = self.eval("return document.getElementById('app').dataset.screen").await;
        assert_eq!(unnamed, serde_json::json!([]), "controls without an accessible name on {screen}");
    }

    /// Saves a PNG of the whole phone screen (client and app) as
    /// `target/screenshots/<name>.png` in the workspace and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.enter_client().await;
        let png = self.client.screenshot().await.expect("take a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let name: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the browser session and waits for Chromium to exit, so no
    /// browser outlives its test.
    pub async fn close(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.cleanup.closed = true;
        }
        if let Some(pid) = self.cleanup.browser_pid {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !process_gone(pid) && Instant::now() < deadline {
                sleep(POLL).await;
            }
        }
        self.server.stop().await;
    }

    async fn enter_app(&self) -> Result<(), CmdError> {
        if self.in_frame.load(Ordering::Relaxed) {
            return Ok(());
        }
        let frame = self.client.find(Locator::Css("#tg-frame")).await?;
        frame.enter_frame().await?;
        self.in_frame.store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn enter_client(&self) {
        if self.in_frame.swap(false, Ordering::Relaxed) && self.client.enter_parent_frame().await.is_err() {
            self.reset_context().await;
        }
    }

    /// Back to the client page from wherever WebDriver is (the app's frame
    /// may have reloaded or navigated under it).
    async fn reset_context(&self) {
        self.in_frame.store(false, Ordering::Relaxed);
        let _ = self.client.switch_to_window(self.window.clone()).await;
    }

    /// Runs `attempt` on `side` every [`POLL`] until it yields a value;
    /// after [`WAIT`], fails with a report on what the phone shows.
    async fn poll<T>(
        &self,
        side: Side,
        what: &str,
        mut attempt: impl AsyncFnMut() -> Result<Option<T>, CmdError>,
    ) -> T {
        let deadline = Instant::now() + WAIT;
        let mut last_error = None;
        loop {
            let result = match side {
                Side::App => match self.enter_app().await {
                    Ok(()) => attempt().await,
                    Err(error) => Err(error),
                },
                Side::Client => {
                    self.enter_client().await;
                    attempt().await
                }
            };
            match result {
                Ok(Some(value)) => return value,
                Ok(None) => {}
                Err(error) => {
                    last_error = Some(error.to_string());
                    self.reset_context().await;
                }
            }
            if Instant::now() >= deadline {
                let error = last_error.map(|e| format!(" (last error: {e})")).unwrap_or_default();
                panic!("{}", self.report(&format!("timed out after {WAIT:?} waiting for {what}{error}")).await);
            }
            sleep(POLL).await;
        }
    }

    /// `failure`, followed by what the Mini App shows, what it told
    /// Telegram, the browser console's end, and a screenshot named after the
    /// test.
    async fn report(&self, failure: &str) -> String {
        self.reset_context().await;
        let events = self
            .client
            .execute("return window.tgEvents.map(e => e.eventType).join(', ')", vec![])
            .await
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| format!("(unreadable: {e})"));
        let test = std::thread::current().name().unwrap_or("browser-test").replace("::", "-");
        let screenshot = self.screenshot(&format!("failed-{test}")).await;
        let app = match self.enter_app().await {
            Ok(()) => self
                .client
                .execute(
                    "return location.href.split('#')[0] + ' (launch parameters in the hash)\\n'
                        + (document.body ? document.body.innerText : '(no body)')",
                    vec![],
                )
                .await
                .map(|v| v.as_str().unwrap_or_default().chars().take(3000).collect::<String>())
                .unwrap_or_else(|e| format!("(unreadable: {e})")),
            Err(e) => format!("(cannot enter the Mini App's frame: {e})"),
        };
        self.reset_context().await;
        // Telegram's script logs every event; the event list above has them.
        let console: Vec<String> =
            driver::console_log(&self.client).await.into_iter().filter(|l| !l.contains("[Telegram.WebView]")).collect();
        let console = console[console.len().saturating_sub(30)..].join("\n    ");
        format!(
            "{failure}\n--- the Mini App shows:\n{app}\n--- events sent to Telegram: {events}\n\
             --- browser console (last lines):\n    {console}\n--- screenshot: {}",
            screenshot.display()
        )
    }
}

#[derive(Clone, Copy)]
enum Side {
    App,
    Client,
}

/// The first element matching `css` if it is displayed; `None` if there is
/// none, it is hidden, or it went stale while looking.
async fn visible(client: &Client, css: &str) -> Result<Option<Element>, CmdError> {
    let element = match client.find(Locator::Css(css)).await {
        Ok(element) => element,
        Err(error) if error.is_no_such_element() => return Ok(None),
        Err(error) => return Err(error),
    };
    match element.is_displayed().await {
        Ok(true) => Ok(Some(element)),
        Ok(false) => Ok(None),
        Err(error) if error.is_stale_element_reference() => Ok(None),
        Err(error) => Err(error),
    }
}

async fn is_truthy(client: &Client, predicate: &str) -> Result<Option<()>, CmdError> {
    let value = client.execute(&format!("return Boolean({predicate});"), vec![]).await?;
    Ok((value == true).then_some(()))
}

/// Whether process `pid` has exited (or is a zombie waiting to be reaped).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(") ").is_none_or(|(_, rest)| rest.starts_with(['Z', 'X'])),
    }
}

/// Ends the browser whatever happens to the test: dropped after a panic, it
/// deletes the WebDriver session synchronously (chromedriver then quits
/// Chromium), kills Chromium if it lingers, then (fields drop in order)
/// kills chromedriver and removes the profile.
struct Cleanup {
    session_id: String,
    /// Chromium's main process, as chromedriver reports it.
    browser_pid: Option<u32>,
    /// Whether the session was closed properly.
    closed: bool,
    driver: Chromedriver,
    _profile: TempDir,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.closed {
            self.driver.delete_session_blocking(&self.session_id);
        }
        if let Some(pid) = self.browser_pid {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while !process_gone(pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            if !process_gone(pid) {
                // Chromium's helpers exit with their browser process.
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
    }
}
