//! Offline questions about the archive: `query jobs`, `query job`, `query sql`, answered from a
//! read-only connection and rendered as table, JSON, NDJSON or CSV. Never touches the network
//! and never writes the file.

pub mod job;
pub mod jobs;
pub mod render;
pub mod sql;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::cli::{QueryArgs, QueryCommand};
pub use render::{Cell, Rows, TableStyle};

/// Runs one `query` command against the archive at `db`, writing the answer to `out` and
/// notes (such as "more rows exist") to `err`. Tables fit the terminal when stdout is one.
pub fn run(
    db: &Path,
    args: &QueryArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    run_with_style(db, args, now, TableStyle::for_stdout(), out, err)
}

/// [`run`] with the table layout chosen by the caller (tests use [`TableStyle::PLAIN`]).
pub fn run_with_style(
    db: &Path,
    args: &QueryArgs,
    now: DateTime<Utc>,
    style: TableStyle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let open = || crate::store::open_read_only(db);
    match &args.command {
        QueryCommand::Jobs(jobs_args) => {
            // Flags first: a typo is reported as such even when the archive is missing too.
            let query = jobs::JobsQuery::from_args(jobs_args, now)?;
            jobs::run(&open()?, &query, args.format, style, out, err)
        }
        QueryCommand::Job { job_id } => job::run(&open()?, job_id, args.format, style, out),
        QueryCommand::Sql { sql } => sql::run(&open()?, sql, args.format, style, out),
    }
}
