//! The wire model of `GET /v3/{project_id}/scheduled-jobs`: the request's parameters and the
//! response's `ScheduleTask` objects.
//!
//! The model is deliberately forgiving: enumerations are open (the API's own documents disagree
//! on job names and statuses), times come in any `+hhmm` offset or empty, and every object keeps
//! its exact received text so fields the API adds later are never lost.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::fingerprint::{plain_string, JobFields};
use crate::time;

/// The statuses the API documents. The API may send others; they are kept as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Running,
    Completed,
    Failed,
    Pending,
    Unauthorized,
    Canceled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Pending,
        JobStatus::Unauthorized,
        JobStatus::Canceled,
    ];

    /// The exact text the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "Running",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
            JobStatus::Pending => "Pending",
            JobStatus::Unauthorized => "Unauthorized",
            JobStatus::Canceled => "Canceled",
        }
    }

    /// Case-insensitive lookup, so users may type `failed`.
    pub fn parse(s: &str) -> Option<JobStatus> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether a job in this status may still change (it has not reached a final state).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            JobStatus::Running | JobStatus::Pending | JobStatus::Unauthorized
        )
    }

    /// The valid names, for error messages.
    pub fn names() -> String {
        Self::ALL.map(|s| s.as_str()).join(", ")
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `X-Language` header's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    EnUs,
    ZhCn,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::EnUs => "en-us",
            Language::ZhCn => "zh-cn",
        }
    }
}

/// Every parameter of the list call. `offset` and `limit` are always sent: the API's documents
/// disagree on their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListJobsRequest {
    pub offset: u64,
    pub limit: u32,
    pub status: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub instance_id: Option<String>,
    pub language: Option<Language>,
}

impl ListJobsRequest {
    /// The query pairs in the API's form, times as `yyyy-mm-ddThh:mm:ss+0000`. Percent-encoding
    /// (the `+` must become `%2B`) is left to the URL builder.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("offset", self.offset.to_string()),
            ("limit", self.limit.to_string()),
        ];
        let optional = [
            ("status", self.status.clone()),
            ("start_time", self.start_time.map(time::to_api)),
            ("end_time", self.end_time.map(time::to_api)),
            ("job_id", self.job_id.clone()),
            ("job_name", self.job_name.clone()),
            ("instance_id", self.instance_id.clone()),
        ];
        pairs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        pairs
    }
}

/// One page of the list call. `total_count` counts every match, not the page.
#[derive(Debug, Clone)]
pub struct ListJobsPage {
    pub schedules: Vec<ScheduleTask>,
    /// The objects of `schedules` that could not be read as a job (no usable `job_id`, not an
    /// object), with their exact text. One bad object must not lose the page around it.
    pub rejected: Vec<RejectedTask>,
    pub total_count: u64,
}

/// An object of `schedules` that is not a job the archive can key, kept as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTask {
    /// Its place among the page's objects (0 is the first), which paging needs: the page's
    /// first and last objects are how one page is checked against the next.
    pub position: usize,
    /// The object exactly as received.
    pub raw: String,
    /// Why it is not a job, e.g. `job_id is missing`.
    pub reason: String,
}

#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(borrow, default)]
    schedules: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    total_count: Option<u64>,
}

impl ListJobsPage {
    /// Parses a 200 body. Each object keeps its exact text in `raw`; an object that is not a
    /// usable job goes to `rejected`. A body that is not JSON, or has no `schedules` array or
    /// no `total_count`, is an error: that is a broken answer, not a bad job.
    pub fn from_json(body: &str) -> Result<ListJobsPage, String> {
        let wire: WirePage = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let objects = wire
            .schedules
            .ok_or_else(|| "the response has no schedules array".to_string())?;
        let total_count = wire
            .total_count
            .ok_or_else(|| "the response has no total_count".to_string())?;
        let mut schedules = Vec::with_capacity(objects.len());
        let mut rejected = Vec::new();
        for (position, raw) in objects.into_iter().enumerate() {
            match ScheduleTask::read(raw) {
                Ok(task) => schedules.push(task),
                Err(reason) => rejected.push(RejectedTask {
                    position,
                    raw: raw.get().to_string(),
                    reason,
                }),
            }
        }
        Ok(ListJobsPage {
            schedules,
            rejected,
            total_count,
        })
    }

