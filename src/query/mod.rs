//! Offline questions about the archive: `query jobs`, `job`, `instance`, `stats`, `as-of`,
//! `sql` and `status`, answered from a read-only connection and rendered as table, JSON,
//! NDJSON or CSV. Never touches the network and never writes the file. Each question comes
//! in as a checked request (`app` turns flags into them).

mod as_of;
mod filter;
mod instance;
mod job;
mod jobs;
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
pub use instance::{human_seconds, InstanceQuery};
pub use jobs::{JobsQuery, Order};
pub use render::{Cell, DisplayTz, Format, Rows, TableStyle};
pub use stats::{fetch as stats_rows, Key, StatsQuery};
pub use status::StatusRequest;

/// One `query` command, checked: the question, the output format and the zone of table times.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub format: Format,
    pub tz: DisplayTz,
    pub question: Question,
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
    run_with_style(db, request, TableStyle::for_stdout(), out, err)
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
        ..style
    };
    let format = request.format;
    match &request.question {
        Question::Jobs(query) => jobs::run(&conn, query, format, style, out, err),
        Question::Job { job_id } => job::run(&conn, job_id, format, style, out),
        Question::Instance(query) => instance::run(&conn, query, format, style, out),
        Question::Stats(query) => stats::run(&conn, query, format, style, out),
        Question::AsOf(query) => as_of::run(&conn, query, format, style, out, err),
        Question::Sql { sql, params } => sql::run(&conn, sql, params, format, style, out),
    }
}
