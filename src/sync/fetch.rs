//! The fetcher: pages one listing (a window of create time, an open-status list, or one job by
//! id) until every job it holds has been seen, and hands each page to the writer as it arrives
//! (memory stays one page per listing in flight).
//!
//! Offset paging drifts when jobs are created or purged between two pages: a job slides from
//! page 2 onto page 1 and is never seen, while `total_count` may not change. So each page after
//! the first starts one position early and must begin with the last job of the page before; if
//! it does not, the pages shifted under us and the listing is paged again from the start.
//!
//! `total_count` is not trusted to end a listing: it has been seen both below what the pages
//! serve (a pager that stopped at it lost the rest of the window) and above it, for good (a
//! pager that waited for it re-read the window until the run failed). A full page is never the
//! last; a window whose last page leaves the count unreached is paged again, and when two
//! pagings serve the same jobs they are taken as the window's, with the anomaly noted.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, oneshot};

use super::record::job_record;
use super::writer::WriterMsg;
use super::Filter;
use crate::api::{ApiError, Client, ListJobsPage, ListJobsRequest, ScheduleTask};
use crate::store::{JobRecord, RejectedObject, StoreError, Window};
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
    /// Every job in one status (the open jobs) created in the scope's range: from the scope's
    /// start, and before a time if one is given (jobs created later were just read by this
    /// run's windows).
    Status {
        status: String,
        created_after: Option<DateTime<Utc>>,
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

/// One complete paging of a window that ended short of the count the API gave: what it
/// served, to compare with the next paging of the same window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shortfall {
    /// The objects served, in order, hashed.
    digest: u64,
    served: u64,
    total_count: u64,
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
    /// Complete, but short of `total_count`, and no earlier paging served the same.
    Short(Shortfall),
}

impl Fetcher {
    /// Fetches every job of `listing`. When the pages shift under a window, the window is split
    /// in two and each half fetched on its own: smaller windows need fewer pages, and a window
    /// that fits one page cannot shift. Other listings are paged again from the start. A window
    /// whose pages fall short of its count is paged again whole, to compare (see the module's
    /// doc); two pagings that differ mean the jobs moved, as a shift does.
    pub(crate) async fn fetch(&self, listing: &Listing) -> Result<ListingStats, ListingError> {
        let mut stats = ListingStats::default();
        let mut todo = vec![(listing.clone(), None)];
        let mut restarts = 0;
        while let Some((current, earlier)) = todo.pop() {
            let shortfall = match self.page_once(&current, earlier).await? {
                Paged::Done(done) => {
                    stats.pages += done.pages;
                    stats.jobs += done.jobs;
                    continue;
                }
                Paged::Short(shortfall) if earlier.is_none() => {
                    stats.repages += 1;
                    tracing::info!(
                        "{current}: the pages served {} jobs of the {} counted; reading it again",
                        shortfall.served,
                        shortfall.total_count
                    );
                    todo.push((current, Some(shortfall)));
                    continue;
                }
                Paged::Short(shortfall) => Some(shortfall),
                Paged::Shifted => None,
            };
            stats.repages += 1;
            tracing::info!("pages shifted while reading {current}; reading it again");
            match split(&current) {
                Some((older, newer)) => {
                    todo.push((newer, None));
                    todo.push((older, None));
                }
                None => {
                    restarts += 1;
                    if restarts >= MAX_REPAGES {
                        return Err(ListingError::KeptDrifting(restarts));
                    }
                    // The latest paging is the one the next is compared with.
                    todo.push((current, shortfall));
                }
            }
        }
        Ok(stats)
    }

