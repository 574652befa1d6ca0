//! What a scenario measured, printed for people and as one JSON line for scripts.

use crate::procfs::CpuUse;
use crate::scrape::ServerView;
use crate::stats::Percentiles;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Memory of the server and of the load generator at one moment.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Memory {
    pub server_rss_kib: Option<u64>,
    pub loadgen_rss_kib: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct RunReport {
    pub clients: usize,
    pub connected: u64,
    pub users: usize,
    pub channels: usize,
    pub senders: usize,
    pub target_rate: f64,
    pub window_secs: f64,
    pub connect_secs: f64,
    pub sent_in_window: u64,
    /// Sends scheduled in the window that were neither acked nor refused by the drain's end.
    pub unanswered: u64,
    /// Acks received in the window, per second.
    pub accepted_per_sec: f64,
    /// `message.created` frames received in the window by all clients, per second.
    pub deliveries_per_sec: f64,
    /// Deliveries owed for messages scheduled in the window and acked...
    pub expected_deliveries: u64,
    /// ...and how many of those arrived before the drain ended.
    pub delivered: u64,
    pub late_sends: u64,
    pub skipped_sends: u64,
    pub errors: BTreeMap<String, u64>,
    pub disconnects: u64,
    /// Scheduled send to `message.created` at each receiver.
    pub delivery_latency: Percentiles,
    /// Scheduled send to ack at the sender.
    pub ack_latency: Percentiles,
    pub cpu: CpuUse,
    /// Group commits in the window, from the server's `/metrics`.
    pub server_view: Option<ServerView>,
    pub before: Memory,
    pub connected_mem: Memory,
    pub after: Memory,
    pub server_rss_peak_kib: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct IdleReport {
    pub clients: usize,
    pub users: usize,
    pub channels: usize,
    pub connect_failures: u64,
    pub open_at_end: u64,
    pub connect_secs: f64,
    pub hold_secs: f64,
    pub before: Memory,
    pub held: Memory,
    pub after_close: Memory,
    pub server_bytes_per_connection: Option<f64>,
    pub loadgen_bytes_per_connection: Option<f64>,
    pub cpu_connecting: CpuUse,
    pub cpu_idle: CpuUse,
    pub frames_received: u64,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "n/a".into())
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

fn cores(v: Option<f64>) -> String {
    v.map(|c| format!("{c:.2} cores"))
        .unwrap_or_else(|| "n/a".into())
}

fn cpu_line(c: &CpuUse) -> String {
    let mut s = format!(
        "server {}, load generator {}, whole machine {} busy",
        cores(c.server_cores),
        cores(c.loadgen_cores),
        c.machine_busy
            .map(|b| format!("{:.0}%", b * 100.0))
            .unwrap_or_else(|| "n/a".into())
    );
    if !c.server_threads.is_empty() {
        let threads: Vec<String> = c
            .server_threads
            .iter()
            .map(|(name, tid, cores)| format!("{name}/{tid} {cores:.2}"))
            .collect();
        let _ = write!(
            s,
            "\n                    server threads: {}",
            threads.join(", ")
        );
    }
    s
}

fn lat(p: &Percentiles) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
        p.p50_ms, p.p99_ms, p.p999_ms, p.max_ms, p.count
    )
}

impl RunReport {
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "== run: {} clients ({} connected) as {} users in {} channels, {} senders, target {:.0} msg/s, {:.0} s window",
            self.clients,
            self.connected,
            self.users,
            self.channels,
            self.senders,
            self.target_rate,
            self.window_secs
        );
        let _ = writeln!(s, "connect time        {:.1} s", self.connect_secs);
        let _ = writeln!(
            s,
            "accepted            {:.0} messages/s ({} sent in window, {} unanswered at the end)",
            self.accepted_per_sec, self.sent_in_window, self.unanswered
        );
        let _ = writeln!(
            s,
            "fan-out deliveries  {:.0} deliveries/s ({} of {} owed arrived)",
            self.deliveries_per_sec, self.delivered, self.expected_deliveries
        );
        let _ = writeln!(s, "delivery latency    {}", lat(&self.delivery_latency));
        let _ = writeln!(s, "ack latency         {}", lat(&self.ack_latency));
        let _ = writeln!(
            s,
            "sends late >10 ms   {} (skipped for backlog: {})",
            self.late_sends, self.skipped_sends
        );
        let _ = writeln!(
            s,
            "errors              {:?}, disconnects {}",
            self.errors, self.disconnects
        );
        let _ = writeln!(s, "CPU in window       {}", cpu_line(&self.cpu));
        if let Some(v) = &self.server_view {
            let _ = writeln!(
                s,
                "group commits       {:.0}/s, mean batch {:.1} writes, mean {:.2} ms each, writer busy {:.0}%",
                v.commits_per_sec,
                v.mean_batch,
                v.mean_commit_ms,
                v.writer_busy * 100.0
            );
        }
        let _ = writeln!(
            s,
            "server RSS          {} before connect, {} connected, {} after, peak {}",
            mib(self.before.server_rss_kib),
            mib(self.connected_mem.server_rss_kib),
            mib(self.after.server_rss_kib),
            mib(self.server_rss_peak_kib)
        );
        if let (Some(b), Some(c)) = (
            self.before.server_rss_kib,
            self.connected_mem.server_rss_kib,
        ) {
            let _ = writeln!(
                s,
                "server RSS/conn     {:.1} KiB (connected, before sending)",
                c.saturating_sub(b) as f64 / self.connected.max(1) as f64
            );
        }
        let _ = writeln!(s, "load generator RSS  {}", mib(self.after.loadgen_rss_kib));
        s
    }
}

impl IdleReport {
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "== idle: {} connections as {} users in {} channels, held {:.0} s",
            self.clients, self.users, self.channels, self.hold_secs
        );
        let _ = writeln!(
            s,
            "connected           {} open at end, {} failed to connect, in {:.1} s",
            self.open_at_end, self.connect_failures, self.connect_secs
        );
        let _ = writeln!(
            s,
            "server RSS          {} before, {} held, {} after closing",
            mib(self.before.server_rss_kib),
            mib(self.held.server_rss_kib),
            mib(self.after_close.server_rss_kib)
        );
        let _ = writeln!(
            s,
            "server RSS/conn     {}",
            opt(self
                .server_bytes_per_connection
                .map(|b| format!("{:.1} KiB", b / 1024.0)))
        );
        let _ = writeln!(
            s,
            "loadgen RSS/conn    {}",
            opt(self
                .loadgen_bytes_per_connection
                .map(|b| format!("{:.1} KiB", b / 1024.0)))
        );
        let _ = writeln!(s, "CPU connecting      {}", cpu_line(&self.cpu_connecting));
        let _ = writeln!(s, "CPU idle            {}", cpu_line(&self.cpu_idle));
        let _ = writeln!(
            s,
            "frames received     {} (presence and pings)",
            self.frames_received
        );
        s
    }
}
