//! The fetcher: pages one listing (a window of create time, an open-status list, or one job by
//! id) until every job it holds has been seen, and hands each page to the writer as it arrives
//! (memory stays one page per listing in flight).
//!
//! Offset paging drifts when jobs are created or purged between two pages: a job slides from
//! page 2 onto page 1 and is never seen, while `total_count` may not change. So each page after
//! the first starts one position early and must begin with the last job of the page before; if
//! it does not, the pages shifted under us and the listing is paged again from the start.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, oneshot};

use super::record::job_record;
use super::writer::WriterMsg;
use super::Filter;
use crate::api::{ApiError, Client, ListJobsRequest};
use crate::store::{JobRecord, StoreError, Window};
use crate::time;

/// How often a listing that cannot be split is paged again after a shift before the run gives
/// up on it (the next run retries it: a window's coverage is not recorded).
const MAX_REPAGES: usize = 8;

/// Windows shorter than this are not split: requests are widened by a second on each side.
const MIN_SPLIT: Duration = Duration::seconds(4);

/// The two halves of a window long enough to split, on a whole second.
pub(super) fn split(listing: &Listing) -> Option<(Listing, Listing)> {
    let Listing::Window(w) = listing else {
        return None;
    };
    let length = w.end - w.start;
    if length < MIN_SPLIT {
        return None;
    }
    let mid = w.start + Duration::seconds(length.num_seconds() / 2);
    Some((
        Listing::Window(Window {
            start: w.start,
            end: mid,
        }),
        Listing::Window(Window {
            start: mid,
            end: w.end,
        }),
    ))
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listing {
    /// Every job created in the window; its coverage is recorded with its last page.
    Window(Window),
    /// Every job in one status (the open jobs) created before a time, if one is given: jobs
    /// created later were just read by this run's windows.
    Status {
        status: String,
        created_before: Option<DateTime<Utc>>,
    },
    /// One job by id.
    Job(String),
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listing::Window(w) => write!(
                f,
                "window {}..{}",
                time::to_store(w.start),
                time::to_store(w.end)
            ),
            Listing::Status { status, .. } => write!(f, "the {status} jobs"),
            Listing::Job(id) => write!(f, "job {id}"),
        }
    }
}

/// Why a listing could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("{0}")]
    Api(
        #[from]
        #[source]
        ApiError,
    ),
    #[error(
        "the jobs kept shifting between pages ({0} attempts); they are fetched again next run"
    )]
    KeptDrifting(usize),
    /// The writer stopped (it reports its own error).
    #[error("the archive writer stopped")]
    WriterGone,
    /// The archive could not be read.
    #[error("{0}")]
    Store(
        #[from]
        #[source]
        StoreError,
    ),
}

/// What paging a listing found.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ListingStats {
    pub pages: u64,
    pub jobs: u64,
    pub repages: u64,
}

/// Everything a fetcher needs besides the listing.
#[derive(Clone)]
pub(crate) struct Fetcher {
    pub client: Arc<Client>,
    pub project_id: String,
    pub page_size: u32,
    pub filter: Filter,
    pub writer: mpsc::Sender<WriterMsg>,
    pub progress: Arc<dyn super::Progress>,
    pub clock: super::Clock,
    /// Asked to stop (`--max-time`, a signal): no listing is started or continued.
    pub stop: super::Stop,
}

enum Paged {
    Done(ListingStats),
    Shifted,
}

impl Fetcher {
    /// Fetches every job of `listing`. When the pages shift under a window, the window is split
    /// in two and each half fetched on its own: smaller windows need fewer pages, and a window
    /// that fits one page cannot shift. Other listings are paged again from the start.
    pub(crate) async fn fetch(&self, listing: &Listing) -> Result<ListingStats, ListingError> {
        let mut stats = ListingStats::default();
        let mut todo = vec![listing.clone()];
        let mut restarts = 0;
        while let Some(current) = todo.pop() {
            match self.page_once(&current).await? {
                Paged::Done(done) => {
                    stats.pages += done.pages;
                    stats.jobs += done.jobs;
                }
                Paged::Shifted => {
                    stats.repages += 1;
                    tracing::info!("pages shifted while reading {current}; reading it again");
                    match split(&current) {
                        Some((older, newer)) => {
                            todo.push(newer);
                            todo.push(older);
                        }
                        None => {
                            restarts += 1;
                            if restarts >= MAX_REPAGES {
                                return Err(ListingError::KeptDrifting(restarts));
                            }
                            todo.push(current);
                        }
                    }
                }
            }
        }
        Ok(stats)
    }

