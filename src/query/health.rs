//! Health for machines: `status --check` (one line per problem, exit 1 when there is one,
//! for Nagios and cron) and the Prometheus node-exporter textfile of `--metrics-file`.
//! Read-only on the archive; the metrics file is written whole or not at all (temp file,
//! then rename), so the exporter never reads half of one.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::status::{self, ScopeStatus};
use crate::store::open_read_only;
use crate::time;

/// The default `--max-age`: a daily sync that ran a little late is still healthy.
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(25);

/// What is wrong with the archive, one line each; empty when every scope had a successful
/// sync within `max_age`, has no gaps, and its newest run did not fail.
pub fn problems(scopes: &[ScopeStatus], max_age: Duration) -> Vec<String> {
    if scopes.is_empty() {
        return vec!["no sync has run on this archive".into()];
    }
    let mut out = Vec::new();
    for s in scopes {
        let name = scope_name(s);
        match s.last_success_age_seconds {
            None => out.push(format!("{name}: no successful sync yet")),
            Some(age) if age > max_age.num_seconds() => out.push(format!(
                "{name}: last successful sync {} ago ({}), older than {}",
                status::human_age(age),
                s.last_success.as_deref().unwrap_or("?"),
                time::format_duration(max_age)
            )),
            Some(_) => {}
        }
        if !s.gaps.is_empty() {
            let ranges: Vec<String> = s
                .gaps
                .iter()
                .map(|g| format!("{}..{}", g.from, g.to))
                .collect();
            out.push(format!(
                "{name}: {} {} in coverage: {}",
                s.gaps.len(),
                if s.gaps.len() == 1 { "gap" } else { "gaps" },
                ranges.join(" ")
            ));
        }
        if let Some(outcome) = s
            .last_run_outcome
            .as_deref()
            .filter(|o| matches!(*o, "failed" | "interrupted"))
        {
            out.push(format!(
                "{name}: the newest run ({}) {outcome}{}",
                s.last_run_started.as_deref().unwrap_or("?"),
                s.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}

fn scope_name(s: &ScopeStatus) -> String {
    let mut name = format!("project {} at {}", s.project_id, s.endpoint);
    if !s.filter.is_empty() {
        name.push_str(&format!(" ({})", s.filter));
    }
    name
}

/// `status --check`: prints `ok: ...` or one line per problem on `out`; `true` when healthy.
pub fn check(
    db: &Path,
    max_age: Duration,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let conn = open_read_only(db)?;
    let scopes = status::read(&conn, now)?;
    let problems = problems(&scopes, max_age);
    if problems.is_empty() {
        writeln!(
            out,
            "ok: {} {} synced within {}, no gaps",
            scopes.len(),
            if scopes.len() == 1 { "scope" } else { "scopes" },
            time::format_duration(max_age)
        )?;
        return Ok(true);
    }
    for p in &problems {
        writeln!(out, "{}", super::render::printable(p))?;
    }
    Ok(false)
}

/// One metric: its name, help, type, and a value per scope.
struct Metric {
    name: &'static str,
    help: &'static str,
    value: fn(&ScopeStatus, &Extra) -> f64,
}

/// What the status leaves out and the metrics need, per scope.
struct Extra {
    last_run_at: Option<i64>,
    last_run_requests: i64,
}

const METRICS: &[Metric] = &[
    Metric {
        name: "gaussjobs_last_success_timestamp_seconds",
        help: "When the newest successful sync of the scope ended (Unix time; 0 when none has).",
        value: |s, _| {
            s.last_success
                .as_deref()
                .and_then(time::from_store)
                .map_or(0.0, |t| t.timestamp() as f64)
        },
    },
    Metric {
        name: "gaussjobs_last_run_timestamp_seconds",
        help: "When the newest sync run of the scope started (Unix time; 0 when none has).",
        value: |_, e| e.last_run_at.unwrap_or(0) as f64,
    },
    Metric {
        name: "gaussjobs_last_run_ok",
        help: "1 when the newest sync run of the scope succeeded, else 0.",
        value: |s, _| f64::from(u8::from(s.last_run_outcome.as_deref() == Some("ok"))),
    },
    Metric {
        name: "gaussjobs_jobs_archived",
        help: "Jobs of the scope's project in the archive.",
        value: |s, _| s.jobs as f64,
    },
    Metric {
        name: "gaussjobs_open_jobs",
        help: "Archived jobs not yet in a final state, refreshed by every sync.",
        value: |s, _| s.open_jobs as f64,
    },
    Metric {
        name: "gaussjobs_coverage_gaps",
        help: "Ranges of create time inside the scope never fetched completely.",
        value: |s, _| s.gaps.len() as f64,
    },
    Metric {
        name: "gaussjobs_run_requests",
        help: "HTTP requests the newest sync run of the scope made, retries included.",
        value: |_, e| e.last_run_requests as f64,
    },
];

/// A label value escaped as the text format wants: backslash, quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn extra(conn: &Connection, s: &ScopeStatus) -> anyhow::Result<Extra> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT r.started_at, r.requests FROM sync_runs r
             JOIN sync_scopes c ON c.scope_id = r.scope_id
             WHERE c.endpoint = ?1 AND c.project_id = ?2 AND c.filter = ?3
             ORDER BY r.run_id DESC LIMIT 1",
            params![s.endpoint, s.project_id, s.filter],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(Extra {
        last_run_at: row
            .as_ref()
            .and_then(|(at, _)| time::from_store(at))
            .map(|t| t.timestamp()),
        last_run_requests: row.map_or(0, |(_, n)| n),
    })
}

/// The textfile: every metric with `# HELP` and `# TYPE`, one sample per scope labelled
/// with its project, endpoint and filter.
pub fn metrics_text(conn: &Connection, now: DateTime<Utc>) -> anyhow::Result<String> {
    let scopes = status::read(conn, now)?;
    let extras = scopes
        .iter()
        .map(|s| extra(conn, s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut text = String::new();
    for m in METRICS {
        let _ = writeln!(text, "# HELP {} {}", m.name, m.help);
        let _ = writeln!(text, "# TYPE {} gauge", m.name);
        for (s, e) in scopes.iter().zip(&extras) {
            let _ = writeln!(
                text,
                "{}{{project_id=\"{}\",endpoint=\"{}\",filter=\"{}\"}} {}",
                m.name,
                label(&s.project_id),
                label(&s.endpoint),
                label(&s.filter),
                (m.value)(s, e)
            );
        }
    }
    Ok(text)
}

/// Writes the metrics of the archive at `db` to `path` atomically (see `output_file`).
pub fn write_metrics(db: &Path, path: &Path, now: DateTime<Utc>) -> anyhow::Result<()> {
    use anyhow::Context;
    let conn = open_read_only(db)?;
    let text = metrics_text(&conn, now)?;
    crate::output_file::replace(path, |out| Ok(out.write_all(text.as_bytes())?))
        .with_context(|| format!("cannot write the metrics file {}", path.display()))
}
