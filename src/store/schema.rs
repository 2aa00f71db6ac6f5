//! The `jobs` table said once: its columns in table order, what each holds, and the statuses
//! of jobs that may still change. The store's SQL that lists job columns is built from here,
//! and so can a question's (`query`); a test checks it against a freshly migrated archive.

use std::sync::LazyLock;

/// One column of `jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// UTC text `YYYY-MM-DDTHH:MM:SSZ`, or NULL.
    pub time: bool,
    /// Written from a job's record (`JobRecord`), in this order; the others are the archive's
    /// own bookkeeping.
    pub record: bool,
    /// Compared between versions and kept with each version (`superseded_versions`,
    /// `job_history`): a job's content as the API sent it.
    pub versioned: bool,
}

const fn column(name: &'static str) -> Column {
    Column {
        name,
        time: false,
        record: false,
        versioned: false,
    }
}

/// A column of the job's content: in its record and in every version.
const fn content(name: &'static str) -> Column {
    Column {
        record: true,
        versioned: true,
        ..column(name)
    }
}

const fn time(column: Column) -> Column {
    Column {
        time: true,
        ..column
    }
}

const fn record(column: Column) -> Column {
    Column {
        record: true,
        ..column
    }
}

/// The columns of `jobs`, in table order (`PRAGMA table_info(jobs)`).
pub const JOB_COLUMNS: &[Column] = &[
    record(column("job_id")),
    content("project_id"),
    content("instance_id"),
    content("instance_name"),
    content("instance_status"),
    content("job_name"),
    content("job_status"),
    content("datastore_type"),
    time(content("create_time")),
    time(content("start_time")),
    time(content("end_time")),
    // JSON text, NULL when the API sent none.
    content("target_config"),
    // The object exactly as last received. Last of the versioned columns: a difference only
    // there means a field the other columns do not hold has changed.
    content("raw"),
    // The fingerprint of the content, to tell versions apart.
    record(column("content_hash")),
    column("version"),
    time(column("first_seen_at")),
    time(column("last_seen_at")),
    column("last_run_id"),
    // When the API stopped returning the job asked for by id.
    time(column("api_gone_at")),
    // When the newest version was first seen, by which run, and what it changed.
    time(column("version_observed_at")),
    column("version_run_id"),
    column("version_changed"),
];

/// How many columns a job's record writes (`JobRecord::values`).
pub(crate) const RECORD_COLUMNS: usize = {
    let (mut n, mut i) = (0, 0);
    while i < JOB_COLUMNS.len() {
        n += JOB_COLUMNS[i].record as usize;
        i += 1;
    }
    n
};

/// How many columns each version holds.
pub(crate) const VERSIONED_COLUMNS: usize = {
    let (mut n, mut i) = (0, 0);
    while i < JOB_COLUMNS.len() {
        n += JOB_COLUMNS[i].versioned as usize;
        i += 1;
    }
    n
};

/// The statuses of jobs that may still change (they have not reached a final state).
pub const OPEN_STATUSES: [&str; 3] = ["Pending", "Running", "Unauthorized"];

/// The columns of `jobs` that `which` picks, in table order.
pub fn columns(which: impl Fn(&Column) -> bool) -> impl Iterator<Item = &'static Column> {
    JOB_COLUMNS.iter().filter(move |c| which(c))
}

/// Every column of `jobs`, comma-separated, each prefixed with `alias.` when one is given:
/// `job_id, project_id, ...` or `j.job_id, j.project_id, ...`.
pub fn column_list(alias: Option<&str>) -> String {
    list(columns(|_| true), alias)
}

/// The columns each version holds, comma-separated, in table order.
pub fn versioned_column_list(alias: Option<&str>) -> String {
    list(columns(|c| c.versioned), alias)
}

/// `'Pending', 'Running', 'Unauthorized'`: the open statuses as an SQL list, for
/// `job_status IN (...)`.
pub fn open_statuses_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        OPEN_STATUSES
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    &SQL
}

fn list<'a>(columns: impl Iterator<Item = &'a Column>, alias: Option<&str>) -> String {
    columns
        .map(|c| match alias {
            Some(alias) => format!("{alias}.{}", c.name),
            None => c.name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The schema said here is the schema the migrations build.
    #[test]
    fn columns_are_the_migrated_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT name FROM pragma_table_info('jobs') ORDER BY cid")
            .unwrap();
        let migrated: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let said: Vec<&str> = JOB_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(migrated, said);

        // Every version holds the versioned columns, under the same names.
        let mut stmt = store
            .connection()
            .prepare("SELECT name FROM pragma_table_info('superseded_versions') ORDER BY cid")
            .unwrap();
        let history: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let versioned: Vec<&str> = columns(|c| c.versioned).map(|c| c.name).collect();
        assert_eq!(history[5..], versioned[..]);
    }

    #[test]
    fn lists_are_sql() {
        assert_eq!(open_statuses_sql(), "'Pending', 'Running', 'Unauthorized'");
        let list = column_list(Some("j"));
        assert!(list.starts_with("j.job_id, j.project_id, "), "{list}");
        assert!(list.ends_with(", j.version_changed"), "{list}");
        assert_eq!(
            versioned_column_list(None),
            "project_id, instance_id, instance_name, instance_status, job_name, job_status, \
             datastore_type, create_time, start_time, end_time, target_config, raw"
        );
        assert_eq!(RECORD_COLUMNS, 14);
        assert_eq!(VERSIONED_COLUMNS, 12);
    }
}
