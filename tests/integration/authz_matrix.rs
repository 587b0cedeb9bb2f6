//! The authorization matrix (issue 16; DESIGN §3 invariants 5 and 6): every
//! route of the served OpenAPI document, called as each of six identities,
//! against one table of expected outcomes. A route the document gains
//! without a row here fails the test, and so does a row for a route it lost.
//!
//! Around every refused write the owner's state is read before and after
//! (nothing may change), and no answer to anyone but the owner may carry the
//! owner's clients' personal data (unique marker strings in the fixture).
//! The live socket's half is in `authz_matrix/feeds.rs`.

mod feeds;

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, BTreeSet},
};

use serde_json::{Value, json};

use crate::helpers::{BOT_TOKEN, Backend, DAY, TestApp, every_day, now_unix, on_both_backends, sign_init_data, slot};

on_both_backends!(every_route_answers_each_identity_as_the_table_says);

/// Who calls. The columns of [`ROWS`], in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    /// No `Authorization` header.
    Anonymous,
    /// Signed in, with no relation to anyone.
    Stranger,
    /// Has a booking with the owner (and so a card in the owner's client book).
    Client,
    /// A client of the other provider only.
    OtherClient,
    /// A provider, but not the owner.
    OtherProvider,
    /// The provider whose resources fill the paths.
    Owner,
}

const EVERYONE: [Who; 6] =
    [Who::Anonymous, Who::Stranger, Who::Client, Who::OtherClient, Who::OtherProvider, Who::Owner];

/// What one identity gets from one route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A success with this status.
    Allowed(u16),
    /// 401 `unauthorized`: no session.
    Unauthenticated,
    /// 404 `not-found`: someone else's resource reads as no resource at all
    /// (never 403, which would confirm that the id exists).
    NotFound,
    /// 404 `no-provider-profile`: a provider route for a user who is none.
    NoProfile,
    /// 409 `slug-taken`: the owner's public name cannot be taken over.
    SlugTaken,
    /// 422 `idempotency-key-reused`: the caller's own key, sent with another request.
    KeyReused,
    /// 409 `invalid-status`: an action the booking's status does not allow.
    WrongStatus,
    /// 422 `not-started`: completing (or the like) a visit still to come.
    NotStarted,
    /// 400 `bad-request`: `/ws` asked without a WebSocket handshake (the
    /// socket itself is checked in `feeds.rs`).
    NotAWebSocket,
    /// 422 `validation`: a required input left out.
    Invalid,
    /// 409 `no-proposal`: answering a proposal the provider never made.
    NoProposal,
}

use Outcome::{
    Allowed, Invalid, KeyReused, NoProfile, NoProposal, NotAWebSocket, NotFound, NotStarted, SlugTaken,
    Unauthenticated, WrongStatus,
};

impl Outcome {
    fn status(self) -> u16 {
        match self {
            Allowed(status) => status,
            Unauthenticated => 401,
            NotFound | NoProfile => 404,
            SlugTaken | WrongStatus | NoProposal => 409,
            KeyReused | NotStarted | Invalid => 422,
            NotAWebSocket => 400,
        }
    }

    /// The problem `type` of a refusal.
    fn problem(self) -> Option<&'static str> {
        match self {
            Allowed(_) => None,
            Unauthenticated => Some("/problems/unauthorized"),
            NotFound => Some("/problems/not-found"),
            NoProfile => Some("/problems/no-provider-profile"),
            SlugTaken => Some("/problems/slug-taken"),
            KeyReused => Some("/problems/idempotency-key-reused"),
            WrongStatus => Some("/problems/invalid-status"),
            NotStarted => Some("/problems/not-started"),
            NotAWebSocket => Some("/problems/bad-request"),
            Invalid => Some("/problems/validation"),
            NoProposal => Some("/problems/no-proposal"),
        }
    }
}

/// Anyone, signed in or not.
const fn public(status: u16) -> [Outcome; 6] {
    [Allowed(status); 6]
}

/// Any signed-in user, about their own account or bookings.
const fn signed_in(status: u16) -> [Outcome; 6] {
    let a = Allowed(status);
    [Unauthenticated, a, a, a, a, a]
}

