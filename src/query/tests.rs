//! Tests of the query commands against small fixture archives built with the store.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection};
use serde_json::Value;

use super::{run_with_style, Question, TableStyle};
use crate::api::auth::Credential;
use crate::api::Secret;
use crate::app::query_request_from_argv;
use crate::simulate::{SimConfig, SimJob, Simulator, TimeField, DEFAULT_TOKEN};
use crate::sync::{Clock, RunControl, SyncOptions};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 6, 0, 0, 0).unwrap()
}

/// (job_id, create_time, job_name, job_status, instance_id, instance_name, target_config)
type JobRow = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// job-b and job-c share a create time, to pin the job_id tie-break.
const JOBS: [JobRow; 6] = [
    (
        "job-a",
        Some("2024-03-01T08:00:00Z"),
        "RESIZE_FLAVOR",
        "Completed",
        "inst-1",
        "orders-db",
        Some(r#"{"flavor_ref":"gaussdb.mysql.xlarge.x86.4","nodes":2}"#),
    ),
    (
        "job-b",
        Some("2024-03-02T09:30:00Z"),
        "UPGRADE_DATABASE",
        "Failed",
        "inst-1",
        "orders-db",
        None,
    ),
    (
        "job-c",
        Some("2024-03-02T09:30:00Z"),
        "RESIZE_FLAVOR",
        "Running",
        "inst-2",
        "Billing-DB",
        Some(r#"{"flavor_ref":"gaussdb.mysql.large.x86.4"}"#),
    ),
    (
        "job-d",
        Some("2024-03-03T00:00:00Z"),
        "REBOOT_INSTANCE",
        "Pending",
        "inst-2",
        "Billing-DB",
        None,
    ),
    (
        "job-e",
        Some("2024-03-04T12:00:00Z"),
        "UPGRADE_DATABASE",
        "Canceled",
        "inst-3",
        "analytics",
        None,
    ),
    (
        "job-f",
        Some("2024-03-05T23:59:59Z"),
        "RESIZE_FLAVOR",
        "Completed",
        "inst-3",
        "analytics",
        Some(r#"{"flavor_ref":"gaussdb.mysql.2xlarge.x86.4"}"#),
    ),
];

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// The archive's time of a fixture job's text field (`2024-03-01T08:00:00Z`).
fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A fixture job as the API shows it in its final state: started 30 s after its creation (or
/// at it, when created on a whole minute's second 59), ended at the last second of the fixture
/// when it is Completed or Failed.
fn world_job(j: &JobRow) -> SimJob {
    let (id, create, name, status, inst_id, inst_name, target) = *j;
    let create = create.expect("fixture jobs have a create time");
    let start = create.replace(":00Z", ":30Z");
    let mut job = SimJob::new(id, at(create));
    job.project_id = PROJECT.into();
    job.instance_id = inst_id.into();
    job.instance_name = inst_name.into();
    job.job_name = name.into();
    job.job_status = status.into();
    job.start_time = TimeField::At(at(&start));
    job.end_time = if status == "Completed" || status == "Failed" {
        TimeField::At(at("2024-03-05T23:59:59Z"))
    } else {
        TimeField::Absent
    };
    job.target_config = target.map(|t| serde_json::from_str(t).unwrap());
    job
}

/// The fixture's project.
const PROJECT: &str = "p0123";

/// The fixture job `id` in its final state, changed by `edit`.
fn job_then(id: &str, edit: impl FnOnce(&mut SimJob)) -> SimJob {
    let mut job = world_job(JOBS.iter().find(|j| j.0 == id).unwrap());
    edit(&mut job);
    job
}

/// job-a while it ran: the resize had started and not ended.
fn job_a_running() -> SimJob {
    job_then("job-a", |j| {
        j.job_status = "Running".into();
        j.instance_status = "resizing".into();
        j.start_time = TimeField::At(at("2024-03-01T08:01:00Z"));
        j.end_time = TimeField::Absent;
    })
}

/// job-a as it ended, 40 minutes after it was created.
fn job_a_done() -> SimJob {
    job_then("job-a", |j| {
        j.start_time = TimeField::At(at("2024-03-01T08:01:00Z"));
        j.end_time = TimeField::At(at("2024-03-01T08:40:00Z"));
    })
}

/// Builds an archive as cron would: at each step the simulated API shows the given jobs as
/// they then were, and a real sync runs at the step's time. Every row is the store's writing.
fn archive_by_syncs(steps: Vec<(&str, Vec<SimJob>)>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.db");
    let sim = Simulator::empty(SimConfig {
        project_id: PROJECT.into(),
        ..SimConfig::default()
    });
    let server = sim.spawn_background();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut options = SyncOptions::new(
        server.url.parse().unwrap(),
        PROJECT,
        Credential::Token(Secret::new(DEFAULT_TOKEN)),
    );
    options.since = Some(at("2024-02-28T00:00:00Z"));
    // The simulator is local: no gateway limit to respect.
    options.max_rps = 10_000.0;
    for (time, jobs) in steps {
        // Pages are seen at the step's time, so the archive is the same on every run.
        // Waits for the lock: a test running beside this one may spawn a process (insta asks
        // cargo for the workspace), and until that child execs it holds a copy of every open
        // file, the previous step's lock file among them.
        let control = RunControl {
            clock: Clock::Fixed(at(time)),
            wait_for_lock: true,
            ..RunControl::default()
        };
        for job in jobs {
            sim.add_job(job);
        }
        runtime
            .block_on(crate::sync::run(&path, &options, at(time), control))
            .unwrap_or_else(|e| panic!("the fixture's sync at {time} failed: {e:#}"));
    }
    Fixture { _dir: dir, path }
}

/// The six jobs above: job-a seen running and then done (two versions), the others seen once,
/// in their final state, by the last sync.
fn fixture() -> Fixture {
    archive_by_syncs(vec![
        ("2024-03-01T08:05:00Z", vec![job_a_running()]),
        ("2024-03-01T09:00:00Z", vec![job_a_done()]),
        (
            "2024-03-06T00:00:00Z",
            JOBS[1..].iter().map(world_job).collect(),
        ),
    ])
}

struct Output {
    result: anyhow::Result<()>,
    out: String,
    err: String,
}

/// Runs `gaussjobs query ARGS...` through clap, as main would, with a fixed table layout.
fn query(db: &Path, args: &[&str]) -> Output {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = query_request_from_argv(args, now())
        .and_then(|request| run_with_style(db, &request, TableStyle::PLAIN, &mut out, &mut err));
    Output {
        result,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

fn ok(db: &Path, args: &[&str]) -> Output {
    let o = query(db, args);
    if let Err(e) = &o.result {
        panic!("query {args:?} failed: {e:#}");
    }
    o
}

fn failure(db: &Path, args: &[&str]) -> anyhow::Error {
    match query(db, args).result {
        Ok(()) => panic!("query {args:?} succeeded"),
        Err(e) => e,
    }
}

/// The error as the user sees it, with its hint.
fn reported(e: &anyhow::Error) -> String {
    let mut buf = Vec::new();
    crate::exit::report(e, &mut buf);
    String::from_utf8(buf).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["job_id"].as_str().unwrap().to_string())
        .collect()
}

/// The same question asked with hand-written SQL, straight from the file.
fn ids_where(db: &Path, condition: &str) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let sql =
        format!("SELECT job_id FROM jobs WHERE {condition} ORDER BY create_time DESC, job_id");
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn jobs_json_has_every_column_newest_first() {
    let f = fixture();
    let o = ok(&f.path, &["jobs", "--format", "json"]);
    assert!(o.err.is_empty(), "{}", o.err);
    let rows = json(&o.out);
    assert_eq!(
        ids(&rows),
        ["job-f", "job-e", "job-d", "job-b", "job-c", "job-a"]
    );
    let last = &rows[5];
    let keys: Vec<&str> = last
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, super::jobs::COLUMNS);
    // target_config nested, not a string; times as stored; NULL as null.
    assert_eq!(
        last["target_config"]["flavor_ref"],
        "gaussdb.mysql.xlarge.x86.4"
    );
    assert_eq!(last["target_config"]["nodes"], 2);
    assert_eq!(last["create_time"], "2024-03-01T08:00:00Z");
    assert_eq!(rows[3]["target_config"], Value::Null);
    assert_eq!(rows[2]["end_time"], Value::Null);
}

#[test]
fn jobs_filters_agree_with_hand_written_sql() {
    let f = fixture();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--status", "failed", "--status", "CANCELED"],
            "job_status IN ('Failed', 'Canceled')",
        ),
        (
            &["--status", "Completed,running"],
            "job_status IN ('Completed', 'Running')",
        ),
        (
            &["--job-name", "RESIZE_FLAVOR"],
            "job_name = 'RESIZE_FLAVOR'",
        ),
        (&["--instance", "inst-2"], "instance_id = 'inst-2'"),
        (
            &["--instance", "billing-db"],
            "instance_name = 'Billing-DB'",
        ),
        (&["--instance", "ORDERS-DB"], "instance_name = 'orders-db'"),
        (
            &["--since", "2024-03-02T09:30:00Z"],
            "create_time >= '2024-03-02T09:30:00Z'",
        ),
        (
            &["--until", "2024-03-02T09:30:00Z"],
            "create_time < '2024-03-02T09:30:00Z'",
        ),
        (
            &["--since", "2024-03-02", "--until", "2024-03-04"],
            "create_time >= '2024-03-02T00:00:00Z' AND create_time < '2024-03-04T00:00:00Z'",
        ),
        // An age counts back from now (2024-03-06T00:00:00Z).
        (&["--since", "2d"], "create_time >= '2024-03-04T00:00:00Z'"),
        (
            &["--status", "completed", "--instance", "analytics"],
            "job_status = 'Completed' AND instance_name = 'analytics'",
        ),
    ];
    for (args, condition) in cases {
        let expected = ids_where(&f.path, condition);
        assert!(
            !expected.is_empty() && expected.len() < JOBS.len(),
            "case {args:?} does not discriminate"
        );
        let mut argv = vec!["jobs", "--format", "json"];
        argv.extend_from_slice(args);
        let o = ok(&f.path, &argv);
        assert_eq!(ids(&json(&o.out)), expected, "query jobs {args:?}");
    }
}

#[test]
fn jobs_since_is_inclusive_and_until_exclusive() {
    let f = fixture();
    let tie = "2024-03-02T09:30:00Z";
    let since = ids(&json(
        &ok(&f.path, &["jobs", "--format", "json", "--since", tie]).out,
    ));
    let until = ids(&json(
        &ok(&f.path, &["jobs", "--format", "json", "--until", tie]).out,
    ));
    assert!(since.contains(&"job-b".to_string()) && since.contains(&"job-c".to_string()));
    assert!(!until.contains(&"job-b".to_string()) && !until.contains(&"job-c".to_string()));
    assert_eq!(since.len() + until.len(), JOBS.len());
}

#[test]
fn jobs_unknown_status_is_a_usage_error_naming_the_valid_ones() {
    let f = fixture();
    let e = failure(&f.path, &["jobs", "--status", "Done"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    let text = reported(&e);
    assert!(text.contains("\"Done\""), "{text}");
    assert!(
        text.contains(&crate::api::model::JobStatus::names()),
        "{text}"
    );
}

#[test]
fn jobs_bad_times_and_limits_are_usage_errors() {
    let f = fixture();
    for args in [
        &["jobs", "--since", "yesterday-ish"][..],
        &["jobs", "--until", "2024-13-45T00:00:00Z"],
        &["jobs", "--since", "2024-03-05", "--until", "2024-03-01"],
    ] {
        let e = failure(&f.path, args);
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE, "{args:?}");
    }
    // Limits are checked by the flag parser, whose errors exit 2 as well.
    use clap::Parser;
    for limit in ["0", "-1", "10000001", "18446744073709551616"] {
        let parsed =
            crate::cli::Cli::try_parse_from(["gaussjobs", "query", "jobs", "--limit", limit]);
        assert!(parsed.is_err(), "--limit {limit} is refused");
    }
    let e = failure(&f.path, &["jobs", "--since", "yesterday-ish"]);
    assert!(e.to_string().contains("--since"), "{e}");
    assert!(e.to_string().contains("yesterday-ish"), "{e}");
}

#[test]
fn jobs_limit_notes_when_more_exist() {
    let f = fixture();
    let o = ok(&f.path, &["jobs", "--format", "json", "--limit", "2"]);
    assert_eq!(ids(&json(&o.out)), ["job-f", "job-e"]);
    assert_eq!(
        o.err,
        "note: showing the newest 2 of 6 matching jobs; use --limit to see more\n"
    );
    // Exactly as many as match: no note.
    let o = ok(&f.path, &["jobs", "--format", "json", "--limit", "6"]);
    assert_eq!(ids(&json(&o.out)).len(), 6);
    assert!(o.err.is_empty(), "{}", o.err);
    let o = ok(
        &f.path,
        &[
            "jobs", "--format", "ndjson", "--status", "failed", "--limit", "1",
        ],
    );
    assert_eq!(o.out.lines().count(), 1);
    assert!(o.err.is_empty(), "{}", o.err);
}

#[test]
fn jobs_default_limit_is_100() {
    let bulk = (0..100).map(|i| job_then("job-a", |j| j.job_id = format!("bulk-{i:03}")));
    let f = archive_by_syncs(vec![(
        "2024-03-06T00:00:00Z",
        JOBS.iter().map(world_job).chain(bulk).collect(),
    )]);
    let o = ok(&f.path, &["jobs", "--format", "ndjson"]);
    assert_eq!(o.out.lines().count(), 100);
    assert!(o.err.contains("newest 100 of 106 matching"), "{}", o.err);
}

#[test]
fn jobs_csv_and_ndjson() {
    let f = fixture();
    let o = ok(&f.path, &["jobs", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(o.out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, super::jobs::COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), JOBS.len());
    let a = records.iter().find(|r| &r[0] == "job-a").unwrap();
    // JSON stays JSON text in CSV; NULL is empty.
    assert_eq!(json(&a[11])["flavor_ref"], "gaussdb.mysql.xlarge.x86.4");
    let b = records.iter().find(|r| &r[0] == "job-b").unwrap();
    assert_eq!(&b[11], "");

    let o = ok(&f.path, &["jobs", "--format", "ndjson"]);
    let lines: Vec<&str> = o.out.lines().collect();
    assert_eq!(lines.len(), ids_where(&f.path, "1").len());
    for line in lines {
        assert!(json(line).is_object());
    }
}

#[test]
fn empty_results_keep_their_shape() {
    let f = fixture();
    let none = ["jobs", "--job-name", "NO_SUCH_JOB"];
    let run = |format: &str| {
        let mut args = none.to_vec();
        args.extend(["--format", format]);
        let o = ok(&f.path, &args);
        assert!(o.err.starts_with("note: no jobs match"), "{}", o.err);
        o.out
    };
    assert_eq!(run("json"), "[]\n");
    assert_eq!(run("ndjson"), "");
    assert_eq!(
        run("csv").lines().collect::<Vec<_>>(),
        [super::jobs::COLUMNS.join(",")]
    );
    let table = run("table");
    assert!(
        table.contains("job_id") && table.contains("instance_name"),
        "{table}"
    );
    assert!(!table.contains("job-"), "{table}");

    let o = ok(
        &f.path,
        &["sql", "SELECT job_id FROM jobs WHERE 0", "--format", "json"],
    );
    assert_eq!(o.out, "[]\n");
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id, job_name FROM jobs WHERE 0",
            "--format",
            "csv",
        ],
    );
    assert_eq!(o.out, "job_id,job_name\n");
}

#[test]
fn jobs_table_snapshot() {
    let f = fixture();
    let o = ok(&f.path, &["jobs"]);
    assert!(!o.out.contains("target_config"));
    insta::assert_snapshot!("jobs_table", o.out);
}

#[test]
fn job_table_snapshot() {
    let f = fixture();
    let o = ok(&f.path, &["job", "job-a"]);
    insta::assert_snapshot!("job_table", o.out);
}

#[test]
fn job_json_has_the_job_and_its_history() {
    let f = fixture();
    let o = ok(&f.path, &["job", "job-a", "--format", "json"]);
    let v = json(&o.out);
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["job", "history"]
    );
    assert_eq!(v["job"]["job_id"], "job-a");
    assert_eq!(v["job"]["job_status"], "Completed");
    assert_eq!(v["job"]["version"], 2);
    assert_eq!(v["job"]["target_config"]["nodes"], 2);
    assert!(v["job"].get("raw").is_none());
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 1);
    assert_eq!(history[0]["job_status"], "Running");
    assert_eq!(history[0]["changed"], Value::Null);
    assert_eq!(history[1]["version"], 2);
    assert_eq!(
        history[1]["changed"],
        serde_json::json!(["instance_status", "job_status", "end_time", "raw"])
    );
    assert_eq!(history[1]["end_time"], "2024-03-01T08:40:00Z");
    assert!(history[1].get("raw").is_none());

    // A job seen once has one version: the one in its own row.
    let o = ok(&f.path, &["job", "job-b", "--format", "json"]);
    let history = json(&o.out)["history"].clone();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["version"], 1);
    // Seen by the fixture's last sync.
    assert_eq!(history[0]["observed_at"], "2024-03-06T00:00:00Z");
    assert_eq!(history[0]["job_status"], "Failed");
}

