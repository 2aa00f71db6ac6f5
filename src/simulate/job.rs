//! One simulated job and its JSON form, written exactly as the API writes it.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Map, Value};

use crate::time;

/// A job time as the API may send it. The API sends a pending job's times as `""`, `null` or
/// not at all, and clients must cope with all three, so the fake keeps them distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    At(DateTime<Utc>),
    /// `""`
    Empty,
    /// `null`
    Null,
    /// The key is missing.
    Absent,
}

impl TimeField {
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            TimeField::At(t) => Some(*t),
            _ => None,
        }
    }

    fn render(&self, offset: FixedOffset) -> Option<Value> {
        match self {
            TimeField::At(t) => Some(Value::String(time::to_api_at(*t, offset))),
            TimeField::Empty => Some(Value::String(String::new())),
            TimeField::Null => Some(Value::Null),
            TimeField::Absent => None,
        }
    }
}

/// A scheduled job held by the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimJob {
    pub job_id: String,
    pub project_id: String,
    pub instance_id: String,
    pub instance_name: String,
    pub instance_status: String,
    pub job_name: String,
    pub job_status: String,
    pub datastore_type: String,
    pub create_time: DateTime<Utc>,
    pub start_time: TimeField,
    pub end_time: TimeField,
    /// The offset this job's times are written in (the real service mixes them).
    pub offset: FixedOffset,
    /// `None`: the key is missing; `Some(Value::Null)`: `null`.
    pub target_config: Option<Value>,
    /// Fields the official description lacks (proxy_id, fields added later), emitted after the
    /// documented ones in this order.
    pub extra: Map<String, Value>,
}

/// The key order of the documented example, which the real service keeps.
const DOCUMENTED: [&str; 12] = [
    "job_id",
    "instance_id",
    "instance_name",
    "instance_status",
    "project_id",
    "job_name",
    "create_time",
    "start_time",
    "end_time",
    "job_status",
    "datastore_type",
    "target_config",
];

impl SimJob {
    /// A pending job of the documented example's instance, times written at `+0800`.
    pub fn new(job_id: impl Into<String>, create_time: DateTime<Utc>) -> SimJob {
        SimJob {
            job_id: job_id.into(),
            project_id: super::DEFAULT_PROJECT_ID.to_string(),
            instance_id: "79bc540dd4d6432784894a981fdfacfcin07".to_string(),
            instance_name: "gauss-f821".to_string(),
            instance_status: "normal".to_string(),
            job_name: "RebootGaussDBforMySQLInstance".to_string(),
            job_status: "Pending".to_string(),
            datastore_type: "gaussdb-mysql".to_string(),
            create_time,
            start_time: TimeField::Empty,
            end_time: TimeField::Empty,
            offset: FixedOffset::east_opt(8 * 3600).expect("+0800 is valid"),
            target_config: Some(Value::Object(Map::new())),
            extra: Map::new(),
        }
    }

