//! Synthetic archives for the query and report benchmarks: jobs written through
//! `Store::open` (the real schema and migrations) with plain inserts in one transaction, as
//! a long-running sync would have left them. Each benchmark draws its own tenant (how many
//! instances, which job types, over how long); this module holds what they share: the
//! clock, the status weights and the rows a job and its superseded first version become.

use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::Rng;
use rusqlite::{params, Connection, Statement};

/// The benchmarks' "now": fixed, so the same seed builds the same archive any day.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// A Unix time in the archive's text form.
pub fn ts(t: i64) -> String {
    gaussjobs::time::to_store(DateTime::from_timestamp(t, 0).unwrap())
}

/// Job types as the API names them; a benchmark takes as many as its tenant has.
pub const JOB_NAMES: [&str; 30] = [
    "RESIZE_FLAVOR",
    "UPGRADE_DATABASE",
    "REBOOT_INSTANCE",
    "ADD_NODES",
    "DELETE_NODES",
    "MODIFY_PORT",
    "MODIFY_SECURITY_GROUP",
    "BACKUP_INSTANCE",
    "RESTORE_INSTANCE",
    "MODIFY_PARAMETERS",
    "SWITCHOVER",
    "ENLARGE_VOLUME",
    "MODIFY_BACKUP_POLICY",
    "CREATE_PROXY",
    "DELETE_PROXY",
    "RESIZE_PROXY",
    "ENABLE_SSL",
    "DISABLE_SSL",
    "BIND_EIP",
    "UNBIND_EIP",
    "MODIFY_NAME",
    "MODIFY_DESCRIPTION",
    "CHANGE_CHARGE_MODE",
    "APPLY_TEMPLATE",
    "MINOR_VERSION_UPGRADE",
    "ENABLE_AUDIT_LOG",
    "DISABLE_AUDIT_LOG",
    "CREATE_HTAP",
    "MODIFY_MAINTENANCE_WINDOW",
    "RESET_PASSWORD",
];

/// A final status, weighted as a real tenant's are: mostly Completed, some Failed.
pub fn status(rng: &mut SmallRng) -> &'static str {
    match rng.gen_range(0..100) {
        0..=79 => "Completed",
        80..=87 => "Failed",
        88..=91 => "Canceled",
        92..=94 => "Running",
        95..=97 => "Pending",
        _ => "Unauthorized",
    }
}

/// A job's start and end as the archive holds them for its status: none before it starts,
/// no end while it runs, `run` seconds after `start` once it is final.
pub fn times(status: &str, start: i64, run: i64) -> (Option<String>, Option<String>) {
    match status {
        "Pending" | "Unauthorized" => (None, None),
        "Running" => (Some(ts(start)), None),
        _ => (Some(ts(start)), Some(ts(start + run))),
    }
}

/// The `i`-th job's id: 32 hex digits, spread over the key space.
pub fn job_id(i: usize) -> String {
    format!(
        "{:032x}",
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xabc
    )
}

/// Instance number `n`'s id and name.
pub fn instance(n: usize) -> (String, String) {
    (
        format!("{n:04x}c0ffee1234567890abcdef12in07"),
        format!("db-{n:04}"),
    )
}

/// One job as the archive holds it; `two` gives it a second version whose first (Pending,
/// no times) is in `superseded_versions`.
pub struct Job<'a> {
    pub job_id: &'a str,
    pub project: &'a str,
    pub instance_id: &'a str,
    pub instance_name: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub create: i64,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub target: &'a str,
    pub raw: &'a str,
    pub hash: String,
    pub two: bool,
    /// When the sync first saw the job.
    pub seen: i64,
    /// How long it ran, seconds: the second version is seen after it ended.
    pub run: i64,
}

/// The two prepared inserts a job needs.
pub struct Writer<'c> {
    job: Statement<'c>,
    superseded: Statement<'c>,
}

impl<'c> Writer<'c> {
    /// Starts the one transaction the archive is built in.
    pub fn begin(conn: &'c Connection) -> anyhow::Result<Writer<'c>> {
        conn.execute_batch("BEGIN")?;
        Ok(Writer {
            job: conn.prepare(
                "INSERT INTO jobs (job_id, project_id, instance_id, instance_name,
                    instance_status, job_name, job_status, datastore_type, create_time,
                    start_time, end_time, target_config, raw, content_hash, version,
                    first_seen_at, last_seen_at, last_run_id, version_observed_at,
                    version_run_id, version_changed)
                 VALUES (?1, ?2, ?3, ?4, 'normal', ?5, ?6, 'gaussdb-mysql', ?7, ?8, ?9, ?10,
                    ?11, ?12, ?13, ?14, ?14, 1, ?15, 1, ?16)",
            )?,
            superseded: conn.prepare(
                "INSERT INTO superseded_versions (job_id, version, observed_at, run_id,
                    changed, project_id, instance_id, instance_name, instance_status, job_name,
                    job_status, datastore_type, create_time, start_time, end_time,
                    target_config, raw)
                 VALUES (?1, 1, ?2, 1, NULL, ?3, ?4, ?5, 'normal', ?6, 'Pending',
                    'gaussdb-mysql', ?7, NULL, NULL, ?8, ?9)",
            )?,
        })
    }

    pub fn insert(&mut self, job: &Job<'_>) -> anyhow::Result<()> {
        let last_seen = if job.two {
            job.seen + 600 + job.run
        } else {
            job.seen
        };
        self.job.execute(params![
            job.job_id,
            job.project,
            job.instance_id,
            job.instance_name,
            job.name,
            job.status,
            ts(job.create),
            job.start_time,
            job.end_time,
            job.target,
            job.raw,
            job.hash,
            if job.two { 2 } else { 1 },
            ts(job.seen),
            ts(last_seen),
            job.two
                .then_some(r#"["job_status","start_time","end_time"]"#),
        ])?;
        if job.two {
            self.superseded.execute(params![
                job.job_id,
                ts(job.seen),
                job.project,
                job.instance_id,
                job.instance_name,
                job.name,
                ts(job.create),
                job.target,
                job.raw,
            ])?;
        }
        Ok(())
    }

    /// Records the instances' names as the store's writer does, and commits.
    pub fn finish(self, conn: &Connection) -> anyhow::Result<()> {
        drop(self);
        conn.execute_batch(
            "INSERT OR IGNORE INTO instance_names (instance_name, instance_id)
             SELECT DISTINCT instance_name, instance_id FROM jobs
             WHERE instance_name IS NOT NULL AND instance_id IS NOT NULL",
        )?;
        // No ANALYZE: synced archives have none, and the plans should be the ones users get.
        conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}
