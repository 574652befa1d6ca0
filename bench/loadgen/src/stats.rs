//! Counters and latency histograms shared by all client tasks, and the measurement window.
//!
//! Every timestamp is microseconds since one `Instant` taken at start ([`Timeline`]), so a
//! send time embedded in a message can be compared with the receive time at any client of
//! this process. Counters are atomics; histograms are sharded behind mutexes and fed in
//! small local batches ([`LatencyBuf`]) so 100,000 samples a second do not contend.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Histogram shards; a client uses shard `client % SHARDS`.
const SHARDS: usize = 16;
/// Samples a client buffers before taking a shard's lock.
const LOCAL_BATCH: usize = 128;
/// Largest latency recorded (larger ones are clamped): 10 minutes, in microseconds.
const MAX_LATENCY_US: u64 = 600_000_000;

/// The clock every client shares, and the window in which figures are counted.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    base: Instant,
    /// Measurement starts here (after the warm-up)...
    pub measure_from_us: u64,
    /// ...and ends here (sends stop; deliveries may still arrive during the drain).
    pub measure_to_us: u64,
}

impl Timeline {
    pub fn new(base: Instant, warmup: Duration, duration: Duration) -> Self {
        let from = warmup.as_micros() as u64;
        Self {
            base,
            measure_from_us: from,
            measure_to_us: from + duration.as_micros() as u64,
        }
    }

    pub fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }

    pub fn at(&self, us: u64) -> Instant {
        self.base + Duration::from_micros(us)
    }

    pub fn in_window(&self, us: u64) -> bool {
        (self.measure_from_us..self.measure_to_us).contains(&us)
    }

    pub fn window_secs(&self) -> f64 {
        (self.measure_to_us - self.measure_from_us) as f64 / 1e6
    }
}

/// A histogram split into shards that are merged for the report.
pub struct ShardedHistogram {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl ShardedHistogram {
    fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(
                    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                        .expect("valid histogram bounds"),
                )
            })
            .collect();
        Self { shards }
    }

    fn record_all(&self, shard: usize, samples: &[u64]) {
        let mut h = self.shards[shard % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for &s in samples {
            h.saturating_record(s.clamp(1, MAX_LATENCY_US));
        }
    }

    /// All shards merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut out =
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds");
        for s in &self.shards {
            let h = s.lock().unwrap_or_else(|e| e.into_inner());
            let _ = out.add(&*h);
        }
        out
    }
}

/// Latency samples a client collects before handing them to a shard.
pub struct LatencyBuf {
    shard: usize,
    samples: Vec<u64>,
}

impl LatencyBuf {
    pub fn new(shard: usize) -> Self {
        Self {
            shard,
            samples: Vec::new(),
        }
    }

    pub fn push(&mut self, hist: &ShardedHistogram, us: u64) {
        self.samples.push(us);
        if self.samples.len() >= LOCAL_BATCH {
            self.flush(hist);
        }
    }

    pub fn flush(&mut self, hist: &ShardedHistogram) {
        if !self.samples.is_empty() {
            hist.record_all(self.shard, &self.samples);
            self.samples.clear();
        }
    }
}

/// Everything the clients count.
pub struct Stats {
    /// Send frames written to a socket (all phases).
    pub sent: AtomicU64,
    /// Send frames written whose scheduled time lies inside the window.
    pub sent_in_window: AtomicU64,
    /// Sends written more than [`LATE_SEND_US`] after their scheduled time.
    pub late_sends: AtomicU64,
    /// Scheduled sends not written because the connection's backlog was full.
    pub skipped_sends: AtomicU64,
    /// Acks received during the measurement window.
    pub acked_in_window: AtomicU64,
    /// Acks received, all phases.
    pub acked_total: AtomicU64,
    /// Acks for messages scheduled inside the window (whenever they arrived).
    pub acked_scheduled_in_window: AtomicU64,
    /// `message.created` frames received during the window, by all clients.
    pub deliveries_in_window: AtomicU64,
    pub deliveries_total: AtomicU64,
    /// Deliveries of messages scheduled inside the window (whenever they arrived).
    pub deliveries_scheduled_in_window: AtomicU64,
    /// Deliveries expected for acked messages scheduled inside the window.
    pub expected_deliveries: AtomicU64,
    /// Other frames (presence, hello of reconnects...).
    pub other_frames: AtomicU64,
    /// Connections the server closed, or that failed, before the end.
    pub disconnects: AtomicU64,
    /// Error frames by code.
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// Scheduled send to `message.created` at each receiving client.
    pub delivery_latency: ShardedHistogram,
    /// Scheduled send to ack at the sender.
    pub ack_latency: ShardedHistogram,
}

/// A send this much behind schedule counts as late.
pub const LATE_SEND_US: u64 = 10_000;

impl Stats {
    pub fn new() -> Self {
        Self {
            sent: AtomicU64::new(0),
            sent_in_window: AtomicU64::new(0),
            late_sends: AtomicU64::new(0),
            skipped_sends: AtomicU64::new(0),
            acked_in_window: AtomicU64::new(0),
            acked_total: AtomicU64::new(0),
            acked_scheduled_in_window: AtomicU64::new(0),
            deliveries_in_window: AtomicU64::new(0),
            deliveries_total: AtomicU64::new(0),
            deliveries_scheduled_in_window: AtomicU64::new(0),
            expected_deliveries: AtomicU64::new(0),
            other_frames: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            delivery_latency: ShardedHistogram::new(),
            ack_latency: ShardedHistogram::new(),
        }
    }

    pub fn error(&self, code: &str) {
        let mut e = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *e.entry(code.to_string()).or_default() += 1;
    }

    pub fn errors_total(&self) -> u64 {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

/// Shorthand for a relaxed increment.
pub fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Shorthand for a relaxed read.
pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Percentiles of a histogram in milliseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_samples_reach_the_histogram() {
        let stats = Stats::new();
        let mut buf = LatencyBuf::new(3);
        for i in 1..=1000 {
            buf.push(&stats.delivery_latency, i * 1000);
        }
        buf.flush(&stats.delivery_latency);
        let p = Percentiles::of(&stats.delivery_latency.merged());
        assert_eq!(p.count, 1000);
        assert!((p.p50_ms - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99_ms - 990.0).abs() < 2.0, "{p:?}");
    }

    #[test]
    fn window_is_half_open() {
        let t = Timeline::new(
            Instant::now(),
            Duration::from_secs(1),
            Duration::from_secs(2),
        );
        assert!(!t.in_window(999_999));
        assert!(t.in_window(1_000_000));
        assert!(!t.in_window(3_000_000));
        assert_eq!(t.window_secs(), 2.0);
    }
}
