//! `gaussjobs status`: the archive's health per scope (endpoint, project, filter): what time it
//! covers, the gaps left by failed windows, the last successful sync and its age, the open jobs
//! still watched, the last error, the objects kept aside because they were not jobs, the
//! newest run whose pages disagreed with the API's counts, and a warning when jobs may already
//! be lost for good.
//! Read-only: it opens the archive like `query` does and never touches the network.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::layout::write_rows;
use super::render::{printable, write_json, Cell, Format, Rows, TableStyle};
use crate::store::{open_read_only, Coverage};
use crate::store::{subtract, Window};
use crate::time;

/// How long the API is likely to remember a job. A project not synced successfully for longer
/// has probably lost jobs for good.
pub const LIKELY_RETENTION: Duration = Duration::days(30);

/// One scope's health.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScopeStatus {
    pub endpoint: String,
    pub project_id: String,
    /// Filter text, empty for all jobs.
    pub filter: String,
    /// Where the scope starts.
    pub since: String,
    /// The newest create time fetched completely, if any.
    pub covered_to: Option<String>,
    /// Ranges between `since` and `covered_to` never fetched completely.
    pub gaps: Vec<Gap>,
    pub last_success: Option<String>,
    pub last_success_age_seconds: Option<i64>,
    pub last_run_outcome: Option<String>,
    pub last_run_started: Option<String>,
    pub last_error: Option<String>,
    /// Archived jobs of the project not yet in a final state, still refreshed by each sync.
    pub open_jobs: i64,
    /// Archived open jobs the API no longer returns; their last known state is kept.
    pub open_jobs_gone: i64,
    pub jobs: i64,
    /// Objects the API sent in this scope that have no usable job_id, kept in
    /// `rejected_objects`.
    pub rejected_objects: i64,
    /// The newest run whose listings' pages disagreed with the API's total_count.
    pub anomalies: Option<RunAnomalies>,
    pub warnings: Vec<String>,
}

/// A run's anomalies as its ledger row keeps them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunAnomalies {
    pub run_id: i64,
    pub run_started: String,
    pub count: i64,
    /// The first ones, one line each.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub from: String,
    pub to: String,
}

/// Reads every scope's status at `now`.
pub fn read(conn: &Connection, now: DateTime<Utc>) -> anyhow::Result<Vec<ScopeStatus>> {
    let mut scopes = conn.prepare(
        "SELECT scope_id, endpoint, project_id, filter, since FROM sync_scopes
         ORDER BY project_id, endpoint, filter",
    )?;
    let rows: Vec<(i64, String, String, String, String)> = scopes
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, endpoint, project_id, filter, since)| {
            scope_status(conn, now, id, endpoint, project_id, filter, since)
        })
        .collect()
}

