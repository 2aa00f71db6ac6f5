//! Job upserts: the newest version in `jobs`, and, when a version differs from the one before,
//! the one before copied to `superseded_versions` (the `job_history` view shows both). A new
//! job is written once.
//!
//! Two versions differ when their fingerprints (`content_hash`, computed by the sync) differ:
//! the same job sent once in `+0800` and once in `+0000` is one version, so an API that changes
//! its offset does not flood the history.

use std::fmt::Write as _;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Statement, Transaction};
use rustc_hash::FxHashSet;

use super::schema::{self, RECORD_COLUMNS, VERSIONED_COLUMNS};
use crate::time;

/// One job, normalised for the archive: times in UTC text, target_config as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub job_id: String,
    pub project_id: Option<String>,
    pub instance_id: Option<String>,
    pub instance_name: Option<String>,
    pub instance_status: Option<String>,
    pub job_name: Option<String>,
    pub job_status: Option<String>,
    pub datastore_type: Option<String>,
    pub create_time: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub target_config: Option<String>,
    /// The object exactly as the API sent it.
    pub raw: String,
    /// The fingerprint of its content: two versions differ when theirs do.
    pub content_hash: String,
}

impl JobRecord {
    /// The record's columns, in the order of the record columns of [`schema::JOB_COLUMNS`]
    /// (a test checks).
    pub(crate) fn values(&self) -> [Option<&str>; RECORD_COLUMNS] {
        [
            Some(&self.job_id),
            self.project_id.as_deref(),
            self.instance_id.as_deref(),
            self.instance_name.as_deref(),
            self.instance_status.as_deref(),
            self.job_name.as_deref(),
            self.job_status.as_deref(),
            self.datastore_type.as_deref(),
            self.create_time.as_deref(),
            self.start_time.as_deref(),
            self.end_time.as_deref(),
            self.target_config.as_deref(),
            Some(&self.raw),
            Some(&self.content_hash),
        ]
    }
}

/// `SELECT content_hash, version, last_run_id, <the versioned columns>` of one job.
static SELECT_ARCHIVED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT content_hash, version, last_run_id, {} FROM jobs WHERE job_id = ?1",
        schema::versioned_column_list(None)
    )
});

/// Inserts a new job as version 1: the record's columns from `?1`, then `seen_at` and the
/// run's id.
static INSERT_NEW: LazyLock<String> = LazyLock::new(|| {
    let (seen_at, run_id) = (RECORD_COLUMNS + 1, RECORD_COLUMNS + 2);
    format!(
        "INSERT INTO jobs ({}, version, first_seen_at, last_seen_at, last_run_id,
            version_observed_at, version_run_id)
         VALUES ({}, 1, ?{seen_at}, ?{seen_at}, ?{run_id}, ?{seen_at}, ?{run_id})
         ON CONFLICT (job_id) DO NOTHING",
        list(schema::columns(|c| c.record).map(|c| c.name.to_string())),
        list((1..=RECORD_COLUMNS).map(|i| format!("?{i}"))),
    )
});

/// Replaces a job's columns with a newer version: the record's columns from `?1` (`job_id`
/// first, which picks the row), then the version, `seen_at`, the run's id and what changed.
static UPDATE_VERSION: LazyLock<String> = LazyLock::new(|| {
    let n = RECORD_COLUMNS;
    let (version, seen_at, run_id, changed) = (n + 1, n + 2, n + 3, n + 4);
    let set = schema::columns(|c| c.record)
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{} = ?{}", c.name, i + 1));
    format!(
        "UPDATE jobs SET {}, version = ?{version}, last_seen_at = ?{seen_at},
            last_run_id = ?{run_id}, version_observed_at = ?{seen_at},
            version_run_id = ?{run_id}, version_changed = ?{changed}
         WHERE job_id = ?1",
        list(set)
    )
});

/// Copies a job's archived version to `superseded_versions`.
static SUPERSEDE: LazyLock<String> = LazyLock::new(|| {
    let versioned = schema::versioned_column_list(None);
    format!(
        "INSERT INTO superseded_versions (job_id, version, observed_at, run_id, changed,
            {versioned})
         SELECT job_id, version, version_observed_at, version_run_id, version_changed,
            {versioned}
         FROM jobs WHERE job_id = ?1"
    )
});

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Binds a job's record columns as `?1` onwards.
fn bind_record(stmt: &mut Statement<'_>, job: &JobRecord) -> rusqlite::Result<()> {
    for (i, value) in job.values().into_iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value)?;
    }
    Ok(())
}

