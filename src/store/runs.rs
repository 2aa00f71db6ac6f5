//! The run ledger (`sync_runs`) and the one write path of a sync: pages of jobs (and the
//! objects among them that are not jobs), the run's counters and, for a window's last page,
//! its coverage, in one transaction.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction, TransactionBehavior};

use super::jobs::{upsert_jobs, InstanceNames, JobRecord, PageCounts};
use super::open_jobs::mark_gone;
use super::rejected::{record_rejected, RejectedObject};
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

/// Pages written into one open transaction, committed together with the run's counters.
///
/// Each page's jobs, and its window's coverage when it completes one, are in the same
/// transaction, so a crash keeps all of them or none, and coverage never claims jobs that were
/// not kept. Transactions are meant to be large: a job's `job_id` index entry lands at a
/// random place, so every commit writes most of that index's pages to the WAL again, and
/// 20,000 jobs per commit write them a tenth as often as 2,000.
pub struct PageWriter<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
    run_id: i64,
    scope_id: i64,
    counts: PageCounts,
    /// Planned windows whose every piece is written (a window split in pieces is one).
    windows_completed: i64,
    /// Objects that are not jobs, met for the first time in this run.
    rejected: u64,
    /// Listings whose pages disagreed with the API's count, one line each.
    anomalies: Vec<String>,
    jobs: usize,
    instance_names: &'a mut InstanceNames,
}

/// Anomaly lines a run keeps in `sync_runs.anomaly_notes`; the count goes on.
pub const ANOMALY_NOTES_KEPT: i64 = 20;

/// How many jobs a writer puts in one transaction at most. Beyond this, the WAL grows and
/// commits gain little.
pub const TRANSACTION_JOBS: usize = 20_000;

impl PageWriter<'_> {
    /// Archives one page: its jobs and, for a window's last page, the window's coverage.
    pub fn write(&mut self, page: &PageBatch<'_>) -> Result<PageCounts> {
        let sqlite = sqlite_error(self.path);
        let counts = upsert_jobs(
            &self.tx,
            self.run_id,
            page.seen_at,
            page.jobs,
            self.instance_names,
        )
        .map_err(sqlite)?;
        if let Some((from, to)) = page.completes {
            add_coverage(&self.tx, self.scope_id, from, to).map_err(sqlite)?;
        }
        self.counts.add(counts);
        self.jobs += page.jobs.len();
        Ok(counts)
    }

    /// Records, in this transaction, that the API no longer knows these jobs.
    pub fn mark_gone(&mut self, job_ids: &[String], at: DateTime<Utc>) -> Result<()> {
        for id in job_ids {
            mark_gone(&self.tx, id, at).map_err(sqlite_error(self.path))?;
        }
        Ok(())
    }

    /// Keeps the objects of a page that are not jobs (see `store::rejected`). Returns how many
    /// of them the run had not met before.
    pub fn reject(&mut self, objects: &[RejectedObject], seen_at: DateTime<Utc>) -> Result<u64> {
        let mut first = 0;
        for object in objects {
            let new = record_rejected(&self.tx, self.scope_id, self.run_id, seen_at, object)
                .map_err(sqlite_error(self.path))?;
            first += u64::from(new);
        }
        self.rejected += first;
        Ok(first)
    }

    /// Notes a listing whose pages disagreed with the API's count, for the run's ledger row.
    pub fn note_anomaly(&mut self, note: &str) {
        self.anomalies.push(note.to_string());
    }

    /// Counts a planned window as completed: its last piece's pages are written (with this
    /// transaction or before it). Coverage is recorded per piece, with the piece's last page;
    /// the ledger counts the windows the run planned.
    pub fn window_completed(&mut self) {
        self.windows_completed += 1;
    }

    /// Jobs written since the transaction began.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Planned windows completed in this transaction.
    pub fn windows_completed(&self) -> u64 {
        self.windows_completed as u64
    }

    /// Objects that are not jobs, met for the first time in this run, in this transaction.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The anomalies noted in this transaction.
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    /// Adds what was written to the run's counters (and its request count so far) and
    /// commits. Returns what the committed pages did.
    pub fn commit(self, requests: u64) -> Result<PageCounts> {
        let sqlite = sqlite_error(self.path);
        let counts = self.counts;
        let notes = if self.anomalies.is_empty() {
            None
        } else {
            let kept: i64 = self
                .tx
                .prepare_cached("SELECT anomalies FROM sync_runs WHERE run_id = ?1")
                .map_err(sqlite)?
                .query_row([self.run_id], |r| r.get(0))
                .map_err(sqlite)?;
            let room = usize::try_from(ANOMALY_NOTES_KEPT - kept).unwrap_or(0);
            let lines: Vec<&str> = self
                .anomalies
                .iter()
                .take(room)
                .map(String::as_str)
                .collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        };
        self.tx
            .prepare_cached(
                "UPDATE sync_runs SET jobs_new = jobs_new + ?2, jobs_changed = jobs_changed + ?3,
                    jobs_unchanged = jobs_unchanged + ?4,
                    windows_completed = windows_completed + ?5, requests = ?6,
                    objects_rejected = objects_rejected + ?7, anomalies = anomalies + ?8,
                    anomaly_notes = CASE WHEN ?9 IS NULL THEN anomaly_notes
                        WHEN anomaly_notes IS NULL THEN ?9
                        ELSE anomaly_notes || char(10) || ?9 END
                 WHERE run_id = ?1",
            )
            .map_err(sqlite)?
            .execute(params![
                self.run_id,
                counts.new as i64,
                counts.changed as i64,
                counts.unchanged as i64,
                self.windows_completed,
                requests as i64,
                self.rejected as i64,
                self.anomalies.len() as i64,
                notes,
            ])
            .map_err(sqlite)?;
        self.tx.commit().map_err(sqlite)?;
        self.instance_names.committed();
        Ok(counts)
    }
}

