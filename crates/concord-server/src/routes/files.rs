//! Files: upload (streamed), download with ranges, thumbnails and phone previews, versions and
//! their history, comments, signed expiring links, and a channel's file policy.
//!
//! Every read is authorised by the core's file services first (access follows the channel);
//! content comes from the blob store (`crate::files`). A download either carries a bearer
//! token or is a signed link made for one viewer, checked again against the channel when used.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::files::{Files, Variant};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use concord_core::authz::Actor;
use concord_proto::{
    ChannelFilePolicy, ChannelId, FileComment, FileId, FileInfo, FileLink, FileLinkRequest,
    FilePage, FilePageParams, FileReadParams, FileVersion, NewFileCommentRequest,
    UpdateFileRequest, UploadParams, UserId,
};

/// Uploads a file into a channel. The body is the raw content (any type; the type is detected
/// from the content); `name` is required. Streamed to storage, never held in memory whole.
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/files",
    tag = "files",
    params(("channel_id" = i64, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileInfo), ApiErrors),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Body,
) -> Result<(StatusCode, Json<FileInfo>), ApiError> {
    let channel = ChannelId(id);
    let declared = declared_name(&q)?;
    // Refuse before reading a byte of content.
    state.services.authorize_upload(&actor, channel).await?;
    let (_, sniffed, content) = state
        .files
        .store_upload(body.into_data_stream(), &declared, channel)
        .await?;
    let flagged = state.services.check_uploaded_text(
        channel,
        sniffed_text(&state.files, &content, sniffed.kind).await,
    )?;
    let file = state
        .services
        .create_file(
            &actor,
            channel,
            &concord_media::sanitize_file_name(&declared),
            q.sensitive.unwrap_or(false) || flagged,
            q.comment.as_deref(),
            content,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(file)))
}

fn declared_name(q: &UploadParams) -> Result<String, ApiError> {
    match q.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(ApiError::bad_query("name is required: the file's name")),
    }
}

/// The text of an uploaded text file, for the channel's DLP policy (`None` for other kinds).
async fn sniffed_text(
    files: &Files,
    content: &concord_core::service::UploadedContent,
    kind: concord_media::FileKind,
) -> Option<String> {
    if kind != concord_media::FileKind::Text {
        return None;
    }
    files.text_of(&content.sha256, content.size, kind).await
}