    /// How many objects the page held, jobs and rejected ones.
    pub fn served(&self) -> usize {
        self.schedules.len() + self.rejected.len()
    }
}

/// One scheduled job as the API sends it. String fields are kept as sent (numbers are read as
/// text rather than rejected); times stay in the API's text until [`ScheduleTask::times`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ScheduleTask {
    #[serde(deserialize_with = "required_text")]
    pub job_id: String,
    #[serde(default, deserialize_with = "lenient_text")]
    pub project_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub instance_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub instance_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub job_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub job_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub datastore_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub create_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub end_time: Option<String>,
    /// An object in the documents; any JSON is kept. `null` and absence are both `None`.
    #[serde(default)]
    pub target_config: Option<Value>,
    /// The object exactly as received.
    #[serde(skip)]
    pub raw: String,
    /// Its fingerprint (see [`super::fingerprint`]).
    #[serde(skip)]
    pub fingerprint: String,
}

/// A job's three times, normalised to UTC. `None` when the API sent none (or unreadable text,
/// which `raw` still holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobTimes {
    pub create_time: Option<DateTime<Utc>>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
}

impl ScheduleTask {
    /// Parses one object of `schedules`, keeping its exact text and its fingerprint.
    ///
    /// The object is read once, into its top-level fields' texts, and both the typed fields
    /// and the fingerprint come from those: reading it whole once for each was a visible
    /// share of a sync's CPU. The result is what the derived `Deserialize` gives (a test
    /// checks), which is why that derive stays.
    pub fn from_raw(raw: &RawValue) -> Result<ScheduleTask, String> {
        Self::read(raw).map_err(|e| format!("a job object could not be read ({e}): {}", raw.get()))
    }

    /// [`ScheduleTask::from_raw`], failing with only the reason the object is not a job.
    fn read(raw: &RawValue) -> Result<ScheduleTask, String> {
        let text = raw.get();
        let fields = JobFields::parse(text).map_err(|e| e.to_string())?;
        let mut task = ScheduleTask::from_fields(&fields.0).map_err(|e| e.to_string())?;
        task.raw = text.to_string();
        task.fingerprint = fields.fingerprint(text.len());
        Ok(task)
    }

