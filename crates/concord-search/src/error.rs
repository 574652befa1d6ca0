//! The crate's one error type: what a caller can get wrong (query text, request limits, ordering
//! of log positions) as named cases it can map to a 4xx, and what the index itself can fail at.

use thiserror::Error;

/// Everything that can go wrong in `concord-search`.
#[derive(Debug, Error)]
pub enum SearchError {
    /// The query text has nothing to search for and no filter narrows the search either.
    #[error("the query has no words to search for")]
    EmptyQuery,
    /// The query text is longer than we agree to parse.
    #[error("the query is too long: {chars} characters, at most {max} allowed")]
    QueryTooLong {
        /// Length of the text given, in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The query has more words, phrases and exclusions than we agree to combine.
    #[error("the query has too many terms: {terms}, at most {max} allowed")]
    TooManyTerms {
        /// Words, phrases and exclusions found.
        terms: usize,
        /// The limit.
        max: usize,
    },
    /// A request field is out of its allowed range (for example a page offset that is too deep).
    #[error("invalid search request: {0}")]
    InvalidRequest(String),
    /// `apply` was given a log position below the one the index already holds: the caller is
    /// replaying the event log out of order.
    #[error("log position went backwards: the index is at {indexed}, apply was given {given}")]
    PositionWentBackwards {
        /// Position recorded in the index.
        indexed: i64,
        /// Position passed to `apply`.
        given: i64,
    },
    /// The directory holds an index written with another schema (an older version of this crate):
    /// it has to be rebuilt.
    #[error("the index at {path} was built with a different schema; rebuild it")]
    IncompatibleIndex {
        /// Directory of the index.
        path: String,
    },
    /// The commit payload of the index is not a log position we wrote.
    #[error("the index records an unreadable log position: {0:?}")]
    CorruptPosition(String),
    /// Filesystem error around the index directory.
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    /// Error reported by tantivy (I/O, corruption, lock held by another writer...).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// Result alias for the crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;
