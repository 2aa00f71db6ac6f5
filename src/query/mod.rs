//! Offline questions about the archive: `query jobs`, `job`, `instance`, `stats`, `as-of` and
//! `sql`, answered from a read-only connection and rendered as table, JSON, NDJSON or CSV.
//! Never touches the network and never writes the file.

pub mod as_of;
pub mod filter;
pub mod instance;
pub mod job;
pub mod jobs;
pub mod render;
pub mod sql;
pub mod stats;

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
    let open = || -> anyhow::Result<rusqlite::Connection> {
        let conn = crate::store::open_current_read_only(db)?;
        // Reading pages through mmap instead of read() halves a full index scan on a big
        // archive; SQLite caps the size at what the platform allows and falls back to read().
        conn.pragma_update(None, "mmap_size", 2_000_000_000i64)?;
        Ok(conn)
    };
    // Flags first: a typo is reported as such even when the archive is missing too.
    let style = TableStyle {
        tz: render::DisplayTz::parse(&args.tz)?,
        ..style
    };
    let format = args.format;
    match &args.command {
        QueryCommand::Jobs(jobs_args) => {
            let query = jobs::JobsQuery::from_args(jobs_args, now)?;
            jobs::run(&open()?, &query, format, style, out, err)
        }
        QueryCommand::Job { job_id } => job::run(&open()?, job_id, format, style, out),
        QueryCommand::Instance(instance_args) => {
            let query = instance::InstanceQuery::from_args(instance_args, now)?;
            instance::run(&open()?, &query, format, style, out)
        }
        QueryCommand::Stats(stats_args) => {
            let query = stats::StatsQuery::from_args(stats_args, now)?;
            stats::run(&open()?, &query, format, style, out)
        }
        QueryCommand::AsOf(as_of_args) => {
            let query = as_of::AsOfQuery::from_args(as_of_args, now)?;
            as_of::run(&open()?, &query, format, style, out, err)
        }
        QueryCommand::Sql { sql, params } => sql::run(&open()?, sql, params, format, style, out),
    }
}
