//! What the report shows, read from the archive: the matching jobs, their instances as lanes,
//! `query stats`'s figures, the jobs that went wrong with their histories, and what the
//! archive's sync record covers of the range.

use chrono::{DateTime, Utc};
use rusqlite::{params_from_iter, Connection};

use super::ReportRequest;
use crate::api::model::JobStatus;
use crate::query::status::{self, ScopeStatus};
use crate::query::{stats_rows, Cell, Filter, Key, Rows, StatsQuery};
use crate::store::{subtract, Coverage, Window};
use crate::time;

/// Lanes drawn in the timeline; the others are counted under "N more".
pub const MAX_LANES: usize = 12;
/// Rows of the table of failed, canceled and open jobs; the rest are counted.
pub const MAX_PROBLEM_ROWS: usize = 500;
/// Ranges longer than this are charted per week rather than per day.
const WEEKLY_AFTER_DAYS: i64 = 92;

/// One matching job, as the archive's newest version has it.
#[derive(Debug, Clone)]
pub struct Job {
    pub job_id: String,
    pub instance_id: Option<String>,
    pub instance_name: Option<String>,
    pub job_name: Option<String>,
    pub status: Option<JobStatus>,
    /// The status text as stored, for a status this build does not know.
    pub status_text: Option<String>,
    pub create: Option<DateTime<Utc>>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl Job {
    pub fn is_open(&self) -> bool {
        self.status.is_some_and(JobStatus::is_open)
    }

    /// Seconds from start to end, when both are known.
    pub fn duration(&self) -> Option<i64> {
        Some((self.end? - self.start?).num_seconds())
    }
}

/// One instance's jobs (indexes into [`ReportData::jobs`], oldest first).
#[derive(Debug, Clone)]
pub struct Lane {
    /// `None` for jobs without an instance_id.
    pub instance_id: Option<String>,
    /// The newest name its jobs carry.
    pub name: Option<String>,
    pub jobs: Vec<usize>,
}

/// One row of `query stats`: the group's key values and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub key: Vec<Option<String>>,
    pub count: i64,
    pub failed: i64,
    pub failure_rate: f64,
    pub timed: i64,
    pub p50: Option<i64>,
    pub p95: Option<i64>,
}

/// A version of a job as the archive saw it.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i64,
    pub observed_at: String,
    pub status: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A failed, canceled or open job with every version the archive holds.
#[derive(Debug, Clone)]
pub struct Problem {
    pub job: usize,
    pub history: Vec<Version>,
}

/// What the archive's sync record says about the range.
#[derive(Debug, Clone)]
pub struct CoverageNote {
    /// The scopes that sync into the filtered project(s).
    pub scopes: Vec<ScopeStatus>,
    /// Parts of the range no complete sync window holds, oldest first.
    pub uncovered: Vec<Window>,
    /// Share of the range covered, 0..=1.
    pub covered_share: f64,
}

/// Everything the page draws.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub range: Window,
    pub jobs: Vec<Job>,
    /// Busiest first, at most [`MAX_LANES`].
    pub lanes: Vec<Lane>,
    /// Instances and jobs beyond the lanes drawn.
    pub more_lanes: usize,
    pub more_lane_jobs: usize,
    /// `query stats` without --by: one row, none when nothing matched.
    pub total: Option<Figures>,
    /// `query stats --by job_name`.
    pub by_type: Vec<Figures>,
    /// `query stats --by day,job_status` (or week).
    pub per_bucket: Vec<Figures>,
    pub weekly: bool,
    /// Newest first, at most [`MAX_PROBLEM_ROWS`].
    pub problems: Vec<Problem>,
    pub problems_total: usize,
    pub coverage: CoverageNote,
}

impl ReportData {
    pub fn total(&self) -> u64 {
        self.jobs.len() as u64
    }
}

/// Reads everything the report of `request` shows.
pub fn gather(
    conn: &Connection,
    request: &ReportRequest,
    now: DateTime<Utc>,
) -> anyhow::Result<ReportData> {
    let filter = &request.filter;
    let range = Window {
        start: filter.since.unwrap_or(now),
        end: filter.until.unwrap_or(now),
    };
    let jobs = read_jobs(conn, filter)?;
    let (lanes, more_lanes, more_lane_jobs) = lanes(&jobs);
    let weekly = (range.end - range.start).num_days() > WEEKLY_AFTER_DAYS;
    let stats = |keys: Vec<Key>| -> anyhow::Result<Vec<Figures>> {
        let query = StatsQuery {
            keys,
            filter: filter.clone(),
        };
        Ok(figures(&stats_rows(conn, &query)?))
    };
    let total = stats(Vec::new())?.into_iter().next();
    let by_type = stats(vec![Key::JobName])?;
    let bucket = if weekly { Key::Week } else { Key::Day };
    let per_bucket = stats(vec![bucket, Key::JobStatus])?;

    let mut wrong: Vec<usize> = (0..jobs.len())
        .filter(|&i| {
            let job = &jobs[i];
            job.is_open() || matches!(job.status, Some(JobStatus::Failed | JobStatus::Canceled))
        })
        .collect();
    // Newest first, as `query jobs` lists them.
    wrong.sort_by(|&a, &b| {
        (jobs[b].create, &jobs[b].job_id).cmp(&(jobs[a].create, &jobs[a].job_id))
    });
    let problems_total = wrong.len();
    wrong.truncate(MAX_PROBLEM_ROWS);
    let problems = histories(conn, &jobs, &wrong)?;

    let coverage = coverage(conn, filter, range, now)?;
    Ok(ReportData {
        range,
        jobs,
        lanes,
        more_lanes,
        more_lane_jobs,
        total,
        by_type,
        per_bucket,
        weekly,
        problems,
        problems_total,
        coverage,
    })
}