    /// The object the API sends for this job. Rendering is a pure function of the job, so the
    /// same job is the same text on every page.
    pub fn to_api_json(&self) -> Value {
        let mut m = Map::new();
        let text = |s: &str| Value::String(s.to_string());
        m.insert("job_id".into(), text(&self.job_id));
        m.insert("instance_id".into(), text(&self.instance_id));
        m.insert("instance_name".into(), text(&self.instance_name));
        m.insert("instance_status".into(), text(&self.instance_status));
        m.insert("project_id".into(), text(&self.project_id));
        m.insert("job_name".into(), text(&self.job_name));
        m.insert(
            "create_time".into(),
            Value::String(time::to_api_at(self.create_time, self.offset)),
        );
        if let Some(v) = self.start_time.render(self.offset) {
            m.insert("start_time".into(), v);
        }
        if let Some(v) = self.end_time.render(self.offset) {
            m.insert("end_time".into(), v);
        }
        m.insert("job_status".into(), text(&self.job_status));
        m.insert("datastore_type".into(), text(&self.datastore_type));
        if let Some(v) = &self.target_config {
            m.insert("target_config".into(), v.clone());
        }
        for (k, v) in &self.extra {
            if !m.contains_key(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    /// Reads a job in the API's form (the control interface's `POST /_sim/jobs`). `job_id` and
    /// `create_time` are required; missing documented text fields take [`SimJob::new`]'s values,
    /// and undocumented fields are kept in `extra`.
    pub fn from_api_json(v: &Value) -> Result<SimJob, String> {
        let obj = v.as_object().ok_or("a job must be a JSON object")?;
        let job_id = match obj.get("job_id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err("job_id is missing or not a non-empty string".into()),
        };
        let create_text = obj
            .get("create_time")
            .and_then(Value::as_str)
            .ok_or("create_time is missing or not a string")?;
        let (create_time, offset) = parse_with_offset(create_text)
            .ok_or_else(|| format!("create_time {create_text:?} is not a time"))?;
        let mut job = SimJob::new(job_id, create_time);
        job.offset = offset;
        let time_field = |key: &str| -> Result<TimeField, String> {
            match obj.get(key) {
                None => Ok(TimeField::Absent),
                Some(Value::Null) => Ok(TimeField::Null),
                Some(Value::String(s)) if s.is_empty() => Ok(TimeField::Empty),
                Some(Value::String(s)) => parse_with_offset(s)
                    .map(|(t, _)| TimeField::At(t))
                    .ok_or_else(|| format!("{key} {s:?} is not a time")),
                Some(other) => Err(format!("{key} must be a string, not {other}")),
            }
        };
        job.start_time = time_field("start_time")?;
        job.end_time = time_field("end_time")?;
        job.target_config = obj.get("target_config").cloned();
        for (key, value) in obj {
            let slot = match key.as_str() {
                "project_id" => &mut job.project_id,
                "instance_id" => &mut job.instance_id,
                "instance_name" => &mut job.instance_name,
                "instance_status" => &mut job.instance_status,
                "job_name" => &mut job.job_name,
                "job_status" => &mut job.job_status,
                "datastore_type" => &mut job.datastore_type,
                k if DOCUMENTED.contains(&k) => continue,
                _ => {
                    job.extra.insert(key.clone(), value.clone());
                    continue;
                }
            };
            *slot = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
        Ok(job)
    }
}

/// Reads a time and keeps the offset it was written in, so a job posted at `+0530` is served
/// back at `+0530`.
fn parse_with_offset(s: &str) -> Option<(DateTime<Utc>, FixedOffset)> {
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some((t.with_timezone(&Utc), *t.offset()));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t.with_timezone(&Utc), *t.offset()));
    }
    let utc = FixedOffset::east_opt(0).expect("+0000 is valid");
    time::parse_api(s).ok().flatten().map(|t| (t, utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        time::from_store(s).unwrap()
    }

    #[test]
    fn renders_in_documented_order_and_own_offset() {
        let mut job = SimJob::new("j1", utc("2018-08-06T10:41:14Z"));
        job.start_time = TimeField::Null;
        job.end_time = TimeField::Absent;
        job.extra.insert("proxy_id".into(), "p1".into());
        let text = serde_json::to_string(&job.to_api_json()).unwrap();
        assert_eq!(
            text,
            r#"{"job_id":"j1","instance_id":"79bc540dd4d6432784894a981fdfacfcin07","instance_name":"gauss-f821","instance_status":"normal","project_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","job_name":"RebootGaussDBforMySQLInstance","create_time":"2018-08-06T18:41:14+0800","start_time":null,"job_status":"Pending","datastore_type":"gaussdb-mysql","target_config":{},"proxy_id":"p1"}"#
        );
    }

    #[test]
    fn api_form_round_trips_with_unknown_fields() {
        let text = r#"{"job_id":"j2","instance_id":"i","instance_name":"n","instance_status":"BUILD","project_id":"p","job_name":"RESIZE_FLAVOR","create_time":"2024-03-01T05:30:00+0530","start_time":"","end_time":null,"job_status":"Running","datastore_type":"gaussdb-mysql","order_id":"o-1","extra_info":{"tags":["a"]}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let job = SimJob::from_api_json(&v).unwrap();
        assert_eq!(job.create_time, utc("2024-03-01T00:00:00Z"));
        assert_eq!(job.offset, FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
        assert_eq!(job.start_time, TimeField::Empty);
        assert_eq!(job.end_time, TimeField::Null);
        assert_eq!(job.target_config, None);
        assert_eq!(job.extra.len(), 2);
        assert_eq!(serde_json::to_string(&job.to_api_json()).unwrap(), text);
    }

    #[test]
    fn rejects_jobs_without_id_or_time() {
        assert!(SimJob::from_api_json(
            &serde_json::json!({"create_time": "2024-03-01T00:00:00+0000"})
        )
        .is_err());
        assert!(SimJob::from_api_json(&serde_json::json!({"job_id": "x"})).is_err());
        assert!(
            SimJob::from_api_json(&serde_json::json!({"job_id": "x", "create_time": "soon"}))
                .is_err()
        );
    }
}
