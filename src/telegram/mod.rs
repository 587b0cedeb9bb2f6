//! Telegram: sign-in verification, and the bot (pushes, reminders, commands).
//!
//! The bot is on when `TELEGRAM_BOT_TOKEN` is set. It talks to
//! `TELEGRAM_API_URL` through teloxide's `Throttle` (Telegram's rate limits,
//! never exceeded). Updates come by long polling; with `REDIS_URL`, only the
//! node holding a Redis lease polls. An unreachable Telegram is retried with
//! backoff and never stops the server.

pub mod bot;
pub mod init_data;
pub mod outbox;
pub mod support;
pub mod texts;
pub mod webhook;

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use actix::Actor;
use actors::calendar::Calendars;
use teloxide::{
    Bot, RequestError,
    adaptors::{Throttle, throttle::Limits},
    dispatching::{DefaultKey, Dispatcher},
    dptree,
    error_handlers::LoggingErrorHandler,
    payloads::{SetChatMenuButtonSetters, SetMyCommandsSetters, SetWebhookSetters},
    prelude::{Requester, RequesterExt},
    types::{BotCommand, MenuButton, Update, WebAppInfo},
    utils::command::BotCommands,
};
use tokio::sync::{broadcast::error::RecvError, mpsc, watch};

use crate::{bus::LocalBus, config::Config, store::Store};

pub type TgBot = Throttle<Bot>;

const LEASE_KEY: &str = "justbookme:bot:poller";
const LEASE_MS: u64 = 30_000;
/// Webhook updates waiting for the dispatcher; past it the webhook answers
/// 503 and Telegram delivers the update again later.
const WEBHOOK_QUEUE: usize = 1024;
/// How often a node without the lease tries to take it: a node that stops
/// hands the lease back, and polling should resume elsewhere within this.
const LEASE_RETRY: Duration = Duration::from_secs(1);

/// The running bot, as the rest of the node holds it.
pub struct BotParts {
    /// Webhook mode: where the HTTP route hands Telegram's updates.
    pub updates: Option<mpsc::Sender<Update>>,
    pub control: BotControl,
}

/// Stops the bot cleanly (see [`BotControl::stop`]).
#[derive(Clone)]
pub struct BotControl {
    outbox: actix::Addr<outbox::OutboxDispatcher>,
    /// Long polling watches it; `true` means stop and hand the lease back.
    stop_polling: watch::Sender<bool>,
    /// `true` once polling ended and the lease (if any) was released.
    polling_done: watch::Receiver<bool>,
}

