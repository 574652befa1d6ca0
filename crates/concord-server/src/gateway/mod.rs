//! The WebSocket gateway: `/api/v1/ws`.
//!
//! A connection authenticates before the upgrade, registers with the [`hub::Hub`], replays
//! what the client missed since the position it gives (`?since=`), then streams live events
//! and accepts `send`, `typing` and `ping` frames. Frames queued for a connection are written
//! in bursts and flushed once, so a busy connection costs one write per burst, not per event.

pub mod hub;

use crate::error::ApiError;
use crate::extract::Auth;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use concord_core::authz::{AppAccess, authorize_app_access};
use concord_core::service::SendInput;
use concord_core::{Actor, Audience, DomainError};
use concord_proto::{ClientFrame, Event, Position, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use hub::{ConnControl, Outbound, serialize};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use utoipa::IntoParams;

/// Frames waiting for one connection before it counts as too slow and is closed.
const OUTBOUND_QUEUE: usize = 4096;
/// Frames written before a flush.
const WRITE_BURST: usize = 256;
const PING_EVERY: Duration = Duration::from_secs(30);
/// A connection that sends nothing (not even a pong) for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Most users one connection may follow the presence of.
const MAX_PRESENCE_WATCH: usize = 1000;
/// Events replayed per store query.
const REPLAY_PAGE: i64 = 1000;
/// Replays longer than this are refused in favour of a refetch.
const MAX_REPLAY: i64 = 100_000;
/// What app tokens need to send and type over the stream (reading it needs `messages:read`,
/// declared with the endpoint in `routes/app_scopes.rs`).
const FRAME_WRITE: AppAccess = AppAccess::Scope(concord_core::scope::MESSAGES_WRITE);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsParams {
    /// The last event position the client saw; the server replays what came after it.
    pub since: Option<Position>,
    /// Bearer token, for clients that cannot set headers on a WebSocket (browsers).
    pub token: Option<String>,
}

/// Opens the event stream.
#[utoipa::path(
    get,
    path = "/ws",
    tag = "realtime",
    params(WsParams),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol. Server frames are `ServerFrame`, client frames `ClientFrame`."),
        crate::error::ApiErrors,
    ),
    security(("bearer" = []))
)]
pub async fn ws_handler(
    State(state): State<AppState>,
    auth: Option<Auth>,
    params: Result<Query<WsParams>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = match params {
        Ok(p) => p,
        // Without credentials the answer is 401 whatever else is wrong.
        Err(_) if auth.is_none() => return Err(DomainError::Unauthenticated.into()),
        Err(e) => return Err(ApiError::bad_query(e.body_text())),
    };
    let actor = match auth {
        Some(Auth(actor)) => actor,
        None => match params.token.as_deref() {
            Some(token) => {
                let actor = state.services.authenticate(token).await?;
                let access = crate::routes::app_scopes::access_for(&Method::GET, "/api/v1/ws");
                authorize_app_access(&actor, access)?;
                actor
            }
            None => return Err(DomainError::Unauthenticated.into()),
        },
    };
    let ws = ws.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "not_a_websocket",
            e.body_text(),
        )
    })?;
    let permit = state.connections.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "the server is at its connection limit",
        )
    })?;
    let max = state.config.limits.max_ws_message_bytes;
    Ok(ws
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .on_upgrade(move |socket| async move {
            run_connection(socket, state, actor, params.since).await;
            drop(permit);
        }))
}