#[test]
fn job_csv_and_ndjson_are_its_history() {
    let f = fixture();
    let o = ok(&f.path, &["job", "job-a", "--format", "ndjson"]);
    let lines: Vec<Value> = o.out.lines().map(json).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["version"], 2);
    assert!(lines[0].get("raw").is_none());
    assert_eq!(lines[0]["observed_at"], "2024-03-01T08:05:00Z");

    let o = ok(&f.path, &["job", "job-a", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(o.out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["job_id", "version", "observed_at"]);
    assert!(!header.contains(&"raw".to_string()));
    assert_eq!(header.len(), 16);
    assert_eq!(reader.records().count(), 2);
}

#[test]
fn unknown_job_fails_with_its_id() {
    let f = fixture();
    let e = failure(&f.path, &["job", "job-zzz"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::FAILED);
    assert_eq!(e.to_string(), "no job job-zzz in the archive");
}

#[test]
fn sql_refuses_writes_and_leaves_the_file_alone() {
    let f = fixture();
    let before = std::fs::read(&f.path).unwrap();
    for statement in [
        "INSERT INTO jobs (job_id, raw, content_hash, version, first_seen_at, last_seen_at) \
         VALUES ('x', '{}', 'h', 1, 'a', 'b')",
        "UPDATE jobs SET job_status = 'Failed'",
        "DELETE FROM jobs",
        "DROP TABLE jobs",
        "CREATE TABLE t (x)",
        "CREATE INDEX jobs_x ON jobs (job_name)",
    ] {
        let e = failure(&f.path, &["sql", statement]);
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE, "{statement}");
        assert_eq!(
            e.to_string(),
            "query sql only reads: this statement would change the archive"
        );
    }
    assert_eq!(std::fs::read(&f.path).unwrap(), before);
    assert_eq!(ids_where(&f.path, "job_status = 'Failed'"), ["job-b"]);
}

#[test]
fn sql_json_is_typed_objects_in_column_order() {
    let f = fixture();
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id, version AS n, 1.5 AS r, 2.0 AS whole, end_time, x'00ff' AS b, \
             target_config FROM jobs WHERE job_id IN ('job-a', 'job-b') ORDER BY job_id",
            "--format",
            "json",
        ],
    );
    let rows = json(&o.out);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "job_id",
            "n",
            "r",
            "whole",
            "end_time",
            "b",
            "target_config"
        ]
    );
    assert_eq!(rows[0]["job_id"], "job-a");
    assert!(rows[0]["n"].is_i64() && rows[0]["n"] == 2);
    assert!(rows[0]["r"].is_f64() && rows[0]["r"] == 1.5);
    assert!(rows[0]["whole"].is_f64());
    assert_eq!(rows[0]["b"], "00ff");
    // Arbitrary SQL knows no column meanings: JSON text stays a string.
    assert!(rows[0]["target_config"].is_string());
    assert_eq!(rows[1]["end_time"], "2024-03-05T23:59:59Z");
    assert_eq!(rows[1]["target_config"], Value::Null);
}