    /// Waits until the writer has committed everything sent so far.
    pub(crate) async fn barrier(&self) -> Result<(), ListingError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(WriterMsg::Barrier(tx))
            .await
            .map_err(|_| ListingError::WriterGone)?;
        rx.await.map_err(|_| ListingError::WriterGone)
    }

    async fn send(&self, msg: WriterMsg) -> Result<(), ListingError> {
        self.writer
            .send(msg)
            .await
            .map_err(|_| ListingError::WriterGone)
    }

    async fn page_once(&self, listing: &Listing) -> Result<Paged, ListingError> {
        let limit = self.page_size;
        let mut stats = ListingStats::default();
        let mut offset: u64 = 0;
        let mut last_job: Option<String> = None;
        // Only windows verify their pages. A job an open-status list misses through drift is
        // either archived open, and then asked for by id, or new, and then read by its window;
        // so those lists save the overlap's extra requests.
        let verified = matches!(listing, Listing::Window(_)) && limit > 1;
        loop {
            let request = self.request(listing, offset, limit);
            let page = self.client.list_jobs(&request).await?;
            stats.pages += 1;
            let received = page.schedules.len() as u64;
            // A page after the first starts with the previous page's last job.
            let (skip, mut shifted) = match &last_job {
                Some(expected) => match page.schedules.first() {
                    Some(first) if &first.job_id == expected => (1, false),
                    _ => (0, true),
                },
                None => (0, false),
            };
            let reached = offset + received;
            let short = received < u64::from(limit);
            // Fewer jobs than the count promised: some vanished under the pages.
            shifted |= verified && short && reached < page.total_count;
            let done = !shifted && (short || reached >= page.total_count);
            if let Listing::Job(id) = listing {
                if done && !page.schedules.iter().any(|j| &j.job_id == id) {
                    self.send(WriterMsg::Gone {
                        job_id: id.clone(),
                        at: self.clock.now(),
                    })
                    .await?;
                }
            }
            if verified {
                last_job = page.schedules.last().map(|j| j.job_id.clone());
            }
            let jobs: Vec<JobRecord> = page
                .schedules
                .into_iter()
                .skip(skip as usize)
                .map(|task| job_record(task, &self.project_id))
                .collect();
            stats.jobs += jobs.len() as u64;
            let completes = match listing {
                Listing::Window(w) if done => Some(*w),
                _ => None,
            };
            self.send(WriterMsg::Page {
                jobs,
                seen_at: self.clock.now(),
                completes,
            })
            .await?;
            // The jobs of a shifted page are real and were archived above: a job seen only on
            // such a page may be purged before the next read.
            if shifted {
                return Ok(Paged::Shifted);
            }
            if done {
                return Ok(Paged::Done(stats));
            }
            // With a page size of one the overlap would never advance, so it is skipped.
            offset = if verified { reached - 1 } else { reached };
        }
    }

    /// The request for one page. A window is widened by a second on each side: whether the
    /// API's time filter includes its edges is not documented, and a job on an edge must not
    /// fall between two windows. The upsert makes the overlap harmless.
    fn request(&self, listing: &Listing, offset: u64, limit: u32) -> ListJobsRequest {
        let mut request = ListJobsRequest {
            offset,
            limit,
            status: self.filter.status.clone(),
            job_name: self.filter.job_name.clone(),
            instance_id: self.filter.instance_id.clone(),
            ..ListJobsRequest::default()
        };
        match listing {
            Listing::Window(w) => {
                request.start_time = Some(w.start - Duration::seconds(1));
                request.end_time = Some(w.end + Duration::seconds(1));
            }
            Listing::Status {
                status,
                created_before,
            } => {
                request.status = Some(status.clone());
                request.end_time = created_before.map(|t| t + Duration::seconds(1));
            }
            Listing::Job(id) => {
                // Asked by id, the job is wanted whatever its status or name now.
                request.job_id = Some(id.clone());
                request.status = None;
                request.job_name = None;
                request.instance_id = None;
            }
        }
        request
    }
}