    /// Tells the writer that a planned window is complete: every piece of it was written.
    pub(crate) async fn window_completed(&self) -> Result<(), ListingError> {
        self.send(WriterMsg::WindowCompleted).await
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

    /// Pages `listing` once from the start. `earlier` is the paging before of the same
    /// window, when that one fell short of its count: if this one serves the same, the window
    /// is complete.
    async fn page_once(
        &self,
        listing: &Listing,
        earlier: Option<Shortfall>,
    ) -> Result<Paged, ListingError> {
        let limit = self.page_size;
        let mut stats = ListingStats::default();
        let mut offset: u64 = 0;
        let mut last_object: Option<String> = None;
        let mut digest = DefaultHasher::new();
        let window = match listing {
            Listing::Window(w) => Some(*w),
            _ => None,
        };
        // Only windows verify their pages. A job an open-status list misses through drift is
        // either archived open, and then asked for by id, or new, and then read by its window;
        // so those lists save the overlap's extra requests.
        let verified = window.is_some() && limit > 1;
        loop {
            let request = self.request(listing, offset, limit);
            let page = self.client.list_jobs(&request).await?;
            stats.pages += 1;
            let received = page.served() as u64;
            // A page after the first starts with the previous page's last object.
            let (skip, shifted) = match &last_object {
                Some(expected) => match object_key(&page, 0) {
                    Some(first) if first == *expected => (1usize, false),
                    _ => (0, true),
                },
                None => (0, false),
            };
            let reached = offset + received;
            // A full page is never the last, whatever total_count says.
            let last = !shifted && received < u64::from(limit);
            for position in skip..received as usize {
                object_key(&page, position).hash(&mut digest);
            }
            // Fewer jobs than the count promised: some vanished under the pages, or the count
            // is wrong. Only a second paging that serves the same tells the two apart.
            let short = verified && last && reached < page.total_count;
            let shortfall = Shortfall {
                digest: digest.finish(),
                served: reached,
                total_count: page.total_count,
            };
            let agreed = short && earlier.is_some_and(|e| e.digest == shortfall.digest);
            let anomaly = if agreed {
                Some(format!(
                    "{listing}: total_count said {}, but two pagings served the same {reached} jobs",
                    page.total_count
                ))
            } else if window.is_some() && last && reached > page.total_count {
                Some(format!(
                    "{listing}: total_count said {}, but the pages served {reached} jobs",
                    page.total_count
                ))
            } else {
                None
            };
            let complete = last && (!short || agreed);
            if let Listing::Job(id) = listing {
                if complete && !page.schedules.iter().any(|j| &j.job_id == id) {
                    self.send(WriterMsg::Gone {
                        job_id: id.clone(),
                        at: self.clock.now(),
                    })
                    .await?;
                }
            }
            if verified {
                last_object = object_key(&page, received.saturating_sub(1) as usize);
            }
            let skip_job = skip == 1 && page.rejected.first().is_none_or(|r| r.position != 0);
            let rejected: Vec<RejectedObject> = page
                .rejected
                .into_iter()
                .filter(|r| skip == 0 || r.position != 0)
                .map(|r| RejectedObject {
                    reason: r.reason,
                    raw: r.raw,
                    window,
                })
                .collect();
            let jobs: Vec<JobRecord> = page
                .schedules
                .into_iter()
                .skip(usize::from(skip_job))
                .map(|task| job_record(task, &self.project_id))
                .collect();
            stats.jobs += jobs.len() as u64;
            self.send(WriterMsg::Page {
                jobs,
                rejected,
                seen_at: self.clock.now(),
                completes: window.filter(|_| complete),
                anomaly,
            })
            .await?;
            // The jobs of a shifted page are real and were archived above: a job seen only on
            // such a page may be purged before the next read.
            if shifted {
                return Ok(Paged::Shifted);
            }
            if complete {
                return Ok(Paged::Done(stats));
            }
            if last {
                return Ok(Paged::Short(shortfall));
            }
            // With a page size of one the overlap would never advance, so it is skipped.
            offset = if verified { reached - 1 } else { reached };
        }
    }

    /// Fetches the page of `window` at `offset`: what the count-based pager needs to check
    /// and join it with its neighbours, and its objects, for [`Fetcher::send_page`].
    pub(crate) async fn fetch_page(
        &self,
        window: Window,
        offset: u64,
    ) -> Result<(PageView, PageContent), ListingError> {
        let listing = Listing::Window(window);
        let request = self.request(&listing, offset, self.page_size);
        let page = self.client.list_jobs(&request).await?;
        let served = page.served();
        let edge = |position: usize| {
            object_key(&page, position).map(|key| Edge {
                time: edge_time(&page, position),
                key,
            })
        };
        let first = edge(0);
        let last = edge(served.saturating_sub(1));
        let rejected: Vec<(usize, RejectedObject)> = page
            .rejected
            .into_iter()
            .map(|r| {
                (
                    r.position,
                    RejectedObject {
                        reason: r.reason,
                        raw: r.raw,
                        window: Some(window),
                    },
                )
            })
            .collect();
        let jobs: Vec<JobRecord> = page
            .schedules
            .into_iter()
            .map(|task| job_record(task, &self.project_id))
            .collect();
        // Newest first, as the API serves them: what lets a stretch of pages stand for a
        // stretch of create time. A page out of that order (or with a job without a time)
        // makes its listing fall back to windows paged one page after another. The archive's
        // UTC text orders as the times do.
        let ordered = jobs.iter().all(|j| j.create_time.is_some())
            && jobs
                .windows(2)
                .all(|pair| pair[0].create_time >= pair[1].create_time);
        Ok((
            PageView {
                served: served as u64,
                total_count: page.total_count,
                first,
                last,
                ordered,
            },
            PageContent {
                served,
                jobs,
                rejected,
            },
        ))
    }

    /// Hands a page's objects to the writer, without the first or the last when a
    /// neighbouring page already handed it (the one-object overlap).
    pub(crate) async fn send_page(
        &self,
        content: PageContent,
        drop_first: bool,
        drop_last: bool,
    ) -> Result<(), ListingError> {
        let PageContent {
            served,
            mut jobs,
            rejected,
        } = content;
        let mut dropped = Vec::new();
        if drop_first && served > 0 {
            dropped.push(0);
        }
        if drop_last && served > 0 {
            dropped.push(served - 1);
        }
        dropped.dedup();
        // Positions count the rejected objects too; a job's index is its position less the
        // rejected before it. Removed from the back, so indexes stay right.
        for position in dropped.into_iter().rev() {
            if rejected.iter().any(|(p, _)| *p == position) {
                continue;
            }
            let before = rejected.iter().filter(|(p, _)| *p < position).count();
            if let Some(index) = position.checked_sub(before).filter(|i| *i < jobs.len()) {
                jobs.remove(index);
            }
        }
        let rejected = rejected
            .into_iter()
            .filter(|(p, _)| !((drop_first && *p == 0) || (drop_last && *p + 1 == served)))
            .map(|(_, r)| r)
            .collect();
        self.send(WriterMsg::Page {
            jobs,
            rejected,
            seen_at: self.clock.now(),
            completes: None,
            anomaly: None,
        })
        .await
    }

    /// Records, after the pages that show it, that `window` was fetched completely, and
    /// counts it as a planned window completed.
    pub(crate) async fn covered(&self, window: Window) -> Result<(), ListingError> {
        self.send(WriterMsg::Page {
            jobs: Vec::new(),
            rejected: Vec::new(),
            seen_at: self.clock.now(),
            completes: Some(window),
            anomaly: None,
        })
        .await?;
        self.window_completed().await
    }

    /// Notes how a listing's pages disagreed with its count.
    pub(crate) async fn note_anomaly(&self, note: String) -> Result<(), ListingError> {
        self.send(WriterMsg::Page {
            jobs: Vec::new(),
            rejected: Vec::new(),
            seen_at: self.clock.now(),
            completes: None,
            anomaly: Some(note),
        })
        .await
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
                created_after,
                created_before,
            } => {
                request.status = Some(status.clone());
                // Widened like a window's: the open jobs the windows archived are all listed.
                request.start_time = created_after.map(|t| t - Duration::seconds(1));
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

/// What one page of a count-paged listing showed: enough to check it against its neighbours.
#[derive(Debug, Clone)]
pub(crate) struct PageView {
    pub served: u64,
    pub total_count: u64,
    /// The first and the last object served.
    pub first: Option<Edge>,
    pub last: Option<Edge>,
    /// Its jobs came newest first, every one with a create time.
    pub ordered: bool,
}

/// A page's objects, as read: `served` of them, jobs and (by position) rejected objects.
#[derive(Debug)]
pub(crate) struct PageContent {
    served: usize,
    jobs: Vec<JobRecord>,
    rejected: Vec<(usize, RejectedObject)>,
}

/// An object at the edge of a page: what identifies it, and its create time (none for an
/// object that is not a job, or a job without a readable time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub key: String,
    pub time: Option<DateTime<Utc>>,
}

/// The create time of the job at `position`, if the object there is a job with one.
fn edge_time(page: &ListJobsPage, position: usize) -> Option<DateTime<Utc>> {
    job_at(page, position).and_then(|job| job.times().create_time)
}

/// The job at `position` of a page, counting rejected objects: `None` where the object
/// there was rejected. The jobs keep their order; a job's index is its position less the
/// rejected before it.
fn job_at(page: &ListJobsPage, position: usize) -> Option<&ScheduleTask> {
    if page.rejected.iter().any(|r| r.position == position) {
        return None;
    }
    let before = page
        .rejected
        .iter()
        .filter(|r| r.position < position)
        .count();
    page.schedules.get(position.checked_sub(before)?)
}

/// What tells the object at `position` on a page from any other: a job's id, or a rejected
/// object's text. Pages are checked against each other by these.
fn object_key(page: &ListJobsPage, position: usize) -> Option<String> {
    if let Some(rejected) = page.rejected.iter().find(|r| r.position == position) {
        return Some(format!("rejected:{}", rejected.raw));
    }
    job_at(page, position).map(|job| format!("job:{}", job.job_id))
}
