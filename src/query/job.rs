//! `query job JOB_ID`: one job's newest state and every version of it the archive has seen.

use std::io::Write;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use super::layout::{self, TableSpec};
use super::render::{self, Cell, Format, Rows};
use super::Answer;

/// The job's columns: what `query jobs` shows plus the archive's bookkeeping (not raw).
static JOB_COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut columns = super::jobs::COLUMNS.to_vec();
    columns.extend(["version", "first_seen_at", "last_seen_at"]);
    columns
});

/// Every job_history column except raw: the version's own fields, then what the schema keeps
/// of each version.
static HISTORY_COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut columns = vec!["job_id", "version", "observed_at", "run_id", "changed"];
    columns
        .extend(crate::store::schema::columns(|c| c.versioned && c.name != "raw").map(|c| c.name));
    columns
});

/// The history table: each version, when it was seen, and what changed from the one before.
const HISTORY_TABLE: TableSpec<'static> = TableSpec {
    default: &["version", "observed_at", "job_status", "changed"],
    drop_order: &[],
};

/// Columns holding JSON text, emitted nested.
fn is_json_column(name: &str) -> bool {
    matches!(name, "target_config" | "changed")
}

fn cells(row: &rusqlite::Row<'_>, columns: &[&str]) -> rusqlite::Result<Vec<Cell>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let value = row.get_ref(i)?;
            Ok(if is_json_column(name) {
                Cell::from_json_text(value)
            } else {
                Cell::from_sql(value)
            })
        })
        .collect()
}

/// One job and its history, oldest version first.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDetail {
    /// One row.
    pub job: Rows,
    pub history: Rows,
}

/// `Ok(None)` when the archive has no such job.
pub fn fetch(conn: &Connection, job_id: &str) -> anyhow::Result<Option<JobDetail>> {
    let sql = format!(
        "SELECT {} FROM jobs WHERE job_id = ?1",
        JOB_COLUMNS.join(", ")
    );
    let Some(job_cells) = conn
        .query_row(&sql, [job_id], |row| cells(row, &JOB_COLUMNS))
        .optional()?
    else {
        return Ok(None);
    };
    let mut job = Rows::new(&JOB_COLUMNS);
    job.rows.push(job_cells);

    let sql = format!(
        "SELECT {} FROM job_history WHERE job_id = ?1 ORDER BY version",
        HISTORY_COLUMNS.join(", ")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut history = Rows::new(&HISTORY_COLUMNS);
    let mut rows = stmt.query([job_id])?;
    while let Some(row) = rows.next()? {
        history.rows.push(cells(row, &HISTORY_COLUMNS)?);
    }
    Ok(Some(JobDetail { job, history }))
}

pub(crate) fn run(
    conn: &Connection,
    job_id: &str,
    answer: &Answer,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some(detail) = fetch(conn, job_id)? else {
        return Err(crate::exit::Hinted {
            message: format!("no job {job_id} in the archive"),
            hint: "list the archived jobs with `gaussjobs query jobs`, or sync the period it \
                   was created in"
                .into(),
        }
        .into());
    };
    match answer.format {
        Format::Table => write_table(&detail, answer, out),
        Format::Json => {
            let job = detail.job.to_objects().pop().unwrap_or(Value::Null);
            let value = serde_json::json!({
                "job": job,
                "history": detail.history.to_objects(),
            });
            render::write_json(&value, out)
        }
        // One record per version: the shape a spreadsheet or `jq -c` wants.
        Format::Csv | Format::Ndjson => answer.write_rows(&detail.history, &TableSpec::ALL, out),
    }
}

/// The job as `field  value` lines (`--columns` picks fields), then a table of its versions
/// saying what each changed: `job_status: Running -> Completed; end_time: - -> ...`.
fn write_table(detail: &JobDetail, answer: &Answer, out: &mut dyn Write) -> anyhow::Result<()> {
    let style = answer.style;
    let job = layout::choose(&detail.job, &TableSpec::ALL, answer.columns, true)?;
    layout::write_record(&job, style, out)?;

    let history = &detail.history;
    let at = |name: &str| history.columns.iter().position(|c| c == name);
    let (Some(changed_at), Some(status_at)) = (at("changed"), at("job_status")) else {
        return Ok(());
    };
    let mut shown = history.clone();
    for (v, row) in shown.rows.iter_mut().enumerate() {
        let names: Vec<String> = match &history.rows[v][changed_at] {
            Cell::Json(Value::Array(names)) => names
                .iter()
                .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let text = if v == 0 {
            format!("first seen {}", history.rows[0][status_at].to_text())
        } else {
            let before = &history.rows[v - 1];
            // `raw` changes with every other column: it says nothing more.
            names
                .iter()
                .filter(|name| name.as_str() != "raw")
                .map(|name| match at(name) {
                    Some(i) => {
                        let show = |c: &Cell| match c {
                            Cell::Null => "-".to_string(),
                            other => other.to_text(),
                        };
                        format!("{name}: {} -> {}", show(&before[i]), show(&row[i]))
                    }
                    None => name.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        row[changed_at] = Cell::Text(text);
    }
    layout::write_versions("history", "", &shown, &HISTORY_TABLE, style, out)
}