/// How a run ended, as `sync_runs.outcome` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Ok,
    Failed,
    /// Stopped by a signal; what it fetched is kept.
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunFinish {
    pub finished_at: DateTime<Utc>,
    pub outcome: RunOutcome,
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

    /// Archives several pages in one transaction, in order (see [`PageWriter`]).
    pub fn write_pages(
        &mut self,
        run_id: i64,
        scope_id: i64,
        pages: &[PageBatch<'_>],
        requests: u64,
    ) -> Result<PageCounts> {
        let mut writer = self.page_writer(run_id, scope_id)?;
        for page in pages {
            writer.write(page)?;
        }
        writer.commit(requests)
    }

    /// Opens the write transaction a sync's writer feeds pages into.
    pub fn page_writer(&mut self, run_id: i64, scope_id: i64) -> Result<PageWriter<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite_error(&self.path))?;
        self.instance_names.begin();
        Ok(PageWriter {
            tx,
            path: &self.path,
            run_id,
            scope_id,
            counts: PageCounts::default(),
            windows_completed: 0,
            rejected: 0,
            anomalies: Vec::new(),
            jobs: 0,
            instance_names: &mut self.instance_names,
        })
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
                    finish.outcome.as_str(),
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
    use crate::store::test_support::{begin_run, job};
    use crate::store::{Coverage, ScopeKey};

    fn t(s: &str) -> DateTime<Utc> {
        time::from_store(s).unwrap()
    }

    fn on_instance(id: &str, instance_id: &str, instance_name: &str) -> JobRecord {
        JobRecord {
            instance_id: Some(instance_id.into()),
            instance_name: Some(instance_name.into()),
            ..job(id, "Completed")
        }
    }

    /// instance_names gets every pair a committed transaction archived, however the texts
    /// split, and nothing of a transaction that was not committed.
    #[test]
    fn instance_names_follow_committed_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let now = t("2024-03-10T00:00:00Z");
        let (scope_id, run) = begin_run(&mut store, "http://x", now);
        let names = |store: &Store| -> Vec<(String, String)> {
            let mut stmt = store
                .conn
                .prepare("SELECT instance_id, instance_name FROM instance_names ORDER BY 1, 2 COLLATE BINARY")
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        fn page(jobs: &[JobRecord], seen_at: DateTime<Utc>) -> PageBatch<'_> {
            PageBatch {
                jobs,
                seen_at,
                completes: None,
            }
        }

        // Not committed: nothing stays, and the pair is not taken as written.
        let mut writer = store.page_writer(run, scope_id).unwrap();
        writer
            .write(&page(&[on_instance("x", "i1", "db")], now))
            .unwrap();
        drop(writer);
        assert!(names(&store).is_empty());

        let jobs = [
            on_instance("a", "i1", "db"),
            on_instance("b", "i1", "db"),
            on_instance("c", "i", "1db"),
            on_instance("d", "i1d", "b"),
        ];
        store
            .write_pages(run, scope_id, &[page(&jobs, now)], 1)
            .unwrap();
        store
            .write_pages(
                run,
                scope_id,
                &[page(&[on_instance("e", "i1", "DB-renamed")], now)],
                2,
            )
            .unwrap();
        let pair = |id: &str, name: &str| (id.to_string(), name.to_string());
        assert_eq!(
            names(&store),
            [
                pair("i", "1db"),
                pair("i1", "DB-renamed"),
                pair("i1", "db"),
                pair("i1d", "b")
            ]
        );
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
        // Coverage is the pieces'; the ledger counts planned windows, told by the sync.
        assert_eq!((new, requests, windows), (2, 2, 0));
    }

    fn ledger(store: &Store, run: i64) -> (i64, i64, i64, Option<String>) {
        store
            .conn
            .query_row(
                "SELECT windows_completed, objects_rejected, anomalies, anomaly_notes
                 FROM sync_runs WHERE run_id = ?1",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    }

    /// An object that is not a job is kept once per scope, however often it is met; the run
    /// counts it once; a new run counts it again as a sighting.
    #[test]
    fn rejected_objects_are_kept_once_and_counted_once_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let now = t("2024-03-10T00:00:00Z");
        let (scope_id, run) = begin_run(&mut store, "http://x", now);
        let window = crate::store::Window {
            start: t("2024-03-09T00:00:00Z"),
            end: t("2024-03-10T00:00:00Z"),
        };
        let bad = |raw: &str| RejectedObject {
            reason: "job_id is missing".into(),
            raw: raw.into(),
            window: Some(window),
        };
        let mut writer = store.page_writer(run, scope_id).unwrap();
        let first = writer
            .reject(
                &[bad(r#"{"a":1}"#), bad(r#"{"a":2}"#), bad(r#"{"a":1}"#)],
                now,
            )
            .unwrap();
        assert_eq!(first, 2);
        writer.window_completed();
        writer.commit(3).unwrap();
        let mut writer = store.page_writer(run, scope_id).unwrap();
        assert_eq!(writer.reject(&[bad(r#"{"a":2}"#)], now).unwrap(), 0);
        writer.commit(4).unwrap();
        assert_eq!(ledger(&store, run), (1, 2, 0, None));

        let run2 = store
            .begin_run(&RunStart {
                started_at: now,
                endpoint: "http://x".into(),
                project_id: "p".into(),
                scope_id,
                range_start: now,
                range_end: now,
                options: "{}".into(),
                windows_planned: 1,
            })
            .unwrap();
        let later = t("2024-03-11T00:00:00Z");
        let mut writer = store.page_writer(run2, scope_id).unwrap();
        assert_eq!(writer.reject(&[bad(r#"{"a":2}"#)], later).unwrap(), 1);
        writer.commit(1).unwrap();
        let rows: Vec<(String, i64, i64, String, String, Option<String>)> = store
            .conn
            .prepare(
                "SELECT raw, run_id, sightings, seen_at, last_seen_at, window_start
                 FROM rejected_objects ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let day = Some("2024-03-09T00:00:00Z".to_string());
        assert_eq!(
            rows,
            [
                (
                    r#"{"a":1}"#.into(),
                    run,
                    1,
                    time::to_store(now),
                    time::to_store(now),
                    day.clone()
                ),
                (
                    r#"{"a":2}"#.into(),
                    run,
                    2,
                    time::to_store(now),
                    time::to_store(later),
                    day
                ),
            ]
        );
        assert_eq!(ledger(&store, run2).1, 1);
    }

    /// Every anomaly is counted; the first ANOMALY_NOTES_KEPT are kept as text, in order.
    #[test]
    fn anomalies_are_counted_and_the_first_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let now = t("2024-03-10T00:00:00Z");
        let (scope_id, run) = begin_run(&mut store, "http://x", now);
        for batch in [1, 15, 9] {
            let mut writer = store.page_writer(run, scope_id).unwrap();
            for i in 0..batch {
                writer.note_anomaly(&format!("{batch}-{i}"));
            }
            writer.commit(0).unwrap();
        }
        let (_, _, count, notes) = ledger(&store, run);
        assert_eq!(count, 25);
        let notes = notes.unwrap();
        let lines: Vec<&str> = notes.lines().collect();
        assert_eq!(lines.len() as i64, ANOMALY_NOTES_KEPT);
        assert_eq!(lines[..2], ["1-0", "15-0"]);
        assert_eq!(lines[19], "9-3");
    }
}
