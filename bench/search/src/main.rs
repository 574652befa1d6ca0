//! `concord-search-bench`: builds a synthetic Chinese/English chat corpus of `--messages`
//! messages, indexes it with `concord-search` the way a bulk import would, and reports the
//! indexing rate, index bytes per message and query latency (p50/p95) for single-word,
//! two-word, phrase and filtered queries in both languages. Prints one JSON line, then a
//! human summary.

mod corpus;
mod latency;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use concord_search::{
    ChannelScope, IndexOp, SearchIndex, SearchIndexOptions, SearchRequest, SortOrder,
};
use serde_json::json;

use crate::corpus::CorpusGenerator;
use crate::latency::{CorpusShape, PhraseSource, measure, round};

#[derive(Parser, Debug)]
#[command(about = "Index a synthetic chat corpus and measure indexing rate and query latency")]
struct Args {
    /// Messages to generate and index.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Channels the messages spread over (busy channels get more).
    #[arg(long, default_value_t = 2_000)]
    channels: u64,
    /// Seed of the corpus and query generators.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Index directory (default: a temporary directory under /var/tmp, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Indexing threads of the writer.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Writer heap, in MiB, shared by the indexing threads.
    #[arg(long, default_value_t = 1_024)]
    heap_mib: usize,
    /// Messages per `apply` call (one commit each).
    #[arg(long, default_value_t = 250_000)]
    batch: u64,
    /// Let segments merge in the background while indexing, instead of one merge at the end.
    #[arg(long)]
    background_merges: bool,
    /// Skip the final merge into one segment.
    #[arg(long)]
    no_final_merge: bool,
    /// Timed queries per workload and language.
    #[arg(long, default_value_t = 300)]
    queries: usize,
}

/// CPU seconds (user + system) this process has used; /proc counts in USER_HZ, 100 on Linux.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    ticks(11).unwrap_or(0.0) / 100.0 + ticks(12).unwrap_or(0.0) / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    format!("{cpu}, {cores} cores")
}

