//! `query jobs`: the job list, its filters turned into parameterised SQL, newest first.

use std::io::Write;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::render::{self, Cell, Rows, TableStyle};
use crate::api::model::JobStatus;
use crate::cli::{Format, JobsArgs};

/// The columns `query jobs` prints, in order (json, ndjson, csv).
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

/// The table leaves out what is the same on every row (project, datastore) or too wide
/// (target_config), so it stays readable; `query job` shows them.
const TABLE_COLUMNS: [&str; 9] = [
    "job_id",
    "create_time",
    "job_name",
    "job_status",
    "instance_id",
    "instance_name",
    "instance_status",
    "start_time",
    "end_time",
];

/// What `query jobs` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsQuery {
    pub statuses: Vec<JobStatus>,
    pub job_name: Option<String>,
    pub instance: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    pub limit: u64,
}

impl JobsQuery {
    /// Reads the flags; bad values are usage errors.
    pub fn from_args(args: &JobsArgs, now: DateTime<Utc>) -> anyhow::Result<JobsQuery> {
        let mut statuses = Vec::new();
        // `--status Failed,Canceled` is accepted as well as repeating the flag.
        for given in args.status.iter().flat_map(|s| s.split(',')) {
            let status = JobStatus::parse(given).ok_or_else(|| {
                crate::exit::usage_with_hint(
                    format!("unknown job status {:?}", given.trim()),
                    format!("--status is one of {}", JobStatus::names()),
                )
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        let time = |flag: &str, value: &Option<String>| -> anyhow::Result<_> {
            value
                .as_deref()
                .map(|s| {
                    crate::time::parse_user_time(s, now)
                        .map_err(|e| crate::exit::usage(format!("--{flag}: {e}")))
                })
                .transpose()
        };
        let since = time("since", &args.since)?;
        let until = time("until", &args.until)?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(crate::exit::usage(format!(
                    "--since ({}) is after --until ({})",
                    crate::time::to_store(s),
                    crate::time::to_store(u)
                )));
            }
        }
        if args.limit == 0 {
            return Err(crate::exit::usage("--limit must be at least 1"));
        }
        Ok(JobsQuery {
            statuses,
            job_name: args.job_name.clone(),
            instance: args.instance.clone(),
            since,
            until,
            limit: args.limit,
        })
    }

    /// The statement and its parameters. Only placeholders are generated here; every value
    /// the user typed is bound.
    fn to_sql(&self) -> (String, Vec<SqlValue>) {
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        if !self.statuses.is_empty() {
            let marks = vec!["?"; self.statuses.len()].join(", ");
            clauses.push(format!("job_status IN ({marks})"));
            params.extend(
                self.statuses
                    .iter()
                    .map(|s| SqlValue::Text(s.as_str().to_string())),
            );
        }
        if let Some(name) = &self.job_name {
            clauses.push("job_name = ?".into());
            params.push(SqlValue::Text(name.clone()));
        }
        if let Some(instance) = &self.instance {
            // IDs are exact; names are matched as the jobs_instance_name index is built
            // (NOCASE), so both sides of the OR can use an index.
            clauses.push("(instance_id = ? OR instance_name = ? COLLATE NOCASE)".into());
            params.push(SqlValue::Text(instance.clone()));
            params.push(SqlValue::Text(instance.clone()));
        }
        // Stored times are fixed-width UTC text, so text comparison is time order.
        if let Some(since) = self.since {
            clauses.push("create_time >= ?".into());
            params.push(SqlValue::Text(crate::time::to_store(since)));
        }
        if let Some(until) = self.until {
            clauses.push("create_time < ?".into());
            params.push(SqlValue::Text(crate::time::to_store(until)));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        // One more than asked, to tell "exactly limit" from "more exist".
        let fetch = i64::try_from(self.limit)
            .unwrap_or(i64::MAX - 1)
            .min(i64::MAX - 1)
            + 1;
        params.push(SqlValue::Integer(fetch));
        let sql = format!(
            "SELECT {} FROM jobs{filter} ORDER BY create_time DESC, job_id LIMIT ?",
            COLUMNS.join(", ")
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

pub fn run(
    conn: &Connection,
    query: &JobsQuery,
    format: Format,
    style: TableStyle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let page = fetch(conn, query)?;
    match format {
        Format::Table => render::write_table(&page.rows.select(&TABLE_COLUMNS), style, out)?,
        other => render::write_rows(&page.rows, other, style, out)?,
    }
    if page.more {
        writeln!(
            err,
            "note: showing the newest {} of more matching jobs; use --limit to see more",
            query.limit
        )?;
    }
    Ok(())
}
