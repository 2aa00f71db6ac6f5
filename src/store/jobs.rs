//! Job upserts: the newest version in `jobs`, and, when a version differs from the one before,
//! the one before copied to `superseded_versions` (the `job_history` view shows both). A new
//! job is written once.
//!
//! Two versions differ when their normalised content differs: the same job sent once in
//! `+0800` and once in `+0000` is one version, so an API that changes its offset does not
//! flood the history.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

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
        let content_hash = content_hash(&task.raw);
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
            content_hash,
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

/// A fingerprint of a job's content: the received object with its times normalised to UTC
/// (empty, null and absent alike) and its keys sorted, hashed.
///
/// Every job of every page is fingerprinted, so this reads the top level of the object as raw
/// text slices (no map of parsed values), sorts them and hashes the canonical text at once. The
/// text is byte for byte what `serde_json` writes for the sorted, normalised object: archives
/// hold these fingerprints, and a different text would make every job look changed.
pub fn content_hash(raw: &str) -> String {
    let mut canonical = Vec::with_capacity(raw.len() + 16);
    match serde_json::from_str::<TopLevelFields<'_>>(raw) {
        Ok(TopLevelFields(mut fields)) => {
            in_key_order(&mut fields);
            write_canonical_object(&fields, &mut canonical);
        }
        // Not an object (or not JSON): the text itself.
        Err(_) => canonical.extend_from_slice(raw.as_bytes()),
    }
    let mut digits = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(&canonical), &mut digits).expect("32 bytes are 64 digits");
    String::from_utf8(digits.to_vec()).expect("hex digits are ASCII")
}