impl BotControl {
    /// Stops taking updates and releases the polling lease, so another node
    /// takes over at once instead of after the lease's 30 s; claims no more
    /// outbox messages and releases those not yet handed to Telegram. Waits
    /// for sends in flight, but not past `deadline`.
    pub async fn stop(&self, deadline: tokio::time::Instant) {
        let _ = self.stop_polling.send(true);
        let in_flight = self.outbox.send(outbox::Stop).await.ok();
        let mut polling_done = self.polling_done.clone();
        let drained = async {
            let _ = polling_done.wait_for(|done| *done).await;
            while in_flight.as_ref().is_some_and(|n| n.load(std::sync::atomic::Ordering::Acquire) > 0) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout_at(deadline, drained).await.is_err() {
            tracing::warn!("bot: sends still in flight at the end of the grace time");
        }
    }
}

/// Starts the bot's parts on the current runtime, if a token is configured.
pub fn start(
    config: &Config,
    store: Arc<dyn Store>,
    calendars: Calendars,
    bus: &LocalBus,
    redis: Option<deadpool_redis::Pool>,
    shared: Shared,
    limiter: Arc<crate::rate_limit::RateLimiter>,
) -> anyhow::Result<Option<BotParts>> {
    let Some(token) = &config.telegram_bot_token else {
        tracing::info!("TELEGRAM_BOT_TOKEN is not set: the bot is off");
        return Ok(None);
    };
    let bot = Bot::new(token.expose()).set_api_url(config.telegram_api_url.clone()).throttle(Limits::default());

    let outbox = outbox::OutboxDispatcher::new(store.clone(), bot.clone(), config.public_url.clone()).start();
    let (stop_polling, stop_requested) = watch::channel(false);
    let (polling_finished, polling_done) = watch::channel(false);
    let control = BotControl { outbox: outbox.clone(), stop_polling, polling_done };
    // Booking events (this node's or another's) may have written messages;
    // availability and settings events never do, so they do not wake the
    // dispatcher.
    let mut events = bus.subscribe();
    actix_web::rt::spawn(async move {
        loop {
            match events.recv().await {
                Ok(crate::bus::LiveEvent::Availability { .. } | crate::bus::LiveEvent::Settings { .. }) => {}
                Err(RecvError::Closed) => return,
                Ok(_) | Err(RecvError::Lagged(_)) => outbox.do_send(outbox::Nudge),
            }
        }
    });

    let policy = &shared.policy;
    let privacy_policy = format!("{}\n\nVersion {}", policy.text, policy.version);
    let context = Arc::new(bot::BotContext {
        store,
        calendars,
        public_url: config.public_url.clone(),
        privacy_policy,
        limiter,
        support_chat: config.support_chat_id,
        support_messages_per_day: config.caps.support_messages_per_day,
    });
    actix_web::rt::spawn(announce(bot.clone(), config.public_url.clone(), shared.bot_username));
    if let (Some(secret), Some(public_url)) = (&config.telegram_webhook_secret, &config.public_url) {
        let (sender, updates) = mpsc::channel(WEBHOOK_QUEUE);
        let url = public_url.join(&webhook::path(secret)).map_err(|e| anyhow::anyhow!("PUBLIC_URL: {e}"))?;
        actix_web::rt::spawn(serve_webhook(bot, context, url, secret.clone(), updates));
        // No polling and no lease in webhook mode.
        let _ = polling_finished.send(true);
        return Ok(Some(BotParts { updates: Some(sender), control }));
    }
    actix_web::rt::spawn(async move {
        poll(bot, context, redis, stop_requested).await;
        let _ = polling_finished.send(true);
    });
    Ok(Some(BotParts { updates: None, control }))
}

/// Webhook mode: register the webhook (retrying until Telegram answers), then
/// dispatch what the HTTP route receives. Every node does this.
async fn serve_webhook(
    bot: TgBot,
    context: Arc<bot::BotContext>,
    url: url::Url,
    secret: String,
    updates: mpsc::Receiver<Update>,
) {
    // Telegram must answer a getMe first (see `poll`).
    retry(async || {
        bot.set_webhook(url.clone()).secret_token(secret.clone()).await?;
        bot.get_me().await.map(drop)
    })
    .await;
    dispatcher(bot, context)
        .dispatch_with_listener(webhook::WebhookListener::new(updates), LoggingErrorHandler::new())
        .await;
}

fn dispatcher(bot: TgBot, context: Arc<bot::BotContext>) -> Dispatcher<TgBot, anyhow::Error, DefaultKey> {
    Dispatcher::builder(bot, bot::schema()).dependencies(dptree::deps![context]).default_handler(|_| async {}).build()
}

/// Retries `attempt` until Telegram answers, waiting 1 s, 2 s, … up to 5 min in between.
async fn retry(mut attempt: impl AsyncFnMut() -> Result<(), RequestError>) {
    let mut backoff = Duration::from_secs(1);
    while let Err(error) = attempt().await {
        tracing::warn!(%error, "Telegram not reachable yet; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(300));
    }
}

/// What the bot shares with the rest of the node.
#[derive(Clone)]
pub struct Shared {
    /// The published policy: `/privacy` sends it, the Mini App shows it.
    pub policy: Arc<crate::policy::Policy>,
    /// The bot's @username, known once Telegram answered `getMe`; the Mini App
    /// builds providers' `t.me/<bot>?startapp=<slug>` links from it.
    pub bot_username: Arc<OnceLock<String>>,
}

/// Learns the bot's username, then sets its commands and the chat menu
/// button, retried until Telegram answers.
async fn announce(bot: TgBot, public_url: Option<url::Url>, username: Arc<OnceLock<String>>) {
    retry(async || {
        if let Some(name) = bot.get_me().await?.user.username {
            let _ = username.set(name);
        }
        bot.set_my_commands(bot::Command::bot_commands()).await?;
        // Russian-speaking users see the menu in Russian.
        let russian = texts::commands(texts::Lang::Ru).into_iter().map(|(name, about)| BotCommand::new(name, about));
        bot.set_my_commands(russian).language_code("ru").await?;
        if let Some(url) = &public_url {
            let button = MenuButton::WebApp { text: "Just Book Me".into(), web_app: WebAppInfo { url: url.clone() } };
            bot.set_chat_menu_button().menu_button(button).await?;
        }
        Ok(())
    })
    .await;
}

/// Long polling. Alone: always. With Redis: only while holding the lease,
/// so that one node, and only one, takes the updates. Returns when `stop`
/// turns `true`, having handed the lease back.
async fn poll(
    bot: TgBot,
    context: Arc<bot::BotContext>,
    redis: Option<deadpool_redis::Pool>,
    mut stop: watch::Receiver<bool>,
) {
    let node = uuid::Uuid::now_v7().to_string();
    // teloxide's dispatcher gives up (panics) when its first getMe fails, so
    // wait for Telegram to answer one first.
    tokio::select! {
        () = retry(async || bot.get_me().await.map(drop)) => {}
        _ = stop.wait_for(|stop| *stop) => return,
    }
    while !stop_requested(&stop) {
        if let Some(pool) = &redis
            && !take_lease(pool, &node).await
        {
            tokio::select! {
                () = tokio::time::sleep(LEASE_RETRY) => {}
                _ = stop.wait_for(|stop| *stop) => {}
            }
            continue;
        }
        let mut dispatcher = dispatcher(bot.clone(), context.clone());
        let token = dispatcher.shutdown_token();
        let lease_lost = async {
            let Some(pool) = &redis else { return std::future::pending().await };
            loop {
                tokio::time::sleep(Duration::from_millis(LEASE_MS / 3)).await;
                if !renew_lease(pool, &node, LEASE_MS).await {
                    tracing::warn!("lost the bot polling lease; stopping polling here");
                    return;
                }
            }
        };
        let dispatch = dispatcher.dispatch();
        tokio::pin!(dispatch);
        tokio::select! {
            () = &mut dispatch => {}
            () = lease_lost => finish(&token, &mut dispatch).await,
            _ = stop.wait_for(|stop| *stop) => finish(&token, &mut dispatch).await,
        }
        let Some(pool) = &redis else { return };
        if stop_requested(&stop) {
            let released = renew_lease(pool, &node, 0).await;
            tracing::info!(released, "bot polling stopped");
        }
    }
}

/// Asks the dispatcher to finish the updates it holds and stop; a long poll
/// that does not come back in time is dropped (its updates are not
/// confirmed, so Telegram hands them to the next poller).
async fn finish(token: &teloxide::dispatching::ShutdownToken, dispatch: &mut (impl Future<Output = ()> + Unpin)) {
    // An error means not running yet (or already stopping): nothing to wait for.
    if let Ok(done) = token.shutdown() {
        let _ = tokio::time::timeout(Duration::from_secs(2), async { tokio::join!(done, dispatch) }).await;
    }
}

/// Asked to stop, or nobody is left to ask (the node is going away).
fn stop_requested(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Takes the polling lease if no node holds it.
async fn take_lease(pool: &deadpool_redis::Pool, node: &str) -> bool {
    with_redis(pool, async |conn| {
        let taken: Option<String> =
            redis::cmd("SET").arg(LEASE_KEY).arg(node).arg("NX").arg("PX").arg(LEASE_MS).query_async(conn).await?;
        Ok(taken.is_some())
    })
    .await
}

/// Sets the lease to expire in `ms`, only if this node still holds it; 0 hands
/// it back (PEXPIRE with 0 deletes the key).
async fn renew_lease(pool: &deadpool_redis::Pool, node: &str, ms: u64) -> bool {
    const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
        return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    with_redis(pool, async |conn| {
        let renewed: i64 = redis::Script::new(RENEW).key(LEASE_KEY).arg(node).arg(ms).invoke_async(conn).await?;
        Ok(renewed == 1)
    })
    .await
}

/// `false` when Redis fails or does not answer within 2 s.
async fn with_redis(
    pool: &deadpool_redis::Pool,
    f: impl AsyncFnOnce(&mut deadpool_redis::Connection) -> redis::RedisResult<bool>,
) -> bool {
    let attempt = async {
        let mut conn = pool.get().await.ok()?;
        f(&mut conn).await.ok()
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), attempt).await, Ok(Some(true)))
}
