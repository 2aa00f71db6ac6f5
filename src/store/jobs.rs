//! Job upserts: the newest version in `jobs`, and, when a version differs from the one before,
//! the one before copied to `superseded_versions` (the `job_history` view shows both). A new
//! job is written once.
//!
//! Two versions differ when their fingerprints differ (`api::fingerprint`): the same job sent
//! once in `+0800` and once in `+0000` is one version, so an API that changes its offset does
//! not flood the history.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use rustc_hash::FxHashSet;

use crate::api::ScheduleTask;
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
    pub raw: String,
    pub content_hash: String,
}

/// The columns compared between versions, in schema order. `raw` is last: a difference only
/// there means a field the columns do not hold has changed.
const VERSIONED_COLUMNS: [&str; 12] = [
    "project_id",
    "instance_id",
    "instance_name",
    "instance_status",
    "job_name",
    "job_status",
    "datastore_type",
    "create_time",
    "start_time",
    "end_time",
    "target_config",
    "raw",
];

impl JobRecord {
    /// Normalises a job as the API sent it, taking over its texts. `project_id` fills in a
    /// record that lacks its own.
    pub fn from_task(task: ScheduleTask, project_id: &str) -> JobRecord {
        let times = task.times();
        let target_config = task
            .target_config
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| v.to_string());
        let project_id = task
            .project_id
            .filter(|p| !p.is_empty())
            .or_else(|| Some(project_id.to_string()));
        JobRecord {
            job_id: task.job_id,
            project_id,
            instance_id: task.instance_id,
            instance_name: task.instance_name,
            instance_status: task.instance_status,
            job_name: task.job_name,
            job_status: task.job_status,
            datastore_type: task.datastore_type,
            create_time: times.create_time.map(time::to_store),
            start_time: times.start_time.map(time::to_store),
            end_time: times.end_time.map(time::to_store),
            target_config,
            raw: task.raw,
            content_hash: task.fingerprint,
        }
    }

    fn column(&self, name: &str) -> Option<&str> {
        match name {
            "project_id" => self.project_id.as_deref(),
            "instance_id" => self.instance_id.as_deref(),
            "instance_name" => self.instance_name.as_deref(),
            "instance_status" => self.instance_status.as_deref(),
            "job_name" => self.job_name.as_deref(),
            "job_status" => self.job_status.as_deref(),
            "datastore_type" => self.datastore_type.as_deref(),
            "create_time" => self.create_time.as_deref(),
            "start_time" => self.start_time.as_deref(),
            "end_time" => self.end_time.as_deref(),
            "target_config" => self.target_config.as_deref(),
            "raw" => Some(&self.raw),
            _ => None,
        }
    }
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
    let select_sql = format!(
        "SELECT content_hash, version, last_run_id, {} FROM jobs WHERE job_id = ?1",
        VERSIONED_COLUMNS.join(", ")
    );
    let mut select = tx.prepare_cached(&select_sql)?;
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
                let mut columns = Vec::with_capacity(VERSIONED_COLUMNS.len());
                for i in 0..VERSIONED_COLUMNS.len() {
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
                let changed: Vec<&str> = VERSIONED_COLUMNS
                    .iter()
                    .zip(&old.columns)
                    .filter(|(name, old)| job.column(name) != old.as_deref())
                    .map(|(name, _)| *name)
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

/// The columns of a job's newest version, in the order `insert_new_job` and `update_job` bind
/// them from `?2`.
macro_rules! job_params {
    ($job:expr, $($rest:expr),*) => {
        params![
            $job.job_id,
            $job.project_id,
            $job.instance_id,
            $job.instance_name,
            $job.instance_status,
            $job.job_name,
            $job.job_status,
            $job.datastore_type,
            $job.create_time,
            $job.start_time,
            $job.end_time,
            $job.target_config,
            $job.raw,
            $job.content_hash,
            $($rest),*
        ]
    };
}

/// Inserts a job the archive does not hold yet as version 1. Returns false, writing nothing,
/// when its job_id is already archived.
fn insert_new_job(
    tx: &Transaction<'_>,
    job: &JobRecord,
    run_id: i64,
    seen_at: &str,
) -> rusqlite::Result<bool> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO jobs (job_id, project_id, instance_id, instance_name, instance_status,
                job_name, job_status, datastore_type, create_time, start_time, end_time,
                target_config, raw, content_hash, version, first_seen_at, last_seen_at,
                last_run_id, version_observed_at, version_run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, ?15, ?16,
                ?15, ?16)
             ON CONFLICT (job_id) DO NOTHING",
        )?
        .execute(job_params!(job, seen_at, run_id))?;
    Ok(inserted == 1)
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
    tx.prepare_cached(
        "INSERT INTO superseded_versions (job_id, version, observed_at, run_id, changed,
            project_id, instance_id, instance_name, instance_status, job_name, job_status,
            datastore_type, create_time, start_time, end_time, target_config, raw)
         SELECT job_id, version, version_observed_at, version_run_id, version_changed,
            project_id, instance_id, instance_name, instance_status, job_name, job_status,
            datastore_type, create_time, start_time, end_time, target_config, raw
         FROM jobs WHERE job_id = ?1",
    )?
    .execute([job_id])?;
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
    tx.prepare_cached(
        "UPDATE jobs SET project_id = ?2, instance_id = ?3, instance_name = ?4,
            instance_status = ?5, job_name = ?6, job_status = ?7, datastore_type = ?8,
            create_time = ?9, start_time = ?10, end_time = ?11, target_config = ?12, raw = ?13,
            content_hash = ?14, version = ?15, last_seen_at = ?16, last_run_id = ?17,
            version_observed_at = ?16, version_run_id = ?17, version_changed = ?18
         WHERE job_id = ?1",
    )?
    .execute(job_params!(job, version, seen_at, run_id, changed))?;
    Ok(())
}

