//! Query workloads and their latency: single words, two words, phrases and filtered searches,
//! in Chinese and English, each timed one at a time through `SearchIndex::search` (parsing,
//! matching, counting, top-20 and snippets included).

use std::time::Instant;

use concord_search::{ChannelScope, SearchIndex, SearchRequest};
use serde_json::json;

use crate::corpus::{CORPUS_START_MS, Rng, Vocabularies, Vocabulary};

/// Words at the top of the frequency lists (的, 了, the, to...) are left out of queries.
const SKIPPED_TOP_WORDS: usize = 20;
/// Channels a filtered query may read.
const SCOPE_CHANNELS: u64 = 50;

/// One kind of query.
#[derive(Clone, Copy, Debug)]
pub enum Workload {
    Single,
    TwoWords,
    Phrase,
    Filtered,
}

impl Workload {
    pub const ALL: [Workload; 4] = [
        Workload::Single,
        Workload::TwoWords,
        Workload::Phrase,
        Workload::Filtered,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::Single => "single",
            Workload::TwoWords => "two_words",
            Workload::Phrase => "phrase",
            Workload::Filtered => "filtered",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Language {
    Chinese,
    English,
}

impl Language {
    fn name(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::English => "en",
        }
    }

    fn vocabulary(self, vocabularies: &Vocabularies) -> &Vocabulary {
        match self {
            Language::Chinese => &vocabularies.chinese,
            Language::English => &vocabularies.english,
        }
    }
}

/// What the corpus spans, so filters can be drawn inside it.
#[derive(Clone, Copy, Debug)]
pub struct CorpusShape {
    pub channels: u64,
    pub end_ms: i64,
}

/// Texts of indexed messages, for phrase queries that occur in the corpus (two random words
/// are rarely adjacent anywhere, and a search that finds nothing measures little).
pub struct PhraseSource {
    /// Runs of at least four CJK characters.
    pub chinese: Vec<Vec<char>>,
    /// Runs of at least two ASCII words.
    pub english: Vec<Vec<String>>,
}

impl PhraseSource {
    /// Collects phrase material from `bodies`.
    pub fn from_bodies<'a>(bodies: impl Iterator<Item = &'a str>) -> Self {
        let mut source = PhraseSource {
            chinese: Vec::new(),
            english: Vec::new(),
        };
        for body in bodies {
            let cjk: Vec<char> = body
                .chars()
                .take_while(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .collect();
            if cjk.len() >= 4 {
                source.chinese.push(cjk);
            }
            let words: Vec<String> = body
                .split_whitespace()
                .map(|word| {
                    word.trim_matches(|c: char| !c.is_ascii_alphabetic())
                        .to_string()
                })
                .take_while(|word| !word.is_empty() && word.is_ascii())
                .collect();
            if words.len() >= 2 {
                source.english.push(words);
            }
        }
        source
    }

    /// Four consecutive characters, or two consecutive words, of some indexed message.
    fn draw(&self, language: Language, rng: &mut Rng) -> String {
        match language {
            Language::Chinese => {
                let run = &self.chinese[rng.below(self.chinese.len() as u64) as usize];
                let start = rng.below((run.len() - 3) as u64) as usize;
                run[start..start + 4].iter().collect()
            }
            Language::English => {
                let run = &self.english[rng.below(self.english.len() as u64) as usize];
                let start = rng.below((run.len() - 1) as u64) as usize;
                run[start..start + 2].join(" ")
            }
        }
    }
}

/// A request of `workload` in `language`, drawn from the corpus's own distribution.
fn draw_request(
    workload: Workload,
    language: Language,
    vocabularies: &Vocabularies,
    phrases: &PhraseSource,
    shape: CorpusShape,
    rng: &mut Rng,
) -> SearchRequest {
    let vocabulary = language.vocabulary(vocabularies);
    let text = match workload {
        Workload::Single | Workload::Filtered => vocabulary
            .draw_from_rank(rng, SKIPPED_TOP_WORDS)
            .to_string(),
        Workload::TwoWords => format!(
            "{} {}",
            vocabulary.draw_from_rank(rng, SKIPPED_TOP_WORDS),
            vocabulary.draw_from_rank(rng, SKIPPED_TOP_WORDS)
        ),
        Workload::Phrase => format!("\"{}\"", phrases.draw(language, rng)),
    };
    let mut request = SearchRequest::new(text, ChannelScope::All);
    if let Workload::Filtered = workload {
        let channels = (0..SCOPE_CHANNELS)
            .map(|_| 1 + rng.below(shape.channels) as i64)
            .collect();
        request.scope = ChannelScope::Only(channels);
        // A window of 30% of the corpus's time span.
        let span = (shape.end_ms - CORPUS_START_MS).max(1);
        let window = span * 3 / 10;
        let from = CORPUS_START_MS + rng.below((span - window).max(1) as u64) as i64;
        request.from_ms = Some(from);
        request.to_ms = Some(from + window);
    }
    request
}

/// Latency figures of one workload.
#[derive(Clone, Debug)]
pub struct LatencyReport {
    pub name: String,
    pub queries: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// On-CPU time per query, p50 and p95.
    pub cpu_p50_ms: f64,
    pub cpu_p95_ms: f64,
    /// Mean wall-clock time per query not spent on a CPU (mostly waiting for a core).
    pub mean_wait_ms: f64,
    pub mean_total_hits: f64,
    pub no_hit_share: f64,
}

impl LatencyReport {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "queries": self.queries,
            "p50_ms": round(self.p50_ms),
            "p95_ms": round(self.p95_ms),
            "max_ms": round(self.max_ms),
            "cpu_p50_ms": round(self.cpu_p50_ms),
            "cpu_p95_ms": round(self.cpu_p95_ms),
            "mean_wait_ms": round(self.mean_wait_ms),
            "mean_total_hits": self.mean_total_hits.round(),
            "no_hit_share": round(self.no_hit_share),
        })
    }
}

