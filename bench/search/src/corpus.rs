//! A deterministic synthetic chat corpus: Chinese, English and mixed messages with realistic
//! lengths, channels, senders, threads, mentions and files.
//!
//! Vocabulary comes from two built-in frequency-ordered lists (`data/`): the 5,000 most frequent
//! Han words of jieba's dictionary and the 3,000 most frequent words of the Rust book's prose.
//! Words are drawn with Zipf weights by rank, so a few words are everywhere and most are rare,
//! as in real text. Lengths: most messages are short chat lines, a tail is long.

use concord_search::MessageDoc;

const ZH_WORDS: &str = include_str!("../data/zh_words.txt");
const EN_WORDS: &str = include_str!("../data/en_words.txt");

/// 2024-01-01T00:00:00Z: where the corpus's clock starts.
pub const CORPUS_START_MS: i64 = 1_704_067_200_000;
/// Mean gap between two messages: 10M messages span about a year.
const MEAN_GAP_MS: u64 = 3_000;
pub const SENDERS: u64 = 5_000;

/// SplitMix64: tiny, fast, and the same sequence on every platform and version, which a
/// library RNG does not promise.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Words with cumulative Zipf weights, for drawing by frequency.
pub struct Vocabulary {
    pub words: Vec<&'static str>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn zipf(list: &'static str, exponent: f64) -> Self {
        let words: Vec<&'static str> = list.lines().filter(|line| !line.is_empty()).collect();
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                // The +2 flattens the very top so the first word is not a third of all text.
                total += 1.0 / (rank as f64 + 2.0).powf(exponent);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    /// A word drawn by frequency.
    pub fn draw(&self, rng: &mut Rng) -> &'static str {
        self.draw_from_rank(rng, 0)
    }

    /// A word drawn by frequency among those of rank `min_rank` or lower frequency: queries
    /// skip the function words at the top, which nobody searches for.
    pub fn draw_from_rank(&self, rng: &mut Rng, min_rank: usize) -> &'static str {
        let total = self.cumulative[self.cumulative.len() - 1];
        let floor = if min_rank == 0 {
            0.0
        } else {
            self.cumulative[min_rank - 1]
        };
        let target = floor + rng.unit() * (total - floor);
        let index = self.cumulative.partition_point(|&weight| weight < target);
        self.words[index.min(self.words.len() - 1)]
    }
}

/// Both vocabularies.
pub struct Vocabularies {
    pub chinese: Vocabulary,
    pub english: Vocabulary,
}

impl Vocabularies {
    pub fn load() -> Self {
        Vocabularies {
            chinese: Vocabulary::zipf(ZH_WORDS, 1.0),
            english: Vocabulary::zipf(EN_WORDS, 1.0),
        }
    }
}

/// Words in a message: 80% short chat lines, 17% a few sentences, 3% long posts.
fn message_length(rng: &mut Rng) -> usize {
    let roll = rng.unit();
    if roll < 0.80 {
        2 + rng.below(10) as usize
    } else if roll < 0.97 {
        12 + rng.below(30) as usize
    } else {
        40 + rng.below(160) as usize
    }
}

fn chinese_text(vocabulary: &Vocabularies, rng: &mut Rng, words: usize, out: &mut String) {
    for index in 0..words {
        out.push_str(vocabulary.chinese.draw(rng));
        if index + 1 < words && rng.chance(0.12) {
            out.push(if rng.chance(0.8) { '，' } else { '。' });
        }
    }
    if rng.chance(0.5) {
        out.push(['。', '？', '！'][rng.below(3) as usize]);
    }
}

fn english_text(vocabulary: &Vocabularies, rng: &mut Rng, words: usize, out: &mut String) {
    for index in 0..words {
        let word = vocabulary.english.draw(rng);
        if index == 0 && rng.chance(0.6) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(word);
        }
        if index + 1 < words {
            out.push_str(if rng.chance(0.08) { ", " } else { " " });
        }
    }
    if rng.chance(0.5) {
        out.push(['.', '?', '!'][rng.below(3) as usize]);
    }
}

/// Chinese with English words and numbers dropped in, as in `明天的meeting改到3点`.
fn mixed_text(vocabulary: &Vocabularies, rng: &mut Rng, words: usize, out: &mut String) {
    for _ in 0..words {
        let roll = rng.unit();
        if roll < 0.25 {
            out.push_str(vocabulary.english.draw(rng));
        } else if roll < 0.30 {
            out.push_str(&rng.below(100).to_string());
        } else {
            out.push_str(vocabulary.chinese.draw(rng));
        }
    }
}

