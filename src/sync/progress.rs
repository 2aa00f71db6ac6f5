//! Progress events of a run, for whoever shows them: a bar when stderr is a terminal, nothing
//! under cron. The runner only reports; it never draws.

/// Receives a run's progress. Every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// `n` more listings to fetch for `project`: its windows first, then the open-job lists
    /// and lookups as they are planned.
    fn add_listings(&self, _project: &str, _n: u64) {}
    /// One listing finished (completed or failed).
    fn listing_done(&self, _project: &str) {}
    /// `n` jobs were written to the archive.
    fn jobs_archived(&self, _project: &str, _n: u64) {}
    /// The project's run ended.
    fn project_done(&self, _project: &str) {}
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {}