async fn run_connection(socket: WebSocket, state: AppState, actor: Actor, since: Option<Position>) {
    let (mut sink, mut stream) = socket.split();
    let conn = state.hub.next_conn_id();
    let control = Arc::new(ConnControl::default());
    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(OUTBOUND_QUEUE);

    // Register with a snapshot no older than what the hub has routed.
    let mut boundary = None;
    for _ in 0..20 {
        let snapshot = match state
            .services
            .store
            .membership_snapshot(actor.user_id)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "membership snapshot failed");
                break;
            }
        };
        if let Ok(b) = state
            .hub
            .register(
                conn,
                actor.user_id,
                snapshot,
                out_tx.clone(),
                control.clone(),
            )
            .await
        {
            boundary = Some(b);
            break;
        }
    }
    let Some(boundary) = boundary else {
        let _ = sink
            .send(close(1011, "could not start the event stream; retry"))
            .await;
        return;
    };

    // Replay what the client missed, then say hello.
    let replay = replay(&state, &actor, since, boundary, &mut sink).await;
    let replayed = match replay {
        Ok(Some(n)) => n,
        Ok(None) => {
            let _ = sink
                .feed(Message::Text(serialize(&ServerFrame::ResyncRequired {
                    position: boundary,
                })))
                .await;
            0
        }
        Err(()) => {
            state.hub.unregister(conn);
            return;
        }
    };
    let hello = ServerFrame::Hello {
        user_id: actor.user_id,
        position: boundary,
        replayed,
    };
    if sink.send(Message::Text(serialize(&hello))).await.is_err() {
        state.hub.unregister(conn);
        return;
    }

    // Writer: drains the queue in bursts, pings, and closes when asked.
    let mut shutdown = state.shutdown.clone();
    let writer_control = control.clone();
    let mut writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                frame = out_rx.recv() => {
                    let Some(Outbound::Text(first)) = frame else { break };
                    if sink.feed(Message::Text(first)).await.is_err() { return; }
                    let mut burst = 1;
                    while burst < WRITE_BURST {
                        match out_rx.try_recv() {
                            Ok(Outbound::Text(t)) => {
                                if sink.feed(Message::Text(t)).await.is_err() { return; }
                                burst += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    if sink.flush().await.is_err() { return; }
                }
                _ = writer_control.notify.notified() => {
                    let code = writer_control.close_code.load(Ordering::SeqCst);
                    let reason = match code {
                        hub::CLOSE_SLOW_CONSUMER => "too far behind; reconnect with since",
                        hub::CLOSE_RESYNC => "server lost track; reconnect with since",
                        hub::CLOSE_ACCOUNT_DISABLED => "the account was suspended or deactivated",
                        1000 => "bye",
                        _ => "closing",
                    };
                    let _ = sink.send(close(if code == 0 { 1000 } else { code }, reason)).await;
                    return;
                }
                _ = shutdown.changed() => {
                    let _ = sink.send(close(1001, "server shutting down")).await;
                    return;
                }
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() { return; }
                }
            }
        }
    });

    // Reader: client frames, one at a time (a send is acknowledged before the next is read).
    let mut last_typing: Option<Instant> = None;
    let mut writer_done = false;
    loop {
        // The writer ends when the connection must close (shutdown, slow consumer): stop reading.
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            _ = &mut writer => {
                writer_done = true;
                break;
            }
        };
        let msg = match next {
            Err(_) => {
                control.close(1000);
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                // Oversized or malformed frames end up here.
                let (code, reason) = if e.to_string().contains("too long")
                    || e.to_string().contains("Space limit")
                {
                    (1009, "message too big")
                } else {
                    (1002, "protocol error")
                };
                control.close_code.store(code, Ordering::SeqCst);
                control.notify.notify_one();
                tracing::debug!(error = %e, reason, "websocket read failed");
                break;
            }
            Ok(Some(Ok(m))) => m,
        };
        let reply = match msg {
            Message::Text(text) => {
                handle_frame(&state, &actor, conn, &text, &mut last_typing).await
            }
            Message::Binary(_) => Some(error_frame(
                None,
                "unsupported_frame",
                "frames are JSON text",
            )),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => None,
        };
        if let Some(reply) = reply
            && out_tx
                .send(Outbound::Text(serialize(&reply)))
                .await
                .is_err()
        {
            break;
        }
        if control.close_code.load(Ordering::SeqCst) != 0 {
            break;
        }
    }
    state.hub.unregister(conn);
    drop(out_tx);
    if control.close_code.load(Ordering::SeqCst) == 0 {
        control.close(1000);
    }
    if !writer_done {
        let _ = writer.await;
    }
}