/// Uploads a new version of a file (the body is the content), with an optional comment.
#[utoipa::path(
    post,
    path = "/files/{file_id}/versions",
    tag = "files",
    params(("file_id" = i64, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileInfo), ApiErrors),
    security(("bearer" = []))
)]
pub async fn upload_version(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Body,
) -> Result<(StatusCode, Json<FileInfo>), ApiError> {
    let file = state
        .services
        .authorize_new_version(&actor, FileId(id))
        .await?;
    let name = q.name.clone().unwrap_or_else(|| file.name.clone());
    let (_, sniffed, content) = state
        .files
        .store_upload(body.into_data_stream(), &name, file.channel_id)
        .await?;
    let flagged = state.services.check_uploaded_text(
        file.channel_id,
        sniffed_text(&state.files, &content, sniffed.kind).await,
    )?;
    let file = state
        .services
        .add_file_version(&actor, FileId(id), q.comment.as_deref(), content, flagged)
        .await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// A channel's files, newest first.
#[utoipa::path(
    get,
    path = "/channels/{channel_id}/files",
    tag = "files",
    params(("channel_id" = i64, Path), FilePageParams),
    responses((status = 200, body = FilePage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn channel_files(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FilePageParams>,
) -> Result<Json<FilePage>, ApiError> {
    Ok(Json(
        state
            .services
            .channel_files(&actor, ChannelId(id), q.before, q.limit)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/files/{file_id}",
    tag = "files",
    params(("file_id" = i64, Path)),
    responses((status = 200, body = FileInfo), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FileInfo>, ApiError> {
    Ok(Json(state.services.file(&actor, FileId(id)).await?))
}

/// Renames a file or sets its sensitive flag (its uploader or a channel moderator).
#[utoipa::path(
    patch,
    path = "/files/{file_id}",
    tag = "files",
    params(("file_id" = i64, Path)),
    request_body = UpdateFileRequest,
    responses((status = 200, body = FileInfo), ApiErrors),
    security(("bearer" = []))
)]
pub async fn update_file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateFileRequest>,
) -> Result<Json<FileInfo>, ApiError> {
    let req = UpdateFileRequest {
        name: req.name.map(|n| concord_media::sanitize_file_name(&n)),
        ..req
    };
    Ok(Json(
        state.services.update_file(&actor, FileId(id), req).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/files/{file_id}",
    tag = "files",
    params(("file_id" = i64, Path)),
    responses((status = 204, description = "deleted"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn delete_file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_file(&actor, FileId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The revision history, oldest first.
#[utoipa::path(
    get,
    path = "/files/{file_id}/versions",
    tag = "files",
    params(("file_id" = i64, Path)),
    responses((status = 200, body = Vec<FileVersion>), ApiErrors),
    security(("bearer" = []))
)]
pub async fn versions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<FileVersion>>, ApiError> {
    Ok(Json(
        state.services.file_versions(&actor, FileId(id)).await?,
    ))
}

/// Makes an earlier version current again (recorded as a new version).
#[utoipa::path(
    post,
    path = "/files/{file_id}/versions/{version}/restore",
    tag = "files",
    params(("file_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 201, body = FileInfo), ApiErrors),
    security(("bearer" = []))
)]
pub async fn restore_version(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, version)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, Json<FileInfo>), ApiError> {
    let file = state
        .services
        .restore_file_version(&actor, FileId(id), version)
        .await?;
    Ok((StatusCode::CREATED, Json(file)))
}

#[utoipa::path(
    get,
    path = "/files/{file_id}/comments",
    tag = "files",
    params(("file_id" = i64, Path)),
    responses((status = 200, body = Vec<FileComment>), ApiErrors),
    security(("bearer" = []))
)]
pub async fn comments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<FileComment>>, ApiError> {
    Ok(Json(
        state.services.file_comments(&actor, FileId(id)).await?,
    ))
}

/// Comments on a version (the current one by default); `@name` notifies channel members.
#[utoipa::path(
    post,
    path = "/files/{file_id}/comments",
    tag = "files",
    params(("file_id" = i64, Path)),
    request_body = NewFileCommentRequest,
    responses((status = 201, body = FileComment), ApiErrors),
    security(("bearer" = []))
)]
pub async fn add_comment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewFileCommentRequest>,
) -> Result<(StatusCode, Json<FileComment>), ApiError> {
    state
        .limiters
        .check_send(actor.user_id)
        .map_err(ApiError::rate_limited)?;
    let comment = state
        .services
        .comment_file(&actor, FileId(id), &req.text, req.version)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// A link to the content, thumbnail or preview that works without a token, only for the
/// caller, until it expires (`files.link_ttl_secs`): for `<img src>` and browser downloads.
#[utoipa::path(
    post,
    path = "/files/{file_id}/link",
    tag = "files",
    params(("file_id" = i64, Path)),
    request_body = FileLinkRequest,
    responses((status = 200, body = FileLink), ApiErrors),
    security(("bearer" = []))
)]
pub async fn link(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<FileLinkRequest>,
) -> Result<Json<FileLink>, ApiError> {
    let variant = match req.variant.as_deref() {
        None => Variant::Content,
        Some(v) => Variant::parse(v).ok_or_else(|| {
            concord_core::DomainError::invalid("variant", "must be content, thumbnail or preview")
        })?,
    };
    let (_, version) = state
        .services
        .file_version(&actor, FileId(id), req.version)
        .await?;
    let ttl = jiff::SignedDuration::from_secs(state.files.config.link_ttl_secs as i64);
    let expires_at =
        state.services.clock.now().checked_add(ttl).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
        })?;
    let url = state.files.signed_path(
        FileId(id),
        version.version,
        variant,
        actor.user_id,
        expires_at,
    );
    Ok(Json(FileLink { url, expires_at }))
}

/// The caller: a bearer token, or a valid signed link for this file, version and variant.
async fn reader(
    state: &AppState,
    auth: Option<Auth>,
    file: FileId,
    variant: Variant,
    q: &FileReadParams,
) -> Result<Actor, ApiError> {
    if let Some(Auth(actor)) = auth {
        return Ok(actor);
    }
    let (Some(exp), Some(viewer), Some(sig), Some(version)) = (q.exp, q.viewer, &q.sig, q.version)
    else {
        return Err(concord_core::DomainError::Unauthenticated.into());
    };
    let now = state.services.clock.now();
    if !state
        .files
        .verify_link(file, version, variant, UserId(viewer), exp, sig, now)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_link",
            "the link is invalid or has expired; ask for a new one",
        ));
    }
    Ok(state.services.link_actor(UserId(viewer)).await?)
}

