//! Message and file search (within what the caller may read), compliance search (everything,
//! with the `compliance.search` permission, audited) and the admin bulk import of messages.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use concord_core::authz::{ChannelAction, authorize_channel};
use concord_core::org::perm;
use concord_core::{Actor, DomainError};
use concord_proto::{
    ChannelId, ChannelKind, FileId, ImportSummary, MessageId, SearchHit, SearchHitKind, SearchKind,
    SearchPage, SearchQuery, SearchSort, SnippetPart, UserId,
};
use concord_search::{
    ChannelScope, HitKind, KindFilter, SearchError, SearchRequest, SnippetSource, SortOrder,
};
use jiff::Timestamp;
use std::collections::BTreeSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The search routes; the import route gets its own body limit (`search.max_import_bytes`).
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let import = OpenApiRouter::new().routes(routes!(import_messages)).layer(
        axum::extract::DefaultBodyLimit::max(state.config.search.max_import_bytes),
    );
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(compliance_search))
        .merge(import)
}

/// Searches the messages (and, with `kind=file` or `kind=all`, the files: names and the text
/// of text files and PDFs) of the channels the caller may read: those they are a member of,
/// and public channels if they may browse them (guests: member channels only).
#[utoipa::path(
    get,
    path = "/search",
    tag = "messages",
    params(SearchQuery),
    responses((status = 200, body = SearchPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let mut request = request_from(&q, actor.user_id)?;
    request.scope = ChannelScope::Only(readable_channels(&state, &actor, &q).await?);
    run(&state, request).await.map(Json)
}

/// Searches every channel, private ones and DMs included. Needs `compliance.search`; each
/// search is written to the audit log (action `compliance.search`, the query as `after`)
/// before it runs.
#[utoipa::path(
    get,
    path = "/compliance/search",
    tag = "messages",
    params(SearchQuery),
    responses((status = 200, body = SearchPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn compliance_search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    actor.require(perm::COMPLIANCE_SEARCH, None)?;
    let mut request = request_from(&q, actor.user_id)?;
    request.scope = match q.channel_id {
        Some(id) => {
            state
                .services
                .store
                .channel(ChannelId(id))
                .await
                .map_err(DomainError::from)?
                .ok_or(DomainError::NotFound("channel"))?;
            ChannelScope::Only(vec![id])
        }
        None => ChannelScope::All,
    };
    let target = match q.channel_id {
        Some(id) => format!("channel:{id}"),
        None => "messages".to_string(),
    };
    let query = serde_json::to_value(&q).unwrap_or_default();
    state
        .services
        .audit(Some(&actor), "compliance.search", target, Some(query))
        .await?;
    run(&state, request).await.map(Json)
}

/// Imports messages from a JSON Lines body (`{"channel", "sender", "ts", "text"}` per line),
/// creating missing public channels and users (with no usable password), keeping timestamps
/// and each channel's order. Org admins only; audited. Bodies are limited to
/// `search.max_import_bytes` (64 MiB by default): load bigger files with
/// `concord import messages FILE.jsonl`. Answers when every line is stored; the messages are
/// searchable once the indexer has caught up (normally within a second).
#[utoipa::path(
    post,
    path = "/admin/import/messages",
    tag = "messages",
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = ImportSummary), ApiErrors),
    security(("bearer" = []))
)]
pub async fn import_messages(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: Bytes,
) -> Result<Json<ImportSummary>, ApiError> {
    actor.require(perm::ORG_MANAGE, None)?;
    state
        .services
        .audit(
            Some(&actor),
            "messages.import",
            "messages".into(),
            Some(serde_json::json!({ "bytes": body.len() })),
        )
        .await?;
    let store = state.services.store.clone();
    let by = actor.user_id;
    // Its own task: a client that gives up does not stop the import halfway.
    let task = tokio::spawn(async move {
        crate::search::import::import(store, std::io::Cursor::new(body), Some(by), None).await
    });
    let (summary, position) = task
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the import failed",
            )
        })?
        .map_err(DomainError::from)?;
    // Best effort: answer once the index has caught up, so the messages are searchable.
    state
        .search
        .wait_for(position, std::time::Duration::from_secs(10))
        .await;
    Ok(Json(summary))
}

fn parse_time(field: &str, raw: &Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // A `+` that was not percent-encoded arrives as a space.
    let parsed = raw
        .parse::<Timestamp>()
        .or_else(|e| raw.replace(' ', "+").parse::<Timestamp>().map_err(|_| e));
    parsed
        .map(|t| Some(t.as_millisecond()))
        .map_err(|e| {
            ApiError::bad_query(format!(
                "{field}: {raw:?} is not an ISO 8601 time with an offset (2025-03-01T09:00:00+08:00): {e}"
            ))
        })
}

