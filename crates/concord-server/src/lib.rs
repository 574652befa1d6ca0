//! The Concord server: HTTP API, WebSocket gateway, configuration and startup.
//!
//! Boundary: the only crate that knows HTTP and JSON framing. It turns requests into calls on
//! [`concord_core::Services`] and domain errors into responses (in [`error`]).

pub mod app;
pub mod at_rest;
pub mod cli_audit;
pub mod cli_keys;
pub mod config;
pub mod directory;
pub mod error;
// Compliance and personal exports (zip archives).
pub mod cli_export;
pub mod export;
pub mod extract;
pub mod files;
pub mod gateway;
pub mod keys;
pub mod ratelimit;
pub mod retention_job;
pub mod routes;
pub mod search;
pub mod state;
pub mod tls;
pub mod web;

pub use app::{App, StartupError};
pub use config::Config;
