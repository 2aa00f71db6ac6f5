//! `gaussjobs report`: one self-contained HTML file of the archive for a range and filters —
//! header with coverage, instance timeline, per-day and per-type charts, the jobs that went
//! wrong with their status histories, and the numbers of `query stats`.
//!
//! Read-only and offline like `query`: the archive is opened through the same read-only
//! connection, and the figures are `query stats`'s own, so the report and the CLI cannot
//! disagree. The page carries its CSS and SVG inline and no script, so it opens from a mail
//! attachment or a USB stick with nothing else.

mod charts;
mod data;
mod page;
mod svg;
mod timeline;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::query::{DisplayTz, Filter};

pub use data::{Figures, ReportData};

/// What `gaussjobs report` was asked for, checked: a closed range and the filters.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRequest {
    /// `since` and `until` are always set.
    pub filter: Filter,
    pub title: String,
    pub tz: DisplayTz,
    /// The archive as the user named it, shown in the header.
    pub archive: String,
}

/// What a written report holds, for the line the command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub jobs: u64,
    pub bytes: u64,
}

/// Writes the report of the archive at `db` to `out`, as of `now`.
pub fn run(
    db: &Path,
    request: &ReportRequest,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<Written> {
    let conn = crate::store::open_current_read_only(db)?;
    // An unknown --instance fails as it does in `query`: a typo is not an instance without jobs.
    crate::query::instances_known(&conn, &request.filter.instances)?;
    let data = data::gather(&conn, request, now)?;
    let html = page::render(request, &data, now);
    out.write_all(html.as_bytes())?;
    out.flush()?;
    Ok(Written {
        jobs: data.total(),
        bytes: html.len() as u64,
    })
}
