//! Startup as a value: [`App::build`] opens the store, binds the listener and returns the
//! address; [`App::run`] serves until the shutdown future fires, then closes WebSockets with
//! a close frame, lets in-flight requests finish and drains the store's writer.

use crate::config::Config;
use crate::gateway::hub::Hub;
use crate::ratelimit::Limiters;
use crate::state::AppState;
use concord_core::{Clock, Services, Store, SystemClock};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the store: {0}")]
    Store(#[from] concord_core::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("cannot load the organisation: {0}")]
    Org(String),
    #[error("keys: {0}")]
    Keys(String),
    #[error("{0}")]
    Tls(String),
    #[error("search: {0}")]
    Search(String),
    #[error("files: {0}")]
    Files(String),
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown: watch::Sender<bool>,
    store: Arc<dyn Store>,
    /// Serve HTTPS/WSS with this configuration (from `[tls]`), else plain HTTP.
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// The metrics recorder is process-wide by the `metrics` crate's design; install it once.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

impl App {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with(config, Arc::new(SystemClock)).await
    }

    /// As [`App::build`], with a given clock (tests move time to check expiry).
    pub async fn build_with(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let keyring = crate::at_rest::keyring(&config).map_err(StartupError::Keys)?;
        let store = concord_store::open_sealed(&config.store_config(), keyring).await?;
        Self::build_on(config, store, clock).await
    }

    /// As [`App::build`], on an already opened store.
    pub async fn build_on(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let tls = match (&config.tls.cert, &config.tls.key) {
            (Some(cert), Some(key)) => {
                Some(crate::tls::server_config(cert, key).map_err(StartupError::Tls)?)
            }
            _ => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let hub = Hub::start(store.subscribe());
        let signing_key =
            crate::keys::load_or_create_signing_key(&config.data_dir, config.crypto.suite)
                .map_err(|e| StartupError::Keys(e.to_string()))?;
        let services = Services::new(
            store.clone(),
            clock,
            Arc::new(hub.clone()),
            config.domain_limits(),
        )
        .with_signing_key(Arc::new(signing_key));
        services
            .init_org()
            .await
            .map_err(|e| StartupError::Org(e.to_string()))?;
        let files = Arc::new(
            crate::files::Files::open(&config.files, &config.data_dir, Some(store.clone()))
                .map_err(|e| StartupError::Files(e.to_string()))?,
        );
        // Search reads file texts from the file store.
        let search = crate::search::Search::start(&config, store.clone(), files.clone())
            .await
            .map_err(StartupError::Search)?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = AppState {
            files,
            search,
            services,
            hub,
            limiters: Arc::new(Limiters::new(&config.rate_limits)),
            connections: Arc::new(Semaphore::new(config.limits.max_ws_connections)),
            shutdown: shutdown_rx,
            metrics: metrics_handle(),
            config: Arc::new(config),
        };
        let (router, _) = crate::routes::build(state.clone());
        Ok(Self {
            listener,
            router,
            state,
            shutdown,
            store,
            tls,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    pub fn services(&self) -> &Services {
        &self.state.services
    }

    /// Serves until `shutdown` completes, then shuts down gracefully.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let App {
            listener,
            router,
            state,
            shutdown: shutdown_tx,
            store,
            tls,
        } = self;
        let maintenance = tokio::spawn(maintain(state.clone()));
        let signal_tx = shutdown_tx.clone();
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutting down: closing connections");
            let _ = signal_tx.send(true);
        };
        let make_service = router.into_make_service_with_connect_info::<SocketAddr>();
        let served = match tls {
            None => {
                axum::serve(listener, make_service)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(config) => serve_tls(listener, config, make_service, shutdown).await,
        };
        let _ = shutdown_tx.send(true);
        // WebSockets hold a permit each; all permits back means all have sent their close frame.
        let all = u32::try_from(state.config.limits.max_ws_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(Duration::from_secs(10), state.connections.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("some WebSocket connections did not close within 10 s");
        }
        maintenance.abort();
        state.search.shutdown().await;
        store.close().await;
        tracing::info!("stopped");
        served.map_err(StartupError::Serve)
    }
}

/// HTTPS and WSS through axum-server with rustls. On shutdown, stops accepting and lets
/// requests in flight finish, as `axum::serve` does; WebSockets close through the watch.
async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    make_service: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<
        axum::Router,
        SocketAddr,
    >,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let stop = tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(30)));
    });
    let rustls = axum_server::tls_rustls::RustlsConfig::from_config(config);
    let served = axum_server::from_tcp_rustls(listener.into_std()?, rustls)?
        .handle(handle)
        .serve(make_service)
        .await;
    stop.abort();
    served
}

/// Periodic upkeep: prune the event log past its retention, forget idle rate-limit keys.
async fn maintain(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut minutes = 0u64;
    let mut ldap = crate::directory::LdapSchedule::new();
    loop {
        tick.tick().await;
        state.limiters.prune();
        ldap.tick(&state);
        match state.services.sweep_geofences().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(left = n, "geofence sweep removed people who stayed outside"),
            Err(e) => tracing::warn!(error = %e, "geofence sweep failed"),
        }
        if crate::retention_job::due(minutes, state.config.retention.interval_secs) {
            crate::retention_job::scheduled(&state).await;
        }
        if minutes.is_multiple_of(60) {
            let keep = jiff::SignedDuration::from_hours(state.config.events.retention_hours as i64);
            let before = state
                .services
                .clock
                .now()
                .checked_sub(keep)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            match state.services.store.prune_events(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "pruned the event log"),
                Err(e) => tracing::warn!(error = %e, "event log pruning failed"),
            }
            if let Err(e) = state.services.checkpoint_audit().await {
                tracing::warn!(error = %e, "audit checkpoint failed");
            }
        }
        minutes += 1;
    }
}