#[test]
fn sql_repeated_column_names_are_not_lost_in_json() {
    let f = fixture();
    let o = ok(
        &f.path,
        &["sql", "SELECT 1 AS a, 2 AS a, 3 AS a", "--format", "json"],
    );
    assert_eq!(
        json(&o.out),
        serde_json::json!([{"a": 1, "a:2": 2, "a:3": 3}])
    );
}

#[test]
fn sql_csv_ndjson_and_table() {
    let f = fixture();
    let statement = "SELECT job_name, count(*) AS n FROM jobs GROUP BY 1 ORDER BY 1";
    let o = ok(&f.path, &["sql", statement, "--format", "csv"]);
    assert_eq!(
        o.out,
        "job_name,n\nREBOOT_INSTANCE,1\nRESIZE_FLAVOR,3\nUPGRADE_DATABASE,2\n"
    );
    let o = ok(&f.path, &["sql", statement, "--format", "ndjson"]);
    assert_eq!(o.out.lines().count(), 3);
    assert_eq!(
        json(o.out.lines().nth(1).unwrap()),
        serde_json::json!({"job_name": "RESIZE_FLAVOR", "n": 3})
    );
    let o = ok(&f.path, &["sql", statement]);
    assert!(
        o.out.contains("UPGRADE_DATABASE") && o.out.contains("job_name"),
        "{}",
        o.out
    );
}