/// Downloads a version's content (the current one by default). Supports `Range`. Sensitive
/// images and PDFs come watermarked with the viewer's name, id and the time; other viewers
/// than the uploader get images without their location (unless the org keeps it).
#[utoipa::path(
    get,
    path = "/files/{file_id}/content",
    tag = "files",
    params(("file_id" = i64, Path), FileReadParams),
    responses(
        (status = 200, description = "the content", content_type = "application/octet-stream"),
        (status = 206, description = "part of the content (a `Range` request)"),
        ApiErrors
    ),
    security(("bearer" = []), ("signed_link" = []))
)]
pub async fn content(
    State(state): State<AppState>,
    auth: Option<Auth>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileReadParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file_id = FileId(id);
    let actor = reader(&state, auth, file_id, Variant::Content, &q).await?;
    let (file, version) = state
        .services
        .file_version(&actor, file_id, q.version)
        .await?;
    let sniffed = state
        .files
        .sniff_stored(&version.sha256, &file.name)
        .await?;
    let inline = q.disposition.as_deref() == Some("inline")
        && sniffed.disposition() == concord_media::Disposition::Inline;
    let meta = ServedMeta {
        name: file.name.clone(),
        etag: format!("\"{}\"", version.sha256),
        inline,
        private: file.effective_sensitive,
    };
    // Markup (HTML, SVG) and polyglots are served as opaque bytes: no browser renders them.
    let served_mime = if sniffed.kind == concord_media::FileKind::Markup || sniffed.contains_markup
    {
        "application/octet-stream".to_string()
    } else {
        version.mime.clone()
    };
    if file.effective_sensitive {
        state
            .services
            .audit_sensitive_read(&actor, &file, version.version, "content")
            .await?;
        if Files::watermarkable(&version.mime) {
            let original = state
                .files
                .load_to_watermark(&version.sha256, version.size)
                .await?;
            let lines = watermark_lines(&state, &actor).await?;
            let (marked, mime) = state
                .files
                .watermark(original, &version.mime, lines)
                .await?;
            return Ok(whole(marked, &mime, &meta));
        }
    } else if strips_location(&state, &actor, &version) {
        let stripped = state
            .files
            .without_location(&version.sha256, version.size)
            .await?;
        return Ok(whole(stripped, &served_mime, &meta));
    }
    let range = match parse_range(headers.get(header::RANGE), version.size as u64) {
        RangeAsk::Whole => None,
        RangeAsk::Part(r) => Some(r),
        RangeAsk::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {} bytes", version.size),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", version.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    let read = state
        .files
        .blobs
        .get(&version.sha256, range.clone())
        .await
        .map_err(crate::files::FileError::from)?;
    let length = read.range.end - read.range.start;
    let mut response = Response::new(Body::from_stream(read.body));
    let h = response.headers_mut();
    set_meta(h, &served_mime, &meta);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{}",
            read.range.start,
            read.range.end - 1,
            read.size
        )) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// A thumbnail of an image (`files.thumbnail_px` on its longest side).
#[utoipa::path(
    get,
    path = "/files/{file_id}/thumbnail",
    tag = "files",
    params(("file_id" = i64, Path), FileReadParams),
    responses((status = 200, description = "a JPEG or PNG", content_type = "image/jpeg"), ApiErrors),
    security(("bearer" = []), ("signed_link" = []))
)]
pub async fn thumbnail(
    State(state): State<AppState>,
    auth: Option<Auth>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileReadParams>,
) -> Result<Response, ApiError> {
    rendition(state, auth, FileId(id), q, Variant::Thumbnail).await
}

/// A compressed rendition of an image for phones (`files.preview_width_px` wide, JPEG).
#[utoipa::path(
    get,
    path = "/files/{file_id}/preview",
    tag = "files",
    params(("file_id" = i64, Path), FileReadParams),
    responses((status = 200, description = "a JPEG or PNG", content_type = "image/jpeg"), ApiErrors),
    security(("bearer" = []), ("signed_link" = []))
)]
pub async fn preview(
    State(state): State<AppState>,
    auth: Option<Auth>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileReadParams>,
) -> Result<Response, ApiError> {
    rendition(state, auth, FileId(id), q, Variant::Preview).await
}

async fn rendition(
    state: AppState,
    auth: Option<Auth>,
    file_id: FileId,
    q: FileReadParams,
    variant: Variant,
) -> Result<Response, ApiError> {
    let actor = reader(&state, auth, file_id, variant, &q).await?;
    let (file, version) = state
        .services
        .file_version(&actor, file_id, q.version)
        .await?;
    let (bytes, mime) = state
        .files
        .rendition(
            &version.sha256,
            version.size,
            &version.mime,
            variant,
            file.channel_id,
        )
        .await?;
    let meta = ServedMeta {
        name: file.name.clone(),
        etag: format!("\"{}-{}\"", version.sha256, variant.as_str()),
        inline: true,
        private: file.effective_sensitive,
    };
    if file.effective_sensitive {
        state
            .services
            .audit_sensitive_read(&actor, &file, version.version, variant.as_str())
            .await?;
        let lines = watermark_lines(&state, &actor).await?;
        let (marked, mime) = state.files.watermark(bytes, mime, lines).await?;
        return Ok(whole(marked, &mime, &meta));
    }
    // Renditions are re-encoded, so they carry no location.
    Ok(whole(bytes, mime, &meta))
}