/// A top-level object's fields in the order sent: each key (borrowed from the text unless it
/// had escapes) and its value's raw text.
struct TopLevelFields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for TopLevelFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = TopLevelFields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(16);
                while let Some((FieldKey(key), value)) = map.next_entry()? {
                    fields.push((key, value));
                }
                Ok(TopLevelFields(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A key, borrowed when the text holds it without escapes (serde's own `Cow` always copies).
struct FieldKey<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for FieldKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl<'de> Visitor<'de> for Key {
            type Value = FieldKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(FieldKey(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
                Ok(FieldKey(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(Key)
    }
}

/// Sorts fields by key and keeps the last of a repeated key, as a sorted map of them would.
fn in_key_order(fields: &mut Vec<(Cow<'_, str>, &RawValue)>) {
    // Stable, so a repeated key's sightings stay in the order sent.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, kept| {
        let repeated = later.0 == kept.0;
        if repeated {
            kept.1 = later.1;
        }
        repeated
    });
}

/// Writes a top-level object's fields in key order, with its times in the archive's form.
fn write_canonical_object(fields: &[(Cow<'_, str>, &RawValue)], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    for (key, value) in fields {
        let time = if TIME_KEYS.contains(&key.as_ref()) {
            normalise_time(value)
        } else {
            TimeField::Keep
        };
        if let TimeField::Drop = time {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        match key {
            // Borrowed means the text had no escapes, so serde_json would write it as is.
            Cow::Borrowed(key) => write_quoted(key, out),
            Cow::Owned(key) => serde_json::to_writer(&mut *out, key).expect("writing to memory"),
        }
        out.push(b':');
        match time {
            TimeField::Utc(text) => write_quoted(&text, out),
            _ => write_canonical_value(value, out),
        }
    }
    out.push(b'}');
}

/// A string that needs no escapes, in quotes.
fn write_quoted(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// The fields whose offsets are normalised.
const TIME_KEYS: [&str; 3] = ["create_time", "start_time", "end_time"];

/// What becomes of a time field in the fingerprint.
enum TimeField {
    /// Null, empty or blank: the same as no field.
    Drop,
    Utc(String),
    /// Not a time this program reads: kept as sent.
    Keep,
}

fn normalise_time(value: &RawValue) -> TimeField {
    let text = match plain_string(value.get()) {
        Some(text) => Cow::Borrowed(text),
        None => match serde_json::from_str::<Value>(value.get()) {
            Ok(Value::Null) => return TimeField::Drop,
            Ok(Value::String(text)) => Cow::Owned(text),
            _ => return TimeField::Keep,
        },
    };
    match time::parse_api(&text) {
        Ok(Some(t)) => TimeField::Utc(time::to_store(t)),
        Ok(None) => TimeField::Drop,
        Err(_) => TimeField::Keep,
    }
}

/// The text of a JSON string token without escapes: `serde_json` writes such a string back
/// exactly as it came (it escapes only quotes, backslashes and control characters, none of
/// which can stand unescaped in a string token).
fn plain_string(token: &str) -> Option<&str> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// Whether `serde_json` writes this scalar token back unchanged once parsed: strings without
/// escapes, `true`, `false`, `null`, and integers in plain form that fit an i64. Other numbers
/// (`1.0`, `1e3`, `-0`) are written in serde_json's own form.
fn written_as_is(token: &str) -> bool {
    if plain_string(token).is_some() || matches!(token, "true" | "false" | "null") {
        return true;
    }
    let digits = token.strip_prefix('-').unwrap_or(token);
    let plain_integer = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    plain_integer && token != "-0"
}

/// A field's value as `serde_json` writes it once parsed: nested objects (a job's
/// target_config, say) with sorted keys, escapes and number forms normalised.
fn write_canonical_value(value: &RawValue, out: &mut Vec<u8>) {
    let token = value.get();
    if written_as_is(token) {
        out.extend_from_slice(token.as_bytes());
        return;
    }
    let parsed: Value = serde_json::from_str(token).expect("a RawValue is JSON");
    if parsed.is_object() || parsed.is_array() {
        let mut text = String::new();
        write_canonical(&parsed, &mut text);
        out.extend_from_slice(text.as_bytes());
    } else {
        serde_json::to_writer(&mut *out, &parsed).expect("writing to memory");
    }
}

/// JSON with object keys sorted at every level, so key order never makes two versions.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(k.clone()));
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
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

/// The (instance_id, instance_name) pairs written to `instance_names`, which lists every name
/// each instance was archived under for `--instance NAME`. An instance has many jobs and a name
/// or two, so remembering the pairs turns a write per job into one per pair; memory is bounded
/// by the instances, not the jobs. Pairs count once their transaction commits.
/// Instance name pairs remembered at most (about a MiB).
const REMEMBERED_INSTANCE_NAMES: usize = 16_384;

#[derive(Debug, Default)]
pub(crate) struct InstanceNames {
    /// Each pair as one string, `<length of instance_id>:<instance_id><instance_name>` (the
    /// length keeps it unambiguous whatever the text holds): one allocation a pair.
    committed: HashSet<Box<str>>,
    pending: HashSet<Box<str>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint as first written (parsing the whole object into a `Value`): the fast
    /// one must give the same, or archives would see every job as changed.
    fn content_hash_by_value(raw: &str) -> String {
        let canonical = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(mut map)) => {
                for key in ["create_time", "start_time", "end_time"] {
                    let utc = map
                        .get(key)
                        .and_then(Value::as_str)
                        .and_then(|s| time::parse_api(s).ok().flatten())
                        .map(|t| Value::String(time::to_store(t)));
                    match utc {
                        Some(v) => {
                            map.insert(key.to_string(), v);
                        }
                        None if map.get(key).is_none_or(|v| {
                            v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
                        }) =>
                        {
                            map.shift_remove(key);
                        }
                        None => {}
                    }
                }
                let mut out = String::new();
                write_canonical(&Value::Object(map), &mut out);
                out
            }
            _ => raw.to_string(),
        };
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    #[test]
    fn hash_is_the_same_as_parsing_the_whole_object() {
        let mut corpus: Vec<String> = crate::simulate::Simulator::new(crate::simulate::SimConfig {
            jobs: 500,
            ..crate::simulate::SimConfig::default()
        })
        .jobs()
        .iter()
        .map(|v| v.to_string())
        .collect();
        corpus.extend(
            [
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","start_time":"","end_time":null}"#,
                r#"{"job_id":"1","create_time":"  ","start_time":"soon","end_time":17}"#,
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00.5+08:00","x":[3,{"b":1,"a":2}]}"#,
                r#"{"b":1.0,"a":1e3,"c":-0,"d":12345678901234567890,"e":0.1,"f":true,"g":null}"#,
                r#"{"n":0,"m":-5,"o":123456789012345678,"p":-9223372036854775808,"q":1E3,"r":-0.0}"#,
                r#"{"s":"","t":"x\"y","u":"\\","v":"\u00e9t\u00e9","create_time":"2024-03-01T08:00:00\u002b0800"}"#,
                r#"{"k\u00e9y":"caf\u00e9","quote\"":"a\/b","tab":"\t","ctl":"\u0001"}"#,
                r#"{"dup":1,"dup":2,"target_config":{"z":{"y":1,"x":[]},"a":"\ud83d\ude00"}}"#,
                r#"{}"#,
                r#"[1,2,3]"#,
                r#""a string""#,
                r#"not json"#,
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800"} trailing"#,
            ]
            .map(String::from),
        );
        for raw in &corpus {
            assert_eq!(content_hash(raw), content_hash_by_value(raw), "{raw}");
        }
    }

    #[test]
    fn hash_ignores_offset_form_and_key_order() {
        let a = r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","start_time":"","t":{"a":1,"b":2}}"#;
        let b = r#"{"t":{"b":2,"a":1},"create_time":"2024-03-01T00:00:00+0000","job_id":"1"}"#;
        assert_eq!(content_hash(a), content_hash(b));
        let c = r#"{"t":{"b":2,"a":1},"create_time":"2024-03-01T00:00:01+0000","job_id":"1"}"#;
        assert_ne!(content_hash(a), content_hash(c));
        let d = r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","new_field":1,"t":{"a":1,"b":2}}"#;
        assert_ne!(content_hash(a), content_hash(d));
    }
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
