//! The application state: built once in `startup`, shared by every worker.

use std::sync::Arc;

use actix::Addr;
use actors::calendar::Calendars;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::{config::Config, live::LiveHub, rate_limit::RateLimiter, store::Store};

/// What handlers take the state as.
pub type State = actix_web::web::Data<AppState>;

/// What every handler may reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Who is signed in, asked of the database only on a miss.
    pub sessions: Arc<crate::session::SessionCache>,
    /// Providers by slug, asked of the database only on a miss.
    pub providers: Arc<crate::memo::ProviderMemo>,
    pub calendars: Calendars,
    pub hub: Addr<LiveHub>,
    pub limiter: Arc<RateLimiter>,
    /// Webhook mode: where received Telegram updates go.
    pub telegram_updates: Option<tokio::sync::mpsc::Sender<teloxide::types::Update>>,
    /// The privacy policy and the bot's username.
    pub telegram: crate::telegram::Shared,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// Where access-log lines go; `None` with `ACCESS_LOG=off`.
    pub access_log: Option<crate::access_log::AccessLogSender>,
}
