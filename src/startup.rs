//! Wiring: builds the store, the shared state and the HTTP server once
//! (`Application::build`), then runs it until a signal stops it.

use std::{net::TcpListener, sync::Arc};

use actix_web::{App, HttpServer, dev::Server, middleware, web};

use crate::{
    config::Config,
    http::{self, AppState},
    store,
};

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens and migrates the database, binds `config.bind_addr` (port 0 picks
    /// a free port, see [`Application::port`]) and prepares the server.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = store::connect(&config.database_url).await?;
        let listener = TcpListener::bind(config.bind_addr).map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (BIND_ADDR): {e}", config.bind_addr)
        })?;
        let port = listener.local_addr()?.port();
        // Built once, outside the factory closure: that closure runs once per worker.
        let state = web::Data::new(AppState {
            store,
            config: Arc::new(config),
            metrics: http::metrics::recorder(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(http::metrics::track))
                .app_data(state.clone())
                .configure(http::routes)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(http::ApiError::NotFound(
                        "no such route".into(),
                    ))
                }))
        })
        // SIGINT/SIGTERM stop accepting, let requests in flight finish (up to
        // this many seconds), then exit.
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
