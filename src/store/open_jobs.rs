//! The archived open jobs (not yet in a final state): the reader the open-job refresh asks
//! which of them to bring up to date, and marking the ones the API has forgotten.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};

use super::{open_read_only, schema, sqlite_error, Result};
use crate::time;

/// The archived open jobs of a scope that the API still knows: `?1` project, `?3` job name
/// and `?4` instance (each ignored when NULL), created at `?7` or later (when given: jobs
/// before the scope's start are not its business). Read through `jobs_status`, which holds the
/// few open jobs together; the `+` keeps SQLite from walking every job of the project through
/// `jobs_project` instead.
static OPEN_JOBS_WHERE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "+project_id = ?1
    AND job_status IN ({}) AND api_gone_at IS NULL
    AND (?3 IS NULL OR job_name = ?3) AND (?4 IS NULL OR instance_id = ?4)
    AND (?7 IS NULL OR create_time >= ?7)",
        schema::open_statuses_sql()
    )
});

static STALE_OPEN_JOBS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT job_id FROM jobs WHERE {}
               AND (last_run_id IS NULL OR last_run_id != ?2) AND job_id > ?5
             ORDER BY job_id LIMIT ?6",
        *OPEN_JOBS_WHERE
    )
});

static OPEN_JOB_COUNTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT job_status, count(*), sum(last_run_id IS NULL OR last_run_id != ?2)
             FROM jobs WHERE {} GROUP BY job_status",
        *OPEN_JOBS_WHERE
    )
});

/// Which archived open jobs a refresh looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenJobsFilter<'a> {
    pub project_id: &'a str,
    pub job_name: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    /// Jobs this run already saw are current and skipped.
    pub seen_by_run: i64,
    /// Only jobs created at this time or later.
    pub created_from: Option<DateTime<Utc>>,
}

/// The archived open jobs of one status that the API has not forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpenJobCount {
    pub status: String,
    pub open: u64,
    /// Those the run has not seen.
    pub stale: u64,
}

/// Reads the archived open jobs on a connection of its own that cannot write, beside the
/// writer's.
pub(crate) struct OpenJobsReader {
    conn: Connection,
    path: PathBuf,
}

impl OpenJobsReader {
    /// Opens the archive at `path` for reading.
    pub(crate) fn open(path: &Path) -> Result<OpenJobsReader> {
        Ok(OpenJobsReader {
            conn: open_read_only(path)?,
            path: path.to_path_buf(),
        })
    }

    /// Archived jobs of `project_id` created from `from` to `to`, both included, that the
    /// API has not forgotten: what a listing of that time should count if nothing changed.
    pub(crate) fn jobs_created_between(
        &self,
        project_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM jobs WHERE project_id = ?1 AND create_time >= ?2
                   AND create_time <= ?3 AND api_gone_at IS NULL",
                params![project_id, time::to_store(from), time::to_store(to)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.unsigned_abs())
            .map_err(sqlite_error(&self.path))
    }

    /// Per open status: archived open jobs the API has not forgotten, and how many of them
    /// run `seen_by_run` has not seen. The refresh uses it to choose between the open-status
    /// lists and asking by id.
    pub(crate) fn open_job_counts(&self, filter: &OpenJobsFilter<'_>) -> Result<Vec<OpenJobCount>> {
        let read = || -> rusqlite::Result<Vec<OpenJobCount>> {
            let mut stmt = self.conn.prepare_cached(&OPEN_JOB_COUNTS)?;
            let rows = stmt.query_map(
                params![
                    filter.project_id,
                    filter.seen_by_run,
                    filter.job_name,
                    filter.instance_id,
                    // ?5 and ?6 are the chunk's, in the other query.
                    None::<&str>,
                    None::<i64>,
                    filter.created_from.map(time::to_store),
                ],
                |r| {
                    Ok(OpenJobCount {
                        status: r.get(0)?,
                        open: r.get::<_, i64>(1)? as u64,
                        stale: r.get::<_, i64>(2)? as u64,
                    })
                },
            )?;
            rows.collect()
        };
        read().map_err(sqlite_error(&self.path))
    }

    /// Up to `limit` archived open jobs that run `seen_by_run` has not seen and the API has
    /// not forgotten, in job_id order after `after`: read in chunks, so memory stays flat.
    pub(crate) fn stale_open_jobs(
        &self,
        filter: &OpenJobsFilter<'_>,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare_cached(&STALE_OPEN_JOBS)?;
            let rows = stmt.query_map(
                params![
                    filter.project_id,
                    filter.seen_by_run,
                    filter.job_name,
                    filter.instance_id,
                    after,
                    limit as i64,
                    filter.created_from.map(time::to_store),
                ],
                |r| r.get(0),
            )?;
            rows.collect()
        };
        read().map_err(sqlite_error(&self.path))
    }
}

/// Records that the API no longer returns an archived job when asked by its id.
pub(crate) fn mark_gone(
    tx: &Transaction<'_>,
    job_id: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE jobs SET api_gone_at = ?2 WHERE job_id = ?1 AND api_gone_at IS NULL",
    )?
    .execute(params![job_id, time::to_store(at)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{begin_run, job};
    use crate::store::{PageBatch, Store};

    #[test]
    fn the_reader_finds_open_jobs_the_run_has_not_seen() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let mut store = Store::open(&db).unwrap();
        let now = time::now_secs();
        let (scope, run) = begin_run(&mut store, "http://e", now);
        let jobs = [
            job("a", "Running"),
            job("b", "Pending"),
            job("c", "Completed"),
            job("d", "Running"),
        ];
        let page = PageBatch {
            jobs: &jobs,
            seen_at: now,
            completes: None,
        };
        store.write_pages(run, scope, &[page], 0).unwrap();
        let reader = OpenJobsReader::open(&db).unwrap();
        let filter = OpenJobsFilter {
            project_id: "p",
            seen_by_run: run + 1,
            ..OpenJobsFilter::default()
        };
        let count = |status: &str, open, stale| OpenJobCount {
            status: status.into(),
            open,
            stale,
        };
        let mut counts = reader.open_job_counts(&filter).unwrap();
        counts.sort_by(|a, b| a.status.cmp(&b.status));
        assert_eq!(counts, [count("Pending", 1, 1), count("Running", 2, 2)]);
        assert_eq!(reader.stale_open_jobs(&filter, "", 2).unwrap(), ["a", "b"]);
        assert_eq!(reader.stale_open_jobs(&filter, "b", 2).unwrap(), ["d"]);
        let seen = OpenJobsFilter {
            seen_by_run: run,
            ..filter.clone()
        };
        assert!(reader.stale_open_jobs(&seen, "", 10).unwrap().is_empty());
        assert_eq!(reader.open_job_counts(&seen).unwrap()[0].stale, 0);

        // The test jobs were created on 2024-03-01: a scope that starts later has none.
        let later = OpenJobsFilter {
            created_from: time::from_store("2024-03-01T00:00:01Z"),
            ..filter.clone()
        };
        assert!(reader.open_job_counts(&later).unwrap().is_empty());
        assert!(reader.stale_open_jobs(&later, "", 10).unwrap().is_empty());
        let earlier = OpenJobsFilter {
            created_from: time::from_store("2024-03-01T00:00:00Z"),
            ..filter.clone()
        };
        assert_eq!(
            reader.stale_open_jobs(&earlier, "", 10).unwrap(),
            ["a", "b", "d"]
        );
    }
}
