//! The fake Telegram client: who the user is, how Telegram launches a Mini
//! App (signed initData and launch parameters in the URL), and a tiny server
//! for the client page that frames the Mini App.
//!
//! The client page is served as `http://localhost:<port>` while the Mini App
//! is `http://127.0.0.1:<port>`: different *sites*, as web.telegram.org and a
//! bot's domain are, so the Mini App runs as a cross-site iframe with
//! partitioned storage and no access to its parent, exactly as in Telegram Web.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{BOT_TOKEN, now_unix, sign_init_data};

/// The client page: header with the Back button, the Mini App's iframe,
/// MainButton bar, popups, all driven by Telegram's `postMessage` events.
const CLIENT_PAGE: &str = include_str!("telegram_client.html");

/// A Mini App of the harness's own, for testing the fake client itself.
const FIXTURE_APP: &str = include_str!("fixture_app.html");

/// Telegram's script as the Mini App ships it, for the fixture.
const TELEGRAM_WEB_APP_JS: &str = include_str!("../../../web/assets/telegram-web-app.js");

/// A Telegram colour theme: `themeParams` as the client hands them over, in
/// the launch URL's `tgWebAppThemeParams` and in `theme_changed` events.
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    /// The `themeParams` JSON object.
    pub params: &'static str,
}

impl Theme {
    /// Telegram's default day theme.
    pub const LIGHT: Theme = Theme {
        params: r##"{"bg_color":"#ffffff","text_color":"#000000","hint_color":"#999999","link_color":"#2481cc","button_color":"#2481cc","button_text_color":"#ffffff","secondary_bg_color":"#efeff3","header_bg_color":"#ffffff","accent_text_color":"#2481cc","section_bg_color":"#ffffff","section_header_text_color":"#6d6d72","subtitle_text_color":"#999999","destructive_text_color":"#ff3b30","bottom_bar_bg_color":"#ffffff","section_separator_color":"#e7e7e7"}"##,
    };

    /// A typical night theme (Telegram Web's dark one).
    pub const DARK: Theme = Theme {
        params: r##"{"bg_color":"#212121","text_color":"#ffffff","hint_color":"#aaaaaa","link_color":"#8774e1","button_color":"#8774e1","button_text_color":"#ffffff","secondary_bg_color":"#181818","header_bg_color":"#212121","accent_text_color":"#8774e1","section_bg_color":"#212121","section_header_text_color":"#8774e1","subtitle_text_color":"#aaaaaa","destructive_text_color":"#ff595a","bottom_bar_bg_color":"#212121","section_separator_color":"#0f0f0f"}"##,
    };

    pub fn json(&self) -> Value {
        serde_json::from_str(self.params).expect("theme params are JSON")
    }
}

/// The Telegram user holding the phone, as Telegram describes them in the
/// signed `user` field of initData.
#[derive(Clone, Copy, Debug)]
pub struct TgUser {
    pub id: i64,
    pub first_name: &'static str,
    pub last_name: Option<&'static str>,
    pub username: Option<&'static str>,
    /// The Telegram app's language: `"en"`, `"ru"`…
    pub language_code: &'static str,
}

impl TgUser {
    /// An English-speaking user with no last name or username (both optional
    /// in Telegram); set the fields for more.
    pub const fn new(id: i64, first_name: &'static str) -> TgUser {
        TgUser { id, first_name, last_name: None, username: None, language_code: "en" }
    }

    /// The `user` JSON in Telegram's field order.
    fn json(&self) -> String {
        let mut fields = vec![format!("\"id\":{}", self.id), format!("\"first_name\":{}", json!(self.first_name))];
        if let Some(last_name) = self.last_name {
            fields.push(format!("\"last_name\":{}", json!(last_name)));
        }
        if let Some(username) = self.username {
            fields.push(format!("\"username\":{}", json!(username)));
        }
        fields.push(format!("\"language_code\":{}", json!(self.language_code)));
        fields.push("\"allows_write_to_pm\":true".to_owned());
        format!("{{{}}}", fields.join(","))
    }
}

