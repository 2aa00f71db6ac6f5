//! `query instance ID_OR_NAME`: one instance's jobs in time order with durations, and the
//! timeline of every version of them the archive saw: what an incident review starts from.

use std::io::Write;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde_json::Value;

use super::filter::where_clause;
use super::layout::{self, TableSpec};
use super::render::{self, Cell, Format, Rows};
use super::Answer;

/// The jobs table: the job and how long it ran; the wait and the duration go first when
/// narrow.
const JOBS_TABLE: TableSpec<'static> = TableSpec {
    default: &[
        "job_id",
        "create_time",
        "job_name",
        "job_status",
        "wait",
        "duration",
    ],
    drop_order: &["wait", "duration"],
};

/// The timeline table: when, which job, what its status became.
const TIMELINE_TABLE: TableSpec<'static> = TableSpec {
    default: &[
        "observed_at",
        "job_id",
        "job_name",
        "status",
        "instance_status",
        "changed",
    ],
    drop_order: &["instance_status", "changed", "job_name"],
};

/// The job columns, oldest job first.
pub const JOB_COLUMNS: [&str; 9] = [
    "job_id",
    "create_time",
    "job_name",
    "job_status",
    "instance_status",
    "start_time",
    "end_time",
    "wait_seconds",
    "duration_seconds",
];

/// One row per version seen, in the order they were seen.
pub const TIMELINE_COLUMNS: [&str; 8] = [
    "observed_at",
    "job_id",
    "job_name",
    "version",
    "from_status",
    "to_status",
    "instance_status",
    "changed",
];

/// What `query instance` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceQuery {
    pub instance: String,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One instance's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetail {
    /// One row: instance_id, instance_name, jobs, failed, first/last create time.
    pub summary: Rows,
    pub jobs: Rows,
    pub timeline: Rows,
}

const SUMMARY_COLUMNS: [&str; 7] = [
    "instance_id",
    "instance_name",
    "jobs",
    "failed",
    "open",
    "first_create_time",
    "last_create_time",
];

fn read_rows(
    conn: &Connection,
    sql: &str,
    params: &[SqlValue],
    columns: &[&str],
    json_columns: &[&str],
) -> anyhow::Result<Rows> {
    let mut stmt = conn.prepare(sql)?;
    let mut result = Rows::new(columns);
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, name) in columns.iter().enumerate() {
            let value = row.get_ref(i)?;
            cells.push(if json_columns.contains(name) {
                Cell::from_json_text(value)
            } else {
                Cell::from_sql(value)
            });
        }
        result.rows.push(cells);
    }
    Ok(result)
}

/// The instance_id meant: an exact id first, else a name in any case. A name several
/// instances had is a usage error listing them; an unknown one fails.
pub fn resolve(conn: &Connection, given: &str) -> anyhow::Result<String> {
    let by_id: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE instance_id = ?1 LIMIT 1)",
        [given],
        |r| r.get(0),
    )?;
    if by_id > 0 {
        return Ok(given.to_string());
    }
    let mut stmt = conn.prepare(
        "SELECT instance_id, max(instance_name), count(*), max(create_time) FROM jobs
         WHERE instance_id IN (SELECT instance_id FROM instance_names WHERE instance_name = ?1)
           AND instance_name = ?1 COLLATE NOCASE
         GROUP BY instance_id ORDER BY 4 DESC",
    )?;
    /// instance_id, newest name, jobs, newest create time.
    type Candidate = (Option<String>, Option<String>, i64, Option<String>);
    let found: Vec<Candidate> = stmt
        .query_map([given], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    match found.as_slice() {
        [] => Err(unknown(conn, given)?),
        [(Some(id), ..)] => Ok(id.clone()),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|(id, name, n, last)| {
                    format!(
                        "{} ({}, {n} jobs, newest {})",
                        id.as_deref().unwrap_or("(no id)"),
                        name.as_deref().unwrap_or(""),
                        last.as_deref().unwrap_or("-"),
                    )
                })
                .collect();
            Err(crate::exit::usage_with_hint(
                format!(
                    "instance name {given:?} matches {} instances: {}",
                    many.len(),
                    list.join("; ")
                ),
                "pass one of the instance_ids instead of the name",
            ))
        }
    }
}

/// [`known`] for each `--instance` given: the first unknown one fails.
pub fn all_known(conn: &Connection, given: &[String]) -> anyhow::Result<()> {
    given.iter().try_for_each(|instance| known(conn, instance))
}

/// Fails as `query instance` does when the archive has no instance with this id or name
/// (`query jobs --instance` and `as-of --instance` ask this first, so a typo is not taken for
/// an instance without jobs).
pub fn known(conn: &Connection, given: &str) -> anyhow::Result<()> {
    let found: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE instance_id = ?1)
             OR EXISTS (SELECT 1 FROM instance_names WHERE instance_name = ?1)",
        [given],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(unknown(conn, given)?)
    }
}

/// The error for an instance the archive does not have, suggesting the closest names.
fn unknown(conn: &Connection, given: &str) -> anyhow::Result<anyhow::Error> {
    let mut stmt = conn.prepare("SELECT DISTINCT instance_name FROM instance_names")?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let close = close_names(given, &names);
    let list = "list instances with `gaussjobs query stats --by instance`";
    let hint = if close.is_empty() {
        list.to_string()
    } else {
        format!("did you mean {}? {list}", close.join(", "))
    };
    Ok(crate::exit::Hinted {
        message: format!("no instance {given} in the archive (by instance_id or name)"),
        hint,
    }
    .into())
}

