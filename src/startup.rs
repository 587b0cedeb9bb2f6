//! Wiring: builds the store, the shared state and the HTTP server once
//! (`Application::build`), then runs it until a signal stops it.

use std::{net::TcpListener, sync::Arc};

use actix_web::{App, HttpServer, dev::Server, middleware, web};

use actors::calendar::{Calendars, RegistrySettings};

use crate::{
    bus::LocalBus,
    config::Config,
    http::{self, AppState},
    store::{self, StoreRepository},
};

pub struct Application {
    port: u16,
    server: Server,
    calendars: Calendars,
    bus: Arc<LocalBus>,
}

impl Application {
    /// Opens and migrates the database, binds `config.bind_addr` (port 0 picks
    /// a free port, see [`Application::port`]) and prepares the server.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = store::connect(&config.database_url).await?;
        let bus = Arc::new(LocalBus::new());
        // The registry and its calendar threads are started once per process.
        let calendars = Calendars::start(
            Arc::new(StoreRepository(store.clone())),
            bus.clone(),
            RegistrySettings {
                idle_after: config.calendar_idle,
                queue_limit: config.calendar_queue_limit,
                threads: std::thread::available_parallelism().map_or(2, usize::from),
            },
        );
        let listener = TcpListener::bind(config.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (BIND_ADDR): {e}", config.bind_addr))?;
        let port = listener.local_addr()?.port();
        // Built once, outside the factory closure: that closure runs once per worker.
        let state = web::Data::new(AppState {
            store,
            calendars: calendars.clone(),
            config: Arc::new(config),
            metrics: http::metrics::recorder(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(http::metrics::track))
                .app_data(state.clone())
                .configure(http::routes)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(http::ApiError::NotFound("no such route".into()))
                }))
        })
        // SIGINT/SIGTERM stop accepting, let requests in flight finish (up to
        // this many seconds), then exit.
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self { port, server, calendars, bus })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The node's calendars (tests inject faults through it).
    pub fn calendars(&self) -> Calendars {
        self.calendars.clone()
    }

    /// The node's event bus (the live and bot parts subscribe to it).
    pub fn bus(&self) -> Arc<LocalBus> {
        self.bus.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
