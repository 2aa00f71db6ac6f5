//! Offline questions about the archive: `query jobs`, `job`, `instance`, `stats`, `as-of`,
//! `sql` and `status`, answered from a read-only connection and rendered as table, JSON,
//! NDJSON or CSV. Never touches the network and never writes the file. Each question comes
//! in as a checked request (`app` turns flags into them).

mod as_of;
mod filter;
pub mod health;
mod instance;
mod job;
mod jobs;
mod layout;
mod notes;
mod render;
mod sql;
mod stats;
pub mod status;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::Path;

pub use as_of::AsOfQuery;
pub use filter::{where_clause, Filter};
pub use instance::{all_known as instances_known, human_seconds, InstanceQuery};
pub use jobs::{JobsQuery, Order};
pub use layout::{text_width, truncate};
pub use render::{Cell, DisplayTz, Format, Rows, TableStyle};
pub use stats::{fetch as stats_rows, Key, StatsQuery};
pub use status::StatusRequest;

/// One `query` command, checked: the question, the output format, the zone of table times
/// and the table's columns and width.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub format: Format,
    pub tz: DisplayTz,
    pub table: TableChoice,
    pub question: Question,
}

/// `--columns`, `--wide` and `--width`: which columns a table shows and how wide it may be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableChoice {
    /// The columns asked for, in order; empty: the command's default. Applies to every
    /// format of the row answers (jobs, as-of, stats, instance's jobs, sql).
    pub columns: Vec<String>,
    /// Every column, nothing cut.
    pub wide: bool,
    /// The width to fit; `None`: the terminal's when stdout is one, else no limit.
    pub width: Option<usize>,
}

/// The questions `query` answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    Jobs(JobsQuery),
    Job { job_id: String },
    Instance(InstanceQuery),
    Stats(StatsQuery),
    AsOf(AsOfQuery),
    Sql { sql: String, params: Vec<String> },
}

/// Answers `request` from the archive at `db`, writing the answer to `out` and notes (such as
/// "more rows exist") to `err`. Tables fit the terminal when stdout is one.
pub fn run(
    db: &Path,
    request: &QueryRequest,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    run_with_style(
        db,
        request,
        TableStyle::for_stdout(request.table.width),
        out,
        err,
    )
}

/// [`run`] with the table layout chosen by the caller (tests use [`TableStyle::PLAIN`]).
pub fn run_with_style(
    db: &Path,
    request: &QueryRequest,
    style: TableStyle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let conn = crate::store::open_current_read_only(db)?;
    // Reading pages through mmap instead of read() halves a full index scan on a big
    // archive; SQLite caps the size at what the platform allows and falls back to read().
    conn.pragma_update(None, "mmap_size", 2_000_000_000i64)?;
    let style = TableStyle {
        tz: request.tz,
        wide: request.table.wide,
        width: request.table.width.or(style.width),
    };
    let answer = Answer {
        format: request.format,
        style,
        columns: &request.table.columns,
    };
    match &request.question {
        Question::Jobs(query) => jobs::run(&conn, query, &answer, out, err),
        Question::Job { job_id } => job::run(&conn, job_id, &answer, out),
        Question::Instance(query) => instance::run(&conn, query, &answer, out),
        Question::Stats(query) => stats::run(&conn, query, &answer, out, err),
        Question::AsOf(query) => as_of::run(&conn, query, &answer, out, err),
        Question::Sql { sql, params } => sql::run(&conn, sql, params, &answer, out),
    }
}

/// How an answer is to be written: format, table style and `--columns`.
pub(crate) struct Answer<'a> {
    pub format: Format,
    pub style: TableStyle,
    pub columns: &'a [String],
}

impl Answer<'_> {
    /// Writes a row answer: in a table the columns of `spec` (or `--columns`, or all with
    /// `--wide`) fitted to the width; in the other formats every column, or `--columns`.
    pub fn write_rows(
        &self,
        rows: &Rows,
        spec: &layout::TableSpec,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Table => {
                let chosen = layout::choose(rows, spec, self.columns, self.style.wide)?;
                layout::write_fitted(
                    &chosen,
                    spec.drop_order,
                    !self.columns.is_empty(),
                    self.style,
                    out,
                )
            }
            other => {
                let chosen = layout::choose(rows, &layout::TableSpec::ALL, self.columns, true)?;
                layout::write_rows(&chosen, other, self.style, out)
            }
        }
    }
}