fn scope_status(
    conn: &Connection,
    now: DateTime<Utc>,
    scope_id: i64,
    endpoint: String,
    project_id: String,
    filter: String,
    since: String,
) -> anyhow::Result<ScopeStatus> {
    let coverage: Vec<Coverage> = conn
        .prepare(
            "SELECT covered_from, covered_to FROM sync_coverage WHERE scope_id = ?1
             ORDER BY covered_from",
        )?
        .query_map([scope_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .filter_map(|row| {
            let (from, to) = row.ok()?;
            Some(Coverage {
                from: time::from_store(&from)?,
                to: time::from_store(&to)?,
            })
        })
        .collect();
    let since_t = time::from_store(&since).unwrap_or(now);
    let covered_to = coverage.iter().map(|c| c.to).max();
    let gaps = match covered_to {
        Some(end) => subtract(
            Window {
                start: since_t,
                end,
            },
            &coverage,
        ),
        None => Vec::new(),
    };
    let last_success: Option<String> = conn
        .query_row(
            "SELECT max(finished_at) FROM sync_runs WHERE scope_id = ?1 AND outcome = 'ok'",
            [scope_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let last_run: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT outcome, started_at, error FROM sync_runs WHERE scope_id = ?1
             ORDER BY run_id DESC LIMIT 1",
            [scope_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let open = crate::store::open_statuses_sql();
    let (open_jobs, open_jobs_gone, jobs): (i64, i64, i64) = conn.query_row(
        &format!(
            "SELECT
                count(*) FILTER (WHERE job_status IN ({open}) AND api_gone_at IS NULL),
                count(*) FILTER (WHERE job_status IN ({open}) AND api_gone_at IS NOT NULL),
                count(*)
             FROM jobs WHERE project_id = ?1"
        ),
        params![project_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (rejected_objects, anomalies, last_run_id) = ledger_oddities(conn, scope_id)?;
    let age = last_success
        .as_deref()
        .and_then(time::from_store)
        .map(|t| (now - t).num_seconds());
    let mut warnings = Vec::new();
    match age {
        None => warnings.push(
            "no sync of this scope has succeeded yet: jobs older than the API's retention (about 30 days) cannot be recovered once it forgets them"
                .to_string(),
        ),
        Some(age) if age > LIKELY_RETENTION.num_seconds() => warnings.push(format!(
            "the last successful sync is {} old, longer than the API likely keeps jobs (about 30 days): jobs may be lost for good; sync now",
            human_age(age)
        )),
        Some(_) => {}
    }
    if !gaps.is_empty() {
        warnings.push(format!(
            "{} gap(s) of create time never fetched completely; the next sync fetches them",
            gaps.len()
        ));
    }
    if rejected_objects > 0 {
        warnings.push(format!(
            "{rejected_objects} object(s) the API sent have no usable job_id and are not archived as jobs; their text is kept in the rejected_objects table"
        ));
    }
    // Only the last run's: an accepted disagreement is news once, not on every status.
    if let Some(a) = anomalies.as_ref().filter(|a| Some(a.run_id) == last_run_id) {
        warnings.push(format!(
            "the run of {} found {} listing(s) whose pages disagreed with the API's total_count; the jobs served were archived: {}",
            a.run_started,
            a.count,
            a.notes.first().map(String::as_str).unwrap_or("see sync_runs.anomaly_notes")
        ));
    }
    Ok(ScopeStatus {
        endpoint,
        project_id,
        filter,
        since,
        covered_to: covered_to.map(time::to_store),
        gaps: gaps
            .into_iter()
            .map(|w| Gap {
                from: time::to_store(w.start),
                to: time::to_store(w.end),
            })
            .collect(),
        last_success,
        last_success_age_seconds: age,
        last_run_outcome: last_run.as_ref().map(|r| r.0.clone()),
        last_run_started: last_run.as_ref().map(|r| r.1.clone()),
        last_error: last_run.and_then(|r| r.2),
        open_jobs,
        open_jobs_gone,
        jobs,
        rejected_objects,
        anomalies,
        warnings,
    })
}

/// The scope's rejected objects, the newest run that met anomalies, and the scope's last run.
/// An archive older than schema 5 (status reads those too) has no rejected objects or
/// anomalies.
fn ledger_oddities(
    conn: &Connection,
    scope_id: i64,
) -> anyhow::Result<(i64, Option<RunAnomalies>, Option<i64>)> {
    let last_run: Option<i64> = conn.query_row(
        "SELECT max(run_id) FROM sync_runs WHERE scope_id = ?1",
        [scope_id],
        |r| r.get(0),
    )?;
    let has_ledger: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'rejected_objects'",
        [],
        |r| r.get(0),
    )?;
    if !has_ledger {
        return Ok((0, None, last_run));
    }
    let rejected: i64 = conn.query_row(
        "SELECT count(*) FROM rejected_objects WHERE scope_id = ?1",
        [scope_id],
        |r| r.get(0),
    )?;
    let anomalies = conn
        .query_row(
            "SELECT run_id, started_at, anomalies, anomaly_notes FROM sync_runs
             WHERE scope_id = ?1 AND anomalies > 0 ORDER BY run_id DESC LIMIT 1",
            [scope_id],
            |r| {
                let notes: Option<String> = r.get(3)?;
                Ok(RunAnomalies {
                    run_id: r.get(0)?,
                    run_started: r.get(1)?,
                    count: r.get(2)?,
                    notes: notes
                        .as_deref()
                        .unwrap_or_default()
                        .lines()
                        .map(String::from)
                        .collect(),
                })
            },
        )
        .optional()?;
    Ok((rejected, anomalies, last_run))
}

/// `3d 4h`, `5h 12m`, `42s`.
pub fn human_age(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// What `gaussjobs status` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusRequest {
    pub format: Format,
    /// `--width`: the columns to fit; `None`: the terminal's when stdout is one.
    pub width: Option<usize>,
}

/// Prints the status of the archive at `db`.
pub fn run(
    db: &Path,
    request: &StatusRequest,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format = request.format;
    let conn = open_read_only(db)?;
    let scopes = read(&conn, now)?;
    match format {
        Format::Json => write_json(&serde_json::to_value(&scopes)?, out),
        Format::Ndjson => {
            for s in &scopes {
                serde_json::to_writer(&mut *out, s)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Csv => write_rows(&flat_rows(&scopes), Format::Csv, TableStyle::PLAIN, out),
        Format::Table => {
            if scopes.is_empty() {
                writeln!(out, "no sync has run on this archive yet")?;
            }
            let style = TableStyle::for_stdout(request.width);
            for (i, s) in scopes.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let flat = flat_rows(std::slice::from_ref(s));
                super::layout::write_record(&flat, style, out)?;
                for w in &s.warnings {
                    let line = format!("warning: {}", printable(w));
                    writeln!(out, "{}", super::layout::wrap(&line, style.width, 9))?;
                }
            }
            Ok(())
        }
    }
}

/// One row per scope, for CSV and the table.
fn flat_rows(scopes: &[ScopeStatus]) -> Rows {
    let mut rows = Rows::new(&[
        "project_id",
        "endpoint",
        "filter",
        "since",
        "covered_to",
        "gaps",
        "last_success",
        "last_success_age",
        "last_run",
        "last_error",
        "jobs",
        "open_jobs",
        "open_jobs_gone",
        "rejected_objects",
        "anomalies",
    ]);
    let text = |s: &Option<String>| s.clone().map(Cell::Text).unwrap_or(Cell::Null);
    for s in scopes {
        let gaps = s
            .gaps
            .iter()
            .map(|g| format!("{}..{}", g.from, g.to))
            .collect::<Vec<_>>()
            .join(" ");
        rows.rows.push(vec![
            Cell::Text(s.project_id.clone()),
            Cell::Text(s.endpoint.clone()),
            Cell::Text(s.filter.clone()),
            Cell::Text(s.since.clone()),
            text(&s.covered_to),
            Cell::Text(if gaps.is_empty() { "none".into() } else { gaps }),
            text(&s.last_success),
            s.last_success_age_seconds
                .map(|a| Cell::Text(human_age(a)))
                .unwrap_or(Cell::Null),
            s.last_run_outcome
                .as_ref()
                .map(|o| {
                    Cell::Text(format!(
                        "{o} ({})",
                        s.last_run_started.clone().unwrap_or_default()
                    ))
                })
                .unwrap_or(Cell::Null),
            text(&s.last_error),
            Cell::Integer(s.jobs),
            Cell::Integer(s.open_jobs),
            Cell::Integer(s.open_jobs_gone),
            Cell::Integer(s.rejected_objects),
            s.anomalies
                .as_ref()
                .map(|a| {
                    // The first note only: the rest are in sync_runs.anomaly_notes.
                    let first = a.notes.first().map(String::as_str).unwrap_or_default();
                    Cell::Text(match a.count {
                        1 => format!("1 in the run of {}: {first}", a.run_started),
                        n => format!("{n} in the run of {}, the first: {first}", a.run_started),
                    })
                })
                .unwrap_or(Cell::Null),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_person_says_them() {
        assert_eq!(human_age(42), "42s");
        assert_eq!(human_age(125), "2m");
        assert_eq!(human_age(3 * 3600 + 120), "3h 2m");
        assert_eq!(human_age(40 * 86_400 + 5 * 3600), "40d 5h");
    }
}
