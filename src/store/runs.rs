//! The run ledger (`sync_runs`) and the one write path of a sync: a page of jobs, the run's
//! counters and, for a window's last page, its coverage, all in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{params, TransactionBehavior};

use super::jobs::{mark_gone, upsert_jobs, JobRecord, PageCounts};
use super::state::add_coverage;
use super::{lock::hostname, sqlite_error, Result, Store};
use crate::time;

/// What a run records when it starts.
#[derive(Debug, Clone)]
pub struct RunStart {
    pub started_at: DateTime<Utc>,
    pub endpoint: String,
    pub project_id: String,
    pub scope_id: i64,
    pub range_start: DateTime<Utc>,
    pub range_end: DateTime<Utc>,
    /// JSON text of the options asked for (window, lookback, page size, filters).
    pub options: String,
    pub windows_planned: u64,
}

/// One page of jobs to archive, and the window it completes, if it is a window's last page.
#[derive(Debug, Clone, Copy)]
pub struct PageBatch<'a> {
    pub jobs: &'a [JobRecord],
    pub seen_at: DateTime<Utc>,
    pub completes: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunFinish {
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub error: Option<String>,
    pub requests: u64,
}

impl Store {
    /// Writes the run's row (outcome `running`) and returns its id.
    pub fn begin_run(&mut self, run: &RunStart) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO sync_runs (started_at, endpoint, project_id, scope_id, range_start,
                    range_end, options, windows_planned, outcome, pid, host, tool_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'running', ?9, ?10, ?11)",
                params![
                    time::to_store(run.started_at),
                    run.endpoint,
                    run.project_id,
                    run.scope_id,
                    time::to_store(run.range_start),
                    time::to_store(run.range_end),
                    run.options,
                    run.windows_planned as i64,
                    std::process::id(),
                    hostname(),
                    env!("CARGO_PKG_VERSION"),
                ],
            )
            .map_err(sqlite_error(&self.path))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Archives one page of a window in one transaction: the jobs, the run's counters, and,
    /// when `completes` is set, the window's coverage of the scope.
    pub fn write_page(
        &mut self,
        run_id: i64,
        scope_id: i64,
        seen_at: DateTime<Utc>,
        jobs: &[JobRecord],
        completes: Option<(DateTime<Utc>, DateTime<Utc>)>,
        requests: u64,
    ) -> Result<PageCounts> {
        self.write_pages(
            run_id,
            scope_id,
            &[PageBatch {
                jobs,
                seen_at,
                completes,
            }],
            requests,
        )
    }

    /// Archives several pages in one transaction, in order. Each page's jobs, its window's
    /// coverage when it completes one, and the run's counters commit together, so a crash
    /// keeps all of them or none. Batching matters: every job touches a dozen B-tree pages,
    /// and one commit per batch writes each dirty page to the WAL once instead of per page.
    pub fn write_pages(
        &mut self,
        run_id: i64,
        scope_id: i64,
        pages: &[PageBatch<'_>],
        requests: u64,
    ) -> Result<PageCounts> {
        let path = self.path.clone();
        let sqlite = sqlite_error(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let mut counts = PageCounts::default();
        let mut completed = 0i64;
        for page in pages {
            counts.add(upsert_jobs(&tx, run_id, page.seen_at, page.jobs).map_err(sqlite)?);
            if let Some((from, to)) = page.completes {
                add_coverage(&tx, scope_id, from, to).map_err(sqlite)?;
                completed += 1;
            }
        }
        tx.prepare_cached(
            "UPDATE sync_runs SET jobs_new = jobs_new + ?2, jobs_changed = jobs_changed + ?3,
                jobs_unchanged = jobs_unchanged + ?4,
                windows_completed = windows_completed + ?5, requests = ?6
             WHERE run_id = ?1",
        )
        .map_err(sqlite)?
        .execute(params![
            run_id,
            counts.new as i64,
            counts.changed as i64,
            counts.unchanged as i64,
            completed,
            requests as i64,
        ])
        .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(counts)
    }

    /// Records that the API no longer knows these jobs (asked by id, it returned nothing).
    pub fn mark_gone(&mut self, job_ids: &[String], at: DateTime<Utc>) -> Result<()> {
        let path = self.path.clone();
        let sqlite = sqlite_error(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        for id in job_ids {
            mark_gone(&tx, id, at).map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }

    /// Marks runs left `running` as `interrupted`. Only called while holding the sync lock, so
    /// no such run is really still going: its process died.
    pub fn mark_interrupted_runs(&mut self) -> Result<usize> {
        self.conn
            .execute(
                "UPDATE sync_runs SET outcome = 'interrupted',
                    error = coalesce(error, 'the run stopped before it finished (killed or crashed)')
                 WHERE outcome = 'running'",
                [],
            )
            .map_err(sqlite_error(&self.path))
    }

    /// Records how the run ended.
    pub fn finish_run(&mut self, run_id: i64, finish: &RunFinish) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, error = ?4, requests = ?5
                 WHERE run_id = ?1",
                params![
                    run_id,
                    time::to_store(finish.finished_at),
                    if finish.ok { "ok" } else { "failed" },
                    finish.error,
                    finish.requests as i64,
                ],
            )
            .map_err(sqlite_error(&self.path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Coverage, ScopeKey};

    fn job(id: &str, status: &str) -> JobRecord {
        let raw = format!(
            r#"{{"job_id":"{id}","job_status":"{status}","create_time":"2024-03-01T08:00:00+0800"}}"#
        );
        let task = crate::api::ScheduleTask::from_raw(
            &serde_json::value::RawValue::from_string(raw).unwrap(),
        )
        .unwrap();
        JobRecord::from_task(&task, "p")
    }

    fn t(s: &str) -> DateTime<Utc> {
        time::from_store(s).unwrap()
    }

    #[test]
    fn a_page_writes_jobs_history_counters_and_coverage_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let key = ScopeKey {
            endpoint: "http://x".into(),
            project_id: "p".into(),
            filter: String::new(),
        };
        let now = t("2024-03-10T00:00:00Z");
        let scope = store
            .scope(&key, None, t("2024-03-01T00:00:00Z"), now)
            .unwrap();
        let run = store
            .begin_run(&RunStart {
                started_at: now,
                endpoint: key.endpoint.clone(),
                project_id: "p".into(),
                scope_id: scope.scope_id,
                range_start: scope.since,
                range_end: now,
                options: "{}".into(),
                windows_planned: 2,
            })
            .unwrap();
        let day1 = (t("2024-03-01T00:00:00Z"), t("2024-03-02T00:00:00Z"));
        let day2 = (t("2024-03-02T00:00:00Z"), t("2024-03-03T00:00:00Z"));
        let c = store
            .write_page(
                run,
                scope.scope_id,
                now,
                &[job("a", "Pending"), job("b", "Running")],
                Some(day2),
                1,
            )
            .unwrap();
        assert_eq!((c.new, c.changed, c.unchanged), (2, 0, 0));
        let c = store
            .write_page(
                run,
                scope.scope_id,
                now,
                &[job("a", "Pending")],
                Some(day1),
                2,
            )
            .unwrap();
        assert_eq!(
            c.repeated, 1,
            "a job seen twice in one run is not counted twice"
        );
        assert_eq!(
            store.coverage(scope.scope_id).unwrap(),
            vec![Coverage {
                from: day1.0,
                to: day2.1
            }],
            "touching ranges merge"
        );
        let run2 = run + 1;
        store
            .conn
            .execute(
                "INSERT INTO sync_runs (run_id, started_at, endpoint, project_id, options, outcome, tool_version)
                 VALUES (?1, 'x', 'e', 'p', '{}', 'running', 'v')",
                [run2],
            )
            .unwrap();
        let later = t("2024-03-11T00:00:00Z");
        let c = store
            .write_page(
                run2,
                scope.scope_id,
                later,
                &[job("a", "Completed"), job("b", "Running")],
                None,
                1,
            )
            .unwrap();
        assert_eq!((c.new, c.changed, c.unchanged), (0, 1, 1));
        let (version, changed): (i64, String) = store
            .conn
            .query_row(
                "SELECT version, changed FROM job_history WHERE job_id = 'a' ORDER BY version DESC",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(version, 2);
        assert_eq!(changed, r#"["job_status","raw"]"#);
        let history: i64 = store
            .conn
            .query_row("SELECT count(*) FROM job_history", [], |r| r.get(0))
            .unwrap();
        assert_eq!(history, 3);
        let (new, requests, windows): (i64, i64, i64) = store
            .conn
            .query_row(
                "SELECT jobs_new, requests, windows_completed FROM sync_runs WHERE run_id = ?1",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((new, requests, windows), (2, 2, 2));
    }
}