/// Any provider, on their own profile, services, hours, agenda or clients.
const fn providers(status: u16) -> [Outcome; 6] {
    let a = Allowed(status);
    [Unauthenticated, NoProfile, NoProfile, NoProfile, a, a]
}

/// Only the owner, on one of their resources as a provider.
const fn owner_as_provider(status: u16) -> [Outcome; 6] {
    [Unauthenticated, NoProfile, NoProfile, NoProfile, NotFound, Allowed(status)]
}

/// Refused to everyone: to the owner for `why` (the booking's state), to
/// everyone else as it is refused on any resource of the owner's.
const fn owner_refused(why: Outcome) -> [Outcome; 6] {
    [Unauthenticated, NoProfile, NoProfile, NoProfile, NotFound, why]
}

/// Only the owner, on one of their bookings as a client (made with the
/// other provider, who may not use the client routes on it either).
const fn owner_as_client(status: u16) -> [Outcome; 6] {
    owner_as_client_refused(Allowed(status))
}

/// [`owner_as_client`], where the owner's own call is refused for `why`
/// (the booking's state): everyone else still finds no such booking.
const fn owner_as_client_refused(why: Outcome) -> [Outcome; 6] {
    [Unauthenticated, NotFound, NotFound, NotFound, NotFound, why]
}

