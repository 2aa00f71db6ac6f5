//! The open-job refresh: after the windows, brings the archived jobs that were not yet final
//! up to date without downloading history again. It reads the archive through its own
//! read-only connection ([`OpenJobsReader`]) and writes through the run's writer.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use super::fetch::{Fetcher, Listing, ListingError};
use super::workers::{fetch_all, Tally};
use super::SyncOptions;
use crate::store::{OpenJobCount, OpenJobsFilter, OpenJobsReader, Window};

/// Archived open jobs looked up per read of the archive, so memory stays flat however many.
const OPEN_JOBS_CHUNK: usize = 256;

/// What the refresh did.
pub(super) struct RefreshOutcome {
    /// Archived open jobs asked for by id.
    pub checked: u64,
    /// The open-status lists.
    pub lists: Tally,
    /// The archived open jobs to ask for by id.
    pub lookups: Tally,
    pub failed: Vec<(Listing, ListingError)>,
}

/// The create-time range the refresh stays in.
#[derive(Debug, Clone, Copy)]
pub(super) struct RefreshRange {
    /// The scope's start: open jobs created before it are outside what the user asked for.
    pub since: DateTime<Utc>,
    /// See [`recent_start`].
    pub created_before: Option<DateTime<Utc>>,
}

/// Brings archived open jobs up to date cheaply: the open-status lists return every job still
/// open in a few pages; only the archived open jobs that no list returned (they finished, were
/// cancelled, or the API forgot them) are asked for by id. Both stay in the scope's range:
/// the lists from its start to `range.created_before`, the lookups from its start. An archive
/// that cannot be read fails the refresh with its `StoreError`.
pub(super) async fn refresh_open_jobs(
    db: &Path,
    fetcher: &Fetcher,
    options: &SyncOptions,
    run_id: i64,
    range: RefreshRange,
) -> Result<RefreshOutcome, ListingError> {
    // Read once the writer has committed the windows' jobs.
    fetcher.barrier().await?;
    let reader = OpenJobsReader::open(db)?;
    let filter = OpenJobsFilter {
        project_id: &options.project_id,
        job_name: options.filter.job_name.as_deref(),
        instance_id: options.filter.instance_id.as_deref(),
        seen_by_run: run_id,
        // The windows' requests reach a second before the scope's start (see `fetch`).
        created_from: Some(range.since - Duration::seconds(1)),
    };
    let counts = reader.open_job_counts(&filter)?;
    let mut outcome = RefreshOutcome {
        checked: 0,
        lists: Tally::default(),
        lookups: Tally::default(),
        failed: Vec::new(),
    };
    if let Some(lists) = worth_listing(&counts, options.page_size, range) {
        fetcher
            .progress
            .add_listings(&options.project_id, lists.len() as u64);
        let listed = fetch_all(lists, options.concurrency, fetcher).await;
        outcome.lists = listed.tally;
        outcome.failed = listed.failed;
        if !outcome.failed.is_empty() {
            // Without every open list, "not listed" does not mean "finished": stop here.
            return Ok(outcome);
        }
        fetcher.barrier().await?;
    }

    let mut after = String::new();
    // A stop requested during the lists leaves every lookup for the next run.
    let mut aborted = fetcher.stop.is_requested();
    loop {
        let ids = reader.stale_open_jobs(&filter, &after, OPEN_JOBS_CHUNK)?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        after = last;
        if aborted {
            // Only counted: the run stopped, and these are left for the next one.
            outcome.lookups.planned += ids.len();
            continue;
        }
        outcome.checked += ids.len() as u64;
        fetcher
            .progress
            .add_listings(&options.project_id, ids.len() as u64);
        let looked_up = fetch_all(
            ids.into_iter().map(Listing::Job).collect(),
            options.concurrency,
            fetcher,
        )
        .await;
        outcome.lookups.add(looked_up.tally);
        outcome.failed.extend(looked_up.failed);
        aborted = looked_up.aborted;
    }
    Ok(outcome)
}

/// The open-status lists to fetch, if they cost fewer requests than the lookups they save. A
/// list costs a page per `page_size` open jobs of its status; a lookup one request per stale
/// job. Only statuses with stale jobs are listed.
fn worth_listing(
    counts: &[OpenJobCount],
    page_size: u32,
    range: RefreshRange,
) -> Option<Vec<Listing>> {
    let with_stale = || counts.iter().filter(|c| c.stale > 0);
    let stale: u64 = counts.iter().map(|c| c.stale).sum();
    let list_pages: u64 = with_stale()
        .map(|c| c.open.div_ceil(u64::from(page_size)))
        .sum();
    (stale > list_pages).then(|| {
        with_stale()
            .map(|c| Listing::Status {
                status: c.status.clone(),
                created_after: Some(range.since),
                created_before: range.created_before,
            })
            .collect()
    })
}

/// Where the newest stretch of this run's windows begins, when they reach `until`: the open
/// jobs created since were just read with their windows, so the open lists can stop there.
pub(super) fn recent_start(windows: &[Window], until: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut sorted: Vec<_> = windows.to_vec();
    sorted.sort();
    let last = sorted.last()?;
    if last.end < until {
        return None;
    }
    let mut start = last.start;
    for w in sorted.iter().rev().skip(1) {
        if w.end != start {
            break;
        }
        start = w.start;
    }
    Some(start)
}