fn read_jobs(conn: &Connection, filter: &Filter) -> anyhow::Result<Vec<Job>> {
    let (clauses, params) = filter.clauses("", "job_status");
    let sql = format!(
        "SELECT job_id, instance_id, instance_name, job_name, job_status, create_time,
                start_time, end_time
         FROM jobs{} ORDER BY create_time, job_id",
        crate::query::where_clause(&clauses)
    );
    let mut stmt = conn.prepare(&sql)?;
    let t = |s: Option<String>| s.as_deref().and_then(time::from_store);
    let jobs = stmt
        .query_map(params_from_iter(params), |r| {
            let status_text: Option<String> = r.get(4)?;
            Ok(Job {
                job_id: r.get(0)?,
                instance_id: r.get(1)?,
                instance_name: r.get(2)?,
                job_name: r.get(3)?,
                status: status_text.as_deref().and_then(JobStatus::parse),
                status_text,
                create: t(r.get(5)?),
                start: t(r.get(6)?),
                end: t(r.get(7)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(jobs)
}

/// Jobs grouped by instance, busiest first (ties by name), capped at [`MAX_LANES`].
fn lanes(jobs: &[Job]) -> (Vec<Lane>, usize, usize) {
    let mut by_id: std::collections::HashMap<Option<&str>, Lane> = Default::default();
    for (i, job) in jobs.iter().enumerate() {
        let lane = by_id
            .entry(job.instance_id.as_deref())
            .or_insert_with(|| Lane {
                instance_id: job.instance_id.clone(),
                name: None,
                jobs: Vec::new(),
            });
        lane.jobs.push(i);
        // Jobs come oldest first, so the last name seen is the newest.
        if job.instance_name.is_some() {
            lane.name.clone_from(&job.instance_name);
        }
    }
    let mut lanes: Vec<Lane> = by_id.into_values().collect();
    lanes.sort_by(|a, b| {
        b.jobs
            .len()
            .cmp(&a.jobs.len())
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    let rest: Vec<Lane> = lanes.split_off(lanes.len().min(MAX_LANES));
    let rest_jobs = rest.iter().map(|l| l.jobs.len()).sum();
    (lanes, rest.len(), rest_jobs)
}

/// `query stats` rows as figures: the key columns, then its six numbers.
fn figures(rows: &Rows) -> Vec<Figures> {
    let keys = rows.columns.len().saturating_sub(6);
    let int = |c: &Cell| match c {
        Cell::Integer(v) => Some(*v),
        _ => None,
    };
    rows.rows
        .iter()
        .map(|row| Figures {
            key: row[..keys]
                .iter()
                .map(|c| match c {
                    Cell::Null => None,
                    other => Some(other.to_text()),
                })
                .collect(),
            count: int(&row[keys]).unwrap_or(0),
            failed: int(&row[keys + 1]).unwrap_or(0),
            failure_rate: match row[keys + 2] {
                Cell::Real(r) => r,
                _ => 0.0,
            },
            timed: int(&row[keys + 3]).unwrap_or(0),
            p50: int(&row[keys + 4]),
            p95: int(&row[keys + 5]),
        })
        .collect()
}

fn histories(conn: &Connection, jobs: &[Job], which: &[usize]) -> anyhow::Result<Vec<Problem>> {
    let mut stmt = conn.prepare(
        "SELECT version, observed_at, job_status, start_time, end_time FROM job_history
         WHERE job_id = ?1 ORDER BY version",
    )?;
    which
        .iter()
        .map(|&i| {
            let history = stmt
                .query_map([&jobs[i].job_id], |r| {
                    Ok(Version {
                        version: r.get(0)?,
                        observed_at: r.get(1)?,
                        status: r.get(2)?,
                        start: r.get(3)?,
                        end: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Problem { job: i, history })
        })
        .collect()
}

/// The scopes of the filtered project and the parts of `range` none of them fetched whole.
fn coverage(
    conn: &Connection,
    filter: &Filter,
    range: Window,
    now: DateTime<Utc>,
) -> anyhow::Result<CoverageNote> {
    let wanted = |project: &str| filter.project.as_deref().is_none_or(|p| p == project);
    let scopes: Vec<ScopeStatus> = status::read(conn, now)?
        .into_iter()
        .filter(|s| wanted(&s.project_id))
        .collect();
    let mut stmt = conn.prepare(
        "SELECT c.covered_from, c.covered_to, s.project_id FROM sync_coverage c
         JOIN sync_scopes s ON s.scope_id = c.scope_id",
    )?;
    let held: Vec<Coverage> = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .filter_map(|row| {
            let (from, to, project) = row.ok()?;
            wanted(&project).then_some(())?;
            Some(Coverage {
                from: time::from_store(&from)?,
                to: time::from_store(&to)?,
            })
        })
        .collect();
    let uncovered = subtract(range, &held);
    let whole = (range.end - range.start).num_seconds().max(1) as f64;
    let missing: i64 = uncovered
        .iter()
        .map(|w| (w.end - w.start).num_seconds())
        .sum();
    Ok(CoverageNote {
        scopes,
        uncovered,
        covered_share: (1.0 - missing as f64 / whole).clamp(0.0, 1.0),
    })
}