/// The table: `METHOD /path` exactly as in `/api/openapi.json`, a variant
/// (when one route is asked in more than one way), and the outcome for each
/// of [`EVERYONE`]. Paths are filled by [`World::prepare`].
const ROWS: &[(&str, &str, [Outcome; 6])] = &[
    ("GET /healthz", "", public(200)),
    ("GET /readyz", "", public(200)),
    ("GET /metrics", "", public(200)),
    ("GET /api/openapi.json", "", public(200)),
    ("GET /api/app", "", public(200)),
    ("GET /api/policy", "", public(200)),
    ("GET /ws", "", [NotAWebSocket; 6]),
    // Each call signs in a new Telegram user (the dev login exists only with DEV_LOGIN=1).
    ("POST /api/auth/telegram", "", public(200)),
    ("POST /api/auth/dev", "", public(200)),
    ("GET /api/me", "", signed_in(200)),
    ("PATCH /api/me", "", signed_in(200)),
    ("GET /api/me/export", "", signed_in(200)),
    ("POST /api/me/policy-ack", "", signed_in(200)),
    ("GET /api/me/access-log", "", signed_in(200)),
    // Asking the owner to erase my card: only who has a card there.
    ("POST /api/me/erasure-requests", "", [Unauthenticated, NotFound, Allowed(202), NotFound, NotFound, NotFound]),
    ("GET /api/provider", "", providers(200)),
    // Everyone sends the owner's profile, slug included: only the owner may have it.
    ("PUT /api/provider", "", [Unauthenticated, SlugTaken, SlugTaken, SlugTaken, SlugTaken, Allowed(200)]),
    ("GET /api/provider/services", "", providers(200)),
    ("POST /api/provider/services", "", providers(201)),
    ("PATCH /api/provider/services/{id}", "", owner_as_provider(200)),
    ("DELETE /api/provider/services/{id}", "", owner_as_provider(204)),
    ("GET /api/provider/schedule", "", providers(200)),
    ("PUT /api/provider/schedule", "", providers(200)),
    ("GET /api/provider/bookings", "", providers(200)),
    // For the owner's hand-added client: another provider has no such client.
    ("POST /api/provider/bookings", "", owner_as_provider(201)),
    ("GET /api/provider/stats", "", providers(200)),
    ("POST /api/provider/calendar-feed", "", providers(200)),
    ("DELETE /api/provider/calendar-feed", "", providers(204)),
    // The feed's key is its credential (calendar apps send no bearer), so the
    // token does not matter: without a key nobody, with a replaced one
    // nobody, with the owner's current one whoever holds it.
    ("GET /api/provider/calendar.ics", "", [Invalid; 6]),
    ("GET /api/provider/calendar.ics", "a replaced key", [NotFound; 6]),
    ("GET /api/provider/calendar.ics", "the owner's key", public(200)),
    ("POST /api/provider/bookings/{id}/reschedule", "", owner_as_provider(200)),
    // A confirmed booking: nothing to propose for, but only its owner is told so.
    ("POST /api/provider/bookings/{id}/propose", "", owner_refused(WrongStatus)),
    // The variant is the action (`cancel` when none): every one is refused
    // alike to all but the owner, whatever it would do to the booking.
    ("POST /api/provider/bookings/{id}/{action}", "", owner_as_provider(200)),
    ("POST /api/provider/bookings/{id}/{action}", "confirm", owner_refused(WrongStatus)),
    ("POST /api/provider/bookings/{id}/{action}", "decline", owner_refused(WrongStatus)),
    ("POST /api/provider/bookings/{id}/{action}", "complete", owner_refused(NotStarted)),
    ("POST /api/provider/bookings/{id}/{action}", "no-show", owner_refused(NotStarted)),
    ("GET /api/provider/clients", "", providers(200)),
    ("POST /api/provider/clients", "", providers(201)),
    ("GET /api/provider/clients/{id}", "", owner_as_provider(200)),
    ("PATCH /api/provider/clients/{id}", "", owner_as_provider(200)),
    ("DELETE /api/provider/clients/{id}", "", owner_as_provider(204)),
    ("GET /api/provider/clients/{id}/export", "", owner_as_provider(200)),
    ("GET /api/bookings", "", signed_in(200)),
    // At a third provider, so that nobody's relation to the owner changes.
    ("POST /api/bookings", "", signed_in(201)),
    // With the `Idempotency-Key` the client booked the owner with: keys are
    // per user, so everyone else gets a booking of their own, never hers.
    (
        "POST /api/bookings",
        "the client's Idempotency-Key",
        [Unauthenticated, Allowed(201), KeyReused, Allowed(201), Allowed(201), Allowed(201)],
    ),
    ("POST /api/bookings/{id}/cancel", "", owner_as_client(200)),
    ("GET /api/bookings/{id}/ics", "", owner_as_client(200)),
    ("POST /api/bookings/{id}/reschedule", "", owner_as_client(200)),
    ("POST /api/bookings/{id}/attend", "", owner_as_client(200)),
    // No proposal was made for it: only the owner learns that much.
    ("POST /api/bookings/{id}/accept-proposal", "", owner_as_client_refused(NoProposal)),
    ("POST /api/bookings/{id}/decline-proposal", "", owner_as_client_refused(NoProposal)),
    ("GET /api/waitlist", "", signed_in(200)),
    // At a third provider, so that nobody's relation to the owner changes.
    ("POST /api/waitlist", "", signed_in(201)),
    // The owner's own entry, at the other provider.
    ("DELETE /api/waitlist/{id}", "", owner_as_client(204)),
    ("GET /api/provider/waitlist", "", providers(200)),
    ("GET /api/providers/{slug}", "", public(200)),
    ("GET /api/providers/{slug}/slots", "", public(200)),
    // `moving` = the client's booking with the owner: only those two may ask.
    ("GET /api/providers/{slug}/slots", "moving", [NotFound, NotFound, Allowed(200), NotFound, NotFound, Allowed(200)]),
    // Last: it ends the accounts the rows above use.
    ("DELETE /api/me", "", signed_in(204)),
];

/// Personal data of the owner's clients, each unique in the whole fixture,
/// with who besides the owner may see it (its subject).
const MARKERS: &[(&str, Option<Who>)] = &[
    // A client the owner added by hand.
    ("Dorazq Hand", None),
    ("+49 30 5550 7319", None),
    ("allergic-to-qx7", None),
    // The owner's private note on the client's card.
    ("prefers-qx7-mornings", None),
    // The client's own name and booking note.
    ("Carolzq", Some(Who::Client)),
    ("gate-code-qx7", Some(Who::Client)),
];

/// The key the client's booking with the owner was made with.
const CLIENTS_KEY: &str = "client-key-qx7";

/// Hand-added client's fields, as sent.
const DORA: (&str, &str, &str) = ("Dorazq Hand", "+49 30 5550 7319", "allergic-to-qx7");