/// Up to three names close to `given` (any case): those it is a part of, or a few edits
/// away, the closest first.
pub fn close_names(given: &str, names: &[String]) -> Vec<String> {
    let want = given.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|name| {
            let have = name.to_lowercase();
            let distance = strsim::levenshtein(&want, &have);
            let near = distance <= (want.chars().count() / 3).max(2);
            (near || (want.len() >= 3 && have.contains(&want))).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

pub fn fetch(conn: &Connection, query: &InstanceQuery) -> anyhow::Result<InstanceDetail> {
    let id = resolve(conn, &query.instance)?;
    let mut clauses = vec!["j.instance_id = ?".to_string()];
    let mut params = vec![SqlValue::Text(id)];
    if let Some(since) = query.since {
        clauses.push("j.create_time >= ?".into());
        params.push(SqlValue::Text(crate::time::to_store(since)));
    }
    if let Some(until) = query.until {
        clauses.push("j.create_time < ?".into());
        params.push(SqlValue::Text(crate::time::to_store(until)));
    }
    let filter = where_clause(&clauses);
    let open = crate::store::open_statuses_sql();

    let summary = read_rows(
        conn,
        &format!(
            "SELECT j.instance_id,
                    (SELECT instance_name FROM jobs WHERE instance_id = j.instance_id
                     ORDER BY create_time DESC LIMIT 1),
                    count(*),
                    count(*) FILTER (WHERE j.job_status = 'Failed'),
                    count(*) FILTER (WHERE j.job_status IN ({open})),
                    min(j.create_time), max(j.create_time)
             FROM jobs j{filter}"
        ),
        &params,
        &SUMMARY_COLUMNS,
        &[],
    )?;
    let jobs = read_rows(
        conn,
        &format!(
            "SELECT j.job_id, j.create_time, j.job_name, j.job_status, j.instance_status,
                    j.start_time, j.end_time,
                    unixepoch(j.start_time) - unixepoch(j.create_time),
                    unixepoch(j.end_time) - unixepoch(j.start_time)
             FROM jobs j{filter} ORDER BY j.create_time, j.job_id"
        ),
        &params,
        &JOB_COLUMNS,
        &[],
    )?;
    let timeline = read_rows(
        conn,
        &format!(
            // The instance's superseded versions, then each job's newest (in its own row); a
            // version's predecessor is always superseded.
            "SELECT h.observed_at, h.job_id, h.job_name, h.version, p.job_status, h.job_status,
                    h.instance_status, h.changed
             FROM jobs j
             JOIN superseded_versions h ON h.job_id = j.job_id
             LEFT JOIN superseded_versions p ON p.job_id = h.job_id AND p.version = h.version - 1
             {filter}
             UNION ALL
             SELECT j.version_observed_at, j.job_id, j.job_name, j.version, p.job_status,
                    j.job_status, j.instance_status, j.version_changed
             FROM jobs j
             LEFT JOIN superseded_versions p ON p.job_id = j.job_id AND p.version = j.version - 1
             {filter}
             ORDER BY 1, 2, 4"
        ),
        &[params.as_slice(), params.as_slice()].concat(),
        &TIMELINE_COLUMNS,
        &["changed"],
    )?;
    Ok(InstanceDetail {
        summary,
        jobs,
        timeline,
    })
}

pub(crate) fn run(
    conn: &Connection,
    query: &InstanceQuery,
    answer: &Answer,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let detail = fetch(conn, query)?;
    match answer.format {
        Format::Table => write_table(&detail, answer, out),
        Format::Json => {
            let value = serde_json::json!({
                "instance": detail.summary.to_objects().pop().unwrap_or(Value::Null),
                "jobs": detail.jobs.to_objects(),
                "timeline": detail.timeline.to_objects(),
            });
            render::write_json(&value, out)
        }
        // One record per job: the shape a spreadsheet wants.
        Format::Csv | Format::Ndjson => answer.write_rows(&detail.jobs, &TableSpec::ALL, out),
    }
}

/// Seconds as a person reads them: `45s`, `12m 5s`, `3h 2m`, `2d 4h`.
pub fn human_seconds(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let text = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    };
    format!("{sign}{text}")
}

fn write_table(
    detail: &InstanceDetail,
    answer: &Answer,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let style = answer.style;
    layout::write_record(&detail.summary, style, out)?;

    let mut jobs = detail.jobs.clone();
    for name in ["wait_seconds", "duration_seconds"] {
        if let Some(at) = jobs.columns.iter().position(|c| c == name) {
            jobs.columns[at] = name.trim_end_matches("_seconds").to_string();
            for row in &mut jobs.rows {
                if let Cell::Integer(s) = row[at] {
                    row[at] = Cell::Text(human_seconds(s));
                }
            }
        }
    }
    let n = jobs.rows.len() as i64;
    writeln!(
        out,
        "\n{}, oldest first",
        super::notes::plural(n, "job", "jobs")
    )?;
    answer.write_rows(&jobs, &JOBS_TABLE, out)?;

    let mut timeline = Rows::new(TIMELINE_TABLE.default);
    for row in &detail.timeline.rows {
        let status = match (&row[4], &row[5]) {
            (Cell::Null, to) => format!("seen {}", to.to_text()),
            (from, to) if from == to => to.to_text(),
            (from, to) => format!("{} -> {}", from.to_text(), to.to_text()),
        };
        let changed = match &row[7] {
            Cell::Json(Value::Array(names)) => names
                .iter()
                .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_text(),
        };
        timeline.rows.push(vec![
            row[0].clone(),
            row[1].clone(),
            row[2].clone(),
            Cell::Text(status),
            row[6].clone(),
            Cell::Text(changed),
        ]);
    }
    layout::write_versions("timeline", " seen", &timeline, &TIMELINE_TABLE, style, out)
}
