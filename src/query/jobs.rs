//! `query jobs`: the job list, its filters turned into parameterised SQL, newest first by
//! default.

use std::io::Write;

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::filter::{fetch_limit, where_clause, Filter};
use super::layout::TableSpec;
use super::notes;
use super::render::{Cell, Rows};
use super::Answer;

/// The columns `query jobs` prints, in order (json, ndjson, csv): a job's own fields, which are
/// the `jobs` columns of `store::schema` less `raw`, most telling first. A test holds the two
/// together.
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
    "project_id",
    "datastore_type",
    "target_config",
];

/// The columns as-of shares with `query jobs`: the job's own fields without project,
/// datastore and target_config.
pub(crate) const TABLE_COLUMNS: &[&str] = COLUMNS.split_at(9).0;

/// The table: what tells jobs apart, for 80 columns and up; the instance's name goes first
/// when narrow. The rest is one `--columns` or `--wide` away, and `query job` shows all.
pub(crate) const TABLE: TableSpec<'static> = TableSpec {
    default: &[
        "job_id",
        "create_time",
        "job_name",
        "job_status",
        "instance_name",
    ],
    drop_order: &["instance_name"],
};

/// The row order of `query jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest create time first.
    #[default]
    Newest,
    /// Oldest create time first.
    Oldest,
    /// Longest run (end_time - start_time) first; jobs without both times last.
    Longest,
}

/// What `query jobs` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsQuery {
    pub filter: Filter,
    pub limit: u64,
    pub order: Order,
}

impl JobsQuery {
    /// The statement and its parameters. Only placeholders are generated here; every value
    /// the user typed is bound.
    pub fn to_sql(&self) -> (String, Vec<SqlValue>) {
        let order = match self.order {
            Order::Newest => "create_time DESC, job_id",
            Order::Oldest => "create_time, job_id",
            Order::Longest => {
                "unixepoch(end_time) - unixepoch(start_time) DESC NULLS LAST, \
                 create_time DESC, job_id"
            }
        };
        let columns = COLUMNS.join(", ");
        // Several statuses (--open) in create-time order: SQLite would read every job of
        // those statuses and sort them. One branch per status walks the status index in
        // order and stops at the limit; the branches are then merged.
        if self.filter.statuses.len() > 1
            && self.filter.instances.is_empty()
            && self.order != Order::Longest
        {
            let mut params = Vec::new();
            let mut branches = Vec::new();
            for status in &self.filter.statuses {
                let mut one = self.filter.clone();
                one.statuses = vec![*status];
                let (clauses, branch_params) = one.clauses("", "job_status");
                params.extend(branch_params);
                params.push(fetch_limit(self.limit));
                branches.push(format!(
                    "SELECT * FROM (SELECT {columns} FROM jobs{} ORDER BY {order} LIMIT ?)",
                    where_clause(&clauses)
                ));
            }
            params.push(fetch_limit(self.limit));
            let sql = format!("{} ORDER BY {order} LIMIT ?", branches.join(" UNION ALL "));
            return (sql, params);
        }
        let (clauses, mut params) = self.filter.clauses("", "job_status");
        params.push(fetch_limit(self.limit));
        let sql = format!(
            "SELECT {columns} FROM jobs{} ORDER BY {order} LIMIT ?",
            where_clause(&clauses),
        );
        (sql, params)
    }
}

/// The newest matching jobs, and whether more matched than the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsPage {
    pub rows: Rows,
    pub more: bool,
}

pub fn fetch(conn: &Connection, query: &JobsQuery) -> anyhow::Result<JobsPage> {
    let (sql, params) = query.to_sql();
    let mut stmt = conn.prepare(&sql)?;
    let mut result = Rows::new(&COLUMNS);
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for (i, name) in COLUMNS.iter().enumerate() {
            let value = row.get_ref(i)?;
            cells.push(if *name == "target_config" {
                Cell::from_json_text(value)
            } else {
                Cell::from_sql(value)
            });
        }
        result.rows.push(cells);
    }
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let more = result.rows.len() > limit;
    result.rows.truncate(limit);
    Ok(JobsPage { rows: result, more })
}

pub(crate) fn run(
    conn: &Connection,
    query: &JobsQuery,
    answer: &Answer,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    super::instance::all_known(conn, &query.filter.instances)?;
    let page = fetch(conn, query)?;
    answer.write_rows(&page.rows, &TABLE, out)?;
    if page.rows.rows.is_empty() {
        notes::no_match(conn, err)?;
    }
    if page.more {
        let (clauses, params) = query.filter.clauses("", "job_status");
        let sql = format!("SELECT 1 FROM jobs{}", where_clause(&clauses));
        let total = notes::total(notes::count(conn, &sql, &params)?);
        let which = match query.order {
            Order::Newest => "newest",
            Order::Oldest => "oldest",
            Order::Longest => "longest",
        };
        writeln!(
            err,
            "note: showing the {which} {} of {total} matching jobs; use --limit to see more",
            query.limit
        )?;
    }
    Ok(())
}
