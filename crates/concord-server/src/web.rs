//! The embedded web client: serves the files `build.rs` built from `web/` for every path the
//! API does not own. Hashed bundles under `/assets` are cached for a year; everything else
//! revalidates (ETag). Any other GET path answers `index.html`, so the client's routes can be
//! reloaded and bookmarked; the router's security-header layer gives it a strict
//! Content-Security-Policy. Unknown `/api` paths keep their JSON 404; a missing `/assets`
//! file is a plain 404.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/web-dist"]
struct Assets;

/// No inline scripts or styles, no plugins, no framing; the app talks only to its own origin
/// (HTTP and WebSocket).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self' ws: wss:; \
    manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The router's fallback: the web client for GET/HEAD outside `/api`, JSON 404 otherwise.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api"
        || path.starts_with("/api/")
        || (method != Method::GET && method != Method::HEAD)
    {
        return ApiError::not_found_route().into_response();
    }
    let rel = path.trim_start_matches('/');
    if rel.starts_with("assets/") {
        return match file(rel, &headers, IMMUTABLE) {
            Some(r) => r,
            None => not_found(),
        };
    }
    if !rel.is_empty()
        && rel != "index.html"
        && let Some(r) = file(rel, &headers, "no-cache")
    {
        return r;
    }
    index(&headers)
}

/// `index.html`; the security headers (CSP, framing, referrer) come from the router's layer
/// (`tls::security_headers`), like every other response's.
fn index(headers: &HeaderMap) -> Response {
    file("index.html", headers, "no-cache").unwrap_or_else(not_found)
}

fn not_found() -> Response {
    let mut r = (StatusCode::NOT_FOUND, "not found\n").into_response();
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// One embedded file with its content type, cache policy and ETag; the gzip copy when the
/// client accepts it; 304 when the client's copy is current.
fn file(rel: &str, headers: &HeaderMap, cache: &'static str) -> Option<Response> {
    let asset = Assets::get(rel)?;
    let etag = format!("\"{}\"", hex_prefix(&asset.metadata.sha256_hash()));
    let mime = asset.metadata.mimetype().to_string();
    let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
        format!("{mime}; charset=utf-8")
    } else if rel.ends_with(".webmanifest") {
        "application/manifest+json".to_string()
    } else {
        mime
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::VARY, "accept-encoding");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .ok();
    }
    let body = match accepts_gzip(headers)
        .then(|| Assets::get(&format!("{rel}.gz")))
        .flatten()
    {
        Some(gz) => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            gz.data
        }
        None => asset.data,
    };
    let body = match body {
        std::borrow::Cow::Borrowed(b) => Body::from(axum::body::Bytes::from_static(b)),
        std::borrow::Cow::Owned(v) => Body::from(v),
    };
    builder.body(body).ok()
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash[..12].iter().map(|b| format!("{b:02x}")).collect()
}
