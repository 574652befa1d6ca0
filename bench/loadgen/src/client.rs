//! One simulated client: a WebSocket bound to a chosen 127.0.0.x source address, a reader
//! task that counts what arrives and measures latency, and (for senders) an open-loop sender.
//!
//! The sender never waits for acks: send `k` is scheduled at `phase + k * interval` and
//! written as soon as that time comes; if the socket or the server is slow the send is late,
//! and its latency still counts from the scheduled time (no coordinated omission). The
//! scheduled time travels in `client_msg_id` and `request_id` as
//! `r<run>.<client>.<k>.<scheduled µs>`, so any receiving client can compute the latency.

use crate::stats::{LATE_SEND_US, LatencyBuf, Stats, Timeline, bump};
use anyhow::{Context, bail};
use concord_proto::{ChannelId, ClientFrame, ServerFrame};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;
pub type WsSink = SplitSink<Ws, Message>;

/// Time allowed for one TCP connect plus WebSocket handshake plus hello.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What every client of a run shares.
pub struct Shared {
    pub stats: Stats,
    /// Set when sending starts; frames before that are not ours.
    pub timeline: OnceLock<Timeline>,
    /// Distinguishes this run's messages from any earlier run's.
    pub run_id: u32,
    /// For each channel index, how many connected clients receive its messages.
    pub fanout: Vec<u64>,
}

/// Where to connect.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
}

impl Target {
    /// Parses `http://127.0.0.1:PORT`; only loopback addresses are accepted.
    pub fn parse(server: &str) -> anyhow::Result<Self> {
        let rest = server
            .strip_prefix("http://")
            .context("--server must start with http://")?;
        let hostport = rest.trim_end_matches('/');
        let hostport = hostport.replace("localhost", "127.0.0.1");
        let addr: SocketAddr = hostport
            .parse()
            .with_context(|| format!("--server {server}: expected http://127.0.0.x:PORT"))?;
        if !addr.ip().is_loopback() {
            bail!("--server {server}: only loopback addresses may be load-tested");
        }
        Ok(Self { addr })
    }

    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The `n`th source address of `k`: 127.0.0.1 to 127.0.0.k.
pub fn source_ip(n: usize, k: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + (n % k.clamp(1, 254)) as u8)
}

/// Opens a WebSocket from `source` and reads the server's first frame (hello).
pub async fn connect(target: &Target, source: Ipv4Addr, token: &str) -> anyhow::Result<Ws> {
    let attempt = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((source, 0)))?;
        let stream = socket.connect(target.addr).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{}/api/v1/ws?token={token}", target.addr);
        let request = url.into_client_request()?;
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        match ws.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerFrame>(&t) {
                Ok(ServerFrame::Hello { .. }) => Ok(ws),
                Ok(other) => bail!("expected hello, got {other:?}"),
                Err(e) => bail!("undecodable first frame: {e}"),
            },
            other => bail!("expected hello, got {other:?}"),
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .context("connect timed out")?
}

/// The parts of a server frame the reader needs; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Lite<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    event: Option<LiteEvent<'a>>,
}

#[derive(Deserialize)]
struct LiteEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    message: Option<LiteMessage<'a>>,
}

#[derive(Deserialize)]
struct LiteMessage<'a> {
    #[serde(default, borrow)]
    client_msg_id: Option<Cow<'a, str>>,
}

/// The key of send `k` of `client`, scheduled at `sched_us`.
pub fn send_key(run_id: u32, client: usize, k: u64, sched_us: u64) -> String {
    format!("r{run_id:x}.{client}.{k}.{sched_us}")
}

/// `(client, scheduled µs)` from a key of this run.
pub fn parse_key(run_id: u32, key: &str) -> Option<(usize, u64)> {
    let rest = key.strip_prefix('r')?;
    let mut parts = rest.split('.');
    let run = u32::from_str_radix(parts.next()?, 16).ok()?;
    if run != run_id {
        return None;
    }
    let client = parts.next()?.parse().ok()?;
    let _k: u64 = parts.next()?.parse().ok()?;
    let sched = parts.next()?.parse().ok()?;
    Some((client, sched))
}

/// Per-client state the reader and the sender share.
#[derive(Default)]
pub struct ClientState {
    /// Sends written and not yet acked or refused.
    pub in_flight: AtomicU64,
}