    /// The typed fields, as the derived `Deserialize` reads them: unknown keys ignored, a
    /// known key twice an error, `job_id` required.
    fn from_fields(fields: &[(Cow<'_, str>, &RawValue)]) -> serde_json::Result<ScheduleTask> {
        let mut task = ScheduleTask::default();
        let mut seen = [false; 13];
        let mut has_id = false;
        for (key, value) in fields {
            let (index, slot) = match key.as_ref() {
                "job_id" => {
                    duplicate_check(&mut seen, 0, "job_id")?;
                    let id = match plain_string(value.get()) {
                        Some(text) => Value::String(text.to_string()),
                        None => Value::deserialize(&mut value_reader(value))?,
                    };
                    task.job_id = usable_job_id(id).map_err(serde::de::Error::custom)?;
                    has_id = true;
                    continue;
                }
                "target_config" => {
                    duplicate_check(&mut seen, 12, "target_config")?;
                    task.target_config = Option::<Value>::deserialize(&mut value_reader(value))?;
                    continue;
                }
                "project_id" => (1, &mut task.project_id),
                "instance_id" => (2, &mut task.instance_id),
                "instance_name" => (3, &mut task.instance_name),
                "instance_status" => (4, &mut task.instance_status),
                "job_name" => (5, &mut task.job_name),
                "job_status" => (6, &mut task.job_status),
                "datastore_type" => (7, &mut task.datastore_type),
                "create_time" => (8, &mut task.create_time),
                "start_time" => (9, &mut task.start_time),
                "end_time" => (10, &mut task.end_time),
                _ => continue,
            };
            duplicate_check(&mut seen, index, key)?;
            // Most fields are plain strings: taken as they stand, as serde would.
            *slot = match plain_string(value.get()) {
                Some(text) => Some(text.to_string()),
                None => lenient_text(&mut value_reader(value))?,
            };
        }
        if !has_id {
            return Err(serde::de::Error::custom("job_id is missing"));
        }
        Ok(task)
    }

    /// The times in UTC. Unreadable times are `None` here and stay in `raw`: a record is never
    /// rejected for a field the archiver cannot read.
    pub fn times(&self) -> JobTimes {
        let read =
            |t: &Option<String>| t.as_deref().and_then(|s| time::parse_api(s).ok().flatten());
        JobTimes {
            create_time: read(&self.create_time),
            start_time: read(&self.start_time),
            end_time: read(&self.end_time),
        }
    }

    /// The status, if it is one the API documents.
    pub fn status(&self) -> Option<JobStatus> {
        self.job_status.as_deref().and_then(JobStatus::parse)
    }
}

/// A reader of one field's JSON text.
fn value_reader(value: &RawValue) -> serde_json::Deserializer<serde_json::de::StrRead<'_>> {
    serde_json::Deserializer::from_str(value.get())
}

/// Marks a known field seen; a second sighting is the error serde's derive gives.
fn duplicate_check(seen: &mut [bool], index: usize, name: &str) -> serde_json::Result<()> {
    if std::mem::replace(&mut seen[index], true) {
        return Err(serde::de::Error::custom(format_args!(
            "duplicate field `{name}`"
        )));
    }
    Ok(())
}

/// Reads `job_id`, the archive's key (for the derived `Deserialize`; see [`usable_job_id`]).
fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = Value::deserialize(d)?;
    usable_job_id(value).map_err(serde::de::Error::custom)
}

/// A `job_id` the archive can key a job on: a string that is not blank. A number would be
/// another key than the same id sent as text, and null, "" or "  " are no key at all.
fn usable_job_id(value: Value) -> Result<String, &'static str> {
    match value {
        Value::String(s) if s.trim().is_empty() => Err("job_id is empty"),
        Value::String(s) => Ok(s),
        Value::Null => Err("job_id is null"),
        _ => Err("job_id is not a string"),
    }
}

