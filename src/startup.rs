//! Wiring: builds the store, the shared state and the HTTP server once
//! (`Application::build`), then runs it until a signal stops it.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{App, HttpServer, dev::Server, middleware, web};

use actix::Actor;
use actors::calendar::{Calendars, RegistrySettings};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use uuid::Uuid;

use crate::{
    bus::{ChangeAnnouncer, LiveEvent, LocalBus, redis::RedisBridge},
    config::Config,
    http::{self, state::AppState},
    live::{
        LiveHub,
        hub::{BusEvent, CloseAll},
    },
    rate_limit::RateLimiter,
    store::{self, StoreRepository},
    telegram::{self, BotControl},
};

pub struct Application {
    port: u16,
    server: Server,
    calendars: Calendars,
    hub: actix::Addr<LiveHub>,
    bot: Option<BotControl>,
    grace: Duration,
    access_log: Option<crate::access_log::AccessLogWriter>,
}

impl Application {
    /// Opens and migrates the database, binds `config.bind_addr` (port 0 picks
    /// a free port, see [`Application::port`]) and prepares the server.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let plain_store = store::connect(&config.database_url).await?;
        let redis = config.redis_url.as_deref().map(redis_clients).transpose()?;
        let (outbound, outbound_events) = mpsc::channel(crate::bus::OUTBOUND_QUEUE);
        let bus = Arc::new(LocalBus::new(redis.is_some().then_some(outbound)));
        // The registry and its calendar threads are started once per process.
        let calendars = Calendars::start(
            Arc::new(StoreRepository(plain_store.clone())),
            bus.clone(),
            RegistrySettings {
                idle_after: config.calendar_idle,
                queue_limit: config.calendar_queue_limit,
                threads: std::thread::available_parallelism().map_or(2, usize::from),
            },
        );
        // Everyone but the calendars writes through this: settings writes are
        // announced on the bus after they commit.
        let sessions = Arc::new(crate::session::SessionCache::new(config.cache, Some(bus.clone())));
        let providers =
            Arc::new(crate::memo::ProviderMemo::new(config.cache, crate::memo::PROVIDERS_KEPT, Some(bus.clone())));
        crate::memo::forget_on_bus_events(&bus, sessions.clone(), providers.clone());
        let announcer = ChangeAnnouncer {
            calendars: calendars.clone(),
            bus: bus.clone(),
            sessions: sessions.clone(),
            providers: providers.clone(),
        };
        let store = plain_store.announcing_to(Arc::new(announcer));
        if let Some((client, pool)) = &redis {
            let node_id = Uuid::now_v7().to_string();
            RedisBridge::start(client.clone(), pool.clone(), node_id, bus.clone(), calendars.clone(), outbound_events);
        }
        let redis_pool = redis.map(|(_, pool)| pool);
        // "Used the service within the retention period" (policy §10's notice).
        let active_since = crate::retention::cutoff(config.access_log_retention, jiff::Timestamp::now());
        let policy = crate::policy::publish(&*store, crate::policy::text(&config)?, active_since).await?;
        let shared = telegram::Shared { policy: Arc::new(policy), bot_username: Arc::default() };
        // One limiter for the HTTP handlers and the bot (support writes).
        let limiter = Arc::new(RateLimiter::new(config.rate_limits.clone(), redis_pool.clone()));
        let bot = telegram::start(
            &config,
            store.clone(),
            calendars.clone(),
            &bus,
            redis_pool,
            shared.clone(),
            limiter.clone(),
        )?;
        let webhook_path = config.telegram_webhook_secret.as_deref().map(telegram::webhook::path);
        let hub = LiveHub::new(calendars.clone(), store.clone()).start();
        forward_bus_to_hub(&bus, hub.clone());
        forget_idle_rate_limit_keys(limiter.clone());
        // Off only to measure what it costs (see the README's Benchmarks).
        let (access_log, access_log_writer) = match config.access_log {
            true => {
                let (sender, writer) = crate::access_log::start(store.clone());
                (Some(sender), Some(writer))
            }
            false => (None, None),
        };
        crate::retention::start(store.clone(), config.access_log_retention);
        crate::deadlines::start(store.clone(), calendars.clone(), config.deadline_sweep);
        let buttons = config.public_url.as_ref().is_some_and(|url| url.scheme() == "https");
        crate::waitlist::start(store.clone(), calendars.clone(), bus.clone(), buttons);
        let grace = config.shutdown_grace;
        let bind_addr = config.bind_addr;
        // Built once, outside the factory closure: that closure runs once per worker.
        let state = web::Data::new(AppState {
            store,
            sessions,
            providers,
            calendars: calendars.clone(),
            hub: hub.clone(),
            limiter,
            telegram_updates: bot.as_ref().and_then(|bot| bot.updates.clone()),
            telegram: shared,
            config: Arc::new(config),
            metrics: http::metrics::recorder(),
            access_log,
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(
                    middleware::ErrorHandlers::new()
                        .handler(actix_web::http::StatusCode::METHOD_NOT_ALLOWED, http::problem::method_not_allowed),
                )
                .wrap(middleware::from_fn(http::compress::json))
                .wrap(middleware::from_fn(http::deadline::limit))
                // A chunked body left unread closes the connection (slow senders).
                .wrap(middleware::from_fn(http::unread_body::close_if_unread))
                .wrap(middleware::from_fn(http::access_log::record))
                .wrap(middleware::from_fn(http::metrics::track))
                // Outermost: everything inside, errors included, carries the id.
                .wrap(middleware::from_fn(http::request_id::tag))
                .app_data(state.clone())
                .configure(http::routes)
                .configure(|cfg| {
                    if let Some(path) = &webhook_path {
                        cfg.route(path, web::post().to(http::telegram_webhook::receive));
                    }
                })
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(http::problem::not_found_fallback())
                }))
        })
        // Signals are ours (see `run_until`): actix's own handling would
        // stop the server before the WebSockets were told to go.
        .disable_signals()
        // Requests in flight get what is left of the grace time.
        .shutdown_timeout(grace.as_secs())
        // RFC 6455 §7.1.1: after the closing handshake the server closes the
        // TCP connection first, at once. actix's default lingers 1 s to
        // drain unread input before closing; our bodies are small, and a
        // WebSocket's unread input is exactly what must not be waited for.
        .client_disconnect_timeout(Duration::ZERO)
        // Slow senders (issue 16; actix's defaults, set here to be seen):
        // the request head must be in within 5 s (408, closed) and an idle
        // keep-alive connection is closed after 5 s. A JSON body has
        // `BODY_TIMEOUT_SECS` (`http::json`), every request the 10 s deadline.
        .client_request_timeout(Duration::from_secs(5))
        .keep_alive(Duration::from_secs(5))
        // Connections waiting to be accepted. A storm of a thousand phones
        // opening at once overflowed the 128 of a std listener: the kernel
        // dropped their connects and each retried a second later. The
        // kernel caps it at `net.core.somaxconn` (4096 on current Linux).
        .backlog(4096)
        .bind(bind_addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind_addr} (BIND_ADDR): {e}"))?;
        let port =
            server.addrs().first().map(|addr| addr.port()).ok_or_else(|| anyhow::anyhow!("no listening address"))?;
        let server = server.run();
        let bot = bot.map(|parts| parts.control);
        Ok(Self { port, server, calendars, hub, bot, grace, access_log: access_log_writer })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The node's calendars (tests inject faults through it).
    pub fn calendars(&self) -> Calendars {
        self.calendars.clone()
    }

    /// The node's live hub (tests read its session counts).
    pub fn hub(&self) -> actix::Addr<LiveHub> {
        self.hub.clone()
    }

    /// Serves until SIGTERM or SIGINT (Ctrl-C), then stops gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then stops within the grace time
    /// (`SHUTDOWN_GRACE_SECS`): stop accepting; tell every WebSocket 1001
    /// (going away) so clients reconnect elsewhere or once we are back; let
    /// requests in flight finish; hand back the bot's polling lease and the
    /// outbox claims not yet sent. Whatever is still open at the deadline is
    /// dropped.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        let Application { server, hub, bot, grace, access_log, .. } = self;
        let handle = server.handle();
        let mut serving = actix_web::rt::spawn(server);
        tokio::select! {
            result = &mut serving => return result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            () = stop => {}
        }
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(grace_secs = grace.as_secs(), "stopping");
        // Stops accepting at once; its future ends when the workers are done.
        let stopped = actix_web::rt::spawn(handle.stop(true));
        let closed = hub.send(CloseAll).await.unwrap_or(0);
        if let Some(bot) = &bot {
            bot.stop(deadline).await;
        }
        let result = match tokio::time::timeout_at(deadline, &mut serving).await {
            Ok(result) => result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(_) => {
                tracing::warn!("grace time over; dropping what is still open");
                serving.abort();
                Ok(())
            }
        };
        stopped.abort();
        // Requests are done: what they logged is written before we go.
        if let Some(access_log) = access_log {
            access_log.flush_and_stop(deadline).await;
        }
        tracing::info!(websockets_closed = closed, took_ms = started.elapsed().as_millis() as u64, "stopped");
        result
    }
}

/// SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The dedicated client (for the pub/sub connection) and the pool (for
/// everything else) of `REDIS_URL`. Nothing connects yet: a Redis that is
/// down at start is retried in the background, and the node serves meanwhile.
fn redis_clients(url: &str) -> anyhow::Result<(redis::Client, deadpool_redis::Pool)> {
    let clients = || -> anyhow::Result<_> {
        let client = redis::Client::open(pubsub_connection_info(url)?)?;
        let pool = deadpool_redis::Config::from_url(url)
            .builder()?
            .max_size(16)
            .wait_timeout(Some(Duration::from_millis(250)))
            .create_timeout(Some(Duration::from_millis(250)))
            .runtime(deadpool_redis::Runtime::Tokio1)
            .build()?;
        Ok((client, pool))
    };
    clients().map_err(|e| anyhow::anyhow!("REDIS_URL {url:?}: {e}"))
}

/// The pub/sub connection only ever reads, so a silently cut link (packets
/// dropped, no reset) would look healthy until TCP gave up minutes later —
/// and after the cut heals, the events it missed arrive only at TCP's next
/// retransmission, tens of seconds on. Keepalive probes every second (three
/// unanswered: dead) and a 3 s user timeout make it fail fast instead, so the
/// bridge reconnects and resyncs within seconds of a heal.
fn pubsub_connection_info(url: &str) -> redis::RedisResult<redis::ConnectionInfo> {
    use redis::{
        IntoConnectionInfo,
        io::tcp::{TcpSettings, socket2::TcpKeepalive},
    };
    let keepalive =
        TcpKeepalive::new().with_time(Duration::from_secs(1)).with_interval(Duration::from_secs(1)).with_retries(3);
    let tcp = TcpSettings::default().set_keepalive(keepalive);
    #[cfg(target_os = "linux")]
    let tcp = tcp.set_user_timeout(Duration::from_secs(3));
    Ok(url.into_connection_info()?.set_tcp_settings(tcp))
}

/// Every bus event reaches the live hub; if the hub fell behind, it resyncs.
fn forward_bus_to_hub(bus: &LocalBus, hub: actix::Addr<LiveHub>) {
    let mut events = bus.subscribe();
    actix_web::rt::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => hub.do_send(BusEvent(event)),
                Err(RecvError::Lagged(_)) => hub.do_send(BusEvent(LiveEvent::Resync)),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn forget_idle_rate_limit_keys(limiter: Arc<RateLimiter>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle_keys();
        }
    });
}
