//! The server's own view, from its Prometheus `/metrics`: group commits (how many, how big,
//! how long) over the measurement window, to tell what limited a run.

use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Sums and counts of the metrics of interest at one moment.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    values: HashMap<String, f64>,
}

/// What the server did between two samples.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ServerView {
    pub commits_per_sec: f64,
    pub mean_batch: f64,
    pub mean_commit_ms: f64,
    /// Fraction of the window the single writer spent inside commits (1.0 = always busy).
    pub writer_busy: f64,
}

const KEYS: &[&str] = &[
    "concord_store_commit_seconds_sum",
    "concord_store_commit_seconds_count",
    "concord_store_batch_size_sum",
    "concord_store_batch_size_count",
];

/// Fetches `/metrics`; `None` if the server does not answer (the report then omits it).
pub async fn sample(base: &str) -> Option<Sample> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    Some(parse(&text))
}

fn parse(text: &str) -> Sample {
    let mut values = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name_labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = name_labels.split('{').next().unwrap_or(name_labels);
        if let (true, Ok(v)) = (KEYS.contains(&name), value.parse::<f64>()) {
            *values.entry(name.to_string()).or_insert(0.0) += v;
        }
    }
    Sample { values }
}

impl Sample {
    fn get(&self, key: &str) -> f64 {
        self.values.get(key).copied().unwrap_or(0.0)
    }

    /// The server's work from `self` to `later`, over `secs` seconds.
    pub fn until(&self, later: &Sample, secs: f64) -> ServerView {
        let d = |k: &str| later.get(k) - self.get(k);
        let commits = d("concord_store_commit_seconds_count");
        let commit_secs = d("concord_store_commit_seconds_sum");
        let batched = d("concord_store_batch_size_sum");
        let per = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        ServerView {
            commits_per_sec: per(commits, secs),
            mean_batch: per(batched, commits),
            mean_commit_ms: per(commit_secs * 1000.0, commits),
            writer_busy: per(commit_secs, secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_summaries() {
        let a = parse(
            "# TYPE x summary\nconcord_store_commit_seconds_sum{backend=\"sqlite\"} 1.5\n\
             concord_store_commit_seconds_count{backend=\"sqlite\"} 10\n\
             concord_store_batch_size_sum{backend=\"sqlite\"} 100\n\
             concord_store_batch_size_count{backend=\"sqlite\"} 10\n",
        );
        let b = parse(
            "concord_store_commit_seconds_sum{backend=\"sqlite\"} 2.5\n\
             concord_store_commit_seconds_count{backend=\"sqlite\"} 20\n\
             concord_store_batch_size_sum{backend=\"sqlite\"} 600\n\
             concord_store_batch_size_count{backend=\"sqlite\"} 20\n",
        );
        let v = a.until(&b, 2.0);
        assert_eq!(v.commits_per_sec, 5.0);
        assert_eq!(v.mean_batch, 50.0);
        assert_eq!(v.mean_commit_ms, 100.0);
        assert_eq!(v.writer_busy, 0.5);
    }
}