async fn every_route_answers_each_identity_as_the_table_says(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let world = World::arrange(&app).await;
    let routes = documented_routes(&app).await;
    let rows: BTreeSet<&str> = ROWS.iter().map(|(route, _, _)| *route).collect();
    let missing: Vec<&String> = routes.iter().filter(|route| !rows.contains(route.as_str())).collect();
    assert!(missing.is_empty(), "routes in /api/openapi.json without a row in ROWS: {missing:?}");
    let stale: Vec<&&str> = rows.iter().filter(|route| !routes.contains(**route)).collect();
    assert!(stale.is_empty(), "rows in ROWS for routes no longer in /api/openapi.json: {stale:?}");
    let acted: BTreeSet<String> = ROWS
        .iter()
        .filter(|(route, _, _)| route.contains("{action}"))
        .map(|(_, variant, _)| if variant.is_empty() { "cancel" } else { variant }.to_owned())
        .collect();
    assert_eq!(acted, documented_actions(&app).await, "one {{action}} row per documented provider action");

    let mut failures = Vec::new();
    let mut calls = 0;
    for (route, variant, outcomes) in ROWS {
        for (who, expected) in EVERYONE.into_iter().zip(outcomes) {
            failures.extend(world.check(route, variant, who, *expected).await);
            calls += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls on {backend:?} broke the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let served = world.markers_served.take();
    let unseen: Vec<&str> = MARKERS.iter().map(|(marker, _)| *marker).filter(|m| !served.contains(m)).collect();
    assert!(unseen.is_empty(), "markers never served to anyone, so their leak check proves nothing: {unseen:?}");
    // The `DELETE /api/me` row ended every session with its account.
    for (who, token) in &world.tokens {
        assert_eq!(app.get("/api/me", Some(token)).await.status, 401, "{who:?}'s session outlived the account");
    }
    // And the providers' public pages went with theirs.
    for slug in ["anna", "bruno"] {
        assert_eq!(
            app.get(&format!("/api/providers/{slug}"), None).await.status,
            404,
            "{slug}'s page outlived the account"
        );
    }
}

/// `METHOD /path` of every operation in the served document.
/// The provider actions the document names (the `{action}` path parameter).
async fn documented_actions(app: &TestApp) -> BTreeSet<String> {
    let document = app.get("/api/openapi.json", None).await;
    let actions = document.ok()["components"]["schemas"]["ProviderAction"]["enum"].as_array().cloned();
    actions.expect("ProviderAction's values").iter().map(|a| a.as_str().expect("a name").to_owned()).collect()
}

async fn documented_routes(app: &TestApp) -> BTreeSet<String> {
    let document = app.get("/api/openapi.json", None).await;
    let paths = document.ok()["paths"].as_object().expect("paths").clone();
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&method.as_str()) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(routes.len() > 30, "the document lists too few routes: {routes:?}");
    routes
}

/// An answer read whole, its body as text (not every route answers JSON).
struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// One request, ready to send.
struct Call {
    method: String,
    path: String,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    /// The resource id in `path`, if any.
    id: Option<String>,
}

impl Call {
    fn get(path: &str) -> Call {
        Call { method: "GET".to_owned(), path: path.to_owned(), body: None, headers: Vec::new(), id: None }
    }
}

/// The six identities and the owner's resources.
struct World<'a> {
    app: &'a TestApp,
    tokens: BTreeMap<Who, String>,
    service: String,
    other_service: String,
    third_service: String,
    dora: String,
    client_booking: String,
    /// Slot starts handed out so far ([`World::fresh_slot`]).
    slots_used: Cell<u32>,
    /// Telegram ids handed out to sign-ins so far.
    next_telegram_id: Cell<i64>,
    /// The markers seen in answers to their rightful readers: proof that the
    /// leak check looks for strings the server really serves.
    markers_served: RefCell<BTreeSet<&'static str>>,
}

