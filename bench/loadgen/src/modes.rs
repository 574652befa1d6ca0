//! The two scenarios: `run` (sustained open-loop sending) and `idle` (connections only).
//!
//! Both set up users and channels, connect every client (its reader starts at once, so the
//! presence frames of a connect storm are consumed), then either send on schedule through a
//! warm-up, a measurement window and a bounded drain, or hold the connections idle while the
//! server's memory is sampled. Every phase has a time bound; the tool always stops by itself.

use crate::client::{self, ClientState, Pace, Shared, Target, WsSink};
use crate::procfs::{self, CpuSnapshot};
use crate::report::{IdleReport, Memory, RunReport};
use crate::scrape;
use crate::setup::{self, Account, Api};
use crate::stats::{Percentiles, Stats, Timeline, get};
use anyhow::{Context, bail};
use concord_proto::ChannelId;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Options every mode shares.
#[derive(Clone, Debug)]
pub struct Common {
    pub target: Target,
    pub admin_user: String,
    pub admin_password: String,
    pub server_pid: Option<u32>,
    pub source_ips: usize,
    pub prefix: String,
    pub password: String,
    pub setup_concurrency: usize,
    pub connect_concurrency: usize,
    pub token_cache: Option<std::path::PathBuf>,
}

/// The layout of clients: client `c` logs in as user `c % users`, who is a member of
/// channel `(c % users) % channels`.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub clients: usize,
    pub users: usize,
    pub channels: usize,
}

impl Layout {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.clients == 0 || self.users == 0 || self.channels == 0 {
            bail!("--clients, --users and --channels must be at least 1");
        }
        if self.users > self.clients || self.channels > self.users {
            bail!("need channels <= users <= clients");
        }
        if !self.users.is_multiple_of(self.channels) {
            bail!("--users must be a multiple of --channels (equal channel sizes)");
        }
        Ok(())
    }

    fn channel_of(&self, client: usize) -> usize {
        (client % self.users) % self.channels
    }

    /// Connected clients in each channel.
    fn fanout(&self) -> Vec<u64> {
        let mut f = vec![0u64; self.channels];
        for c in 0..self.clients {
            f[self.channel_of(c)] += 1;
        }
        f
    }
}

struct Prepared {
    accounts: Vec<Account>,
    channel_ids: Vec<ChannelId>,
}

async fn prepare(common: &Common, layout: Layout) -> anyhow::Result<Prepared> {
    let api = Api::new(&common.target.http_base())?;
    let admin = api
        .login(&common.admin_user, &common.admin_password)
        .await
        .context("logging in as the admin")?;
    let accounts = setup::ensure_users(
        &api,
        &admin.token,
        &common.prefix,
        &common.password,
        layout.users,
        common.setup_concurrency,
        common.token_cache.as_deref(),
    )
    .await?;
    let channel_ids = setup::ensure_channels(
        &api,
        &admin.token,
        &common.prefix,
        &accounts,
        layout.channels,
    )
    .await?;
    Ok(Prepared {
        accounts,
        channel_ids,
    })
}

/// Only creates users and channels (and fills the token cache).
pub async fn setup_only(common: &Common, users: usize, channels: usize) -> anyhow::Result<()> {
    let layout = Layout {
        clients: users,
        users,
        channels,
    };
    layout.validate()?;
    prepare(common, layout).await?;
    Ok(())
}

/// A connected client whose reader runs.
struct Connected {
    client: usize,
    sink: WsSink,
    state: Arc<ClientState>,
    reader: JoinHandle<()>,
}