#[test]
fn sql_runs_exactly_one_statement() {
    let f = fixture();
    // Trailing semicolons and comments are not another statement.
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT count(*) AS n FROM jobs; -- all",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&o.out), serde_json::json!([{"n": 6}]));
    for statement in [
        "SELECT 1; SELECT 2",
        "SELECT 1; DELETE FROM jobs",
        "SELECT 1; not sql at all",
    ] {
        let e = failure(&f.path, &["sql", statement]);
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE, "{statement}");
        assert!(e.to_string().contains("one statement"), "{e}");
    }
    let e = failure(&f.path, &["sql", "  -- nothing "]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    assert_eq!(ids_where(&f.path, "1").len(), JOBS.len());
}

#[test]
fn sql_errors_show_the_statement() {
    let f = fixture();
    let e = failure(&f.path, &["sql", "SELECT nope FROM jobs"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    let text = reported(&e);
    assert!(text.contains("no such column: nope"), "{text}");
    assert!(text.contains("SELECT nope FROM jobs"), "{text}");
    assert!(text.contains("hint: "), "{text}");
}

#[test]
fn a_missing_archive_is_refused_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let e = failure(&path, &["jobs"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    assert!(!path.exists());
}

#[test]
fn sql_reads_with_ctes_and_pragmas_but_creates_no_files() {
    let f = fixture();
    let o = ok(
        &f.path,
        &[
            "sql",
            "WITH f AS (SELECT * FROM jobs WHERE job_status = 'Failed') SELECT count(*) AS n FROM f",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&o.out), serde_json::json!([{"n": 1}]));
    let o = ok(
        &f.path,
        &["sql", "PRAGMA table_info(jobs)", "--format", "ndjson"],
    );
    assert!(o.out.lines().count() >= 12, "{}", o.out);

    let dir = f.path.parent().unwrap();
    let copy = dir.join("copy.db");
    let attached = dir.join("attached.db");
    let into = format!("VACUUM INTO '{}'", copy.display());
    let attach = format!("ATTACH '{}' AS other", attached.display());
    for statement in [into.as_str(), attach.as_str()] {
        assert!(
            query(&f.path, &["sql", statement]).result.is_err(),
            "{statement}"
        );
    }
    assert!(!copy.exists() && !attached.exists());
}

/// The fixture jobs with a history, as syncs every few hours leave it: each job first seen
/// ten minutes after its creation, job-b seen running and then failed, job-e pending and then
/// canceled, job-a running and then done.
fn fixture_with_history() -> Fixture {
    history_fixture(|job| job)
}

/// The syncs of [`fixture_with_history`], each job passed through `dress` first.
fn history_fixture(dress: fn(SimJob) -> SimJob) -> Fixture {
    let job = |id: &str| dress(job_then(id, |_| {}));
    let unfinished = |id: &str, status: &str| {
        dress(job_then(id, |j| {
            j.job_status = status.into();
            j.end_time = TimeField::Absent;
        }))
    };
    archive_by_syncs(vec![
        ("2024-03-01T08:05:00Z", vec![dress(job_a_running())]),
        ("2024-03-01T09:00:00Z", vec![dress(job_a_done())]),
        (
            "2024-03-02T09:40:00Z",
            vec![unfinished("job-b", "Running"), job("job-c")],
        ),
        ("2024-03-03T00:10:00Z", vec![job("job-d")]),
        ("2024-03-04T12:10:00Z", vec![unfinished("job-e", "Pending")]),
        ("2024-03-05T06:00:00Z", vec![job("job-b"), job("job-e")]),
        ("2024-03-06T00:00:00Z", vec![job("job-f")]),
    ])
}

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn jobs_open_like_project_and_order() {
    let f = fixture();
    let conn = Connection::open(&f.path).unwrap();
    conn.execute(
        "UPDATE jobs SET project_id = 'p9999' WHERE job_id IN ('job-c', 'job-e')",
        [],
    )
    .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--open"],
            "job_status IN ('Pending', 'Running', 'Unauthorized')",
        ),
        (
            &["--open", "--status", "failed"],
            "job_status IN ('Pending', 'Running', 'Unauthorized', 'Failed')",
        ),
        (
            &["--job-name", "resize", "--like"],
            "job_name = 'RESIZE_FLAVOR'",
        ),
        (
            &["--job-name", "DATA", "--like"],
            "job_name = 'UPGRADE_DATABASE'",
        ),
        (&["--project", "p9999"], "project_id = 'p9999'"),
    ];
    for (args, condition) in cases {
        let expected = ids_where(&f.path, condition);
        assert!(
            !expected.is_empty() && expected.len() < JOBS.len(),
            "case {args:?} does not discriminate"
        );
        let mut argv = vec!["jobs", "--format", "json"];
        argv.extend_from_slice(args);
        assert_eq!(ids(&json(&ok(&f.path, &argv).out)), expected, "{args:?}");
    }
    // Without --like the name is exact.
    let o = ok(
        &f.path,
        &["jobs", "--job-name", "resize", "--format", "json"],
    );
    assert_eq!(json(&o.out), serde_json::json!([]));
    // `_` and `%` are not wildcards for --like.
    let o = ok(
        &f.path,
        &["jobs", "--job-name", "E_F", "--like", "--format", "json"],
    );
    assert_eq!(ids(&json(&o.out)), ["job-f", "job-c", "job-a"]);
    let o = ok(
        &f.path,
        &["jobs", "--job-name", "%", "--like", "--format", "json"],
    );
    assert_eq!(json(&o.out), serde_json::json!([]));

    let oldest = ids(&json(
        &ok(&f.path, &["jobs", "--order", "oldest", "--format", "json"]).out,
    ));
    assert_eq!(
        oldest,
        strings(
            &conn,
            "SELECT job_id FROM jobs ORDER BY create_time, job_id"
        )
    );
    let longest = ids(&json(
        &ok(&f.path, &["jobs", "--order", "longest", "--format", "json"]).out,
    ));
    assert_eq!(
        longest,
        strings(
            &conn,
            "SELECT job_id FROM jobs ORDER BY (julianday(end_time) - julianday(start_time)) \
             DESC NULLS LAST, create_time DESC, job_id"
        )
    );
    assert_eq!(longest[0], "job-b");
    let o = ok(
        &f.path,
        &[
            "jobs", "--order", "oldest", "--limit", "1", "--format", "json",
        ],
    );
    assert_eq!(ids(&json(&o.out)), ["job-a"]);
    assert!(o.err.contains("showing the oldest 1"), "{}", o.err);
}

#[test]
fn tz_changes_only_table_times() {
    let f = fixture();
    let o = ok(
        &f.path,
        &["jobs", "--tz", "+08:00", "--job-name", "REBOOT_INSTANCE"],
    );
    assert!(o.out.contains("2024-03-03 08:00:00 +08:00"), "{}", o.out);
    assert!(!o.out.contains("2024-03-03T00:00:00Z"), "{}", o.out);
    let o = ok(
        &f.path,
        &["jobs", "--tz=-0530", "--job-name", "REBOOT_INSTANCE"],
    );
    assert!(o.out.contains("2024-03-02 18:30:00 -05:30"), "{}", o.out);
    // UTC as stored, by default and when asked.
    for args in [&["jobs"][..], &["jobs", "--tz", "UTC"]] {
        assert!(ok(&f.path, args).out.contains("2024-03-03T00:00:00Z"));
    }
    let o = ok(&f.path, &["jobs", "--tz", "local", "--format", "json"]);
    assert_eq!(json(&o.out)[2]["create_time"], "2024-03-03T00:00:00Z");
    let o = ok(&f.path, &["job", "job-a", "--tz", "+01:00"]);
    assert!(o.out.contains("2024-03-01 09:00:00 +01:00"), "{}", o.out);
    for bad in ["Mars/Olympus", "+8", "+25:00", "+08:75"] {
        let e = failure(&f.path, &["jobs", "--tz", bad]);
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE, "{bad}");
        assert!(e.to_string().contains("--tz"), "{e}");
    }
}