/// Reads a string field that may also arrive as null, a number or a boolean (written as JSON
/// writes them), or, unexpectedly, an object or array (kept as its JSON text).
///
/// Eleven fields of every job pass through here, so strings and scalars are taken directly
/// rather than through a parsed `Value`.
fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("text, a number, a boolean or null")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(Value::from(v).to_string()))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let value = Value::deserialize(MapAccessDeserializer::new(map))?;
            Ok(Some(value.to_string()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
            Ok(Some(value.to_string()))
        }
    }
    d.deserialize_any(Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading a job from its fields gives what the derived `Deserialize` gives (and the
    /// fingerprint what `content_hash` gives), on simulated jobs and on odd ones.
    #[test]
    fn a_job_read_from_its_fields_is_the_derived_parse() {
        let mut corpus = crate::simulate::sample_job_texts(300);
        corpus.extend(
            [
                r#"{"job_id":"1"}"#,
                r#"{"job_id":"1","job_id":"2"}"#,
                r#"{"job_id":"1","job_name":"a","job_name":"b"}"#,
                r#"{"job_id":"1","target_config":{},"target_config":null}"#,
                r#"{"job_name":"no id"}"#,
                r#"{"job_id":null}"#,
                r#"{"job_id":""}"#,
                r#"{"job_id":17,"project_id":1.5,"instance_id":true,"job_status":null}"#,
                r#"{"job_id":"1","instance_name":{"b":[1,2]},"extra":{"deep":[{}]}}"#,
                r#"{"job_id":"a\"b","job_name":"caf\u00e9","create_time":"2024-03-01T08:00:00+0800"}"#,
                r#"{"job_id":"1","target_config":"text","start_time":""}"#,
                r#"{"job_id":"1","target_config":[1,{"a":null}]}"#,
                r#"{"k\u00e9y":"x","job_id":"1"}"#,
                r#"{}"#,
            ]
            .map(String::from),
        );
        for text in &corpus {
            let raw = RawValue::from_string(text.clone()).unwrap();
            let derived = serde_json::from_str::<ScheduleTask>(text);
            match (ScheduleTask::from_raw(&raw), derived) {
                (Ok(task), Ok(mut expected)) => {
                    expected.raw = text.clone();
                    expected.fingerprint = crate::api::fingerprint::content_hash(text);
                    assert_eq!(task, expected, "{text}");
                }
                (Err(_), Err(_)) => {}
                (ours, derived) => panic!("{text}: {ours:?} but derived {derived:?}"),
            }
        }
    }

    /// Text fields read as a parsed `Value` would give them, for every kind of JSON value.
    #[test]
    fn text_fields_read_any_json_value_as_its_text() {
        for token in [
            r#""plain""#,
            r#""esc\"aped\u00e9\n""#,
            "null",
            "true",
            "false",
            "0",
            "-17",
            "18446744073709551615",
            "-9223372036854775808",
            "1.5",
            "1e3",
            "-0.0",
            r#"{"b":1,"a":[2,{"c":null}]}"#,
            "[1,\"x\",{}]",
            "{}",
        ] {
            let body = format!(r#"{{"job_id":"1","instance_name":{token}}}"#);
            let task: ScheduleTask = serde_json::from_str(&body).unwrap();
            let expected = match serde_json::from_str::<Value>(token).unwrap() {
                Value::Null => None,
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
            assert_eq!(task.instance_name, expected, "{token}");
        }
    }

    #[test]
    fn parses_the_documented_example_and_keeps_raw() {
        let body = r#"{
  "schedules" : [ {
    "job_id" : "56d3c1138dcf4f1da73b0170700c78d0",
    "instance_id" : "79bc540dd4d6432784894a981fdfacfcin07",
    "instance_name" : "gauss-f821",
    "instance_status" : "BUILD",
    "project_id" : "053f533ead80d5102f0cc012e8d468a4",
    "job_name" : "UpgradeGaussDBforMySQLDatabaseVersion",
    "create_time" : "2018-08-06T10:41:14+0800",
    "start_time" : "",
    "job_status" : "Completed",
    "datastore_type" : "gaussdb-mysql",
    "target_config" : { "flavor" : "gaussdb.mysql.xlarge.arm.4", "mem" : "16", "cpu" : "4" },
    "proxy_id" : "p1",
    "future_field" : {"nested": [1, 2]}
  } ],
  "total_count" : 1
}"#;
        let page = ListJobsPage::from_json(body).unwrap();
        assert_eq!(page.total_count, 1);
        let job = &page.schedules[0];
        assert_eq!(job.job_id, "56d3c1138dcf4f1da73b0170700c78d0");
        assert_eq!(job.instance_status.as_deref(), Some("BUILD"));
        assert_eq!(job.start_time.as_deref(), Some(""));
        assert_eq!(job.end_time, None);
        assert!(job.raw.contains("\"future_field\" : {\"nested\": [1, 2]}"));
        assert!(job.raw.starts_with('{') && job.raw.ends_with('}'));
        let times = job.times();
        assert_eq!(times.create_time, time::from_store("2018-08-06T02:41:14Z"));
        assert_eq!(times.start_time, None);
        assert_eq!(job.status(), Some(JobStatus::Completed));
    }

    #[test]
    fn tolerates_unknown_values_and_odd_types() {
        let body = r#"{"schedules":[{"job_id":"a","job_status":"Paused","job_name":7,
            "start_time":null,"target_config":null}],"total_count":"x"}"#;
        assert!(
            ListJobsPage::from_json(body).is_err(),
            "total_count must be a number"
        );
        let body = r#"{"schedules":[{"job_id":"a","job_status":"Paused","job_name":7,
            "start_time":null,"target_config":null}],"total_count":1}"#;
        let page = ListJobsPage::from_json(body).unwrap();
        let job = &page.schedules[0];
        assert_eq!(job.job_status.as_deref(), Some("Paused"));
        assert_eq!(job.status(), None);
        assert_eq!(job.job_name.as_deref(), Some("7"));
        assert_eq!(job.target_config, None);
    }

    /// An object without a usable job_id is set aside with its exact text and why; the rest
    /// of the page is read as usual.
    #[test]
    fn objects_without_a_usable_job_id_are_rejected_not_the_page() {
        let body = r#"{"schedules":[{"job_id":"a","job_status":"Running"},
            {"job_status":"Running"}, {"job_id":null}, {"job_id":""}, {"job_id":"  "},
            {"job_id":17}, {"job_id":{"x":1}}, [1], "text",
            {"job_id":"b","job_id":"c"}, {"job_id":"z"}],"total_count":11}"#;
        let page = ListJobsPage::from_json(body).unwrap();
        let ids: Vec<&str> = page.schedules.iter().map(|j| j.job_id.as_str()).collect();
        assert_eq!(ids, ["a", "z"]);
        assert_eq!(page.served(), 11);
        let rejected: Vec<(usize, &str, &str)> = page
            .rejected
            .iter()
            .map(|r| (r.position, r.raw.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            rejected[..6],
            [
                (1, r#"{"job_status":"Running"}"#, "job_id is missing"),
                (2, r#"{"job_id":null}"#, "job_id is null"),
                (3, r#"{"job_id":""}"#, "job_id is empty"),
                (4, r#"{"job_id":"  "}"#, "job_id is empty"),
                (5, r#"{"job_id":17}"#, "job_id is not a string"),
                (6, r#"{"job_id":{"x":1}}"#, "job_id is not a string"),
            ]
        );
        let rest: Vec<usize> = page.rejected[6..].iter().map(|r| r.position).collect();
        assert_eq!(rest, [7, 8, 9], "not objects, and a duplicate key");
        assert!(
            page.rejected[8].reason.contains("duplicate field"),
            "{:?}",
            page.rejected[8]
        );
    }

    /// A broken envelope is a broken answer, not a bad job: the page fails.
    #[test]
    fn a_page_without_its_envelope_is_an_error() {
        for body in [
            r#"{"total_count":1}"#,
            r#"{"schedules":null,"total_count":1}"#,
            r#"{"schedules":{"job_id":"a"},"total_count":1}"#,
            r#"[{"job_id":"a"}]"#,
            r#"{"schedules":[{"job_id":"a"}"#,
            "not json",
        ] {
            assert!(ListJobsPage::from_json(body).is_err(), "{body}");
        }
        let err = ListJobsPage::from_json(r#"{"total_count":0}"#).unwrap_err();
        assert!(err.contains("schedules"), "{err}");
        let empty = ListJobsPage::from_json(r#"{"schedules":[],"total_count":0}"#).unwrap();
        assert_eq!(empty.served(), 0);
    }

    #[test]
    fn query_pairs_send_offset_and_limit_always() {
        let req = ListJobsRequest {
            offset: 0,
            limit: 100,
            start_time: time::from_store("2024-03-01T00:00:00Z"),
            status: Some("Failed".into()),
            ..Default::default()
        };
        let pairs = req.query_pairs();
        assert_eq!(pairs[0], ("offset", "0".to_string()));
        assert_eq!(pairs[1], ("limit", "100".to_string()));
        assert!(pairs.contains(&("start_time", "2024-03-01T00:00:00+0000".to_string())));
        assert!(pairs.contains(&("status", "Failed".to_string())));
    }
}