/// Creation time of the newest message in the index.
fn newest_message_ms(index: &SearchIndex) -> anyhow::Result<i64> {
    let mut request = SearchRequest::new("", ChannelScope::All);
    request.from_ms = Some(i64::MIN);
    request.sort = SortOrder::Newest;
    request.limit = 1;
    let results = index.search(&request)?;
    let newest = results.hits.first().context("the index is empty")?;
    Ok(newest.created_at_ms)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temporary = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("concord-search-bench")
                .tempdir_in("/var/tmp")?,
        ),
    };
    let directory = match (&args.dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temporary)) => temporary.path().to_path_buf(),
        (None, None) => unreachable!("a temporary directory is made when no --dir is given"),
    };
    let options = SearchIndexOptions {
        writer_heap_bytes: args.heap_mib * 1024 * 1024,
        indexing_threads: args.threads,
        background_merges: args.background_merges,
        ..SearchIndexOptions::default()
    };
    let index = SearchIndex::open(&directory, &options)
        .with_context(|| format!("opening {}", directory.display()))?;
    // An index left by an earlier run with the same --messages and --seed is queried again
    // without re-indexing: latency can then be re-measured when the machine is quieter.
    let existing = index.message_count();
    let reuse = existing > 0;
    anyhow::ensure!(
        !reuse || existing == args.messages,
        "{} holds {existing} messages: pass --messages {existing} to query it again, or give an \
         empty --dir",
        directory.display()
    );
    concord_search::warm_up();

    eprintln!(
        "indexing {} messages into {}",
        args.messages,
        directory.display()
    );
    let mut generator = CorpusGenerator::new(args.seed, args.channels);
    let mut indexing_seconds = 0.0;
    let mut indexing_cpu = 0.0;
    let mut body_bytes = 0u64;
    let started = Instant::now();
    let mut indexed = if reuse { args.messages } else { 0 };
    let mut position = 0i64;
    while indexed < args.messages {
        let count = args.batch.min(args.messages - indexed);
        let ops: Vec<IndexOp> = (0..count)
            .map(|_| {
                let message = generator.next_message();
                body_bytes += message.body.len() as u64;
                IndexOp::Upsert(message)
            })
            .collect();
        position += 1;
        let (cpu_before, batch_started) = (cpu_seconds(), Instant::now());
        index.apply(&ops, position)?;
        indexing_seconds += batch_started.elapsed().as_secs_f64();
        indexing_cpu += cpu_seconds() - cpu_before;
        indexed += count;
        eprintln!(
            "  {indexed} messages, {:.0} msg/s so far",
            indexed as f64 / indexing_seconds
        );
    }
    let segments_before_merge = index.segment_count();
    let merge_started = Instant::now();
    if !args.no_final_merge && !reuse {
        eprintln!("merging {segments_before_merge} segments");
        index.merge_segments()?;
    }
    let merge_seconds = merge_started.elapsed().as_secs_f64();
    let generation_and_indexing = started.elapsed().as_secs_f64();
    let index_bytes = index.size_bytes()?;

    eprintln!("running queries");
    let shape = CorpusShape {
        channels: args.channels,
        end_ms: if reuse {
            newest_message_ms(&index)?
        } else {
            generator.clock_ms()
        },
    };
    // The same seed regenerates the first messages indexed: phrases are taken from them.
    let mut replay = CorpusGenerator::new(args.seed, args.channels);
    let sample: Vec<String> = (0..args.messages.min(20_000))
        .map(|_| replay.next_message().body)
        .collect();
    let phrases = PhraseSource::from_bodies(sample.iter().map(String::as_str));
    // A reused index was not generated by this run: estimate message size from the sample.
    let mean_body_bytes = if reuse {
        sample.iter().map(String::len).sum::<usize>() as f64 / sample.len().max(1) as f64
    } else {
        body_bytes as f64 / args.messages as f64
    };
    anyhow::ensure!(
        !phrases.chinese.is_empty() && !phrases.english.is_empty(),
        "too few messages to draw phrase queries from"
    );
    let reports = measure(
        &index,
        generator.vocabulary(),
        &phrases,
        shape,
        args.queries,
        args.seed,
    )?;

    let rate = args.messages as f64 / indexing_seconds;
    let mut queries = serde_json::Map::new();
    for report in &reports {
        queries.insert(report.name.clone(), report.to_json());
    }
    let summary = json!({
        "bench": "concord-search",
        "reused_index": reuse,
        "machine": machine(),
        "messages": args.messages,
        "channels": args.channels,
        "seed": args.seed,
        "indexing_threads": args.threads,
        "heap_mib": args.heap_mib,
        "batch": args.batch,
        "background_merges": args.background_merges,
        "indexing_seconds": round(indexing_seconds),
        "indexing_messages_per_second": rate.round(),
        "indexing_cpu_cores_busy": round(indexing_cpu / indexing_seconds),
        "merge_seconds": round(merge_seconds),
        "messages_per_second_including_merge": (args.messages as f64 / (indexing_seconds + merge_seconds)).round(),
        "wall_seconds_generation_indexing_merge": round(generation_and_indexing),
        "segments_before_merge": segments_before_merge,
        "segments": index.segment_count(),
        "index_bytes": index_bytes,
        "index_bytes_per_message": round(index_bytes as f64 / args.messages as f64),
        "body_bytes_per_message": round(mean_body_bytes),
        "peak_rss_mib": peak_rss_mib().round(),
        "queries": queries,
    });
    println!("{summary}");

    println!();
    println!("concord-search benchmark on {}", machine());
    if reuse {
        println!(
            "queried an existing index of {} messages (no indexing figures)",
            args.messages
        );
    } else {
        println!(
            "indexed {} messages in {:.1} s: {:.0} messages/s ({:.2} cores busy); final merge \
             {:.1} s",
            args.messages,
            indexing_seconds,
            rate,
            indexing_cpu / indexing_seconds,
            merge_seconds
        );
    }
    println!(
        "index: {:.1} MiB, {:.0} bytes/message (message text averages {:.0} bytes), {} segment(s)",
        index_bytes as f64 / 1_048_576.0,
        index_bytes as f64 / args.messages as f64,
        mean_body_bytes,
        index.segment_count()
    );
    println!(
        "{:<14} {:>8} {:>8} {:>8} {:>10} {:>10} {:>9} {:>11} {:>7}",
        "queries",
        "p50 ms",
        "p95 ms",
        "max ms",
        "cpu p50",
        "cpu p95",
        "wait ms",
        "mean hits",
        "no hit"
    );
    for report in &reports {
        println!(
            "{:<14} {:>8.2} {:>8.2} {:>8.2} {:>10.2} {:>10.2} {:>9.2} {:>11.0} {:>6.0}%",
            report.name,
            report.p50_ms,
            report.p95_ms,
            report.max_ms,
            report.cpu_p50_ms,
            report.cpu_p95_ms,
            report.mean_wait_ms,
            report.mean_total_hits,
            report.no_hit_share * 100.0
        );
    }
    Ok(())
}