#[test]
fn instance_json_agrees_with_independent_sql() {
    let f = fixture_with_history();
    let conn = Connection::open(&f.path).unwrap();
    for given in ["inst-1", "ORDERS-DB"] {
        let v = json(&ok(&f.path, &["instance", given, "--format", "json"]).out);
        assert_eq!(v["instance"]["instance_id"], "inst-1");
        assert_eq!(v["instance"]["instance_name"], "orders-db");
        assert_eq!(v["instance"]["jobs"], 2);
        assert_eq!(v["instance"]["failed"], 1);
        let got: Vec<&str> = v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            got,
            strings(
                &conn,
                "SELECT job_id FROM jobs WHERE instance_id = 'inst-1' ORDER BY create_time"
            )
        );
        // job-a ran 08:01 -> 08:40, having waited a minute.
        assert_eq!(v["jobs"][0]["duration_seconds"], 39 * 60);
        assert_eq!(v["jobs"][0]["wait_seconds"], 60);
        let timeline: Vec<(String, i64)> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["job_id"].as_str().unwrap().to_string(),
                    t["version"].as_i64().unwrap(),
                )
            })
            .collect();
        let mut stmt = conn
            .prepare(
                "SELECT h.job_id, h.version FROM job_history h JOIN jobs j USING (job_id)
                 WHERE j.instance_id = 'inst-1' ORDER BY h.observed_at, h.job_id, h.version",
            )
            .unwrap();
        let want: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(timeline, want);
        let b2 = &v["timeline"][3];
        assert_eq!(
            (
                b2["job_id"].as_str(),
                b2["from_status"].as_str(),
                b2["to_status"].as_str()
            ),
            (Some("job-b"), Some("Running"), Some("Failed"))
        );
        assert_eq!(v["timeline"][0]["from_status"], Value::Null);
    }
    // A time range narrows the jobs and their timeline.
    let v = json(
        &ok(
            &f.path,
            &[
                "instance",
                "inst-1",
                "--since",
                "2024-03-02",
                "--format",
                "json",
            ],
        )
        .out,
    );
    assert_eq!(v["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(v["timeline"].as_array().unwrap().len(), 2);
    // CSV and NDJSON are the job rows.
    let o = ok(&f.path, &["instance", "inst-2", "--format", "csv"]);
    assert_eq!(o.out.lines().count(), 3);
    assert!(o.out.starts_with("job_id,create_time,"), "{}", o.out);
}

#[test]
fn instance_name_of_several_instances_lists_them() {
    let f = fixture();
    let conn = Connection::open(&f.path).unwrap();
    conn.execute_batch(
        "UPDATE jobs SET instance_name = 'Orders-DB' WHERE instance_id = 'inst-3';
         INSERT INTO instance_names (instance_name, instance_id) VALUES ('Orders-DB', 'inst-3');",
    )
    .unwrap();
    let e = failure(&f.path, &["instance", "orders-db"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    let text = reported(&e);
    assert!(text.contains("matches 2 instances"), "{text}");
    assert!(text.contains("inst-1") && text.contains("inst-3"), "{text}");
    // The id is never ambiguous.
    ok(&f.path, &["instance", "inst-3"]);

    let e = failure(&f.path, &["instance", "nowhere-db"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::FAILED);
    assert!(e.to_string().contains("no instance nowhere-db"), "{e}");
}

#[test]
fn instance_table_snapshot() {
    let f = fixture_with_history();
    let o = ok(&f.path, &["instance", "orders-db"]);
    insta::assert_snapshot!("instance_table", o.out);
}

/// Nearest-rank percentile of a group's durations, independently in SQL.
fn sql_percentile(conn: &Connection, condition: &str, p: f64) -> Option<i64> {
    let n: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM jobs WHERE {condition} AND start_time IS NOT NULL
                 AND end_time IS NOT NULL"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as i64).max(1);
    Some(
        conn.query_row(
            &format!(
                "SELECT CAST(strftime('%s', end_time) AS INTEGER)
                      - CAST(strftime('%s', start_time) AS INTEGER) AS d
                 FROM jobs WHERE {condition} AND start_time IS NOT NULL
                 AND end_time IS NOT NULL ORDER BY d LIMIT 1 OFFSET ?1"
            ),
            [rank - 1],
            |r| r.get(0),
        )
        .unwrap(),
    )
}

#[test]
fn stats_json_agrees_with_independent_sql() {
    let f = fixture();
    let conn = Connection::open(&f.path).unwrap();
    // More durations, so percentiles are not all the same value.
    conn.execute_batch(
        "UPDATE jobs SET start_time = '2024-03-05T23:00:00Z' WHERE job_id = 'job-f';
         UPDATE jobs SET end_time = '2024-03-03T01:00:00Z', job_status = 'Failed'
         WHERE job_id = 'job-d';",
    )
    .unwrap();
    let v = json(&ok(&f.path, &["stats", "--by", "job_name", "--format", "json"]).out);
    let rows = v.as_array().unwrap();
    let names = strings(&conn, "SELECT DISTINCT job_name FROM jobs ORDER BY 1");
    assert_eq!(rows.len(), names.len());
    for (row, name) in rows.iter().zip(&names) {
        assert_eq!(row["job_name"], Value::String(name.clone()));
        let cond = format!("job_name = '{name}'");
        let (count, failed): (i64, i64) = conn
            .query_row(
                &format!("SELECT count(*), sum(job_status = 'Failed') FROM jobs WHERE {cond}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(row["count"], count, "{name}");
        assert_eq!(row["failed"], failed, "{name}");
        let rate = row["failure_rate"].as_f64().unwrap();
        assert!((rate - failed as f64 / count as f64).abs() < 1e-4, "{name}");
        for (key, p) in [("p50_seconds", 0.5), ("p95_seconds", 0.95)] {
            assert_eq!(
                row[key].as_i64(),
                sql_percentile(&conn, &cond, p),
                "{name} {key}"
            );
        }
    }
    // Two keys, and a filter; keys are the object's first fields, then count.
    let v = json(
        &ok(
            &f.path,
            &[
                "stats",
                "--by",
                "day,job_status",
                "--since",
                "2024-03-02",
                "--format",
                "json",
            ],
        )
        .out,
    );
    let mut stmt = conn
        .prepare(
            "SELECT substr(create_time, 1, 10), job_status, count(*) FROM jobs
             WHERE create_time >= '2024-03-02' GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .unwrap();
    let want: Vec<Value> = stmt
        .query_map([], |r| {
            Ok(serde_json::json!({
                "day": r.get::<_, String>(0)?,
                "job_status": r.get::<_, String>(1)?,
                "count": r.get::<_, i64>(2)?,
            }))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let got: Vec<Value> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::json!({"day": r["day"], "job_status": r["job_status"], "count": r["count"]}))
        .collect();
    assert_eq!(got, want);
    let keys: Vec<&String> = v[0].as_object().unwrap().keys().collect();
    assert_eq!(keys[..3], ["day", "job_status", "count"]);

    // Weeks start on Monday; months are calendar months; no --by is one row.
    let v = json(&ok(&f.path, &["stats", "--by", "week", "--format", "json"]).out);
    let weeks: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["week"].as_str().unwrap())
        .collect();
    assert_eq!(weeks, ["2024-02-26", "2024-03-04"]);
    assert_eq!(v[0]["count"], 4);
    let v = json(
        &ok(
            &f.path,
            &["stats", "--by", "month,instance", "--format", "json"],
        )
        .out,
    );
    assert_eq!(v[0]["month"], "2024-03");
    assert_eq!(v[0]["instance"], "inst-1");
    let v = json(&ok(&f.path, &["stats", "--format", "json"]).out);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["count"], 6);
    assert_eq!(v[0]["failed"], 2);
    // Nothing matches: an empty array, exit 0.
    let o = ok(
        &f.path,
        &["stats", "--job-name", "NONE", "--format", "json"],
    );
    assert_eq!(o.out, "[]\n");

    let e = failure(&f.path, &["stats", "--by", "job_name,colour"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    let text = reported(&e);
    assert!(
        text.contains("\"colour\"") && text.contains("week, month"),
        "{text}"
    );
}

#[test]
fn stats_table_snapshot() {
    let f = fixture();
    let o = ok(&f.path, &["stats", "--by", "job_name"]);
    insta::assert_snapshot!("stats_table", o.out);
}

#[test]
fn as_of_agrees_with_independent_sql() {
    let f = fixture_with_history();
    let conn = Connection::open(&f.path).unwrap();
    let independent = |at: &str, status: Option<&str>| -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare(
                "WITH ranked AS (
                   SELECT h.*, row_number() OVER (PARTITION BY job_id ORDER BY version DESC) AS rn
                   FROM job_history h WHERE observed_at <= ?1)
                 SELECT r.job_id, r.job_status FROM ranked r JOIN jobs j USING (job_id)
                 WHERE rn = 1 AND (?2 IS NULL OR r.job_status = ?2)
                 ORDER BY j.create_time DESC, j.job_id",
            )
            .unwrap();
        stmt.query_map(params![at, status], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["job_id"].as_str().unwrap().to_string(),
                    r["job_status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    for at in [
        "2024-03-01T08:30:00Z",
        "2024-03-02T12:00:00Z",
        "2024-03-05T05:59:59Z",
        "2024-03-05T06:00:00Z",
        "2024-03-07T00:00:00Z",
    ] {
        let v = json(&ok(&f.path, &["as-of", at, "--format", "json"]).out);
        assert_eq!(pairs(&v), independent(at, None), "as of {at}");
        for status in ["Running", "Failed"] {
            let v = json(
                &ok(
                    &f.path,
                    &["as-of", at, "--status", status, "--format", "json"],
                )
                .out,
            );
            assert_eq!(
                pairs(&v),
                independent(at, Some(status)),
                "as of {at} {status}"
            );
        }
    }
    // Before its final version job-b was Running; today it is Failed.
    let v = json(&ok(&f.path, &["as-of", "2024-03-04", "--format", "json"]).out);
    let b = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job_id"] == "job-b")
        .unwrap();
    assert_eq!(b["job_status"], "Running");
    assert_eq!(b["status_now"], "Failed");
    assert_eq!(b["version"], 1);
    // Nothing was known before the first sighting.
    let o = ok(&f.path, &["as-of", "2024-01-01", "--format", "json"]);
    assert_eq!(o.out, "[]\n");
    // Filters and --limit.
    let o = ok(
        &f.path,
        &[
            "as-of",
            "2024-03-07",
            "--instance",
            "Billing-DB",
            "--limit",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(ids(&json(&o.out)), ["job-d"]);
    assert!(o.err.contains("note: showing the newest 1"), "{}", o.err);
    let e = failure(&f.path, &["as-of", "someday"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
}

#[test]
fn as_of_table_snapshot() {
    let f = fixture_with_history();
    let o = ok(&f.path, &["as-of", "2024-03-04T00:00:00Z"]);
    insta::assert_snapshot!("as_of_table", o.out);
}

#[test]
fn sql_binds_params_by_position_and_name() {
    let f = fixture();
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id FROM jobs WHERE job_status = ? AND instance_id = ? ORDER BY 1",
            "--param",
            "Completed",
            "--param",
            "inst-3",
            "--format",
            "json",
        ],
    );
    assert_eq!(ids(&json(&o.out)), ["job-f"]);
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id FROM jobs WHERE job_name = :name AND create_time >= ? ORDER BY 1",
            "--param",
            "2024-03-02",
            "--param",
            "name=RESIZE_FLAVOR",
            "--format",
            "json",
        ],
    );
    assert_eq!(ids(&json(&o.out)), ["job-c", "job-f"]);
    // A value is data, never SQL; and one holding `=` still binds by position.
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT count(*) AS n FROM jobs WHERE job_id = ?",
            "--param",
            "x' OR '1'='1",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&o.out), serde_json::json!([{"n": 0}]));
    // Counted as integers where SQLite's affinity says so.
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id FROM jobs WHERE version = ? ORDER BY 1 LIMIT ?",
            "--param",
            "2",
            "--param",
            "5",
            "--format",
            "json",
        ],
    );
    assert_eq!(ids(&json(&o.out)), ["job-a"]);

    for (statement, params, words) in [
        ("SELECT ?1, ?2", &["a"][..], "?2"),
        ("SELECT :who", &[][..], ":who"),
        ("SELECT 1", &["extra"][..], "matches no parameter"),
    ] {
        let mut args = vec!["sql", statement];
        for p in params {
            args.extend(["--param", p]);
        }
        let e = failure(&f.path, &args);
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE, "{statement}");
        assert!(e.to_string().contains(words), "{e}");
        assert!(e.to_string().contains(statement), "{e}");
    }
}

#[test]
fn views_answer_durations_and_transitions() {
    let f = fixture_with_history();
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id, wait_seconds, duration_seconds FROM job_durations \
             WHERE instance_id = ? ORDER BY create_time",
            "--param",
            "inst-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        json(&o.out),
        serde_json::json!([
            {"job_id": "job-a", "wait_seconds": 60, "duration_seconds": 2340},
            {"job_id": "job-b", "wait_seconds": 30, "duration_seconds": 311_369},
        ])
    );
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT job_id, from_status, to_status FROM status_transitions \
             WHERE job_id IN ('job-a', 'job-b', 'job-c') ORDER BY job_id, version",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        json(&o.out),
        serde_json::json!([
            {"job_id": "job-a", "from_status": null, "to_status": "Running"},
            {"job_id": "job-a", "from_status": "Running", "to_status": "Completed"},
            {"job_id": "job-b", "from_status": null, "to_status": "Running"},
            {"job_id": "job-b", "from_status": "Running", "to_status": "Failed"},
            {"job_id": "job-c", "from_status": null, "to_status": "Running"},
        ])
    );
}

/// The plan of each listing's statement, as EXPLAIN QUERY PLAN details.
fn plan(conn: &Connection, sql: &str, params: &[rusqlite::types::Value]) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn filters_use_indexes() {
    let f = fixture_with_history();
    let conn = crate::store::open_read_only(&f.path).unwrap();
    let question = |args: &[&str]| query_request_from_argv(args, now()).unwrap().question;
    let cli_query = |args: &[&str]| -> super::jobs::JobsQuery {
        let argv: Vec<&str> = ["jobs"].iter().chain(args).copied().collect();
        let Question::Jobs(q) = question(&argv) else {
            unreachable!()
        };
        q
    };
    let cases: &[(&[&str], &str)] = &[
        (&[], "jobs_stats"),
        (&["--since", "2024-03-01"], "jobs_stats"),
        (&["--status", "Failed"], "jobs_status"),
        (&["--open"], "jobs_status"),
        (&["--open", "--since", "30d"], "jobs_status"),
        (
            &["--instance", "inst-1", "--status", "Failed"],
            "jobs_instance_id",
        ),
        (
            &["--instance", "inst-1", "--job-name", "X"],
            "jobs_instance_id",
        ),
        (&["--job-name", "RESIZE_FLAVOR"], "jobs_job_name"),
        (&["--instance", "orders-db"], "instance_names"),
        (&["--instance", "orders-db"], "jobs_instance_id"),
        (&["--project", "p0123"], "jobs_project"),
        (&["--order", "oldest"], "jobs_stats"),
    ];
    for (args, index) in cases {
        let (sql, params) = cli_query(args).to_sql();
        let details = plan(&conn, &sql, &params);
        let text = details.join("\n");
        assert!(
            text.contains(index),
            "{args:?} does not use {index}:\n{text}"
        );
        for line in &details {
            assert!(
                !line.starts_with("SCAN") || line.contains("INDEX") || line.contains("(subquery"),
                "{args:?} scans a whole table:\n{text}"
            );
        }
    }
    // stats reads its covering index, or an instance's jobs by the instance indexes.
    for (args, index) in [
        (&["--by", "job_name"][..], "COVERING INDEX jobs_stats"),
        (
            &["--by", "month", "--status", "Failed"],
            "COVERING INDEX jobs_stats",
        ),
        (
            &["--job-name", "X", "--project", "p"],
            "COVERING INDEX jobs_stats",
        ),
        (
            &["--since", "30d"],
            "COVERING INDEX jobs_stats (create_time>?)",
        ),
        (&["--instance", "inst-1", "--by", "day"], "jobs_instance_id"),
    ] {
        let argv: Vec<&str> = ["stats"].iter().chain(args).copied().collect();
        let Question::Stats(q) = question(&argv) else {
            unreachable!()
        };
        let (sql, params) = q.to_sql();
        let text = plan(&conn, &sql, &params).join("\n");
        assert!(
            text.contains(index),
            "stats {args:?} does not use {index}:\n{text}"
        );
        assert!(
            !text.contains("SCAN jobs\n") && text != "SCAN jobs",
            "{text}"
        );
    }
    // as-of walks jobs by create time and finds superseded versions by their as-of index.
    let Question::AsOf(q) = question(&["as-of", "2024-03-04", "--instance", "inst-1"]) else {
        unreachable!()
    };
    let (sql, params) = q.to_sql();
    let text = plan(&conn, &sql, &params).join("\n");
    assert!(text.contains("superseded_versions_as_of"), "{text}");
    assert!(text.contains("jobs_instance"), "{text}");
    assert!(!text.contains("SCAN h"), "{text}");
}

/// The README's SQL cookbook: every ```sql block prepares and runs against an archive of
/// this version, through `query sql`.
#[test]
fn readme_cookbook_sql_runs() {
    let f = fixture_with_history();
    let readme = include_str!("../../README.md");
    let cookbook = &readme[readme
        .find("## SQL cookbook")
        .expect("the cookbook section")..];
    // To the next section.
    let cookbook = &cookbook[..cookbook[3..]
        .find("\n## ")
        .map_or(cookbook.len(), |e| e + 3)];
    let blocks: Vec<String> = cookbook
        .split("```sql")
        .skip(1)
        .map(|b| {
            b.split("```")
                .next()
                .unwrap()
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(blocks.len() >= 8, "{} sql blocks", blocks.len());
    for block in &blocks {
        ok(&f.path, &["sql", block, "--format", "json"]);
    }
    // The ones run through the shell with --param.
    ok(
        &f.path,
        &[
            "sql",
            "SELECT observed_at, job_id, job_name, from_status, to_status
             FROM status_transitions
             WHERE instance_id IN (SELECT :i UNION
                 SELECT instance_id FROM instance_names WHERE instance_name = :i)
               AND observed_at >= '2024-03-01' AND observed_at < '2024-04-01'
             ORDER BY observed_at",
            "--param",
            "i=orders-db",
        ],
    );
    let o = ok(
        &f.path,
        &[
            "sql",
            "SELECT version, job_status, observed_at FROM job_history
             WHERE job_id = ? AND observed_at <= ? ORDER BY version DESC LIMIT 1",
            "--param",
            "job-a",
            "--param",
            "2024-03-01T08:30:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&o.out)[0]["job_status"], "Running");
}

/// The job fields the answers print are the `jobs` columns the store's schema names.
#[test]
fn answers_print_the_schemas_job_columns() {
    let content: Vec<&str> = crate::store::schema::columns(|c| c.versioned && c.name != "raw")
        .map(|c| c.name)
        .collect();
    let mut printed: Vec<&str> = super::jobs::COLUMNS.to_vec();
    printed.retain(|c| *c != "job_id");
    printed.sort();
    let mut want = content.clone();
    want.sort();
    assert_eq!(printed, want);
}

/// A fixture job with the ids and names the real API gives: 32-character job_ids,
/// 36-character instance_ids, long job types and instance names.
fn realistic(mut job: SimJob) -> SimJob {
    let letter = job.job_id.chars().last().unwrap();
    job.job_id = format!("56d3c1138dcf4f1da73b0170700c78d{letter}");
    let n = job.instance_id.chars().last().unwrap();
    job.instance_id = format!("79bc540dd4d6432784894a981fdfacfcin0{n}");
    job.instance_name = match job.instance_name.as_str() {
        "orders-db" => "orders-db-primary-cn-north-4".into(),
        "Billing-DB" => "Billing-DB".into(),
        other => format!("{other}-reporting-replica"),
    };
    job.job_name = match job.job_name.as_str() {
        "RESIZE_FLAVOR" => "ResizeGaussDBforMySQLFlavor".into(),
        "UPGRADE_DATABASE" => "RestoreGaussDBforMySQLNewInstance".into(),
        other => other.into(),
    };
    job
}

/// [`fixture_with_history`] with [`realistic`] ids and names.
fn realistic_fixture() -> Fixture {
    history_fixture(realistic)
}

/// The job_ids a table at `width` must show whole, from the same question in JSON.
fn answer_ids(db: &Path, args: &[&str]) -> Vec<String> {
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let v = json(&ok(db, &json_args).out);
    let mut found = Vec::new();
    let mut walk = vec![&v];
    while let Some(v) = walk.pop() {
        match v {
            Value::Array(items) => walk.extend(items),
            Value::Object(map) => {
                if let Some(Value::String(id)) = map.get("job_id") {
                    found.push(id.clone());
                }
                walk.extend(map.values());
            }
            _ => {}
        }
    }
    found.sort();
    found.dedup();
    found
}

/// No line wider than `width`, and every id whole.
fn assert_fits(text: &str, width: usize, ids: &[String], what: &str) {
    for line in text.lines() {
        assert!(
            super::text_width(line) <= width,
            "{what} at {width}: a line of {} columns:\n{line}\n{text}",
            super::text_width(line)
        );
    }
    for id in ids {
        assert!(
            text.contains(id.as_str()),
            "{what} at {width}: {id} not whole:\n{text}"
        );
    }
}

#[test]
fn tables_fit_80_and_120_columns_with_every_job_id_whole() {
    let f = realistic_fixture();
    let a = "56d3c1138dcf4f1da73b0170700c78da";
    let questions: [(&str, Vec<&str>); 6] = [
        ("jobs", vec!["jobs"]),
        ("stats_by_instance", vec!["stats", "--by", "instance,month"]),
        ("job", vec!["job", a]),
        ("instance", vec!["instance", "orders-db-primary-cn-north-4"]),
        ("stats", vec!["stats", "--by", "job_name,job_status"]),
        ("as_of", vec!["as-of", "2024-03-04T00:00:00Z"]),
    ];
    for (name, args) in questions {
        let ids = answer_ids(&f.path, &args);
        assert!(
            name.starts_with("stats") || !ids.is_empty(),
            "{name}: no ids"
        );
        for width in ["80", "120"] {
            let mut with_width = args.clone();
            with_width.extend(["--width", width]);
            let o = ok(&f.path, &with_width);
            assert_fits(&o.out, width.parse().unwrap(), &ids, name);
            insta::assert_snapshot!(format!("{name}_at_{width}"), o.out);
        }
    }
    let request = |width| super::StatusRequest {
        format: super::Format::Table,
        width: Some(width),
    };
    for width in [80, 120] {
        let mut out = Vec::new();
        super::status::run(&f.path, &request(width), now(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_fits(&text, width, &[], "status");
        assert!(text.contains(PROJECT), "{text}");
        // The simulator's port changes from run to run.
        let text: String = text
            .lines()
            .map(|l| match l.strip_prefix("endpoint") {
                Some(_) => "endpoint          http://127.0.0.1:PORT".to_string(),
                None => l.to_string(),
            })
            .map(|l| l + "\n")
            .collect();
        insta::assert_snapshot!(format!("status_at_{width}"), text);
    }
}

#[test]
fn columns_and_wide_choose_what_a_table_shows() {
    let f = realistic_fixture();
    let o = ok(
        &f.path,
        &["jobs", "--columns", "job_id,target_config", "--width", "80"],
    );
    let header = o.out.lines().nth(1).unwrap();
    assert!(
        header.contains("job_id") && header.contains("target_config"),
        "{}",
        o.out
    );
    assert!(!header.contains("job_name"), "{}", o.out);
    assert_fits(&o.out, 80, &answer_ids(&f.path, &["jobs"]), "--columns");
    // --columns applies to the machine formats too.
    let o = ok(
        &f.path,
        &["jobs", "--columns", "job_id,job_status", "--format", "csv"],
    );
    assert_eq!(o.out.lines().next().unwrap(), "job_id,job_status");
    // --wide: every column, nothing cut, however wide.
    let o = ok(&f.path, &["jobs", "--wide", "--width", "80"]);
    for column in super::jobs::COLUMNS {
        assert!(o.out.contains(column), "{column}: {}", o.out);
    }
    assert!(
        o.out.contains("RestoreGaussDBforMySQLNewInstance"),
        "{}",
        o.out
    );
    assert!(!o.out.contains('…'), "{}", o.out);
    let e = failure(&f.path, &["jobs", "--columns", "job_id,flavour"]);
    assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
    assert!(reported(&e).contains("target_config"), "{}", reported(&e));
}

#[test]
fn empty_answers_say_what_the_archive_covers_and_limits_say_the_total() {
    let f = fixture();
    let o = ok(&f.path, &["jobs", "--job-name", "NO_SUCH_JOB"]);
    assert!(o.out.contains("job_id"), "the header: {}", o.out);
    assert_eq!(
        o.err,
        "note: no jobs match; the archive covers 2024-03-01..2024-03-05 (create time)\n"
    );
    let o = ok(
        &f.path,
        &[
            "jobs",
            "--limit",
            "2",
            "--status",
            "completed,failed,running",
        ],
    );
    assert_eq!(
        o.err,
        "note: showing the newest 2 of 4 matching jobs; use --limit to see more\n"
    );
}

#[test]
fn an_unknown_instance_fails_alike_everywhere_with_close_names() {
    let f = fixture();
    for args in [
        vec!["jobs", "--instance", "order-db"],
        vec!["instance", "order-db"],
        vec!["as-of", "2024-03-06T00:00:00Z", "--instance", "order-db"],
        vec!["stats", "--instance", "order-db"],
    ] {
        let e = failure(&f.path, &args);
        assert_eq!(crate::exit::code_for(&e), crate::exit::FAILED, "{args:?}");
        let text = reported(&e);
        assert!(
            text.contains("error: no instance order-db in the archive"),
            "{text}"
        );
        assert!(text.contains("did you mean orders-db?"), "{args:?}: {text}");
    }
    // Known ones still answer, by id or by name in any case.
    ok(&f.path, &["jobs", "--instance", "ORDERS-DB"]);
    ok(&f.path, &["jobs", "--instance", "inst-2"]);
}

#[test]
fn as_of_before_the_first_sync_says_the_archive_did_not_exist() {
    let f = fixture();
    let o = ok(&f.path, &["as-of", "2024-02-01T00:00:00Z"]);
    assert_eq!(
        o.err,
        "note: the archive did not exist yet at 2024-02-01T00:00:00Z: its first sync ran at \
         2024-03-01T08:05:00Z\n"
    );
}