/// The generator: yields messages with increasing ids and times.
pub struct CorpusGenerator {
    rng: Rng,
    vocabulary: Vocabularies,
    channels: u64,
    next_id: i64,
    clock_ms: i64,
}

impl CorpusGenerator {
    pub fn new(seed: u64, channels: u64) -> Self {
        CorpusGenerator {
            rng: Rng::new(seed),
            vocabulary: Vocabularies::load(),
            channels: channels.max(1),
            next_id: 1,
            clock_ms: CORPUS_START_MS,
        }
    }

    /// Busy channels get most messages: channel rank drawn with a Zipf-like skew.
    fn channel(&mut self) -> i64 {
        let skewed = self.rng.unit().powf(2.0);
        1 + (skewed * self.channels as f64) as i64
    }

    pub fn next_message(&mut self) -> MessageDoc {
        let rng = &mut self.rng;
        let id = self.next_id;
        self.next_id += 1;
        self.clock_ms += rng.below(2 * MEAN_GAP_MS) as i64;
        let words = message_length(rng);
        let mut body = String::with_capacity(words * 6);
        let language = rng.unit();
        if language < 0.50 {
            chinese_text(&self.vocabulary, rng, words, &mut body);
        } else if language < 0.80 {
            english_text(&self.vocabulary, rng, words, &mut body);
        } else {
            mixed_text(&self.vocabulary, rng, words, &mut body);
        }
        let thread_root_id = (id > 100 && rng.chance(0.10)).then(|| id - 1 - rng.below(100) as i64);
        let mentions = if rng.chance(0.05) {
            vec![1 + rng.below(SENDERS) as i64]
        } else {
            Vec::new()
        };
        let file_names = if rng.chance(0.03) {
            vec![format!(
                "{}{}_v{}.pdf",
                self.vocabulary.chinese.draw(rng),
                self.vocabulary.english.draw(rng),
                rng.below(9) + 1
            )]
        } else {
            Vec::new()
        };
        let sender_id = 1 + self.rng.below(SENDERS) as i64;
        MessageDoc {
            message_id: id,
            channel_id: self.channel(),
            sender_id,
            created_at_ms: self.clock_ms,
            thread_root_id,
            has_replies: false,
            mentions,
            mentions_channel: false,
            body,
            file_names,
            file_text: String::new(),
        }
    }

    /// The vocabularies, for drawing queries from the same distribution.
    pub fn vocabulary(&self) -> &Vocabularies {
        &self.vocabulary
    }

    /// Time of the last message generated.
    pub fn clock_ms(&self) -> i64 {
        self.clock_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let mut first = CorpusGenerator::new(7, 100);
        let mut second = CorpusGenerator::new(7, 100);
        for _ in 0..1_000 {
            assert_eq!(first.next_message(), second.next_message());
        }
    }

    #[test]
    fn lengths_are_mostly_short_with_a_long_tail() {
        let mut generator = CorpusGenerator::new(1, 100);
        let lengths: Vec<usize> = (0..10_000)
            .map(|_| generator.next_message().body.chars().count())
            .collect();
        let short = lengths.iter().filter(|&&length| length <= 40).count();
        let long = lengths.iter().filter(|&&length| length > 200).count();
        assert!(short > 6_000, "short: {short}");
        assert!(long > 50 && long < 1_000, "long: {long}");
    }

    #[test]
    fn frequent_words_are_drawn_far_more_often_than_rare_ones() {
        let vocabulary = Vocabularies::load();
        let mut rng = Rng::new(3);
        let draws: Vec<&str> = (0..20_000)
            .map(|_| vocabulary.chinese.draw(&mut rng))
            .collect();
        let top = draws
            .iter()
            .filter(|&&word| word == vocabulary.chinese.words[0])
            .count();
        let rare = draws
            .iter()
            .filter(|&&word| word == vocabulary.chinese.words[4_000])
            .count();
        assert!(top > 100 * rare.max(1) / 2, "top {top}, rare {rare}");
        let skipped = (0..1_000)
            .map(|_| vocabulary.english.draw_from_rank(&mut rng, 20))
            .filter(|word| vocabulary.english.words[..20].contains(word))
            .count();
        assert_eq!(skipped, 0);
    }
}