/// Nanoseconds this thread has spent on a CPU. On a machine shared with other work, wall-clock
/// latency includes waiting for a core; on-CPU time is what the query itself costs.
fn thread_cpu_ns() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs `queries` requests of each workload and language, after a warm-up round.
pub fn measure(
    index: &SearchIndex,
    vocabularies: &Vocabularies,
    phrases: &PhraseSource,
    shape: CorpusShape,
    queries: usize,
    seed: u64,
) -> anyhow::Result<Vec<LatencyReport>> {
    let mut rng = Rng::new(seed ^ 0x005E_ED0F_0E11);
    // Warm-up: page in the index and the jieba dictionary before timing.
    for workload in Workload::ALL {
        for language in [Language::Chinese, Language::English] {
            for _ in 0..20 {
                index.search(&draw_request(
                    workload,
                    language,
                    vocabularies,
                    phrases,
                    shape,
                    &mut rng,
                ))?;
            }
        }
    }
    let mut reports = Vec::new();
    for workload in Workload::ALL {
        for language in [Language::Chinese, Language::English] {
            let mut timings = Vec::with_capacity(queries);
            let mut cpu_timings = Vec::with_capacity(queries);
            let mut waited_ns = 0u64;
            let mut total_hits = 0usize;
            let mut empty = 0usize;
            for _ in 0..queries {
                let request =
                    draw_request(workload, language, vocabularies, phrases, shape, &mut rng);
                let cpu_before = thread_cpu_ns();
                let started = Instant::now();
                let results = index.search(&request)?;
                let wall_ns = started.elapsed().as_nanos() as u64;
                let cpu_ns = thread_cpu_ns().saturating_sub(cpu_before);
                timings.push(wall_ns as f64 / 1e6);
                cpu_timings.push(cpu_ns as f64 / 1e6);
                waited_ns += wall_ns.saturating_sub(cpu_ns);
                total_hits += results.total;
                empty += usize::from(results.total == 0);
            }
            timings.sort_by(f64::total_cmp);
            cpu_timings.sort_by(f64::total_cmp);
            reports.push(LatencyReport {
                name: format!("{}_{}", language.name(), workload.name()),
                queries,
                p50_ms: percentile(&timings, 0.50),
                p95_ms: percentile(&timings, 0.95),
                max_ms: timings[timings.len() - 1],
                cpu_p50_ms: percentile(&cpu_timings, 0.50),
                cpu_p95_ms: percentile(&cpu_timings, 0.95),
                mean_wait_ms: waited_ns as f64 / 1e6 / queries as f64,
                mean_total_hits: total_hits as f64 / queries as f64,
                no_hit_share: empty as f64 / queries as f64,
            });
        }
    }
    Ok(reports)
}
