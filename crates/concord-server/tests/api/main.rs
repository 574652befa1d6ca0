//! Integration tests of the Concord server: each spawns the real server on a random port
//! with a fresh data dir and talks to it over HTTP and WebSocket.

mod support;

mod account_security;
mod accounts;
mod apps;
mod at_rest;
mod audit_chain;
mod authz;
mod authz_matrix;
mod bad_input;
mod channels;
mod cli;
mod client_settings;
mod config_example;
mod dlp;
mod dynamic;
mod export;
mod file_search;
mod files;
mod files_s3;
mod files_storage;
mod ldap;
mod messages;
mod openapi;
mod org;
#[cfg(postgres_tests)]
mod postgres;
mod realtime;
mod retention;
mod scim;
mod search;
mod shutdown;
mod tidy;
mod tls;
mod web_e2e;