/// How the user opened the Mini App; Telegram hands a start parameter over
/// differently per entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launch<'a> {
    /// The bot's menu button or profile: no start parameter.
    Menu,
    /// A provider's share link `t.me/<bot>?startapp=<slug>`: Telegram signs
    /// `start_param=<slug>` into initData and adds `tgWebAppStartParam=<slug>`
    /// to the URL's *query* (not the hash).
    Link(&'a str),
    /// The bot's `/start <slug>` reply button, a `web_app` button whose URL
    /// is `PUBLIC_URL?startapp=<slug>` (see `telegram::bot::app_url`): the
    /// query is the button's own and initData carries no `start_param`.
    StartButton(&'a str),
    /// The "Book again" button after a visit: `PUBLIC_URL?startapp=<slug>&service=<id>`.
    BookAgain { slug: &'a str, service: &'a str },
    /// A reminder's "Reschedule" button: `PUBLIC_URL?startapp=<slug>&reschedule=<id>`.
    Reschedule { slug: &'a str, booking: &'a str },
    /// A waitlist offer's button: `PUBLIC_URL?startapp=<slug>&service=<id>&start=<unix seconds>`.
    Offer { slug: &'a str, service: &'a str, start: i64 },
}

/// initData for `user`, signed with the test server's bot token the way
/// Telegram signs it, with the fields Telegram sends.
pub fn init_data(user: &TgUser, launch: Launch<'_>) -> String {
    let query_id = format!(
        "AAH{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&uuid::Uuid::now_v7().as_bytes()[..15])
    );
    let mut fields = vec![("query_id", query_id), ("user", user.json()), ("auth_date", now_unix().to_string())];
    if let Launch::Link(slug) = launch {
        fields.push(("start_param", slug.to_owned()));
    }
    sign_init_data(BOT_TOKEN, &fields)
}

/// The iframe's URL, built as Telegram builds it: the Mini App's URL (with a
/// query for some launches) and the launch parameters in the hash, each value
/// `encodeURIComponent`-ed.
pub fn launch_url(app_url: &str, init_data: &str, theme: Theme, launch: Launch<'_>) -> String {
    let mut url = app_url.to_owned();
    match launch {
        Launch::Menu => {}
        Launch::Link(slug) => url.push_str(&format!("?tgWebAppStartParam={}", encode_uri_component(slug))),
        Launch::StartButton(slug) => url.push_str(&format!("?startapp={}", encode_uri_component(slug))),
        Launch::BookAgain { slug, service } => {
            url.push_str(&format!("?startapp={}&service={}", encode_uri_component(slug), encode_uri_component(service)))
        }
        Launch::Reschedule { slug, booking } => url.push_str(&format!(
            "?startapp={}&reschedule={}",
            encode_uri_component(slug),
            encode_uri_component(booking)
        )),
        Launch::Offer { slug, service, start } => url.push_str(&format!(
            "?startapp={}&service={}&start={start}",
            encode_uri_component(slug),
            encode_uri_component(service)
        )),
    }
    url.push_str(&format!(
        "#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=web&tgWebAppThemeParams={}",
        encode_uri_component(init_data),
        encode_uri_component(theme.params)
    ));
    url
}

/// JavaScript's `encodeURIComponent`, which Telegram's clients use (unlike
/// form encoding it writes a space as `%20`, never `+`).
fn encode_uri_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the client page needs to play Telegram: where the Mini App is and
/// the theme it styles itself and the app with.
pub struct ClientConfig {
    pub title: String,
    pub theme: Theme,
}

/// The server of one phone's client page (and of the harness's fixture Mini
/// App). Lives on the test's runtime and dies with it; [`stop`](Self::stop)
/// ends it sooner.
pub struct ClientServer {
    pub port: u16,
    handle: ServerHandle,
}

impl ClientServer {
    /// Binds a free port, then renders the page for it: the Mini App's URL
    /// may be the fixture on this very server.
    pub fn start(config: &ClientConfig, app: impl FnOnce(u16) -> String) -> ClientServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the client page server");
        let port = listener.local_addr().expect("local addr").port();
        let app_url = app(port);
        let app_origin = url::Url::parse(&app_url).expect("app URL").origin().ascii_serialization();
        let page_config = json!({
            "title": config.title,
            "appUrl": app_url,
            "appOrigin": app_origin,
            "theme": config.theme.json(),
        });
        // JSON inside <script>: no "<" may end the element early.
        let page = CLIENT_PAGE.replace("{{CONFIG}}", &page_config.to_string().replace('<', "\\u003c"));
        let pages = web::Data::new(Pages { client: page });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pages.clone())
                .route("/telegram", web::get().to(client_page))
                .route("/fixture/", web::get().to(fixture_app))
                .route("/fixture/telegram-web-app.js", web::get().to(fixture_script))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        ClientServer { port, handle }
    }

    /// The client page, on `localhost` so that it is another site than the
    /// Mini App on `127.0.0.1`.
    pub fn page_url(&self) -> String {
        format!("http://localhost:{}/telegram", self.port)
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The fixture Mini App's URL on the client server listening on `port`.
pub fn fixture_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/fixture/")
}

struct Pages {
    client: String,
}

async fn client_page(pages: web::Data<Pages>) -> HttpResponse {
    html(pages.client.clone())
}

async fn fixture_app() -> HttpResponse {
    html(FIXTURE_APP.to_owned())
}

async fn fixture_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(TELEGRAM_WEB_APP_JS)
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(body)
}
