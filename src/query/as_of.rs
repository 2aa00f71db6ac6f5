//! `query as-of T`: every job as the archive knew it at time T, from the newest version in
//! job_history observed at or before T. Jobs first seen after T are not listed.

use std::io::Write;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::filter::{check_limit, fetch_limit, user_time, Filter};
use super::render::{self, Cell, Rows, TableStyle};
use crate::cli::{AsOfArgs, Format};

/// The columns: the job as known at T, when that version was seen, and its status today.
pub const COLUMNS: [&str; 12] = [
    "job_id",
    "create_time",
    "job_name",
    "job_status",
    "instance_id",
    "instance_name",
    "instance_status",
    "start_time",
    "end_time",
    "version",
    "observed_at",
    "status_now",
];

/// What `query as-of` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOfQuery {
    pub at: DateTime<Utc>,
    /// --status applies to the status at T.
    pub filter: Filter,
    pub limit: u64,
}

impl AsOfQuery {
    pub fn from_args(args: &AsOfArgs, now: DateTime<Utc>) -> anyhow::Result<AsOfQuery> {
        let at = user_time("as-of time", Some(&args.at), now)?.expect("a value was given");
        Ok(AsOfQuery {
            at,
            filter: Filter::from_args(&args.filter, now)?,
            limit: check_limit(args.limit)?,
        })
    }

    /// Walks jobs newest first by create time (a job cannot be seen before it was created,
    /// so create_time <= T bounds the index range) and joins each to its newest version seen
    /// by T through job_history's primary key.
    pub fn to_sql(&self) -> (String, Vec<SqlValue>) {
        let at = SqlValue::Text(crate::time::to_store(self.at));
        let (mut clauses, filter_params) = self.filter.clauses("j.", "h.job_status");
        clauses.insert(0, "j.create_time <= ?".into());
        let mut params = vec![at.clone(), at];
        params.extend(filter_params);
        params.push(fetch_limit(self.limit));
        let sql = format!(
            "SELECT h.job_id, h.create_time, h.job_name, h.job_status, h.instance_id,
                    h.instance_name, h.instance_status, h.start_time, h.end_time, h.version,
                    h.observed_at, j.job_status
             FROM jobs j
             JOIN job_history h ON h.job_id = j.job_id AND h.version = (
                 SELECT max(version) FROM job_history
                 WHERE job_id = j.job_id AND observed_at <= ?)
             WHERE {}
             ORDER BY j.create_time DESC, j.job_id
             LIMIT ?",
            clauses.join(" AND ")
        );
        // The subquery's parameter comes first in the text, then create_time <= ?.
        (sql, params)
    }
}

/// The matching jobs at T, and whether more matched than the limit.
pub fn fetch(conn: &Connection, query: &AsOfQuery) -> anyhow::Result<(Rows, bool)> {
    let (sql, params) = query.to_sql();
    let mut stmt = conn.prepare(&sql)?;
    let mut result = Rows::new(&COLUMNS);
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let cells = (0..COLUMNS.len())
            .map(|i| row.get_ref(i).map(Cell::from_sql))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        result.rows.push(cells);
    }
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let more = result.rows.len() > limit;
    result.rows.truncate(limit);
    Ok((result, more))
}

pub fn run(
    conn: &Connection,
    query: &AsOfQuery,
    format: Format,
    style: TableStyle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let (rows, more) = fetch(conn, query)?;
    match format {
        Format::Table => render::write_table(
            &rows.select(&[
                "job_id",
                "create_time",
                "job_name",
                "job_status",
                "instance_name",
                "version",
                "observed_at",
                "status_now",
            ]),
            style,
            out,
        )?,
        other => render::write_rows(&rows, other, style, out)?,
    }
    if more {
        writeln!(
            err,
            "note: showing the newest {} of more jobs known at {}; use --limit to see more",
            query.limit,
            crate::time::to_store(query.at)
        )?;
    }
    Ok(())
}
