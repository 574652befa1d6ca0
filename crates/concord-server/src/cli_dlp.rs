//! `concord dlp scan INPUT.jsonl [--output PRED.jsonl]`: runs the DLP detectors over a JSON
//! Lines file of messages (`{"id": ..., "text": ...}` per line, as in the labelled set
//! `shared/data/dlp/dev.jsonl`; other keys are ignored) and writes one prediction line per
//! message, `{"id": ..., "entities": [{"type", "start", "end"}]}` with code-point offsets,
//! which is what `tools/dlp_score.py` reads. Values are not written out.

use anyhow::{Context, bail};
use clap::Subcommand;
use concord_core::dlp::DlpScanner;
use concord_server::Config;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DlpCommand {
    /// Scan a JSON Lines file of messages and write the predictions (stdout by default).
    Scan {
        /// Input: one JSON object per line with `id` and `text`.
        input: PathBuf,
        /// Where to write the predictions; standard output when omitted.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also run the configured `dlp.custom_patterns` (their names appear as types).
        #[arg(long)]
        with_custom: bool,
    },
}

pub fn run(command: DlpCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        DlpCommand::Scan {
            input,
            output,
            with_custom,
        } => {
            let patterns = if with_custom {
                config.dlp.custom_patterns.as_slice()
            } else {
                &[]
            };
            let scanner = DlpScanner::new(patterns).map_err(|e| anyhow::anyhow!("{e}"))?;
            let file = std::fs::File::open(&input)
                .with_context(|| format!("opening {}", input.display()))?;
            let out: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let n = scan(&scanner, BufReader::new(file), BufWriter::new(out), &input)?;
            if let Some(path) = output {
                eprintln!("scanned {n} messages into {}", path.display());
            }
            Ok(())
        }
    }
}

/// Writes one prediction line per input line; returns how many messages were scanned.
fn scan(
    scanner: &DlpScanner,
    input: impl BufRead,
    mut out: impl Write,
    name: &std::path::Path,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", name.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not JSON", name.display(), i + 1))?;
        let (Some(id), Some(text)) = (row.get("id"), row.get("text").and_then(Value::as_str))
        else {
            bail!(
                "{}:{}: needs \"id\" and a string \"text\"",
                name.display(),
                i + 1
            );
        };
        let entities: Vec<Value> = scanner
            .scan(text)
            .iter()
            .map(|f| json!({"type": f.kind.name(), "start": f.start, "end": f.end}))
            .collect();
        writeln!(out, "{}", json!({"id": id, "entities": entities}))?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}
