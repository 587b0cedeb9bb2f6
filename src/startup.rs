//! Wiring: builds the store, the shared state and the HTTP server once
//! (`Application::build`), then runs it until a signal stops it.

use std::{net::TcpListener, sync::Arc};

use actix_web::{App, HttpServer, dev::Server, middleware, web};

use actix::Actor;
use actors::calendar::{Calendars, RegistrySettings};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use uuid::Uuid;

use crate::{
    bus::{LiveEvent, LocalBus, SettingsAnnouncer, redis::RedisBridge},
    config::Config,
    http::{self, AppState},
    live::{LiveHub, hub::BusEvent},
    rate_limit::RateLimiter,
    store::{self, AnnouncingStore, Store, StoreRepository},
};

pub struct Application {
    port: u16,
    server: Server,
    calendars: Calendars,
    hub: actix::Addr<LiveHub>,
}

impl Application {
    /// Opens and migrates the database, binds `config.bind_addr` (port 0 picks
    /// a free port, see [`Application::port`]) and prepares the server.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let plain_store = store::connect(&config.database_url).await?;
        let redis = match &config.redis_url {
            Some(url) => Some(redis_clients(url)?),
            None => None,
        };
        let (outbound, outbound_events) = mpsc::unbounded_channel();
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
        let announcer = SettingsAnnouncer { calendars: calendars.clone(), bus: bus.clone() };
        let store: Arc<dyn Store> = Arc::new(AnnouncingStore::new(plain_store, Arc::new(announcer)));
        if let Some((client, pool)) = &redis {
            let node_id = Uuid::now_v7().to_string();
            RedisBridge::start(client.clone(), pool.clone(), node_id, bus.clone(), calendars.clone(), outbound_events);
        }
        let redis_pool = redis.map(|(_, pool)| pool);
        let shared = crate::telegram::Shared {
            privacy_policy: crate::telegram::privacy_policy(&config)?,
            bot_username: Arc::default(),
        };
        let telegram_updates = crate::telegram::start(
            &config,
            store.clone(),
            calendars.clone(),
            &bus,
            redis_pool.clone(),
            shared.clone(),
        )?;
        let webhook_path = config.telegram_webhook_secret.as_deref().map(crate::telegram::webhook::path);
        let limiter = Arc::new(RateLimiter::new(config.rate_limits.clone(), redis_pool));
        let hub = LiveHub::new(calendars.clone(), store.clone()).start();
        forward_bus_to_hub(&bus, hub.clone());
        forget_idle_rate_limit_keys(limiter.clone());
        let listener = TcpListener::bind(config.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (BIND_ADDR): {e}", config.bind_addr))?;
        let port = listener.local_addr()?.port();
        // Built once, outside the factory closure: that closure runs once per worker.
        let state = web::Data::new(AppState {
            store,
            calendars: calendars.clone(),
            hub: hub.clone(),
            limiter,
            telegram_updates,
            telegram: shared,
            config: Arc::new(config),
            metrics: http::metrics::recorder(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(http::metrics::track))
                .app_data(state.clone())
                .configure(http::routes)
                .configure(|cfg| {
                    if let Some(path) = &webhook_path {
                        cfg.route(path, web::post().to(crate::telegram::webhook::receive));
                    }
                })
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(http::problem::not_found_fallback())
                }))
        })
        // SIGINT/SIGTERM stop accepting, let requests in flight finish (up to
        // this many seconds), then exit.
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self { port, server, calendars, hub })
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The dedicated client (for the pub/sub connection) and the pool (for
/// everything else) of `REDIS_URL`. Nothing connects yet: a Redis that is
/// down at start is retried in the background, and the node serves meanwhile.
fn redis_clients(url: &str) -> anyhow::Result<(redis::Client, deadpool_redis::Pool)> {
    let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL {url:?}: {e}"))?;
    let pool = deadpool_redis::Config::from_url(url)
        .builder()
        .map_err(|e| anyhow::anyhow!("REDIS_URL {url:?}: {e}"))?
        .max_size(16)
        .wait_timeout(Some(std::time::Duration::from_millis(250)))
        .create_timeout(Some(std::time::Duration::from_millis(250)))
        .runtime(deadpool_redis::Runtime::Tokio1)
        .build()
        .map_err(|e| anyhow::anyhow!("REDIS_URL {url:?}: {e}"))?;
    Ok((client, pool))
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
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle_keys();
        }
    });
}
