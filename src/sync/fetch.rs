//! The fetcher: pages one window until every job it holds has been seen, and hands each page
//! to the writer as it arrives (memory stays one page per window in flight).
//!
//! Offset paging drifts when jobs are created or purged between two pages: a job slides from
//! page 2 onto page 1 and is never seen, while `total_count` may not change. So each page after
//! the first starts one position early and must begin with the last job of the page before; if
//! it does not, the pages shifted under us and the window is paged again from the start.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::mpsc;

use super::plan::Window;
use super::Filter;
use crate::api::{ApiError, Client, ListJobsRequest};
use crate::store::JobRecord;
use crate::time;

/// How often a window is paged again after a shift before the run gives up on it (the next
/// run retries it: its coverage is not recorded).
const MAX_REPAGES: usize = 5;

/// One page for the writer. `completes` is set on a window's last page.
#[derive(Debug)]
pub struct PageWrite {
    pub jobs: Vec<JobRecord>,
    pub seen_at: DateTime<Utc>,
    pub completes: Option<Window>,
}

/// Why a window could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    #[error("{0}")]
    Api(
        #[from]
        #[source]
        ApiError,
    ),
    #[error("the jobs of this window kept shifting between pages ({0} attempts); it is fetched again next run")]
    KeptDrifting(usize),
    /// The writer stopped (it reports its own error).
    #[error("the archive writer stopped")]
    WriterGone,
}

/// What paging a window found.
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowStats {
    pub pages: u64,
    pub jobs: u64,
    pub repages: u64,
}

/// Everything a fetcher needs besides the window.
pub struct Fetcher {
    pub client: Arc<Client>,
    pub project_id: String,
    pub page_size: u32,
    pub filter: Filter,
    pub writer: mpsc::Sender<PageWrite>,
}

enum Paged {
    Done(WindowStats),
    Shifted,
}

impl Fetcher {
    /// Fetches every job of `window`, re-paging when the pages shift.
    pub async fn fetch(&self, window: Window) -> Result<WindowStats, WindowError> {
        let mut repages = 0;
        for _ in 0..MAX_REPAGES {
            match self.page_once(window).await? {
                Paged::Done(mut stats) => {
                    stats.repages = repages;
                    return Ok(stats);
                }
                Paged::Shifted => {
                    repages += 1;
                    tracing::info!(
                        "pages shifted while reading {}..{}; reading it again",
                        time::to_store(window.start),
                        time::to_store(window.end)
                    );
                }
            }
        }
        Err(WindowError::KeptDrifting(MAX_REPAGES))
    }

    async fn page_once(&self, window: Window) -> Result<Paged, WindowError> {
        let limit = self.page_size;
        let mut stats = WindowStats::default();
        let mut offset: u64 = 0;
        let mut last_job: Option<String> = None;
        loop {
            let request = self.request(window, offset, limit);
            let page = self.client.list_jobs(&request).await?;
            stats.pages += 1;
            let received = page.schedules.len() as u64;
            // A page after the first starts with the previous page's last job.
            let skip = match &last_job {
                Some(expected) => match page.schedules.first() {
                    Some(first) if &first.job_id == expected => 1,
                    _ => return Ok(Paged::Shifted),
                },
                None => 0,
            };
            let reached = offset + received;
            let short = received < u64::from(limit);
            if short && reached < page.total_count {
                // Fewer jobs than the count promised: some vanished under the pages.
                return Ok(Paged::Shifted);
            }
            let done = short || reached >= page.total_count;
            last_job = page.schedules.last().map(|j| j.job_id.clone());
            let jobs: Vec<JobRecord> = page.schedules[skip as usize..]
                .iter()
                .map(|task| JobRecord::from_task(task, &self.project_id))
                .collect();
            stats.jobs += jobs.len() as u64;
            self.writer
                .send(PageWrite {
                    jobs,
                    seen_at: time::now_secs(),
                    completes: done.then_some(window),
                })
                .await
                .map_err(|_| WindowError::WriterGone)?;
            if done {
                return Ok(Paged::Done(stats));
            }
            // With a page size of one the overlap would never advance, so it is skipped.
            offset = if limit > 1 { reached - 1 } else { reached };
            if limit == 1 {
                last_job = None;
            }
        }
    }

    /// The request for one page. The window is widened by a second on each side: whether the
    /// API's time filter includes its edges is not documented, and a job on an edge must not
    /// fall between two windows. The upsert makes the overlap harmless.
    fn request(&self, window: Window, offset: u64, limit: u32) -> ListJobsRequest {
        ListJobsRequest {
            offset,
            limit,
            status: self.filter.status.clone(),
            start_time: Some(window.start - Duration::seconds(1)),
            end_time: Some(window.end + Duration::seconds(1)),
            job_id: None,
            job_name: self.filter.job_name.clone(),
            instance_id: self.filter.instance_id.clone(),
            language: None,
        }
    }
}
