//! `query as-of T`: every job as the archive knew it at time T, from its newest version
//! observed at or before T. Jobs first seen after T are not listed.

use std::io::Write;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::filter::{fetch_limit, Filter};
use super::jobs::TABLE_COLUMNS;
use super::layout::TableSpec;
use super::notes;
use super::render::{Cell, Rows};
use super::Answer;

/// The table: the job, its status then and now; the instance and create time go first when
/// narrow.
const TABLE: TableSpec<'static> = TableSpec {
    default: &[
        "job_id",
        "create_time",
        "job_name",
        "job_status",
        "status_now",
        "instance_name",
    ],
    drop_order: &["instance_name", "create_time"],
};

/// The columns: the job as known at T (the table columns of `query jobs`), when that version
/// was seen, and its status today.
pub static COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut columns = TABLE_COLUMNS.to_vec();
    columns.extend(["version", "observed_at", "status_now"]);
    columns
});

/// What `query as-of` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOfQuery {
    pub at: DateTime<Utc>,
    /// --status applies to the status at T.
    pub filter: Filter,
    pub limit: u64,
}

impl AsOfQuery {
    /// Walks jobs newest first by create time (a job cannot be seen before it was created,
    /// so create_time <= T bounds the index range). A job whose newest version was seen by T is
    /// answered from its own row; otherwise `h` is its newest superseded version seen by T,
    /// found through superseded_versions_as_of, and a job with neither was unknown at T.
    pub fn to_sql(&self) -> (String, Vec<SqlValue>) {
        let at = SqlValue::Text(crate::time::to_store(self.at));
        let status_then = version_at_t("job_status");
        let (mut clauses, filter_params) = self.filter.clauses("j.", &status_then);
        clauses.insert(0, "j.create_time <= ?".into());
        clauses.insert(
            1,
            "(j.version_observed_at <= ? OR h.job_id IS NOT NULL)".into(),
        );
        let mut params = vec![at.clone(), at.clone(), at.clone(), at];
        params.extend(filter_params);
        params.push(fetch_limit(self.limit));
        let columns: Vec<String> = TABLE_COLUMNS
            .iter()
            .map(|c| format!("{} AS {c}", version_at_t(c)))
            .collect();
        let sql = format!(
            "SELECT {},
                    coalesce(h.version, j.version) AS version,
                    coalesce(h.observed_at, j.version_observed_at) AS observed_at,
                    j.job_status AS status_now
             FROM jobs j
             LEFT JOIN superseded_versions h
                 ON j.version_observed_at > ? AND h.job_id = j.job_id AND h.version = (
                     SELECT max(version) FROM superseded_versions
                     WHERE job_id = j.job_id AND observed_at <= ?)
             WHERE {}
             ORDER BY j.create_time DESC, j.job_id
             LIMIT ?",
            columns.join(", "),
            clauses.join(" AND ")
        );
        // The join's parameters come first in the text, then create_time <= ? and the test
        // of the job's own version.
        (sql, params)
    }
}

/// A column of the version known at T: the superseded one when the join found it, else the
/// job's own (whose columns may be NULL, so not coalesce).
fn version_at_t(column: &str) -> String {
    format!("CASE WHEN h.job_id IS NULL THEN j.{column} ELSE h.{column} END")
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

pub(crate) fn run(
    conn: &Connection,
    query: &AsOfQuery,
    answer: &Answer,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    super::instance::all_known(conn, &query.filter.instances)?;
    let (rows, more) = fetch(conn, query)?;
    answer.write_rows(&rows, &TABLE, out)?;
    let at = crate::time::to_store(query.at);
    if rows.rows.is_empty() {
        let first: Option<String> =
            conn.query_row("SELECT min(started_at) FROM sync_runs", [], |r| r.get(0))?;
        match first {
            Some(first) if at < first => writeln!(
                err,
                "note: the archive did not exist yet at {at}: its first sync ran at {first}"
            )?,
            _ => notes::no_match(conn, err)?,
        }
    }
    if more {
        // No total: counting the jobs known at T walks the version join for each, which took
        // a million-job as-of from 0.1 s to 0.7 s (3 s with --status).
        writeln!(
            err,
            "note: showing the newest {} of more jobs known at {at}; use --limit to see more",
            query.limit,
        )?;
    }
    Ok(())
}
