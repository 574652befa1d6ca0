//! Shared request state: passed to handlers, never global.

use crate::config::Config;
use crate::gateway::hub::Hub;
use crate::ratelimit::Limiters;
use concord_core::Services;
use std::sync::Arc;
use tokio::sync::{Semaphore, watch};

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub hub: Hub,
    pub limiters: Arc<Limiters>,
    pub config: Arc<Config>,
    /// One permit per WebSocket connection; bounds them and tells when all have closed.
    pub connections: Arc<Semaphore>,
    /// Flips to `true` when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// The message search index and its indexer (`[search]`).
    pub search: crate::search::Search,
    /// File content: the blob store and media processing (`[files]`).
    pub files: Arc<crate::files::Files>,
}
