//! A ledger that agrees with itself, and no job lost to the API's quirks: objects without a
//! usable job_id, a total_count that lies either way, open jobs outside `--since`, windows
//! halved after drift, a refused credential, and an archive that stops taking writes.

use std::collections::HashSet;

use chrono::Duration;
use gaussjobs::simulate::{Fault, JobIdForm, SimConfig, SimJob};
use serde_json::Value;

use crate::support::{now, served_ids, LastRun, World};

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

/// The one project of a `sync --json` run.
fn project(out: &assert_cmd::assert::Assert) -> Value {
    let v: Value = serde_json::from_slice(&out.get_output().stdout)
        .unwrap_or_else(|e| panic!("sync --json printed no JSON ({e}): {}", stderr(out)));
    v["projects"][0].clone()
}

/// `gaussjobs status --format json`, the one scope.
fn status(world: &World) -> Value {
    let out = world
        .gaussjobs()
        .args(["status", "--format", "json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v[0].clone()
}

fn archived_ids(world: &World) -> HashSet<String> {
    let conn = world.conn();
    let mut stmt = conn.prepare("SELECT job_id FROM jobs").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A job's object as the simulator serves it with its job_id spoiled.
fn spoiled_text(job: &Value, form: JobIdForm) -> String {
    let mut object = job.as_object().unwrap().clone();
    match form {
        JobIdForm::Missing => {
            object.shift_remove("job_id");
        }
        JobIdForm::Null => {
            object.insert("job_id".into(), Value::Null);
        }
        JobIdForm::Empty => {
            object.insert("job_id".into(), Value::from(""));
        }
        JobIdForm::Number => {
            object.insert("job_id".into(), Value::from(17));
        }
    }
    Value::Object(object).to_string()
}

#[test]
fn objects_without_a_usable_job_id_are_kept_aside_and_their_windows_covered() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 400,
        days: 5,
        seed: 8,
        now,
        ..SimConfig::default()
    });
    let spoilt = [
        ("bad-missing", Duration::hours(1), JobIdForm::Missing),
        ("bad-null", Duration::days(2), JobIdForm::Null),
        ("bad-empty", Duration::days(3), JobIdForm::Empty),
        ("bad-number", Duration::days(4), JobIdForm::Number),
    ];
    for (id, age, form) in spoilt {
        let mut job = SimJob::new(id, now - age);
        job.job_status = "Completed".into();
        world.sim.add_job(job);
        world.sim.inject(Fault::unusable_job_id(id, form));
    }
    let jobs = world.sim.jobs();

    let out = world.sync(&["--since", "6d", "--json"]).assert().success();
    let err = stderr(&out);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("rejected_objects"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning line: {err}");
    assert!(warnings[0].contains("4 objects"), "{err}");
    let p = project(&out);
    assert_eq!(p["outcome"], "ok");
    assert_eq!(p["rejected"], 4);
    assert_eq!(p["new"], 400);
    assert_eq!(p["windows_planned"], p["windows_completed"]);

    // Every other job is archived; the four are kept aside exactly as they were sent.
    let mut expected = served_ids(&world);
    for (id, _, _) in spoilt {
        expected.remove(id);
    }
    assert_eq!(archived_ids(&world), expected);
    let conn = world.conn();
    for (id, _, form) in spoilt {
        let job = jobs.iter().find(|j| j["job_id"] == id).unwrap();
        let text = spoiled_text(job, form);
        let (reason, sightings, window_start): (String, i64, Option<String>) = conn
            .query_row(
                "SELECT reason, sightings, window_start FROM rejected_objects WHERE raw = ?1",
                [&text],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or_else(|e| panic!("{id} ({form:?}) is not kept as sent: {e}"));
        assert!(reason.starts_with("job_id is"), "{reason}");
        assert_eq!(sightings, 1);
        assert!(window_start.is_some());
    }
    let s = status(&world);
    assert_eq!(s["rejected_objects"], 4, "{s}");
    assert_eq!(s["gaps"].as_array().unwrap().len(), 0, "{s}");
    assert_eq!(s["last_run_outcome"], "ok");
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("rejected_objects")),
        "{s}"
    );

    // The next run reads the last hours again and meets the newest one again: counted as a
    // sighting, not stored again.
    let out = world.sync(&["--json"]).assert().success();
    assert_eq!(project(&out)["rejected"], 1);
    assert!(
        stderr(&out).contains("1 object the API sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(world.count("SELECT count(*) FROM rejected_objects"), 4);
    assert_eq!(
        world.count("SELECT sightings FROM rejected_objects WHERE raw NOT LIKE '%job_id%'"),
        2
    );
    assert_eq!(
        world.count("SELECT sum(objects_rejected) FROM sync_runs"),
        5,
        "4, then 1"
    );
}

/// Two identical worlds: the one the faults hit, and one that shows what the same sync costs
/// when the API's counts are right.
fn counted_worlds() -> (World, World) {
    let config = SimConfig {
        jobs: 3_000,
        days: 10,
        seed: 31,
        now: now(),
        ..SimConfig::default()
    };
    (World::new(config.clone()), World::new(config))
}

/// The requests an honest API needs for the same sync.
fn honest_requests(world: &World, args: &[&str]) -> usize {
    world.sync(args).assert().success();
    world.sim.request_count()
}

/// Every job is archived, the scope is covered whole, and the ledger and `status` show the
/// anomaly.
fn assert_complete_with_anomaly(world: &World) {
    assert_eq!(archived_ids(world), served_ids(world));
    let run = world.last_run();
    assert_eq!((run.outcome.as_str(), run.new), ("ok", 3_000));
    assert_eq!(run.completed, run.planned);
    assert_eq!(run.requests as usize, world.sim.request_count());
    assert!(run.anomalies > 0);
    let notes: String = world
        .conn()
        .query_row("SELECT anomaly_notes FROM sync_runs", [], |r| r.get(0))
        .unwrap();
    assert!(notes.contains("total_count said"), "{notes}");
    let s = status(world);
    assert_eq!(s["gaps"].as_array().unwrap().len(), 0, "{s}");
    assert!(s["covered_to"].is_string(), "{s}");
    assert_eq!(s["anomalies"]["count"], run.anomalies, "{s}");
    assert!(
        s["anomalies"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("total_count said"),
        "{s}"
    );
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("total_count")),
        "{s}"
    );
}

#[test]
fn a_total_count_below_what_the_pages_serve_loses_no_job() {
    let (world, honest) = counted_worlds();
    let args = ["--since", "11d"];
    let baseline = honest_requests(&honest, &args);
    world.sim.inject(Fault::total_count_understated(150));
    let out = world.sync(&args).assert().success();
    assert!(stderr(&out).contains("total_count"), "{}", stderr(&out));
    assert_complete_with_anomaly(&world);
    let planned = world.last_run().planned;
    // A full page is never the last: at most one more request per window than when the
    // count is right.
    let requests = world.sim.request_count();
    assert!(
        requests <= baseline + planned as usize,
        "{requests} requests, {baseline} with honest counts"
    );
    // Nothing is left for the next run but the lookback.
    let before = world.sim.request_count();
    let out = world.sync(&["--json"]).assert().success();
    assert_eq!(project(&out)["new"], 0);
    assert!(world.sim.request_count() - before < 20);
}

#[test]
fn a_total_count_above_what_the_pages_serve_is_accepted_when_two_pagings_agree() {
    let (world, honest) = counted_worlds();
    let args = ["--since", "11d"];
    let baseline = honest_requests(&honest, &args);
    world.sim.inject(Fault::total_count_overstated(7));
    world.sync(&args).assert().success();
    assert_complete_with_anomaly(&world);
    let requests = world.sim.request_count();
    assert!(
        requests <= 2 * baseline + 4,
        "{requests} requests: more than two pagings ({baseline} with honest counts)"
    );
}

#[test]
fn open_jobs_older_than_since_stay_out_of_the_archive() {
    let now = now();
    let world = World::empty(SimConfig {
        now,
        ..SimConfig::default()
    });
    let running = |id: String, age: Duration| {
        let mut job = SimJob::new(id, now - age);
        job.job_status = "Running".into();
        job
    };
    // Open jobs inside the scope, enough that the next run lists them rather than asking
    // for each by id; and open jobs created 10 to 40 days before it.
    for i in 0..30 {
        world.sim.add_job(running(
            format!("inside{i:02}{:024}", 0),
            Duration::hours(24 + i),
        ));
    }
    let mut outside = HashSet::new();
    for i in 0..45 {
        let id = format!("outside{i:02}{:023}", 0);
        world
            .sim
            .add_job(running(id.clone(), Duration::days(13 + i % 31)));
        outside.insert(id);
    }
    world.sync(&["--since", "3d"]).assert().success();
    let first = world.sim.request_count();
    world.sync(&["--since", "3d"]).assert().success();

    let archived = archived_ids(&world);
    assert_eq!(archived.len(), 30, "only the jobs inside the scope");
    assert!(archived.is_disjoint(&outside));
    // The second run did list the open jobs, from the scope's start.
    let lists: Vec<_> = world.sim.requests()[first..]
        .iter()
        .filter(|r| r.param("status") == Some("Running"))
        .cloned()
        .collect();
    assert!(!lists.is_empty(), "the open jobs were listed");
    for list in lists {
        assert!(list.param("start_time").is_some(), "{list:?}");
    }
}

#[test]
fn windows_halved_after_drift_count_once_in_the_ledger_and_the_summary() {
    let world = World::new(SimConfig {
        jobs: 1_500,
        days: 10,
        seed: 21,
        now: now(),
        ..SimConfig::default()
    });
    world.sim.inject(Fault::drift().probability(0.3).times(25));
    world.sim.inject(Fault::drift().probability(0.3).times(25));
    let out = world
        .sync(&["--since", "11d", "--page-size", "10"])
        .assert()
        .success();
    let LastRun {
        planned, completed, ..
    } = world.last_run();
    assert_eq!(completed, planned, "the ledger counts planned windows");
    // Windows were split, by drift and for idle workers: more pieces were covered than planned.
    let windows_read = world
        .sim
        .requests()
        .iter()
        .filter(|r| r.param("offset") == Some("0") && r.param("start_time").is_some())
        .count();
    assert!(windows_read as i64 > planned, "{windows_read} pieces");
    let summary = stderr(&out);
    let said = format!("; {planned} windows,");
    assert!(summary.contains(&said), "{said} in {summary}");
}

#[test]
fn a_refused_token_says_nothing_was_fetched_and_counts_what_was_tried() {
    let world = World::new(SimConfig {
        jobs: 200,
        days: 30,
        now: now(),
        ..SimConfig::default()
    });
    let out = world
        .sync(&["--since", "31d", "--json"])
        .env("GAUSSJOBS_TOKEN", "not-the-token")
        .assert()
        .code(1);
    let err = stderr(&out);
    assert!(
        err.contains("error: the credential was refused; nothing was fetched: "),
        "{err}"
    );
    assert!(err.contains("HTTP 401 APIGW.0301"), "{err}");
    let p = project(&out);
    let tried = world.sim.request_count() as u64;
    assert!(tried >= 1);
    let planned = p["windows_planned"].as_u64().unwrap();
    assert!(planned >= 31, "{p}");
    assert_eq!(p["requests"], tried);
    assert_eq!(p["new"], 0);
    assert_eq!(p["windows_completed"], 0);
    // The windows are one stretch, listed by count: its first page was refused, and with it
    // every window of the stretch.
    assert_eq!(tried, 1, "the stretch's first page");
    assert_eq!(p["windows_failed"], planned, "{p}");
    assert_eq!(p["windows_not_tried"], 0);
    assert!(p["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("the credential was refused; nothing was fetched"));
    let run = world.last_run();
    assert_eq!(
        (
            run.planned as u64,
            run.completed,
            run.requests as u64,
            run.new
        ),
        (planned, 0, tried, 0)
    );
    assert_eq!(run.outcome, "failed");
    assert!(run.error.contains("nothing was fetched"));
}

#[test]
fn a_write_failure_mid_run_reports_what_was_kept() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 3_000,
        days: 30,
        seed: 12,
        now,
        // Pages come at most ten a second, so the writer commits some before it fails.
        latency: std::time::Duration::from_millis(100),
        ..SimConfig::default()
    });
    world.sync(&["--since", "1d"]).assert().success();
    let before = world.count("SELECT count(*) FROM jobs");
    let first_requests = world.sim.request_count();
    // The disk fills up once 2,000 more jobs are in.
    world
        .conn()
        .execute_batch(&format!(
            "CREATE TRIGGER disk_full BEFORE INSERT ON jobs
             WHEN (SELECT count(*) FROM jobs) >= {}
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
            before + 2_000
        ))
        .unwrap();

    let out = world
        .sync(&["--since", "31d", "--concurrency", "1", "--json"])
        .assert()
        .code(1);
    let kept = world.count("SELECT count(*) FROM jobs") - before;
    assert!(kept > 0 && kept <= 2_000, "{kept} kept");
    let p = project(&out);
    assert_eq!(p["outcome"], "failed");
    assert_eq!(p["new"], kept, "{p}");
    let requests = (world.sim.request_count() - first_requests) as u64;
    assert_eq!(p["requests"], requests, "{p}");
    let err = stderr(&out);
    assert!(
        err.contains("error: the archive could not be written"),
        "{err}"
    );
    assert!(p["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("({kept} jobs archived before are kept")));
    let run = world.last_run();
    assert_eq!(run.outcome, "failed");
    assert_eq!((run.new, run.requests as u64), (kept, requests));
    assert_eq!(p["windows_completed"], run.completed);
}
