//! The HTTP router: every endpoint, its OpenAPI description, and the layers around them.
//!
//! Handlers are thin: parse (extractors), call a service with the actor, shape the response.

pub mod app_scopes;
mod apps;
mod auth;
mod channels;
mod client_settings;
mod dynamic;
// Compliance and personal exports (zip downloads).
mod export;
mod files;
mod messages;
mod meta;
mod org;
pub mod retention;
mod scim;
mod scim_groups;
mod scim_patch;
mod scim_users;
mod search;
// File search: the online reindex's admin endpoints.
mod search_admin;
mod security;
mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concord API",
        description = "REST and WebSocket API of Concord, the self-hosted enterprise messenger. \
            Authenticate with `POST /api/v1/auth/login`, then send `Authorization: Bearer <token>`. \
            Errors are `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(
        concord_proto::ServerFrame,
        concord_proto::ClientFrame,
        concord_proto::Event,
        concord_proto::StoredEvent,
        concord_proto::ErrorBody
    )),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "users", description = "People"),
        (name = "organisation", description = "Departments, permissions, roles, audit"),
        (name = "channels", description = "Channels, DMs and membership"),
        (name = "messages", description = "Messages, threads, reactions, pins, read state"),
        (name = "files", description = "Files, versions, comments, thumbnails, signed links"),
        (name = "realtime", description = "The WebSocket event stream"),
        (name = "apps", description = "Apps, their bot accounts and scoped tokens"),
        (name = "operations", description = "Health, readiness, metrics, this document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // File downloads also accept a signed, expiring link (`POST /files/{id}/link`): its
        // `sig` (with `exp`, `viewer` and `version`) stands in for the token.
        components.add_security_scheme(
            "signed_link",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Query(
                utoipa::openapi::security::ApiKeyValue::new("sig"),
            )),
        );
    }
}

/// Builds the application router and its OpenAPI document.
pub fn build(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::login_mfa))
        .routes(routes!(security::mfa_status))
        .routes(routes!(security::begin_totp))
        .routes(routes!(security::confirm_totp))
        .routes(routes!(security::disable_totp))
        .routes(routes!(security::my_sessions, security::end_other_sessions))
        .routes(routes!(security::end_session))
        .routes(routes!(security::end_user_sessions))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::my_permissions))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::get_profile))
        .routes(routes!(org::list_departments, org::create_department))
        .routes(routes!(
            org::get_department,
            org::update_department,
            org::delete_department
        ))
        .routes(routes!(org::department_members))
        .routes(routes!(org::list_permissions, org::register_permission))
        .routes(routes!(org::check_permission))
        .routes(routes!(org::list_roles, org::create_role))
        .routes(routes!(org::get_role, org::update_role, org::delete_role))
        .routes(routes!(org::list_assignments, org::create_assignment))
        .routes(routes!(org::delete_assignment))
        .routes(routes!(org::audit_log))
        .routes(routes!(org::audit_export))
        .routes(routes!(channels::my_channels, channels::create_channel))
        .routes(routes!(channels::browse_channels))
        .routes(routes!(channels::get_channel, channels::update_channel))
        .routes(routes!(channels::join_channel))
        .routes(routes!(channels::leave_channel))
        .routes(routes!(channels::list_members, channels::invite_members))
        .routes(routes!(channels::remove_member))
        .routes(routes!(channels::open_dm))
        .routes(routes!(
            dynamic::get_rule,
            dynamic::set_rule,
            dynamic::delete_rule
        ))
        .routes(routes!(dynamic::preview_rule))
        .routes(routes!(
            dynamic::get_geofence,
            dynamic::set_geofence,
            dynamic::delete_geofence
        ))
        .routes(routes!(dynamic::report_location))
        .routes(routes!(dynamic::get_dlp, dynamic::set_dlp))
        .routes(routes!(messages::history, messages::send_message))
        .routes(routes!(messages::pinned))
        .routes(routes!(messages::mark_read))
        .routes(routes!(messages::typing))
        .routes(routes!(
            messages::get_message,
            messages::edit_message,
            messages::delete_message
        ))
        .routes(routes!(messages::versions))
        .routes(routes!(messages::thread))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::pin, messages::unpin))
        .routes(routes!(
            files::get_file,
            files::update_file,
            files::delete_file
        ))
        .routes(routes!(files::restore_version))
        .routes(routes!(files::comments, files::add_comment))
        .routes(routes!(files::link))
        .routes(routes!(files::thumbnail))
        .routes(routes!(files::preview))
        .routes(routes!(files::get_file_policy, files::set_file_policy))
        // Apps and bot tokens.
        .routes(routes!(apps::list_apps, apps::install_app))
        .routes(routes!(apps::app_scopes))
        .routes(routes!(apps::get_app, apps::uninstall_app))
        .routes(routes!(apps::rotate_app_token))
        .routes(routes!(crate::gateway::ws_handler))
        .routes(routes!(meta::openapi_json))
        .merge(search::router(&state))
        .merge(search_admin::router())
        .merge(retention::router())
        .merge(client_settings::router());
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::metrics))
        .split_for_parts();
    // Uploads and downloads stream for as long as the file takes: outside the request body
    // limit and the request timeout (`files.max_upload_bytes` bounds uploads instead).
    let (transfers, transfer_doc) = OpenApiRouter::new()
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .routes(routes!(files::channel_files, files::upload))
                .routes(routes!(files::versions, files::upload_version))
                .routes(routes!(files::content)),
        )
        .layer(DefaultBodyLimit::disable())
        .split_for_parts();
    openapi.merge(transfer_doc);
    // Exports stream a zip for as long as it takes to build and send: outside the request
    // timeout, with a small body limit of their own for the criteria.
    let (exports, export_doc) = OpenApiRouter::new()
        .nest("/api/v1", export::router())
        .layer(DefaultBodyLimit::max(export::MAX_CRITERIA_BYTES))
        .split_for_parts();
    openapi.merge(export_doc);
    let transfers = transfers.merge(exports);
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    let undocumented = app_scopes::annotate(&mut openapi);
    if !undocumented.is_empty() {
        // A stale row grants nothing (no route matches it); tests/api/apps.rs catches it.
        tracing::warn!(
            ?undocumented,
            "the app scope table names operations that do not exist"
        );
    }
    let doc = Arc::new(openapi.clone());
    let max_body = state.config.limits.max_body_bytes;
    let tls = state.config.tls.enabled();
    let request_timeout = std::time::Duration::from_secs(state.config.limits.request_timeout_secs);
    let router = router
        // SCIM provisioning: outside /api/v1 and the OpenAPI document (it describes itself).
        .nest("/scim/v2", scim::router(&state.config.scim))
        .layer(axum::Extension(doc))
        // Outside /api: the embedded web client (unknown /api paths stay JSON 404s).
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "timeout",
                        "the request took too long; retry (sends with a client_msg_id are safe to retry)",
                    )
                }))
                .timeout(request_timeout),
        )
        .merge(transfers)
        .layer(axum::middleware::from_fn(record_metrics))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server hit a bug; it has been logged",
            )
            .into_response()
        }))
        // Outermost, so every response carries them (HSTS only over TLS).
        .layer(axum::middleware::from_fn(move |req, next| {
            crate::tls::security_headers(tls, req, next)
        }))
        .with_state(state);
    (router, openapi)
}

/// Request counts and latencies by route (the matched pattern, not the raw path).
async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("concord_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("concord_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
