//! `query job JOB_ID`: one job's newest state and every version of it the archive has seen.

use std::io::Write;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use super::render::Format;
use super::render::{self, Cell, Rows, TableStyle};

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

/// What the history table shows: what moves between versions.
const HISTORY_TABLE_COLUMNS: [&str; 7] = [
    "version",
    "observed_at",
    "job_status",
    "instance_status",
    "start_time",
    "end_time",
    "changed",
];

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

pub fn run(
    conn: &Connection,
    job_id: &str,
    format: Format,
    style: TableStyle,
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
    match format {
        Format::Table => write_table(&detail, style, out),
        Format::Json => {
            let job = detail.job.to_objects().pop().unwrap_or(Value::Null);
            let value = serde_json::json!({
                "job": job,
                "history": detail.history.to_objects(),
            });
            render::write_json(&value, out)
        }
        // One record per version: the shape a spreadsheet or `jq -c` wants.
        Format::Csv | Format::Ndjson => render::write_rows(&detail.history, format, style, out),
    }
}

/// A field/value table for the job, then the history table.
fn write_table(detail: &JobDetail, style: TableStyle, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut table = style.table();
    table.set_header(["field", "value"]);
    if let Some(row) = detail.job.rows.first() {
        for (name, cell) in detail.job.columns.iter().zip(row) {
            let value = match cell {
                // Pretty JSON keeps its line breaks; each line is made printable.
                Cell::Json(v) => serde_json::to_string_pretty(v)?
                    .lines()
                    .map(render::printable)
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => style.text(other),
            };
            table.add_row([name.clone(), value]);
        }
    }
    writeln!(out, "{table}")?;

    let mut history = detail.history.select(&HISTORY_TABLE_COLUMNS);
    // `changed` is a JSON array of column names; a plain list reads better in a table.
    if let Some(at) = history.columns.iter().position(|c| c == "changed") {
        for row in &mut history.rows {
            if let Cell::Json(Value::Array(names)) = &row[at] {
                let list: Vec<String> = names
                    .iter()
                    .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string))
                    .collect();
                row[at] = Cell::Text(list.join(", "));
            }
        }
    }
    let versions = history.rows.len();
    writeln!(
        out,
        "\nhistory: {versions} version{}",
        if versions == 1 { "" } else { "s" }
    )?;
    render::write_table(&history, style, out)
}
