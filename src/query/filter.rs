//! The job filters shared by `query jobs`, `stats` and `as-of`: a checked [`Filter`] turned
//! into WHERE clauses with bound parameters.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;

use crate::api::model::JobStatus;

/// Which jobs, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub statuses: Vec<JobStatus>,
    pub job_name: Option<String>,
    /// `job_name` is a case-insensitive substring.
    pub like: bool,
    /// Instances by id or name (any of them); empty for all.
    pub instances: Vec<String>,
    pub project: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
}

impl Filter {
    /// WHERE clauses (to be joined with AND) and their parameters. `jobs` prefixes the
    /// columns of the jobs table (`""` or `"j."`), `status` is the column the status filter
    /// applies to (as-of filters the historical status, not today's).
    pub fn clauses(&self, jobs: &str, status: &str) -> (Vec<String>, Vec<SqlValue>) {
        self.clauses_with(jobs, status, !self.instances.is_empty())
    }

    /// [`Filter::clauses`], with `weak` set when the status, job type and project tests must
    /// not pick the index (`+column`): stats reads its covering index instead.
    pub fn clauses_with(
        &self,
        jobs: &str,
        status: &str,
        weak: bool,
    ) -> (Vec<String>, Vec<SqlValue>) {
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        let text = |s: &str| SqlValue::Text(s.to_string());
        // An instance has a few thousand jobs at most; a status or a job type can have
        // hundreds of thousands. Without ANALYZE statistics SQLite may walk the status index
        // and test every row's instance, so `+` keeps it on the instance indexes.
        let weak = if weak { "+" } else { "" };
        if !self.statuses.is_empty() {
            let marks = vec!["?"; self.statuses.len()].join(", ");
            clauses.push(format!("{weak}{status} IN ({marks})"));
            params.extend(self.statuses.iter().map(|s| text(s.as_str())));
        }
        if let Some(name) = &self.job_name {
            if self.like {
                // instr on lower() rather than LIKE: `_` and `%` in a job name are literal.
                clauses.push(format!("instr(lower({jobs}job_name), lower(?)) > 0"));
            } else {
                clauses.push(format!("{weak}{jobs}job_name = ?"));
            }
            params.push(text(name));
        }
        if !self.instances.is_empty() {
            // IDs are exact; a name (case-blind) is found in instance_names, so both sides
            // of the OR read jobs through jobs_instance_id. The job's own name must match too:
            // a renamed instance's jobs keep the name they had.
            let one = format!(
                "({jobs}instance_id = ? OR ({jobs}instance_id IN (
                    SELECT instance_id FROM instance_names WHERE instance_name = ?)
                  AND {jobs}instance_name = ? COLLATE NOCASE))"
            );
            clauses.push(format!(
                "({})",
                vec![one; self.instances.len()].join(" OR ")
            ));
            for instance in &self.instances {
                params.extend([text(instance), text(instance), text(instance)]);
            }
        }
        if let Some(project) = &self.project {
            clauses.push(format!("{weak}{jobs}project_id = ?"));
            params.push(text(project));
        }
        // Stored times are fixed-width UTC text, so text comparison is time order.
        if let Some(since) = self.since {
            clauses.push(format!("{jobs}create_time >= ?"));
            params.push(SqlValue::Text(crate::time::to_store(since)));
        }
        if let Some(until) = self.until {
            clauses.push(format!("{jobs}create_time < ?"));
            params.push(SqlValue::Text(crate::time::to_store(until)));
        }
        (clauses, params)
    }
}

/// `" WHERE a AND b"`, or nothing.
pub fn where_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    }
}

/// The limit to ask SQLite for: one more than shown, to tell "exactly limit" from "more".
pub fn fetch_limit(limit: u64) -> SqlValue {
    SqlValue::Integer(
        i64::try_from(limit)
            .unwrap_or(i64::MAX - 1)
            .min(i64::MAX - 1)
            + 1,
    )
}