/// Connects every client, a bounded number at a time, each with a few attempts.
async fn connect_all(
    common: &Common,
    layout: Layout,
    accounts: &[Account],
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<(Vec<Connected>, u64)> {
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(common.connect_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for c in 0..layout.clients {
        let limit = limit.clone();
        let target = common.target.clone();
        let token = accounts[c % layout.users].token.clone();
        let source = client::source_ip(c, common.source_ips);
        let shared = shared.clone();
        let stop = stop.clone();
        let channel_index = layout.channel_of(c);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let mut last = None;
            for attempt in 0..3u64 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                }
                match client::connect(&target, source, &token).await {
                    Ok(ws) => {
                        let (sink, stream) = ws.split();
                        let state = Arc::new(ClientState::default());
                        let reader = tokio::spawn(client::read_loop(
                            stream,
                            shared,
                            c,
                            channel_index,
                            state.clone(),
                            stop,
                        ));
                        return Ok(Connected {
                            client: c,
                            sink,
                            state,
                            reader,
                        });
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
        });
    }
    let mut out = Vec::with_capacity(layout.clients);
    let mut failed = 0u64;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.context("connect task panicked")? {
            Ok(c) => out.push(c),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
        let done = out.len() + failed as usize;
        if done.is_multiple_of(1000) || done == layout.clients {
            eprintln!(
                "connect: {}/{} connected, {failed} failed ({:.1} s)",
                out.len(),
                layout.clients,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(e) = first_error {
        eprintln!("connect: first failure: {e:#}");
    }
    if out.is_empty() {
        bail!("no client could connect");
    }
    out.sort_by_key(|c| c.client);
    Ok((out, failed))
}

fn memory(server_pid: Option<u32>) -> Memory {
    Memory {
        server_rss_kib: server_pid.and_then(|p| procfs::rss_kib(Some(p))),
        loadgen_rss_kib: procfs::rss_kib(None),
    }
}

/// Options of `run`.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub layout: Layout,
    pub senders: usize,
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub drain: Duration,
    pub text_bytes: usize,
    pub max_in_flight: u64,
}

/// Sustained sending at a target rate; returns the figures.
pub async fn run(common: &Common, opts: RunOptions) -> anyhow::Result<RunReport> {
    let layout = opts.layout;
    layout.validate()?;
    if opts.senders == 0 || opts.senders > layout.clients || opts.rate <= 0.0 {
        bail!("need 1 <= --senders <= --clients and --rate > 0");
    }
    let prepared = prepare(common, layout).await?;
    let shared = Arc::new(Shared {
        stats: Stats::new(),
        timeline: std::sync::OnceLock::new(),
        run_id: run_id(),
        fanout: layout.fanout(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let before = memory(common.server_pid);
    let connect_started = Instant::now();
    let (connected, connect_failures) =
        connect_all(common, layout, &prepared.accounts, &shared, &stop_rx).await?;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    // Let the connect storm's presence frames drain before measuring anything.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connected_mem = memory(common.server_pid);

    let timeline = Timeline::new(Instant::now(), opts.warmup, opts.duration);
    shared
        .timeline
        .set(timeline)
        .map_err(|_| anyhow::anyhow!("timeline set twice"))?;
    let interval_us = (opts.senders as f64 * 1e6 / opts.rate).max(1.0) as u64;
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    let mut idle_sinks = Vec::new();
    for (i, c) in connected.into_iter().enumerate() {
        readers.push(c.reader);
        if i >= opts.senders {
            idle_sinks.push(c.sink);
            continue;
        }
        let pace = Pace {
            phase_us: interval_us * i as u64 / opts.senders as u64,
            interval_us,
            max_in_flight: opts.max_in_flight,
        };
        let channel = prepared.channel_ids[layout.channel_of(c.client)];
        senders.push(tokio::spawn(client::send_loop(
            c.sink,
            shared.clone(),
            c.client,
            channel,
            c.state,
            pace,
            opts.text_bytes,
        )));
    }
    eprintln!(
        "run: {} senders at {:.0} msg/s total ({:.2} msg/s each), warm-up {} s, measuring {} s",
        senders.len(),
        opts.rate,
        1e6 / interval_us as f64,
        opts.warmup.as_secs(),
        opts.duration.as_secs()
    );

    let stats = &shared.stats;
    let mut cpu_start = None;
    let mut cpu_end = None;
    let (mut metrics_start, mut metrics_end) = (None, None);
    let mut last = (get(&stats.acked_total), get(&stats.deliveries_total));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut mem_peak = connected_mem.server_rss_kib;
    loop {
        tick.tick().await;
        let now = timeline.now_us();
        if cpu_start.is_none() && now >= timeline.measure_from_us {
            cpu_start = Some(CpuSnapshot::take(common.server_pid));
            metrics_start = scrape::sample(&common.target.http_base()).await;
        }
        if cpu_end.is_none() && now >= timeline.measure_to_us {
            cpu_end = Some(CpuSnapshot::take(common.server_pid));
            metrics_end = scrape::sample(&common.target.http_base()).await;
        }
        let cur = (get(&stats.acked_total), get(&stats.deliveries_total));
        let rss = common.server_pid.and_then(|p| procfs::rss_kib(Some(p)));
        mem_peak = mem_peak.max(rss);
        eprintln!(
            "t={:>4.0}s accepted {:>7}/s deliveries {:>8}/s errors {} late {} skipped {}{}",
            now as f64 / 1e6,
            cur.0 - last.0,
            cur.1 - last.1,
            stats.errors_total(),
            get(&stats.late_sends),
            get(&stats.skipped_sends),
            rss.map(|r| format!(" server RSS {} MiB", r / 1024))
                .unwrap_or_default(),
        );
        last = cur;
        if cpu_end.is_some() {
            break;
        }
    }
    // Drain: wait (bounded) for acks and deliveries of messages sent in the window.
    let drain_until = Instant::now() + opts.drain;
    while Instant::now() < drain_until {
        let acked_all = get(&stats.acked_scheduled_in_window) + stats.errors_total()
            >= get(&stats.sent_in_window);
        let delivered_all =
            get(&stats.deliveries_scheduled_in_window) >= get(&stats.expected_deliveries);
        if acked_all && delivered_all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = memory(common.server_pid);
    let _ = stop_tx.send(true);
    for s in senders {
        let _ = s.await;
    }
    for r in readers {
        let _ = r.await;
    }
    drop(idle_sinks);

    let (Some(cpu_start), Some(cpu_end)) = (cpu_start, cpu_end) else {
        bail!("the measurement window did not complete");
    };
    let window = timeline.window_secs();
    let clients = layout.clients as u64 - connect_failures;
    Ok(RunReport {
        clients: layout.clients,
        connected: clients,
        users: layout.users,
        channels: layout.channels,
        senders: opts.senders,
        target_rate: opts.rate,
        window_secs: window,
        connect_secs,
        sent_in_window: get(&stats.sent_in_window),
        unanswered: get(&stats.sent_in_window)
            .saturating_sub(get(&stats.acked_scheduled_in_window) + stats.errors_total()),
        accepted_per_sec: get(&stats.acked_in_window) as f64 / window,
        deliveries_per_sec: get(&stats.deliveries_in_window) as f64 / window,
        expected_deliveries: get(&stats.expected_deliveries),
        delivered: get(&stats.deliveries_scheduled_in_window),
        late_sends: get(&stats.late_sends),
        skipped_sends: get(&stats.skipped_sends),
        errors: stats
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        disconnects: get(&stats.disconnects),
        delivery_latency: Percentiles::of(&stats.delivery_latency.merged()),
        ack_latency: Percentiles::of(&stats.ack_latency.merged()),
        server_view: match (metrics_start, metrics_end) {
            (Some(a), Some(b)) => Some(a.until(&b, window)),
            _ => None,
        },
        cpu: cpu_start.until(&cpu_end),
        before,
        connected_mem,
        after,
        server_rss_peak_kib: mem_peak,
    })
}

/// Options of `idle`.
#[derive(Clone, Copy, Debug)]
pub struct IdleOptions {
    pub layout: Layout,
    pub hold: Duration,
}

/// Opens idle connections and measures the server's memory per connection.
pub async fn idle(common: &Common, opts: IdleOptions) -> anyhow::Result<IdleReport> {
    opts.layout.validate()?;
    let prepared = prepare(common, opts.layout).await?;
    let shared = Arc::new(Shared {
        stats: Stats::new(),
        timeline: std::sync::OnceLock::new(),
        run_id: run_id(),
        fanout: opts.layout.fanout(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    // Settle after setup so its garbage is not counted against the connections.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = memory(common.server_pid);
    let cpu_before = CpuSnapshot::take(common.server_pid);
    let started = Instant::now();
    let (connected, failures) =
        connect_all(common, opts.layout, &prepared.accounts, &shared, &stop_rx).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    let cpu_connect = cpu_before.until(&CpuSnapshot::take(common.server_pid));
    eprintln!(
        "idle: holding {} connections for {} s",
        connected.len(),
        opts.hold.as_secs()
    );
    let hold_cpu = CpuSnapshot::take(common.server_pid);
    let hold_until = Instant::now() + opts.hold;
    let mut samples = Vec::new();
    while Instant::now() < hold_until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(r) = common.server_pid.and_then(|p| procfs::rss_kib(Some(p))) {
            samples.push(r);
        }
    }
    let cpu_idle = hold_cpu.until(&CpuSnapshot::take(common.server_pid));
    let held = memory(common.server_pid);
    let open = connected.len() as u64 - get(&shared.stats.disconnects).min(connected.len() as u64);
    let _ = stop_tx.send(true);
    for c in connected {
        let _ = c.reader.await;
        drop(c.sink);
        drop(c.state);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let closed = memory(common.server_pid);
    let per_conn = match (before.server_rss_kib, held.server_rss_kib) {
        (Some(b), Some(h)) if open > 0 => Some(h.saturating_sub(b) as f64 * 1024.0 / open as f64),
        _ => None,
    };
    Ok(IdleReport {
        clients: opts.layout.clients,
        users: opts.layout.users,
        channels: opts.layout.channels,
        connect_failures: failures,
        open_at_end: open,
        connect_secs,
        hold_secs: opts.hold.as_secs_f64(),
        before,
        held,
        after_close: closed,
        server_bytes_per_connection: per_conn,
        loadgen_bytes_per_connection: match (before.loadgen_rss_kib, held.loadgen_rss_kib) {
            (Some(b), Some(h)) if open > 0 => {
                Some(h.saturating_sub(b) as f64 * 1024.0 / open as f64)
            }
            _ => None,
        },
        cpu_connecting: cpu_connect,
        cpu_idle,
        frames_received: get(&shared.stats.other_frames),
    })
}

/// A run id from the clock, so keys never repeat across runs against one server.
fn run_id() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_millis() & 0xffff_ffff) as u32)
        .unwrap_or(1)
}