/// The statuses of jobs that may still change.
pub const OPEN_STATUSES: [&str; 3] = ["Pending", "Running", "Unauthorized"];

/// The archived open jobs of a scope that the API still knows: `?1` project, `?3` job name
/// and `?4` instance (each ignored when NULL). Read through `jobs_status`, which holds the
/// few open jobs together; the `+` keeps SQLite from walking every job of the project through
/// `jobs_project` instead.
const OPEN_JOBS_WHERE: &str = "+project_id = ?1
    AND job_status IN ('Pending', 'Running', 'Unauthorized') AND api_gone_at IS NULL
    AND (?3 IS NULL OR job_name = ?3) AND (?4 IS NULL OR instance_id = ?4)";

/// Which archived open jobs a refresh looks at.
#[derive(Debug, Clone, Default)]
pub struct OpenJobsFilter<'a> {
    pub project_id: &'a str,
    pub job_name: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    /// Jobs this run already saw are current and skipped.
    pub seen_by_run: i64,
}

/// Up to `limit` archived open jobs that run `seen_by_run` has not seen and the API has not
/// forgotten, in job_id order after `after`: read in chunks, so memory stays flat.
pub fn stale_open_jobs(
    conn: &rusqlite::Connection,
    filter: &OpenJobsFilter<'_>,
    after: &str,
    limit: usize,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT job_id FROM jobs WHERE {OPEN_JOBS_WHERE}
               AND (last_run_id IS NULL OR last_run_id != ?2) AND job_id > ?5
             ORDER BY job_id LIMIT ?6"
    ))?;
    let rows = stmt.query_map(
        params![
            filter.project_id,
            filter.seen_by_run,
            filter.job_name,
            filter.instance_id,
            after,
            limit as i64
        ],
        |r| r.get(0),
    )?;
    rows.collect()
}

/// Per open status: archived open jobs the API has not forgotten, and how many of them run
/// `seen_by_run` has not seen. The refresh uses it to choose between the open-status lists and
/// asking by id.
pub fn open_job_counts(
    conn: &rusqlite::Connection,
    filter: &OpenJobsFilter<'_>,
) -> rusqlite::Result<Vec<(String, u64, u64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT job_status, count(*), sum(last_run_id IS NULL OR last_run_id != ?2)
             FROM jobs WHERE {OPEN_JOBS_WHERE} GROUP BY job_status"
    ))?;
    let rows = stmt.query_map(
        params![
            filter.project_id,
            filter.seen_by_run,
            filter.job_name,
            filter.instance_id
        ],
        |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )?;
    rows.collect()
}

/// Records that the API no longer returns an archived job when asked by its id.
pub(crate) fn mark_gone(
    tx: &Transaction<'_>,
    job_id: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE jobs SET api_gone_at = ?2 WHERE job_id = ?1 AND api_gone_at IS NULL",
    )?
    .execute(params![job_id, time::to_store(at)])?;
    Ok(())
}