/// What a batch of upserts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// Jobs the archive did not hold.
    pub new: u64,
    /// Jobs whose content differs from the archived version (a new version each).
    pub changed: u64,
    /// Jobs seen again with nothing changed.
    pub unchanged: u64,
    /// Jobs this run had already seen (overlapping windows); not counted above.
    pub repeated: u64,
}

impl PageCounts {
    pub fn add(&mut self, other: PageCounts) {
        self.new += other.new;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.repeated += other.repeated;
    }
}

/// What the archive holds for one job, enough to tell whether a sighting is new.
struct Archived {
    content_hash: String,
    version: i64,
    last_run_id: Option<i64>,
    columns: Vec<Option<String>>,
}

/// Upserts `jobs` seen by run `run_id` at `seen_at`, inside the caller's transaction.
/// `names` holds the instance names this transaction has recorded already.
pub(crate) fn upsert_jobs(
    tx: &Transaction<'_>,
    run_id: i64,
    seen_at: DateTime<Utc>,
    jobs: &[JobRecord],
    names: &mut InstanceNames,
) -> rusqlite::Result<PageCounts> {
    let seen_at = time::to_store(seen_at);
    let mut counts = PageCounts::default();
    let mut select = tx.prepare_cached(&SELECT_ARCHIVED)?;
    for job in jobs {
        // Most jobs a sync sees are new: trying the insert first finds that out in the same
        // index lookup that writes the job, and only a job already archived is read back.
        if insert_new_job(tx, job, run_id, &seen_at)? {
            names.record(tx, job)?;
            counts.new += 1;
            continue;
        }
        let archived = select
            .query_row([&job.job_id], |r| {
                let mut columns = Vec::with_capacity(VERSIONED_COLUMNS);
                for i in 0..VERSIONED_COLUMNS {
                    columns.push(r.get::<_, Option<String>>(3 + i)?);
                }
                Ok(Archived {
                    content_hash: r.get(0)?,
                    version: r.get(1)?,
                    last_run_id: r.get(2)?,
                    columns,
                })
            })
            .optional()?;
        match archived {
            // The insert found the job_id taken, so the row exists; not finding it means the
            // archive changed under the transaction, which SQLite's locking rules out.
            None => return Err(rusqlite::Error::QueryReturnedNoRows),
            Some(old) if old.content_hash == job.content_hash => {
                // Same content: remember the sighting and the newest text, no new version.
                tx.prepare_cached(
                    "UPDATE jobs SET raw = ?2, last_seen_at = ?3, last_run_id = ?4
                     WHERE job_id = ?1",
                )?
                .execute(params![job.job_id, job.raw, seen_at, run_id])?;
                if old.last_run_id == Some(run_id) {
                    counts.repeated += 1;
                } else {
                    counts.unchanged += 1;
                }
            }
            Some(old) => {
                let values = job.values();
                let changed: Vec<&str> = schema::columns(|c| c.record)
                    .zip(values)
                    .filter(|(c, _)| c.versioned)
                    .zip(&old.columns)
                    .filter(|((_, new), old)| *new != old.as_deref())
                    .map(|((c, _), _)| c.name)
                    .collect();
                let changed = serde_json::to_string(&changed).expect("names serialise");
                supersede(tx, &job.job_id)?;
                update_job(tx, job, old.version + 1, run_id, &seen_at, &changed)?;
                names.record(tx, job)?;
                counts.changed += 1;
            }
        }
    }
    Ok(counts)
}

/// Inserts a job the archive does not hold yet as version 1. Returns false, writing nothing,
/// when its job_id is already archived.
fn insert_new_job(
    tx: &Transaction<'_>,
    job: &JobRecord,
    run_id: i64,
    seen_at: &str,
) -> rusqlite::Result<bool> {
    let mut stmt = tx.prepare_cached(&INSERT_NEW)?;
    bind_record(&mut stmt, job)?;
    stmt.raw_bind_parameter(RECORD_COLUMNS + 1, seen_at)?;
    stmt.raw_bind_parameter(RECORD_COLUMNS + 2, run_id)?;
    Ok(stmt.raw_execute()? == 1)
}

