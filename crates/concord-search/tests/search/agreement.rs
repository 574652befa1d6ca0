//! The index against a brute-force scan: on a generated corpus of Chinese text spread over
//! several segments, every query (substrings, several words, exclusions, scope and time filters)
//! must find exactly the messages whose text contains what it asks for.

use concord_search::{ChannelScope, IndexOp, MessageDoc, SearchIndex, SearchIndexOptions};

use crate::support::{message, sorted_ids};

const CHARACTERS: &[char] = &[
    '药', '店', '山', '中', '西', '会', '议', '纪', '要', '通', '讯', '时', '即', '工', '具', '的',
    '了', '我', '去', '买',
];

/// What a brute-force scan keeps for one query.
type Expectation<'a> = dyn Fn(&MessageDoc) -> bool + 'a;

/// Tiny deterministic generator (SplitMix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }

    fn text(&mut self, max_chars: u64) -> String {
        let length = 1 + self.below(max_chars);
        (0..length)
            .map(|_| CHARACTERS[self.below(CHARACTERS.len() as u64) as usize])
            .collect()
    }
}

fn corpus(rng: &mut Rng) -> Vec<MessageDoc> {
    (1..=600)
        .map(|id| message(id, id % 7, id * 10, &rng.text(12)))
        .collect()
}

/// Several commits, so queries run over several segments.
fn index_in_batches(corpus: &[MessageDoc]) -> SearchIndex {
    let index = SearchIndex::create_in_ram(&SearchIndexOptions {
        background_merges: false,
        ..SearchIndexOptions::default()
    })
    .unwrap();
    for (batch, chunk) in corpus.chunks(150).enumerate() {
        let ops: Vec<IndexOp> = chunk.iter().cloned().map(IndexOp::Upsert).collect();
        index.apply(&ops, batch as i64).unwrap();
    }
    index
}

#[test]
fn search_finds_exactly_what_a_scan_finds() {
    let mut rng = Rng(20_240_601);
    let corpus = corpus(&mut rng);
    let index = index_in_batches(&corpus);
    for round in 0..150 {
        let wanted = rng.text(3);
        let second = rng.text(2);
        let unwanted = rng.text(2);
        let channels: Vec<i64> = (0..3).map(|_| rng.below(7) as i64).collect();
        let from = rng.below(6_000) as i64;
        let to = from + rng.below(3_000) as i64;
        let (text, expect): (String, Box<Expectation<'_>>) = match round % 4 {
            0 => (
                wanted.clone(),
                Box::new(|m: &MessageDoc| m.body.contains(&wanted)),
            ),
            1 => (
                format!("{wanted} {second}"),
                Box::new(|m: &MessageDoc| m.body.contains(&wanted) && m.body.contains(&second)),
            ),
            2 => (
                format!("{wanted} -{unwanted}"),
                Box::new(|m: &MessageDoc| m.body.contains(&wanted) && !m.body.contains(&unwanted)),
            ),
            _ => (
                format!("\"{wanted}\""),
                Box::new(|m: &MessageDoc| {
                    m.body.contains(&wanted)
                        && channels.contains(&m.channel_id)
                        && (from..to).contains(&m.created_at_ms)
                }),
            ),
        };
        let mut request = crate::support::request(&text);
        if round % 4 == 3 {
            request.scope = ChannelScope::Only(channels.clone());
            request.from_ms = Some(from);
            request.to_ms = Some(to);
        }
        request.limit = 0;
        let total = index.search(&request).unwrap().total;
        let mut expected: Vec<i64> = corpus
            .iter()
            .filter(|m| expect(m))
            .map(|m| m.message_id)
            .collect();
        expected.sort_unstable();
        assert_eq!(total, expected.len(), "query {text:?} (round {round})");
        // Check the ids themselves on the first pages.
        request.limit = 100;
        let found = sorted_ids(&index.search(&request).unwrap());
        if expected.len() <= 100 {
            assert_eq!(found, expected, "query {text:?} (round {round})");
        }
    }
}
