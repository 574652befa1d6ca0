//! DLP detection quality on the labelled set `tests/data/dlp/dev.jsonl` (540 messages, a copy
//! of the project's `../shared/data/dlp`):
//! runs the scanner over every message, scores exact span matches per type the way
//! `tools/dlp_score.py` does, and asserts the bars (resident IDs and bank cards: recall >= 0.99
//! and precision >= 0.95; every other type: recall >= 0.95). Also checks that masking every
//! message leaves nothing to find. Set `DLP_PRED_OUT=path` to also write the predictions file.

use concord_core::dlp::{DlpScanner, normalize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

const TYPES: [&str; 6] = [
    "cn_resident_id",
    "cn_mobile",
    "bank_card",
    "email",
    "ip_address",
    "us_ssn",
];

fn dataset() -> Vec<Value> {
    // A copy of the project's labelled set (../shared/data/dlp), kept with the tests so a
    // clone anywhere can run them.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dlp/dev.jsonl");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the DLP labelled set is missing at {path} ({e})"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("dev.jsonl line is JSON"))
        .collect()
}

/// As the scorer: trim whitespace and invisible characters off both ends of a span.
fn trim(chars: &[char], mut s: usize, mut e: usize) -> (usize, usize) {
    let skip = |c: char| c.is_whitespace() || normalize::is_invisible(c);
    while s < e && skip(chars[s]) {
        s += 1;
    }
    while e > s && skip(chars[e - 1]) {
        e -= 1;
    }
    (s, e)
}

#[derive(Default, Debug)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

#[test]
fn dlp_labelled_set_meets_the_bars_per_type() {
    let scanner = DlpScanner::new(&[]).unwrap();
    let mut counts: BTreeMap<&str, Counts> =
        TYPES.iter().map(|t| (*t, Counts::default())).collect();
    let mut misses = Vec::new();
    let mut pred_lines = Vec::new();
    for row in dataset() {
        let id = row["id"].as_str().unwrap();
        let text = row["text"].as_str().unwrap();
        let chars: Vec<char> = text.chars().collect();
        let gold: HashSet<(String, usize, usize)> = row["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let findings = scanner.scan(text);
        let mut pred = HashSet::new();
        let mut entities = Vec::new();
        for f in &findings {
            assert!(TYPES.contains(&f.kind.name()), "unexpected type {}", f.kind);
            entities
                .push(serde_json::json!({"type": f.kind.name(), "start": f.start, "end": f.end}));
            let (s, e) = trim(&chars, f.start, f.end);
            if s < e {
                pred.insert((f.kind.name().to_string(), s, e));
            }
        }
        pred_lines.push(serde_json::json!({"id": id, "entities": entities}).to_string());
        for p in pred.difference(&gold) {
            counts.get_mut(p.0.as_str()).unwrap().fp += 1;
            let v: String = chars[p.1..p.2].iter().collect();
            misses.push(format!("{id} false positive {} {v:?}", p.0));
        }
        for g in gold.difference(&pred) {
            counts.get_mut(g.0.as_str()).unwrap().fn_ += 1;
            let v: String = chars[g.1..g.2].iter().collect();
            misses.push(format!("{id} missed {} {v:?}", g.0));
        }
        for t in gold.intersection(&pred) {
            counts.get_mut(t.0.as_str()).unwrap().tp += 1;
        }

        let (masked, _) = scanner.mask(text);
        let again = scanner.scan(&masked);
        assert!(
            again.is_empty(),
            "{id}: masked text {masked:?} still has {again:?}"
        );
    }
    if let Some(out) = std::env::var_os("DLP_PRED_OUT") {
        std::fs::write(out, pred_lines.join("\n") + "\n").unwrap();
    }
    let mut failed = Vec::new();
    for (t, c) in &counts {
        let (p, r) = (c.precision(), c.recall());
        println!(
            "{t:<16} tp {:>4} fp {:>3} fn {:>3} precision {p:.3} recall {r:.3}",
            c.tp, c.fp, c.fn_
        );
        let strict = matches!(*t, "cn_resident_id" | "bank_card");
        let (min_r, min_p) = if strict { (0.99, 0.95) } else { (0.95, 0.0) };
        if r < min_r || p < min_p {
            failed.push(format!("{t}: precision {p:.3} recall {r:.3}"));
        }
    }
    for m in &misses {
        println!("{m}");
    }
    assert!(failed.is_empty(), "bars missed: {failed:?}");
}
