//! Behaviour of the search index through its public API, on small Chinese and English corpora:
//! matching and ranking, the query language, filters and paging, snippets, writes and recovery.

mod agreement;
mod files;
mod filters;
mod language;
mod snippets;
mod support;
mod writes;
