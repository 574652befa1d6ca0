//! The search commands: `concord search reindex` (offline, or online through a running
//! server's admin endpoint with `--server`) and `concord import messages`.
//!
//! The offline ones open the store directly, so run them while the server is stopped (a
//! running server holds the index's lock, which `reindex` detects and refuses; on SQLite a
//! second process writing the database would also contend with the server's writer).

use super::docs::FileWork;
use super::file_text::FileTexts;
use super::indexer::{catch_up, extract_inline, rebuild};
use super::{docs::KnownRoots, open_index, server_options};
use crate::config::Config;
use anyhow::{Context, bail};
use concord_search::SearchIndexOptions;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Options for a bulk load: a big heap, two threads, merging once at the end.
fn bulk_options() -> SearchIndexOptions {
    SearchIndexOptions {
        writer_heap_bytes: 512 * 1024 * 1024,
        indexing_threads: 2,
        background_merges: false,
        ..SearchIndexOptions::default()
    }
}

/// `concord search reindex`: builds a new index from the messages table and the event log in
/// a fresh directory next to the live one, merges it, then swaps the directories.
pub async fn reindex(config: Config) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let live = config.search.index_dir(&config.data_dir);
    // Refuse while a server holds the live index.
    if live.exists() {
        let probe = live.clone();
        let opts = server_options(&config);
        let opened =
            tokio::task::spawn_blocking(move || concord_search::SearchIndex::open(&probe, &opts))
                .await?;
        match opened {
            Ok(index) => drop(index),
            Err(concord_search::SearchError::IncompatibleIndex { .. }) => {}
            Err(e) => bail!(
                "cannot take the search index at {} ({e}): a server is using it. Rebuild it \
                 online with `concord search reindex --server URL --token TOKEN` (or POST \
                 /api/v1/admin/search/reindex), or stop the server first",
                live.display()
            ),
        }
    }
    let fresh = live.with_extension("new");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).with_context(|| format!("removing {}", fresh.display()))?;
    }
    let store = crate::at_rest::open_store(&config)
        .await
        .context("opening the store")?;
    let files = crate::files::Files::open(&config.files, &config.data_dir, Some(store.clone()))
        .context("opening the file store")?;
    let texts = FileTexts::new(
        Arc::new(files),
        config.search.file_text_max_chars,
        config.search.file_text_workers,
    );
    let started = Instant::now();
    let outcome = build(store.as_ref(), &fresh, &texts).await;
    store.close().await;
    let (count, position) = outcome?;
    let old = live.with_extension("old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if live.exists() {
        std::fs::rename(&live, &old).with_context(|| format!("moving {} aside", live.display()))?;
    }
    std::fs::rename(&fresh, &live)
        .with_context(|| format!("moving {} into place", fresh.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    eprintln!(
        "reindexed {count} messages up to log position {position} in {:.1} s into {}",
        started.elapsed().as_secs_f64(),
        live.display()
    );
    Ok(())
}

async fn build(
    store: &dyn concord_core::Store,
    dir: &Path,
    texts: &FileTexts,
) -> anyhow::Result<(u64, i64)> {
    let index = Arc::new(
        open_index(dir, bulk_options())
            .await
            .map_err(anyhow::Error::msg)?,
    );
    rebuild(store, &index, Some(texts))
        .await
        .map_err(anyhow::Error::msg)?;
    let mut work = FileWork::default();
    let position = catch_up(
        store,
        &index,
        &mut KnownRoots::default(),
        Some(texts),
        &mut work,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    extract_inline(store, &index, texts, work.jobs)
        .await
        .map_err(anyhow::Error::msg)?;
    let merging = index.clone();
    tokio::task::spawn_blocking(move || merging.merge_segments()).await??;
    let count = index.message_count();
    let index = Arc::try_unwrap(index).ok();
    tokio::task::spawn_blocking(move || drop(index)).await?;
    Ok((count, position))
}

/// `concord import messages FILE.jsonl`: imports, printing progress on stderr, then brings
/// the search index up to date (if search is enabled).
pub async fn import_messages(config: Config, file: &Path) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let total_bytes = input.metadata().await.map(|m| m.len()).unwrap_or(0);
    let store = crate::at_rest::open_store(&config)
        .await
        .context("opening the store")?;
    let started = Instant::now();
    let reader = tokio::io::BufReader::with_capacity(1 << 20, input);
    let progress: super::import::Progress = Box::new(move |summary, lines| {
        let secs = started.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "read {lines} lines ({:.0} lines/s), {} channels and {} users created, {} skipped{}",
            lines as f64 / secs,
            summary.channels_created,
            summary.users_created,
            summary.skipped,
            if total_bytes > 0 {
                format!(" of a {} MiB file", total_bytes >> 20)
            } else {
                String::new()
            },
        );
    });
    let result = super::import::import(store.clone(), reader, None, Some(progress)).await;
    let summary = match result {
        Ok((summary, _)) => summary,
        Err(e) => {
            store.close().await;
            bail!("import failed: {e}");
        }
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {} messages in {secs:.1} s ({:.0} msg/s); {} skipped",
        summary.imported,
        summary.imported as f64 / secs.max(0.001),
        summary.skipped
    );
    for problem in &summary.problems {
        eprintln!("  line {}: {}", problem.line, problem.message);
    }
    if config.search.enabled {
        eprintln!("indexing...");
        let indexed = async {
            let dir = config.search.index_dir(&config.data_dir);
            let index = Arc::new(open_index(&dir, bulk_options()).await?);
            // Imported messages carry no files: no texts to extract.
            let position = catch_up(
                store.as_ref(),
                &index,
                &mut KnownRoots::default(),
                None,
                &mut FileWork::default(),
            )
            .await?;
            let merging = index.clone();
            tokio::task::spawn_blocking(move || merging.merge_segments())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let _ = tokio::task::spawn_blocking(move || drop(index)).await;
            Ok::<i64, String>(position)
        }
        .await;
        match indexed {
            Ok(position) => eprintln!(
                "search index up to date (log position {position}) after {:.1} s",
                started.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("warning: indexing failed ({e}); the server catches up at start"),
        }
    }
    store.close().await;
    Ok(())
}

/// `concord search reindex --server URL`: asks the running server to rebuild its index online
/// (`POST /api/v1/admin/search/reindex`, as an org admin) and follows it until it ends.
pub async fn reindex_online(server: &str, token: Option<String>) -> anyhow::Result<()> {
    use concord_proto::{ReindexState, ReindexStatus};
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        bail!("--server needs an org admin's token: --token or CONCORD_TOKEN");
    };
    let url = format!(
        "{}/api/v1/admin/search/reindex",
        server.trim_end_matches('/')
    );
    let http = reqwest::Client::new();
    let started = http
        .post(&url)
        .bearer_auth(&token)
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    if !started.status().is_success() {
        let status = started.status();
        let body = started.text().await.unwrap_or_default();
        bail!("the server refused the reindex ({status}): {body}");
    }
    eprintln!("reindexing online; the server keeps answering searches meanwhile...");
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let status: ReindexStatus = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        match status.state {
            ReindexState::Running | ReindexState::Idle => continue,
            ReindexState::Done => {
                eprintln!(
                    "reindexed {} documents up to log position {}; the new index is in use",
                    status.documents.unwrap_or(0),
                    status.position.unwrap_or(0)
                );
                return Ok(());
            }
            ReindexState::Failed => {
                bail!("the reindex failed: {}", status.error.unwrap_or_default())
            }
        }
    }
}