/// The request's filters and page; the scope is set by the caller.
fn request_from(q: &SearchQuery, me: UserId) -> Result<SearchRequest, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=concord_search::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_query("limit must be 1 to 100"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > concord_search::MAX_OFFSET {
        return Err(ApiError::bad_query("offset must be at most 10000"));
    }
    let mut request = SearchRequest::new(
        q.q.clone().unwrap_or_default(),
        ChannelScope::Only(Vec::new()),
    );
    request.sender_id = q.sender_id;
    request.from_ms = parse_time("from", &q.from)?;
    request.to_ms = parse_time("to", &q.to)?;
    request.has_file = q.has_file.unwrap_or(false);
    request.kind = match q.kind.unwrap_or_default() {
        SearchKind::Message => KindFilter::Messages,
        SearchKind::File => KindFilter::Files,
        SearchKind::All => KindFilter::All,
    };
    request.in_thread = q.in_thread.unwrap_or(false);
    request.mentions = q.mentions_me.unwrap_or(false).then_some(me.0);
    request.sort = match q.sort.unwrap_or_default() {
        SearchSort::Relevance => SortOrder::Relevance,
        SearchSort::Newest => SortOrder::Newest,
        SearchSort::Oldest => SortOrder::Oldest,
    };
    request.offset = offset;
    request.limit = limit;
    Ok(request)
}

/// Channels the search may look in: one channel the caller may read (404 otherwise), or all
/// they may read. "Mentions me" looks only in member channels (`@channel` reaches members).
async fn readable_channels(
    state: &AppState,
    actor: &Actor,
    q: &SearchQuery,
) -> Result<Vec<i64>, ApiError> {
    let store = &state.services.store;
    if let Some(id) = q.channel_id {
        let channel = store
            .channel(ChannelId(id))
            .await
            .map_err(DomainError::from)?
            .ok_or(DomainError::NotFound("channel"))?;
        let membership = store
            .membership(channel.id, actor.user_id)
            .await
            .map_err(DomainError::from)?;
        authorize_channel(
            actor,
            ChannelAction::ReadHistory,
            &channel,
            membership.as_ref(),
        )?;
        if q.mentions_me.unwrap_or(false) && membership.is_none() {
            return Ok(Vec::new());
        }
        return Ok(vec![id]);
    }
    let (member_of, _) = store
        .membership_snapshot(actor.user_id)
        .await
        .map_err(DomainError::from)?;
    let mut ids: BTreeSet<i64> = member_of.into_iter().map(|c| c.0).collect();
    if !q.mentions_me.unwrap_or(false) && actor.can(perm::CHANNEL_BROWSE, None) {
        let mut after = 0;
        loop {
            let page = store
                .public_channels(after, 1_000)
                .await
                .map_err(DomainError::from)?;
            let Some(last) = page.last() else { break };
            after = last.id.0;
            ids.extend(
                page.iter()
                    .filter(|c| c.kind == ChannelKind::Public)
                    .map(|c| c.id.0),
            );
        }
    }
    Ok(ids.into_iter().collect())
}

/// Runs the search on a blocking thread and loads the messages and files as they are now (hits
/// whose message or file is gone or deleted meanwhile are left out).
async fn run(state: &AppState, request: SearchRequest) -> Result<SearchPage, ApiError> {
    let index = state.search.index().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "search is not enabled on this server",
        )
    })?;
    let (offset, limit) = (request.offset, request.limit);
    let results = tokio::task::spawn_blocking(move || index.search(&request))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "search failed",
            )
        })?
        .map_err(search_error)?;
    let mut hits = Vec::with_capacity(results.hits.len());
    for hit in results.hits {
        let snippet: Vec<SnippetPart> = hit
            .snippet
            .into_iter()
            .map(|s| SnippetPart {
                text: s.text,
                highlighted: s.highlighted,
            })
            .collect();
        let snippet_source = match hit.snippet_source {
            SnippetSource::Body => "body",
            SnippetSource::Files => "files",
            SnippetSource::FileName => "file_name",
            SnippetSource::FileText => "file_text",
        }
        .to_string();
        if hit.kind == HitKind::File {
            let Some(file_id) = hit.file_id else { continue };
            let Some(file) = state
                .services
                .store
                .file(FileId(file_id))
                .await
                .map_err(DomainError::from)?
            else {
                continue;
            };
            let file = state.services.with_effective_flag(file);
            hits.push(SearchHit {
                kind: SearchHitKind::File,
                message_id: None,
                file_id: Some(file.id),
                channel_id: file.channel_id,
                sender_id: file.created_by,
                created_at: file.created_at,
                thread_root_id: None,
                score: hit.score,
                snippet,
                snippet_source,
                message: None,
                file: Some(file),
            });
            continue;
        }
        let Some(message) = state
            .services
            .store
            .message(MessageId(hit.message_id))
            .await
            .map_err(DomainError::from)?
        else {
            continue;
        };
        if message.deleted {
            continue;
        }
        hits.push(SearchHit {
            kind: SearchHitKind::Message,
            message_id: Some(message.id),
            file_id: None,
            channel_id: message.channel_id,
            sender_id: message.sender_id,
            created_at: message.created_at,
            thread_root_id: message.thread_root_id,
            score: hit.score,
            snippet,
            snippet_source,
            message: Some(message),
            file: None,
        });
    }
    let next = offset + limit;
    Ok(SearchPage {
        total: results.total,
        hits,
        next_offset: (next < results.total && next <= concord_search::MAX_OFFSET).then_some(next),
    })
}

fn search_error(e: SearchError) -> ApiError {
    match e {
        SearchError::EmptyQuery => ApiError::bad_query("give words to search for (q) or a filter"),
        SearchError::QueryTooLong { .. }
        | SearchError::TooManyTerms { .. }
        | SearchError::InvalidRequest(_) => ApiError::bad_query(e.to_string()),
        other => {
            tracing::error!(error = %other, "search failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "search is unavailable right now",
            )
        }
    }
}