impl<'a> World<'a> {
    async fn arrange(app: &'a TestApp) -> World<'a> {
        let hours = every_day("09:00", "17:00");
        let (owner, service) = app.provider(1, "anna", json!({ "contacts": "Main St 1" }), hours.clone()).await;
        let (other_provider, other_service) = app.provider(4, "bruno", json!({}), hours.clone()).await;
        let (_, third_service) = app.provider(6, "zed", json!({}), hours).await;
        let client = app.dev_sign_in(2, "Carolzq").await;
        let other_client = app.dev_sign_in(3, "Dave").await;
        let stranger = app.dev_sign_in(5, "Eve").await;

        let booking =
            json!({ "provider": "anna", "service": service, "start": slot("10:00"), "note": "gate-code-qx7" });
        let request = app.client.post(format!("{}/api/bookings", app.address)).bearer_auth(&client);
        let booked = request.header("Idempotency-Key", CLIENTS_KEY).json(&booking).send().await.expect("booked");
        let client_booking = crate::helpers::read(booked).await.ok()["id"].as_str().expect("id").to_owned();
        app.book(&other_client, "bruno", &other_service, &slot("10:00")).await.ok();
        app.book(&owner, "bruno", &other_service, &slot("11:00")).await.ok();

        let (name, contacts, notes) = DORA;
        let entry = json!({ "name": name, "contacts": contacts, "notes": notes });
        let added = app.request("POST", "/api/provider/clients", Some(&owner), Some(entry)).await;
        let dora = added.ok()["id"].as_str().expect("id").to_owned();
        let book = app.get("/api/provider/clients", Some(&owner)).await;
        let carol_card = book.ok().as_array().expect("a list").iter().find(|c| c["name"] == "Carolzq");
        let carol_card = carol_card.expect("the client's card").clone();
        let note = json!({ "notes": "prefers-qx7-mornings" });
        let path = format!("/api/provider/clients/{}", carol_card["id"].as_str().expect("id"));
        app.request("PATCH", &path, Some(&owner), Some(note)).await.ok();

        let tokens = [
            (Who::Stranger, stranger),
            (Who::Client, client),
            (Who::OtherClient, other_client),
            (Who::OtherProvider, other_provider),
            (Who::Owner, owner),
        ]
        .into_iter()
        .collect();
        World {
            app,
            tokens,
            service,
            other_service,
            third_service,
            dora,
            client_booking,
            slots_used: Cell::new(0),
            next_telegram_id: Cell::new(1000),
            markers_served: RefCell::new(BTreeSet::new()),
        }
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.get(&who).map(String::as_str)
    }

    /// A slot start never handed out before: eight a day from the day after
    /// [`DAY`] on, all in Berlin summer time and inside every horizon.
    fn fresh_slot(&self) -> String {
        let n = self.slots_used.get();
        self.slots_used.set(n + 1);
        let day: jiff::civil::Date = DAY.parse().expect("DAY");
        let day = day.checked_add(jiff::Span::new().days(1 + i64::from(n / 8))).expect("a date");
        format!("{day}T{:02}:00:00+02:00", 9 + n % 8)
    }

    fn fresh_telegram_id(&self) -> i64 {
        let id = self.next_telegram_id.get();
        self.next_telegram_id.set(id + 1);
        id
    }

    async fn created(&self, who: Who, path: &str, body: Value) -> String {
        let reply = self.app.request("POST", path, self.token(who), Some(body)).await;
        reply.ok()["id"].as_str().expect("an id").to_owned()
    }

    /// A throw-away booking of the client with the owner.
    async fn booking_with_owner(&self) -> String {
        let body = json!({ "provider": "anna", "service": self.service, "start": self.fresh_slot() });
        self.created(Who::Client, "/api/bookings", body).await
    }

    /// A new key for the owner's calendar feed (the one before stops working).
    async fn owners_feed_key(&self) -> String {
        let issued = self.app.request("POST", "/api/provider/calendar-feed", self.token(Who::Owner), None).await;
        let url = issued.ok()["url"].as_str().expect("a feed url").to_owned();
        url.split_once("?key=").expect("a key in the url").1.to_owned()
    }

    /// A throw-away booking the owner made as a client, with the other provider.
    async fn owners_booking_elsewhere(&self) -> String {
        let body = json!({ "provider": "bruno", "service": self.other_service, "start": self.fresh_slot() });
        self.created(Who::Owner, "/api/bookings", body).await
    }

    /// The request for `route` (its variant): path parameters filled with
    /// the owner's resources, fresh ones where the call may use them up.
    async fn prepare(&self, route: &str, variant: &str) -> Call {
        let (method, template) = route.split_once(' ').expect("METHOD /path");
        let mut body = None;
        let id = match route {
            "PATCH /api/provider/services/{id}" => self.service.clone(),
            "DELETE /api/provider/services/{id}" => {
                let spare = json!({ "name": "Spare", "duration_min": 30 });
                self.created(Who::Owner, "/api/provider/services", spare).await
            }
            "POST /api/bookings/{id}/cancel"
            | "GET /api/bookings/{id}/ics"
            | "POST /api/bookings/{id}/attend"
            | "POST /api/bookings/{id}/accept-proposal"
            | "POST /api/bookings/{id}/decline-proposal" => self.owners_booking_elsewhere().await,
            "POST /api/bookings/{id}/reschedule" => {
                body = Some(json!({ "start": self.fresh_slot() }));
                self.owners_booking_elsewhere().await
            }
            "POST /api/provider/bookings/{id}/reschedule" | "POST /api/provider/bookings/{id}/propose" => {
                body = Some(json!({ "start": self.fresh_slot() }));
                self.booking_with_owner().await
            }
            "POST /api/provider/bookings/{id}/{action}" => self.booking_with_owner().await,
            "DELETE /api/provider/clients/{id}" => {
                self.created(Who::Owner, "/api/provider/clients", json!({ "name": "Spare" })).await
            }
            "DELETE /api/waitlist/{id}" => {
                let entry = json!({ "provider": "bruno", "service": self.other_service, "date": DAY });
                let reply = self.app.request("POST", "/api/waitlist", self.token(Who::Owner), Some(entry)).await;
                reply.ok()["id"].as_str().expect("an id").to_owned()
            }
            _ if template.starts_with("/api/provider/clients/{id}") => self.dora.clone(),
            _ => String::new(),
        };
        let action = if template.contains("{action}") && !variant.is_empty() { variant } else { "cancel" };
        let mut path = template.replace("{id}", &id).replace("{slug}", "anna").replace("{action}", action);
        assert!(!path.contains('{'), "{route}: a path parameter World::prepare does not fill");
        match (route, variant) {
            ("GET /api/provider/bookings", _) => path.push_str("?from=2027-06-01&to=2027-07-31"),
            ("GET /api/provider/calendar.ics", "a replaced key") => {
                let replaced = self.owners_feed_key().await;
                self.owners_feed_key().await;
                path.push_str(&format!("?key={replaced}"));
            }
            ("GET /api/provider/calendar.ics", "the owner's key") => {
                path.push_str(&format!("?key={}", self.owners_feed_key().await));
            }
            ("GET /api/providers/{slug}/slots", "") => path.push_str(&format!("?service={}", self.service)),
            ("GET /api/providers/{slug}/slots", "moving") => {
                path.push_str(&format!("?service={}&from={DAY}&to={DAY}&moving={}", self.service, self.client_booking))
            }
            _ => {}
        }
        body = body.or_else(|| self.body(route));
        let mut headers = Vec::new();
        if variant == "the client's Idempotency-Key" {
            headers.push(("Idempotency-Key", CLIENTS_KEY.to_owned()));
        }
        let id = match variant {
            "moving" => Some(self.client_booking.clone()),
            _ => Some(id).filter(|id| !id.is_empty()),
        };
        Call { method: method.to_owned(), path, body, headers, id }
    }

    /// The body of a route that takes one: what its rightful caller would send.
    fn body(&self, route: &str) -> Option<Value> {
        Some(match route {
            "POST /api/auth/telegram" => {
                let user = json!({ "id": self.fresh_telegram_id(), "first_name": "Tess" }).to_string();
                let fields = [("user", user), ("auth_date", now_unix().to_string())];
                json!({ "init_data": sign_init_data(BOT_TOKEN, &fields) })
            }
            "POST /api/auth/dev" => json!({ "telegram_id": self.fresh_telegram_id(), "first_name": "Dev" }),
            "PATCH /api/me" => json!({ "language_code": "en" }),
            "POST /api/me/erasure-requests" => json!({ "provider": "anna" }),
            // The owner's profile as `TestApp::provider` made it.
            "PUT /api/provider" => json!({ "slug": "anna", "display_name": "anna", "timezone": "Europe/Berlin",
                "contacts": "Main St 1", "slot_step_min": 60, "min_notice_min": 0, "horizon_days": 366 }),
            "POST /api/provider/services" => json!({ "name": "Extra", "duration_min": 30 }),
            "PATCH /api/provider/services/{id}" => json!({ "name": "Visit" }),
            "PUT /api/provider/schedule" => every_day("09:00", "17:00"),
            "POST /api/provider/clients" => json!({ "name": "Walk-in" }),
            "POST /api/provider/bookings" => {
                json!({ "client_id": self.dora, "service": self.service, "start": self.fresh_slot() })
            }
            "PATCH /api/provider/clients/{id}" => json!({ "notes": DORA.2 }),
            "POST /api/bookings" => {
                json!({ "provider": "zed", "service": self.third_service, "start": self.fresh_slot() })
            }
            "POST /api/waitlist" => json!({ "provider": "zed", "service": self.third_service, "date": DAY }),
            _ => return None,
        })
    }

    async fn send(&self, call: &Call, who: Who) -> Answer {
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("method");
        let mut request = self.app.client.request(method, format!("{}{}", self.app.address, call.path));
        if let Some(token) = self.token(who) {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Answer { status, content_type, text: response.text().await.unwrap_or_default() }
    }

    /// Everything the owner can read about their own data, as the owner
    /// reads it (the access log aside: it grows with every request).
    async fn owners_state(&self) -> Vec<(String, u16, String)> {
        let mut state = Vec::new();
        for path in [
            "/api/me",
            "/api/provider",
            "/api/provider/services",
            "/api/provider/schedule",
            "/api/provider/clients",
            "/api/provider/bookings?from=2027-06-01&to=2027-07-31",
            "/api/bookings",
        ] {
            let answer = self.send(&Call::get(path), Who::Owner).await;
            assert_eq!(answer.status, 200, "the owner reads {path}: {}", answer.text);
            state.push((path.to_owned(), answer.status, answer.text));
        }
        state
    }

    /// Calls `route` as `who` and says what broke: the outcome, a refused
    /// write that changed the owner's data, a leak of personal data.
    async fn check(&self, route: &str, variant: &str, who: Who, expected: Outcome) -> Vec<String> {
        let call = self.prepare(route, variant).await;
        let write = call.method != "GET";
        let refused = expected.problem().is_some();
        let before = if write && refused { Some(self.owners_state().await) } else { None };
        let answer = self.send(&call, who).await;
        let label = format!("{route} {variant} as {who:?} ({} {})", call.method, call.path);
        let mut failures = Vec::new();
        if answer.status != expected.status() {
            failures.push(format!("{label}: expected {expected:?}, got {} {}", answer.status, answer.text));
        } else if let Some(problem) = expected.problem() {
            let body = answer.json();
            if answer.content_type != "application/problem+json" || body["type"] != problem {
                failures.push(format!(
                    "{label}: expected a {problem} problem, got {} {}",
                    answer.content_type, answer.text
                ));
            }
        }
        // Someone else's resource answers exactly as a resource that does not exist.
        if let (NotFound, Some(id), true) = (expected, &call.id, answer.status == 404) {
            let unknown = uuid::Uuid::now_v7().to_string();
            let probe = Call { path: call.path.replace(id.as_str(), &unknown), ..call };
            let nothing = self.send(&probe, who).await;
            let (mut theirs, mut none) = (answer.json(), nothing.json());
            for body in [&mut theirs, &mut none] {
                if let Some(body) = body.as_object_mut() {
                    body.remove("instance");
                }
            }
            if (answer.status, &theirs) != (nothing.status, &none) {
                failures
                    .push(format!("{label}: differs from an unknown id's answer: {} {}", nothing.status, nothing.text));
            }
        }
        if let Some(before) = before {
            let after = self.owners_state().await;
            for ((path, status, was), (_, _, is)) in before.iter().zip(&after) {
                if was != is {
                    failures.push(format!(
                        "{label}: a refused write changed the owner's {path} ({status}):\n  {was}\n  {is}"
                    ));
                }
            }
        }
        // Whoever holds the owner's feed key reads as the owner: the key is
        // the owner's credential, handed to their calendar app.
        let as_owner = who == Who::Owner || variant == "the owner's key";
        for (marker, subject) in MARKERS {
            if !answer.text.contains(marker) {
                continue;
            }
            if as_owner || *subject == Some(who) {
                self.markers_served.borrow_mut().insert(marker);
            } else {
                failures.push(format!("{label}: the answer leaks {marker:?}: {}", answer.text));
            }
        }
        failures
    }
}
