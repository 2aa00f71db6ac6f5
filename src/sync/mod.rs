//! The sync algorithm: a pure planner (state + now + options -> windows), a fetcher (pages one
//! listing without missing jobs), the workers that run fetchers side by side, the writer (one
//! per project), the open-job refresh, and a runner (the lock, projects, the ledger). It turns
//! API objects into store records (`record`) and talks to `api` and `store` through their
//! types only.

mod by_count;
mod fetch;
mod plan;
mod progress;
pub mod record;
mod refresh;
mod run;
mod schedule;
mod stop;
mod workers;
mod writer;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::api::auth::Credential;
use crate::api::client::RetryPolicy;
use crate::api::model::Language;
use crate::api::Network;
use crate::store::PageCounts;

pub use fetch::ListingError;
pub use plan::{TooManyWindows, MAX_PLANNED_WINDOWS};
pub use progress::{Progress, Silent};
pub use record::job_record;
pub use run::{client_config, left_for_next, run, run_many, RunControl, Stopped, SyncFailed};
pub use stop::{Signal, Stop, StopReason};

/// Where a run reads the time it saw a page and the time it ended: the wall clock, or a fixed
/// time, for tests and fixtures that build an archive by syncing at chosen moments and must
/// get the same archive on every run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    Wall,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Wall => crate::time::now_secs(),
            Clock::Fixed(at) => *at,
        }
    }
}

/// The API filters a sync may be limited to. A filtered sync keeps its own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<String>,
    pub job_name: Option<String>,
    pub instance_id: Option<String>,
}

impl Filter {
    /// Canonical text for the scope key: empty for all jobs.
    pub fn canonical(&self) -> String {
        [
            ("status", &self.status),
            ("job_name", &self.job_name),
            ("instance_id", &self.instance_id),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Everything one sync was asked to do.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The endpoint the scope is archived under, and the first one tried.
    pub endpoint: Url,
    /// Endpoints tried after it when it cannot be reached.
    pub fallbacks: Vec<Url>,
    /// Trusted roots and proxy.
    pub network: Network,
    pub project_id: String,
    pub credential: Credential,
    /// Where the credential came from, in words (a flag, a variable, a file): never a value.
    pub credential_source: String,
    /// Where the scope begins; `None` keeps the archive's (or 30 days for a new scope).
    pub since: Option<DateTime<Utc>>,
    /// Where to stop; `None` is now.
    pub until: Option<DateTime<Utc>>,
    pub window: Duration,
    pub lookback: Duration,
    pub page_size: u32,
    pub concurrency: usize,
    pub max_rps: f64,
    pub filter: Filter,
    pub language: Language,
    pub timeout: StdDuration,
    pub retry: RetryPolicy,
}

impl SyncOptions {
    /// Options with the documented defaults, for the demo and tests.
    pub fn new(endpoint: Url, project_id: impl Into<String>, credential: Credential) -> Self {
        SyncOptions {
            endpoint,
            fallbacks: Vec::new(),
            network: Network::default(),
            project_id: project_id.into(),
            credential,
            credential_source: String::new(),
            since: None,
            until: None,
            window: Duration::days(1),
            lookback: Duration::hours(6),
            page_size: 100,
            concurrency: 4,
            max_rps: 10.0,
            filter: Filter::default(),
            language: Language::EnUs,
            timeout: StdDuration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// Where a scope starts when neither the archive nor `--since` says.
pub const DEFAULT_SINCE: Duration = Duration::days(30);

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub run_id: i64,
    pub project_id: String,
    pub counts: PageCounts,
    pub requests: u64,
    pub seconds: f64,
    /// Windows of create time planned; a window split in pieces is one.
    pub windows_planned: usize,
    /// Planned windows fetched whole, as the ledger counts them.
    pub windows_completed: usize,
    /// Planned windows of which a piece could not be fetched.
    pub windows_failed: usize,
    /// Planned windows the run stopped before trying.
    pub windows_not_tried: usize,
    /// Archived open jobs that no open list returned, asked for by id.
    pub open_jobs_checked: u64,
    /// Objects the API sent that are not jobs (no usable job_id), met for the first time in
    /// this run; kept in `rejected_objects`.
    pub rejected: u64,
    /// Listings whose pages disagreed with the API's total_count, one line each.
    pub anomalies: Vec<String>,
    /// What could not be fetched, with why; it is fetched again next run.
    pub failed: Vec<String>,
}

/// A count with its noun, `1 window` or `61 windows`.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

impl SyncReport {
    /// The one-line summary printed on success.
    pub fn summary(&self) -> String {
        format!(
            "synced {}: {} new, {} changed, {} unchanged; {}, {} checked, {}, {:.1}s",
            self.project_id,
            self.counts.new,
            self.counts.changed,
            self.counts.unchanged,
            count(self.windows_completed as u64, "window", "windows"),
            count(self.open_jobs_checked, "open job", "open jobs"),
            count(self.requests, "request", "requests"),
            self.seconds
        )
    }
}
