//! The workers: fetch a set of listings `concurrency` at a time, splitting the last windows
//! as workers fall idle, and stop them all at a failure no other listing can escape.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::fetch::{Fetcher, Listing, ListingError};
use super::schedule::Schedule;
use crate::api::ApiError;

pub(super) struct FetchOutcome {
    /// The listings given, counted as given (a window split in pieces is one).
    pub tally: Tally,
    /// Every piece that failed, with why.
    pub failed: Vec<(Listing, ListingError)>,
    pub aborted: bool,
    /// A stretch was read by its first page alone, its count matching the archive's (see
    /// `by_count::Recheck`): its open jobs were not all seen.
    pub skimmed: bool,
}

/// Listings of one kind, counted in the units they were planned in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub planned: usize,
    pub completed: usize,
    /// Those of which some piece failed.
    pub failed: usize,
}

impl Tally {
    /// Those neither completed nor failed: the run stopped before it tried them all.
    pub fn not_tried(&self) -> usize {
        self.planned.saturating_sub(self.completed + self.failed)
    }

    pub fn add(&mut self, other: Tally) {
        self.planned += other.planned;
        self.completed += other.completed;
        self.failed += other.failed;
    }
}

/// Fetches the listings with `concurrency` workers. A failure that no other listing can
/// escape (the credentials refused, a wrong endpoint, the archive unwritable) stops them all,
/// as does a stop request; others only fail their own listing.
pub(super) async fn fetch_all(
    listings: Vec<Listing>,
    concurrency: usize,
    fetcher: &Fetcher,
) -> FetchOutcome {
    let schedule = Arc::new(Schedule::new(listings, concurrency));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let abort = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let fetcher = fetcher.clone();
        let (schedule, failed, abort) = (
            Arc::clone(&schedule),
            Arc::clone(&failed),
            Arc::clone(&abort),
        );
        workers.spawn(async move {
            while !abort.load(Ordering::Relaxed) && !fetcher.stop.is_requested() {
                let Some((piece, added)) = schedule.take() else {
                    break;
                };
                if added > 0 {
                    fetcher.progress.add_listings(&fetcher.project_id, added);
                }
                // A stop abandons the listing mid-page: the pages already handed to the
                // writer are kept, and the window's coverage is not recorded.
                let fetched = tokio::select! {
                    biased;
                    () = fetcher.stop.requested() => break,
                    fetched = fetcher.fetch(&piece.listing) => fetched,
                };
                fetcher.progress.listing_done(&fetcher.project_id);
                let completes = schedule.finished(&piece, fetched.is_ok());
                // The ledger counts planned windows, not their pieces. A writer that stopped
                // reports its own error, and the listings after this one meet it.
                if completes && matches!(piece.listing, Listing::Window(_)) {
                    let _ = fetcher.window_completed().await;
                }
                match fetched {
                    Ok(stats) => {
                        tracing::debug!(
                            "{}: {} jobs in {} pages ({} re-paged)",
                            piece.listing,
                            stats.jobs,
                            stats.pages,
                            stats.repages
                        );
                    }
                    Err(e) => {
                        if stops_everything(&e) {
                            abort.store(true, Ordering::Relaxed);
                        }
                        tracing::warn!("{}: {e}", piece.listing);
                        failed.lock().expect("failed lock").push((piece.listing, e));
                    }
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut failed = std::mem::take(&mut *failed.lock().expect("failed lock"));
    failed.sort_by(|a, b| format!("{}", a.0).cmp(&format!("{}", b.0)));
    FetchOutcome {
        tally: Tally {
            planned: schedule.planned(),
            completed: schedule.completed(),
            failed: schedule.failed(),
        },
        failed,
        aborted: abort.load(Ordering::Relaxed) || fetcher.stop.is_requested(),
        skimmed: false,
    }
}

/// Errors every other listing would hit too.
pub(super) fn stops_everything(e: &ListingError) -> bool {
    match e {
        ListingError::WriterGone | ListingError::Store(_) => true,
        ListingError::Api(ApiError::Http { status, .. }) => {
            (400..500).contains(status) && *status != 429
        }
        ListingError::Api(
            ApiError::InvalidEndpoint { .. }
            | ApiError::Unreachable { .. }
            | ApiError::BadCredential { .. }
            | ApiError::Redirected { .. }
            | ApiError::Iam { .. },
        ) => true,
        ListingError::Api(_) | ListingError::KeptDrifting(_) => false,
    }
}