/// The viewer's name and id, and the time, for a watermark.
async fn watermark_lines(state: &AppState, actor: &Actor) -> Result<Vec<String>, ApiError> {
    let me = state.services.user(actor, actor.user_id).await?;
    let now = state.services.clock.now();
    Ok(vec![
        format!("{} ({})", me.display_name, me.username),
        format!("id {} · {}", me.id, now.strftime("%Y-%m-%d %H:%M UTC")),
    ])
}

/// Whether to remove an image's location before serving it to this viewer.
fn strips_location(state: &AppState, actor: &Actor, version: &FileVersion) -> bool {
    !state.files.config.keep_image_location
        && actor.user_id != version.uploaded_by
        && matches!(
            version.mime.as_str(),
            "image/jpeg" | "image/png" | "image/webp"
        )
}

struct ServedMeta {
    name: String,
    etag: String,
    inline: bool,
    /// Sensitive: never cached by browsers or proxies.
    private: bool,
}

fn set_meta(h: &mut HeaderMap, mime: &str, meta: &ServedMeta) {
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if meta.inline { "inline" } else { "attachment" },
        ascii_fallback(&meta.name),
        percent_encode(&meta.name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&meta.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if meta.private {
            "private, no-store"
        } else {
            "private, max-age=300"
        }),
    );
    // Even if a browser were to render it, the content may run nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
        ),
    );
}

fn whole(bytes: Bytes, mime: &str, meta: &ServedMeta) -> Response {
    let mut response = Response::new(Body::from(bytes));
    set_meta(response.headers_mut(), mime, meta);
    response
        .headers_mut()
        .insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    response
}

/// The name with anything outside printable ASCII (and quotes) replaced, for old clients.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 5987 percent-encoding of a UTF-8 name.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    Whole,
    Part(std::ops::Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range (`a-b`, `a-`, `-n`); several ranges, or a header that is not understood,
/// get the whole content, as RFC 9110 allows.
fn parse_range(header: Option<&HeaderValue>, size: u64) -> RangeAsk {
    let Some(spec) = header
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.trim().strip_prefix("bytes="))
    else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if a.len() <= 20 && start <= end => start..(end + 1).min(size),
        (Some(start), None) if b.is_empty() => start..size,
        (None, Some(suffix)) if a.is_empty() => size.saturating_sub(suffix)..size,
        _ => return RangeAsk::Whole,
    };
    if range.start >= size || range.is_empty() {
        RangeAsk::Unsatisfiable
    } else {
        RangeAsk::Part(range)
    }
}

/// Whether every file in the channel is sensitive.
#[utoipa::path(
    get,
    path = "/channels/{channel_id}/file-policy",
    tag = "files",
    params(("channel_id" = i64, Path)),
    responses((status = 200, body = ChannelFilePolicy), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_file_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChannelFilePolicy>, ApiError> {
    Ok(Json(
        state
            .services
            .channel_file_policy(&actor, ChannelId(id))
            .await?,
    ))
}

/// Makes every file in the channel sensitive, or not (`channel.manage_any`; audited).
#[utoipa::path(
    put,
    path = "/channels/{channel_id}/file-policy",
    tag = "files",
    params(("channel_id" = i64, Path)),
    request_body = ChannelFilePolicy,
    responses((status = 200, body = ChannelFilePolicy), ApiErrors),
    security(("bearer" = []))
)]
pub async fn set_file_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ChannelFilePolicy>,
) -> Result<Json<ChannelFilePolicy>, ApiError> {
    Ok(Json(
        state
            .services
            .set_channel_file_policy(&actor, ChannelId(id), req)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(h: &str, size: u64) -> RangeAsk {
        parse_range(Some(&HeaderValue::from_str(h).unwrap()), size)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 10), RangeAsk::Whole);
        assert_eq!(ask("bytes=0-3", 10), RangeAsk::Part(0..4));
        assert_eq!(ask("bytes=4-", 10), RangeAsk::Part(4..10));
        assert_eq!(ask("bytes=-3", 10), RangeAsk::Part(7..10));
        assert_eq!(ask("bytes=5-100", 10), RangeAsk::Part(5..10));
        assert_eq!(ask("bytes=10-", 10), RangeAsk::Unsatisfiable);
        assert_eq!(ask("bytes=0-1,4-5", 10), RangeAsk::Whole);
        assert_eq!(ask("items=0-1", 10), RangeAsk::Whole);
        assert_eq!(ask("bytes=3-1", 10), RangeAsk::Whole);
    }

    #[test]
    fn download_names_are_encoded() {
        assert_eq!(percent_encode("设计 v2.png"), "%E8%AE%BE%E8%AE%A1%20v2.png");
        assert_eq!(ascii_fallback("设计\"v2.png"), "___v2.png");
    }
}
