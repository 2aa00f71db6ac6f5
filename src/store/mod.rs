//! The SQLite archive and nothing else: opening (pragmas, migrations, the sync lock), the job
//! schema said once, job upserts with their history, the archived open jobs, the sync state
//! and its coverage, the run ledger, and the objects the API sent that are not jobs. No other
//! module writes SQL that changes data; it knows nothing of the HTTP API (the sync turns API
//! objects into its records).
//!
//! Every write transaction is IMMEDIATE: it takes the write lock before its first read, so two
//! connections (projects synced side by side) queue on the busy timeout instead of failing
//! with SQLITE_BUSY when a reader tries to become a writer.

mod coverage;
mod demo;
mod file;
mod indexes;
mod jobs;
mod lock;
mod open;
mod open_jobs;
mod rejected;
mod runs;
pub mod schema;
mod state;
#[cfg(test)]
pub(crate) mod test_support;

use std::path::PathBuf;

pub use coverage::{merge, subtract, Coverage, Window};
pub use demo::{demo_file, DemoFile};
pub use jobs::{JobRecord, PageCounts};
pub use lock::{holder as lock_holder, SyncLock};
pub use open::{integrity, open_current_read_only, open_read_only, Store, SCHEMA_VERSION};
pub(crate) use open_jobs::{OpenJobCount, OpenJobsFilter, OpenJobsReader};
pub use rejected::RejectedObject;
pub use runs::{PageBatch, PageWriter, RunFinish, RunOutcome, RunStart, TRANSACTION_JOBS};
pub use schema::{column_list, open_statuses_sql, Column, JOB_COLUMNS, OPEN_STATUSES};
pub use state::{Scope, ScopeKey};

/// The failures callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not an SQLite database; it was left untouched")]
    NotSqlite { path: PathBuf },
    #[error("{path} is an SQLite database but not a gaussjobs archive; it was left untouched")]
    NotAnArchive { path: PathBuf },
    #[error(
        "{path} was written by a newer gaussjobs (archive schema {found}; this gaussjobs knows \
         schema {known} at most); it was left untouched"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} was written by an older gaussjobs (schema {found}; queries need {needed})")]
    TooOld {
        path: PathBuf,
        found: i64,
        needed: i64,
    },
    #[error("no archive at {path}")]
    Missing { path: PathBuf },
    #[error("another sync holds {path}: {holder}")]
    Locked { path: PathBuf, holder: String },
    #[error("archive {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("lock file {path}: {source}")]
    LockIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {kind}, not an archive file; it was not opened")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} looks like a gaussjobs archive but {what}; it was left untouched")]
    Damaged { path: PathBuf, what: String },
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// Turns an SQLite error into a `StoreError` naming the archive at `path`.
pub(crate) fn sqlite_error(
    path: &std::path::Path,
) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}