/// Instance name pairs remembered at most (about a MiB).
const REMEMBERED_INSTANCE_NAMES: usize = 16_384;

/// The (instance_id, instance_name) pairs written to `instance_names`, which lists every name
/// each instance was archived under for `--instance NAME`. An instance has many jobs and a name
/// or two, so remembering the pairs turns a write per job into one per pair; memory is bounded
/// by the instances, not the jobs. Pairs count once their transaction commits.
#[derive(Debug, Default)]
pub(crate) struct InstanceNames {
    /// Each pair as one string, `<length of instance_id>:<instance_id><instance_name>` (the
    /// length keeps it unambiguous whatever the text holds): one allocation a pair. Looked up
    /// twice for every job written, so hashed with Fx rather than SipHash (the texts come from
    /// the cloud API, and the set is bounded).
    committed: FxHashSet<Box<str>>,
    pending: FxHashSet<Box<str>>,
    /// The key being looked up, reused so a known pair costs no allocation.
    key: String,
}

impl InstanceNames {
    /// Writes the job's pair unless it is known, in the caller's transaction.
    fn record(&mut self, tx: &Transaction<'_>, job: &JobRecord) -> rusqlite::Result<()> {
        let (Some(id), Some(name)) = (&job.instance_id, &job.instance_name) else {
            return Ok(());
        };
        self.key.clear();
        let _ = write!(self.key, "{}:{id}{name}", id.len());
        if self.committed.contains(self.key.as_str()) || self.pending.contains(self.key.as_str()) {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT OR IGNORE INTO instance_names (instance_name, instance_id) VALUES (?1, ?2)",
        )?
        .execute([name, id])?;
        self.pending.insert(self.key.as_str().into());
        Ok(())
    }

    /// A transaction begins: pairs of one that did not commit are forgotten.
    pub(crate) fn begin(&mut self) {
        self.pending.clear();
    }

    /// The transaction committed. Past `REMEMBERED_INSTANCE_NAMES` pairs the memory starts
    /// over, so an archive of very many instances costs some repeated writes, never memory.
    pub(crate) fn committed(&mut self) {
        if self.committed.len() + self.pending.len() > REMEMBERED_INSTANCE_NAMES {
            self.committed.clear();
        }
        self.committed.extend(self.pending.drain());
    }
}

/// Copies a job's archived version to `superseded_versions`, before a newer one replaces it.
fn supersede(tx: &Transaction<'_>, job_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(&SUPERSEDE)?.execute([job_id])?;
    Ok(())
}

/// Replaces an archived job's columns with its newest version (`first_seen_at` stays), which
/// run `run_id` saw first at `seen_at` and which changed the `changed` columns.
fn update_job(
    tx: &Transaction<'_>,
    job: &JobRecord,
    version: i64,
    run_id: i64,
    seen_at: &str,
    changed: &str,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&UPDATE_VERSION)?;
    bind_record(&mut stmt, job)?;
    let n = RECORD_COLUMNS;
    stmt.raw_bind_parameter(n + 1, version)?;
    stmt.raw_bind_parameter(n + 2, seen_at)?;
    stmt.raw_bind_parameter(n + 3, run_id)?;
    stmt.raw_bind_parameter(n + 4, changed)?;
    stmt.raw_execute()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `values` follows the schema's record columns: a record whose every column holds its
    /// own name gives the names in schema order.
    #[test]
    fn record_values_are_in_schema_order() {
        let name = |s: &str| Some(s.to_string());
        let record = JobRecord {
            job_id: "job_id".into(),
            project_id: name("project_id"),
            instance_id: name("instance_id"),
            instance_name: name("instance_name"),
            instance_status: name("instance_status"),
            job_name: name("job_name"),
            job_status: name("job_status"),
            datastore_type: name("datastore_type"),
            create_time: name("create_time"),
            start_time: name("start_time"),
            end_time: name("end_time"),
            target_config: name("target_config"),
            raw: "raw".into(),
            content_hash: "content_hash".into(),
        };
        let said: Vec<Option<&str>> = schema::columns(|c| c.record)
            .map(|c| Some(c.name))
            .collect();
        assert_eq!(record.values().to_vec(), said);
        assert_eq!(
            schema::JOB_COLUMNS[0].name,
            "job_id",
            "statements bind it as ?1"
        );
    }
}