/// Sends events in `(since, boundary]` that the user may see. `Ok(None)`: too far behind.
async fn replay(
    state: &AppState,
    actor: &Actor,
    since: Option<Position>,
    boundary: Position,
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
) -> Result<Option<i64>, ()> {
    let Some(since) = since else {
        return Ok(Some(0));
    };
    let pruned = state
        .services
        .store
        .pruned_through()
        .await
        .map_err(|_| ())?;
    if since < pruned || since > boundary || boundary - since > MAX_REPLAY {
        return Ok(None);
    }
    let mut after = since;
    let mut replayed = 0;
    loop {
        let page = state
            .services
            .store
            .events_for_user(actor.user_id, after, boundary, REPLAY_PAGE)
            .await
            .map_err(|_| ())?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for stored in page {
            let frame = ServerFrame::Event {
                position: Some(stored.position),
                at: Some(stored.at),
                event: stored.event,
            };
            sink.feed(Message::Text(serialize(&frame)))
                .await
                .map_err(|_| ())?;
            replayed += 1;
        }
        sink.flush().await.map_err(|_| ())?;
    }
    Ok(Some(replayed))
}

async fn handle_frame(
    state: &AppState,
    actor: &Actor,
    conn: hub::ConnId,
    text: &str,
    last_typing: &mut Option<Instant>,
) -> Option<ServerFrame> {
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let code = if e.is_data() && e.to_string().contains("unknown variant") {
                "unknown_type"
            } else {
                "invalid_frame"
            };
            return Some(error_frame(None, code, &e.to_string()));
        }
    };
    match frame {
        ClientFrame::Ping => Some(ServerFrame::Pong),
        ClientFrame::PresenceSubscribe { mut user_ids } => {
            if user_ids.len() > MAX_PRESENCE_WATCH {
                return Some(error_frame(
                    None,
                    "invalid_frame",
                    "follow at most 1000 users' presence",
                ));
            }
            user_ids.sort();
            user_ids.dedup();
            state.hub.watch_presence(conn, user_ids);
            None
        }
        ClientFrame::Typing {
            channel_id,
            thread_root_id,
        } => {
            if last_typing.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
                return None;
            }
            *last_typing = Some(Instant::now());
            if let Err(e) = authorize_app_access(actor, FRAME_WRITE) {
                return Some(domain_error_frame(None, e));
            }
            match state.services.authorize_typing(actor, channel_id).await {
                Ok(()) => {
                    let event = Event::Typing {
                        channel_id,
                        user_id: actor.user_id,
                        thread_root_id,
                    };
                    state
                        .hub
                        .ephemeral(Audience::Channel(channel_id), Some(actor.user_id), event);
                    None
                }
                Err(e) => Some(domain_error_frame(None, e)),
            }
        }
        ClientFrame::Send {
            request_id,
            channel_id,
            text,
            client_msg_id,
            thread_root_id,
        } => {
            if let Err(e) = authorize_app_access(actor, FRAME_WRITE) {
                return Some(domain_error_frame(request_id, e));
            }
            if let Err(wait) = state.limiters.check_send(actor.user_id) {
                return Some(error_frame(
                    request_id,
                    "rate_limited",
                    &format!("too many messages; retry in {} s", wait.as_secs().max(1)),
                ));
            }
            let input = SendInput {
                text,
                client_msg_id,
                thread_root_id,
                file_ids: Vec::new(),
            };
            match state.services.send_message(actor, channel_id, input).await {
                Ok((message, _)) => {
                    metrics::counter!("concord_messages_sent_total").increment(1);
                    Some(ServerFrame::Ack {
                        request_id,
                        message,
                    })
                }
                Err(e) => Some(domain_error_frame(request_id, e)),
            }
        }
    }
}

fn domain_error_frame(request_id: Option<String>, e: DomainError) -> ServerFrame {
    let api = ApiError::from(e);
    ServerFrame::Error {
        request_id,
        code: api.code.to_string(),
        message: api.message,
    }
}

fn error_frame(request_id: Option<String>, code: &str, message: &str) -> ServerFrame {
    ServerFrame::Error {
        request_id,
        code: code.to_string(),
        message: message.to_string(),
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
