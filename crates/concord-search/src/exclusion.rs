//! A wrapper for the queries of `-exclusions` that works around a tantivy 0.27 assertion.
//!
//! tantivy evaluates a `MustNot` clause by asking its docset, for each candidate document in
//! increasing order, whether it holds that document (`seek_danger(candidate)`). The docset may
//! already stand *past* the candidate after an earlier call, which the generic `seek_danger`
//! handles but `PhraseScorer::seek_danger` treats as a broken precondition (a `debug_assert!`
//! that panics in debug builds: `-"on hold"` or `-山药` crashed every test and debug server).
//! Release builds answer correctly, so the wrapper only has to make that path go through the
//! generic implementation: it forwards everything except `seek_danger`, and never seeks
//! backwards.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader};

/// Matches what `inner` matches; only safe to probe out of order.
#[derive(Debug)]
pub(crate) struct ExclusionQuery {
    inner: Box<dyn Query>,
}

impl Clone for ExclusionQuery {
    fn clone(&self) -> Self {
        ExclusionQuery {
            inner: self.inner.box_clone(),
        }
    }
}

impl ExclusionQuery {
    pub(crate) fn new(inner: Box<dyn Query>) -> Self {
        ExclusionQuery { inner }
    }
}

impl Query for ExclusionQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ExclusionWeight {
            inner: self.inner.weight(enable_scoring)?,
        }))
    }
}

struct ExclusionWeight {
    inner: Box<dyn Weight>,
}

impl Weight for ExclusionWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ForwardOnlyScorer {
            inner: self.inner.scorer(reader, boost)?,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

/// Forwards to the inner scorer, but with the default `seek_danger` (which seeks only forward).
struct ForwardOnlyScorer {
    inner: Box<dyn Scorer>,
}

impl DocSet for ForwardOnlyScorer {
    fn advance(&mut self) -> DocId {
        self.inner.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let doc = self.inner.doc();
        if target <= doc {
            return doc;
        }
        self.inner.seek(target)
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }

    fn cost(&self) -> u64 {
        self.inner.cost()
    }
}

impl Scorer for ForwardOnlyScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
