//! API objects into store records: a job as the API sent it becomes the row the archive keeps.

use crate::api::ScheduleTask;
use crate::store::JobRecord;
use crate::time;

/// Normalises a job as the API sent it, taking over its texts: times in UTC, `target_config`
/// as JSON text (none for `null`), and its fingerprint (computed when it was read) as the
/// content hash. `project_id` fills in a job that lacks its own.
pub fn job_record(task: ScheduleTask, project_id: &str) -> JobRecord {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::JobStatus;
    use crate::store::OPEN_STATUSES;

    fn task(text: &str) -> ScheduleTask {
        let raw = serde_json::value::RawValue::from_string(text.to_string()).unwrap();
        ScheduleTask::from_raw(&raw).unwrap()
    }

    #[test]
    fn a_job_is_recorded_in_utc_with_its_texts() {
        let text = r#"{"job_id":"j","job_status":"Running","create_time":"2024-03-01T08:00:00+0800","start_time":"","target_config":null}"#;
        let sent = task(text);
        let fingerprint = sent.fingerprint.clone();
        let record = job_record(sent, "p");
        assert_eq!(record.job_id, "j");
        assert_eq!(record.project_id.as_deref(), Some("p"));
        assert_eq!(record.create_time.as_deref(), Some("2024-03-01T00:00:00Z"));
        assert_eq!(record.start_time, None);
        assert_eq!(record.target_config, None);
        assert_eq!(record.raw, text);
        assert_eq!(record.content_hash, fingerprint);

        let own = job_record(
            task(r#"{"job_id":"k","project_id":"q","target_config":{"a":1}}"#),
            "p",
        );
        assert_eq!(own.project_id.as_deref(), Some("q"));
        assert_eq!(own.target_config.as_deref(), Some(r#"{"a":1}"#));
    }

    /// The archive's open statuses are the API's statuses that are not final.
    #[test]
    fn open_statuses_are_the_api_open_ones() {
        let mut api: Vec<&str> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .map(JobStatus::as_str)
            .collect();
        api.sort_unstable();
        assert_eq!(api, OPEN_STATUSES);
    }
}
