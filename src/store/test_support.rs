//! Helpers for tests that write through the store: a job from minimal JSON, and a scope with a
//! run to write it under.

use chrono::{DateTime, Utc};

use super::{JobRecord, RunStart, ScopeKey, Store};

/// A job of project `p` with only an id, a status and a create time, as the sync would record
/// it. Its raw text stands in for its fingerprint: jobs that differ have different ones.
pub(crate) fn job(id: &str, status: &str) -> JobRecord {
    let raw = format!(
        r#"{{"job_id":"{id}","job_status":"{status}","create_time":"2024-03-01T08:00:00+0800"}}"#
    );
    JobRecord {
        job_id: id.into(),
        project_id: Some("p".into()),
        instance_id: None,
        instance_name: None,
        instance_status: None,
        job_name: None,
        job_status: Some(status.into()),
        datastore_type: None,
        create_time: Some("2024-03-01T00:00:00Z".into()),
        start_time: None,
        end_time: None,
        target_config: None,
        content_hash: raw.clone(),
        raw,
    }
}

/// A scope of project `p` at `endpoint` and a run begun in it at `now`: (scope_id, run_id).
pub(crate) fn begin_run(store: &mut Store, endpoint: &str, now: DateTime<Utc>) -> (i64, i64) {
    let key = ScopeKey {
        endpoint: endpoint.into(),
        project_id: "p".into(),
        filter: String::new(),
    };
    let scope = store.scope(&key, None, now, now).unwrap();
    let run = store
        .begin_run(&RunStart {
            started_at: now,
            endpoint: key.endpoint,
            project_id: key.project_id,
            scope_id: scope.scope_id,
            range_start: now,
            range_end: now,
            options: "{}".into(),
            windows_planned: 1,
        })
        .unwrap();
    (scope.scope_id, run)
}