/// Reads frames until `stop` turns true or the connection ends; returns the stream.
pub async fn read_loop(
    mut stream: SplitStream<Ws>,
    shared: Arc<Shared>,
    client: usize,
    channel_index: usize,
    state: Arc<ClientState>,
    mut stop: watch::Receiver<bool>,
) {
    let stats = &shared.stats;
    let mut delivery = LatencyBuf::new(client);
    let mut acks = LatencyBuf::new(client);
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = stop.wait_for(|s| *s) => break,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                if !*stop.borrow() {
                    bump(&stats.disconnects, 1);
                }
                break;
            }
            Some(Ok(_)) => continue,
        };
        let Ok(frame) = serde_json::from_str::<Lite>(&text) else {
            stats.error("undecodable_frame");
            continue;
        };
        let Some(timeline) = shared.timeline.get() else {
            bump(&stats.other_frames, 1);
            continue;
        };
        let now = timeline.now_us();
        match frame.kind.as_ref() {
            "event" => {
                let key = frame
                    .event
                    .as_ref()
                    .filter(|e| e.kind == "message.created")
                    .and_then(|e| e.message.as_ref())
                    .and_then(|m| m.client_msg_id.as_deref())
                    .and_then(|k| parse_key(shared.run_id, k));
                let Some((_, sched)) = key else {
                    bump(&stats.other_frames, 1);
                    continue;
                };
                bump(&stats.deliveries_total, 1);
                if timeline.in_window(now) {
                    bump(&stats.deliveries_in_window, 1);
                }
                if timeline.in_window(sched) {
                    bump(&stats.deliveries_scheduled_in_window, 1);
                    delivery.push(&stats.delivery_latency, now.saturating_sub(sched));
                }
            }
            "ack" => {
                state.in_flight.fetch_sub(1, Ordering::Relaxed);
                bump(&stats.acked_total, 1);
                if timeline.in_window(now) {
                    bump(&stats.acked_in_window, 1);
                }
                let sched = frame
                    .request_id
                    .as_deref()
                    .and_then(|k| parse_key(shared.run_id, k))
                    .map(|(_, s)| s);
                if let Some(sched) = sched.filter(|s| timeline.in_window(*s)) {
                    bump(&stats.acked_scheduled_in_window, 1);
                    bump(&stats.expected_deliveries, shared.fanout[channel_index]);
                    acks.push(&stats.ack_latency, now.saturating_sub(sched));
                }
            }
            "error" => {
                if frame.request_id.is_some() {
                    state.in_flight.fetch_sub(1, Ordering::Relaxed);
                }
                stats.error(frame.code.as_deref().unwrap_or("unknown"));
            }
            _ => bump(&stats.other_frames, 1),
        }
    }
    delivery.flush(&stats.delivery_latency);
    acks.flush(&stats.ack_latency);
}

/// How one sender paces itself.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// First send, µs after the timeline's base.
    pub phase_us: u64,
    pub interval_us: u64,
    /// Sends beyond this many unacknowledged ones are skipped and counted.
    pub max_in_flight: u64,
}

/// Sends on schedule until the measurement window closes; returns the sink.
pub async fn send_loop(
    mut sink: WsSink,
    shared: Arc<Shared>,
    client: usize,
    channel: ChannelId,
    state: Arc<ClientState>,
    pace: Pace,
    text_bytes: usize,
) -> WsSink {
    let Some(timeline) = shared.timeline.get().copied() else {
        return sink;
    };
    let stats = &shared.stats;
    let padding = "x".repeat(text_bytes.saturating_sub(24));
    for k in 0u64.. {
        let sched = pace.phase_us + k * pace.interval_us.max(1);
        if sched >= timeline.measure_to_us {
            break;
        }
        tokio::time::sleep_until(timeline.at(sched).into()).await;
        if state.in_flight.load(Ordering::Relaxed) >= pace.max_in_flight {
            bump(&stats.skipped_sends, 1);
            continue;
        }
        if timeline.now_us().saturating_sub(sched) > LATE_SEND_US {
            bump(&stats.late_sends, 1);
        }
        let key = send_key(shared.run_id, client, k, sched);
        let frame = ClientFrame::Send {
            request_id: Some(key.clone()),
            channel_id: channel,
            text: format!("load {client}/{k} {padding}"),
            client_msg_id: Some(key),
            thread_root_id: None,
        };
        let json = match serde_json::to_string(&frame) {
            Ok(j) => j,
            Err(_) => break,
        };
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        if sink.send(Message::Text(json.into())).await.is_err() {
            state.in_flight.fetch_sub(1, Ordering::Relaxed);
            break;
        }
        bump(&stats.sent, 1);
        if timeline.in_window(sched) {
            bump(&stats.sent_in_window, 1);
        }
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_fit_the_limit() {
        let key = send_key(0xdead_beef, 9_999, 1_000_000, 3_600_000_000);
        assert!(key.len() <= 64, "{key}");
        assert_eq!(parse_key(0xdead_beef, &key), Some((9_999, 3_600_000_000)));
        assert_eq!(parse_key(1, &key), None);
        assert_eq!(parse_key(1, "hello"), None);
    }

    #[test]
    fn only_loopback_servers() {
        assert!(Target::parse("http://127.0.0.1:8080").is_ok());
        assert!(Target::parse("http://localhost:8080/").is_ok());
        assert!(Target::parse("http://10.0.0.1:8080").is_err());
        assert!(Target::parse("http://192.168.1.2:80").is_err());
        assert!(Target::parse("https://127.0.0.1:8080").is_err());
    }

    #[test]
    fn source_addresses_stay_in_loopback() {
        assert_eq!(source_ip(0, 4), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(source_ip(5, 4), Ipv4Addr::new(127, 0, 0, 2));
        assert!(source_ip(300, 1000).is_loopback());
    }

    #[test]
    fn lite_frames_decode() {
        let ev = r#"{"type":"event","position":5,"at":"2024-01-01T00:00:00Z","event":{"type":"message.created","message":{"id":1,"text":"a\"b","client_msg_id":"r1.2.3.4"}}}"#;
        let f: Lite = serde_json::from_str(ev).unwrap();
        let m = f.event.unwrap().message.unwrap();
        assert_eq!(m.client_msg_id.as_deref(), Some("r1.2.3.4"));
        let err = r#"{"type":"error","request_id":"r1.2.3.4","code":"rate_limited","message":"slow down"}"#;
        let f: Lite = serde_json::from_str(err).unwrap();
        assert_eq!(f.code.as_deref(), Some("rate_limited"));
        let ack = r#"{"type":"ack","request_id":"r1.2.3.4","message":{"id":1}}"#;
        let f: Lite = serde_json::from_str(ack).unwrap();
        assert_eq!(f.kind, "ack");
    }
}
