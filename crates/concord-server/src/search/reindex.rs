//! The online rebuild of the search index (`POST /api/v1/admin/search/reindex`, and
//! `concord search reindex` against a running server).
//!
//! The new index is built in a directory beside the live one (`<dir>.new`) from the messages
//! and files tables, file texts extracted on the way, then brought up to the event log while
//! the server keeps indexing into and searching the old one. To take over, the live follower
//! stops (searches still use the old index), the new index catches up with the few events left,
//! is closed and moved into the live directory's place (the old one set aside), opened again,
//! and swapped in for searches in one pointer swap; the follower restarts on it from where it
//! stands. Searches never see an empty or half-built index; between the follower stopping and
//! the swap (the last catch-up and a rename) new messages wait to become searchable.

use super::docs::{FileWork, KnownRoots};
use super::indexer::{IndexResult, catch_up, extract_inline, rebuild};
use super::{Context, Search, open_index};
use concord_search::{SearchIndex, SearchIndexOptions};
use std::path::Path;
use std::sync::Arc;

/// Rebuilds and swaps in a new index; returns its documents and log position.
pub(super) async fn run(search: &Search) -> IndexResult<(u64, i64)> {
    let context = search
        .inner
        .context
        .clone()
        .ok_or("search is not enabled")?;
    let live = context.dir.clone();
    let fresh = live.with_extension("new");
    remove_dir(&fresh).await?;
    let options = SearchIndexOptions {
        background_merges: false,
        ..context.options.clone()
    };
    let index = Arc::new(open_index(&fresh, options).await?);
    tracing::info!(dir = %fresh.display(), "online search reindex: building");
    if let Err(error) = build(&context, &index).await {
        close(index).await;
        let _ = remove_dir(&fresh).await;
        return Err(error);
    }
    search.stop_follower().await;
    match take_over(search, &context, index).await {
        Ok(done) => Ok(done),
        Err(error) => {
            // Keep serving (and indexing into) whatever index is in place.
            if let Some(current) = search.index() {
                search.start_follower(current);
            }
            let _ = remove_dir(&fresh).await;
            Err(error)
        }
    }
}

/// Fills `index` from the tables and the log, then merges it into one segment.
async fn build(context: &Context, index: &Arc<SearchIndex>) -> IndexResult<()> {
    let store = context.store.as_ref();
    rebuild(store, index, Some(&context.texts)).await?;
    catch_up_inline(context, index).await?;
    let merging = index.clone();
    tokio::task::spawn_blocking(move || merging.merge_segments())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Applies the log up to its head, extracting file texts inline.
async fn catch_up_inline(context: &Context, index: &Arc<SearchIndex>) -> IndexResult<i64> {
    let store = context.store.as_ref();
    let mut work = FileWork::default();
    let position = catch_up(
        store,
        index,
        &mut KnownRoots::default(),
        Some(&context.texts),
        &mut work,
    )
    .await?;
    extract_inline(store, index, &context.texts, work.jobs).await?;
    Ok(position)
}

/// With the live follower stopped: catches the new index up, moves it into the live
/// directory, swaps it in and restarts the follower on it.
async fn take_over(
    search: &Search,
    context: &Context,
    index: Arc<SearchIndex>,
) -> IndexResult<(u64, i64)> {
    let position = catch_up_inline(context, &index).await?;
    let documents = index.message_count();
    close(index).await;
    let live = context.dir.clone();
    let fresh = live.with_extension("new");
    let aside = live.with_extension(format!("old-{}", std::process::id()));
    remove_dir(&aside).await?;
    // The old index stays open (and searched) from its set-aside directory until the swap.
    std::fs::rename(&live, &aside).map_err(|e| format!("moving the old index aside: {e}"))?;
    if let Err(error) = std::fs::rename(&fresh, &live) {
        let _ = std::fs::rename(&aside, &live);
        return Err(format!("moving the new index into place: {error}"));
    }
    let reopened = match open_index(&live, context.options.clone()).await {
        Ok(index) => Arc::new(index),
        Err(error) => {
            let _ = std::fs::rename(&live, &fresh);
            let _ = std::fs::rename(&aside, &live);
            return Err(error);
        }
    };
    let old = search
        .inner
        .index
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .replace(reopened.clone());
    search.start_follower(reopened);
    if let Some(old) = old {
        close(old).await;
    }
    remove_dir(&aside).await?;
    tracing::info!(
        documents,
        position,
        "online search reindex: the new index took over"
    );
    Ok((documents, position))
}

/// Drops an index off the executor (its writer's threads join on drop); searches still holding
/// it finish first.
async fn close(index: Arc<SearchIndex>) {
    let _ = tokio::task::spawn_blocking(move || drop(index)).await;
}

async fn remove_dir(dir: &Path) -> IndexResult<()> {
    match tokio::fs::remove_dir_all(dir).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}
