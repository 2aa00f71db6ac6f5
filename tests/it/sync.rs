//! Sync: the archive equals the API field by field, later runs catch up, edges are not missed.

use chrono::Duration;
use gaussjobs::simulate::{Boundary, SimConfig, SimJob};
use serde_json::Value;

use crate::support::{api_time_to_utc, now, World};

const TEXT_FIELDS: [&str; 8] = [
    "job_id",
    "project_id",
    "instance_id",
    "instance_name",
    "instance_status",
    "job_name",
    "job_status",
    "datastore_type",
];

/// Asserts that every job the simulator holds is in the archive exactly.
fn assert_archive_matches(world: &World, jobs: &[Value]) {
    let conn = world.conn();
    let mut stmt = conn
        .prepare(
            "SELECT job_id, project_id, instance_id, instance_name, instance_status, job_name,
                    job_status, datastore_type, create_time, start_time, end_time,
                    target_config, raw
             FROM jobs WHERE job_id = ?1",
        )
        .unwrap();
    for job in jobs {
        let id = job["job_id"].as_str().unwrap();
        let row: Vec<Option<String>> = stmt
            .query_row([id], |r| (0..13).map(|i| r.get(i)).collect())
            .unwrap_or_else(|e| panic!("job {id} missing from the archive: {e}"));
        for (i, field) in TEXT_FIELDS.iter().enumerate() {
            assert_eq!(
                row[i].as_deref(),
                job.get(*field).and_then(Value::as_str),
                "job {id} field {field}"
            );
        }
        for (i, field) in ["create_time", "start_time", "end_time"].iter().enumerate() {
            assert_eq!(
                row[8 + i],
                api_time_to_utc(job.get(*field)),
                "job {id} field {field} (raw {:?})",
                job.get(*field)
            );
        }
        let want_config = job.get("target_config").filter(|v| !v.is_null());
        let got_config: Option<Value> =
            row[11].as_deref().map(|s| serde_json::from_str(s).unwrap());
        assert_eq!(got_config.as_ref(), want_config, "job {id} target_config");
        assert_eq!(
            row[12].as_deref().unwrap(),
            serde_json::to_string(job).unwrap(),
            "job {id}: raw must be the object exactly as received"
        );
    }
}

#[test]
fn first_sync_of_60_days_equals_the_api_field_by_field() {
    let world = World::new(SimConfig {
        jobs: 2_500,
        days: 60,
        seed: 42,
        now: now(),
        ..SimConfig::default()
    });
    let out = world.sync(&["--since", "61d"]).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("2500 new"), "summary: {stderr}");
    assert!(
        out.get_output().stdout.is_empty(),
        "sync prints nothing on stdout"
    );

    let jobs = world.sim.jobs();
    assert_eq!(jobs.len(), 2_500);
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 2_500);
    assert_eq!(world.count("SELECT count(*) FROM job_history"), 2_500);
    assert_archive_matches(&world, &jobs);

    // The generated set really exercises the awkward cases.
    let raw_all: String = jobs.iter().map(|j| j.to_string()).collect();
    assert!(raw_all.contains("+0800") && raw_all.contains("-0500"));
    assert!(jobs
        .iter()
        .any(|j| j.get("start_time") == Some(&Value::Null)));
    assert!(jobs
        .iter()
        .any(|j| j.get("start_time") == Some(&Value::String(String::new()))));
    assert!(jobs.iter().any(|j| j.get("start_time").is_none()));
    assert!(world.count("SELECT count(*) FROM jobs WHERE start_time IS NULL") > 0);
    assert!(
        world.count("SELECT count(*) FROM jobs WHERE raw LIKE '%proxy_id%' OR raw LIKE '%extra_info%' OR raw LIKE '%order_id%'") > 0,
        "undocumented fields are kept in raw"
    );
    // SQLite reads the stored times.
    assert_eq!(
        world.count("SELECT count(*) FROM jobs WHERE create_time IS NOT NULL AND julianday(create_time) IS NULL"),
        0
    );

    let (outcome, requests, new): (String, i64, i64) = world
        .conn()
        .query_row(
            "SELECT outcome, requests, jobs_new FROM sync_runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((outcome.as_str(), new), ("ok", 2_500));
    assert_eq!(requests as usize, world.sim.request_count());
    // Every request sent offset and limit; window requests the time filter in the API's form.
    let mut windowed = 0;
    for req in world.sim.requests() {
        assert_eq!(req.param("limit"), Some("100"));
        assert!(req.param("offset").is_some());
        if let Some(start) = req.param("start_time") {
            assert!(start.ends_with("+0000"), "{req:?}");
            assert!(req.param("end_time").unwrap().ends_with("+0000"), "{req:?}");
            windowed += 1;
        } else {
            assert!(req.param("status").is_some(), "an open-job list: {req:?}");
        }
    }
    // Listed by count, not by day: near one request per 100 jobs, not one part-filled page
    // for each of the 61 days.
    assert!(
        (25..=31).contains(&windowed),
        "{windowed} window requests for 2,500 jobs"
    );
}

#[test]
fn second_sync_archives_new_and_changed_jobs_and_keeps_purged_ones() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 600,
        days: 20,
        seed: 5,
        now,
        ..SimConfig::default()
    });
    let mut running = SimJob::new(
        "0000running0000000000000000000001",
        now - Duration::hours(2),
    );
    running.job_status = "Running".into();
    world.sim.add_job(running);
    world.sync(&["--since", "21d"]).assert().success();
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 601);
    let first_requests = world.sim.request_count();

    // The world changes: new jobs, one finishes, the API forgets everything older than 10 days.
    let new_ids = world.sim.generate_jobs(25, now - Duration::hours(1), now);
    assert!(world
        .sim
        .set_status("0000running0000000000000000000001", "Completed", now));
    let purged = world.sim.purge_before(now - Duration::days(10));
    assert!(purged > 100, "purged {purged}");

    let out = world.sync(&[]).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("25 new, 1 changed"), "summary: {stderr}");
    assert_eq!(
        world.count("SELECT count(*) FROM jobs"),
        626,
        "purged jobs stay archived"
    );
    for id in &new_ids {
        assert_eq!(
            world.count(&format!("SELECT count(*) FROM jobs WHERE job_id = '{id}'")),
            1
        );
    }
    assert_archive_matches(&world, &world.sim.jobs());
    let history: Vec<(i64, String, Option<String>)> = {
        let conn = world.conn();
        let mut stmt = conn
            .prepare(
                "SELECT version, job_status, changed FROM job_history
                 WHERE job_id = '0000running0000000000000000000001' ORDER BY version",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].1, "Running");
    assert_eq!(history[1].1, "Completed");
    assert!(history[1].2.as_deref().unwrap().contains("job_status"));
    // The second run read the lookback and the new time, not the whole range again; the rest
    // of its requests are about open jobs (the purged open ones are asked for by id once).
    let second = &world.sim.requests()[first_requests..];
    let windowed = second
        .iter()
        .filter(|r| r.param("start_time").is_some() && r.param("status").is_none())
        .count();
    assert!(
        windowed <= 2,
        "the second run read {windowed} pages of windows: {second:?}"
    );
    let lookback_start = now - Duration::hours(7);
    // Windows, that is: the open-job lists start at the scope's start.
    for req in &world.sim.requests()[first_requests..] {
        if let (Some(start), None) = (req.param("start_time"), req.param("status")) {
            let start = chrono::DateTime::parse_from_str(start, "%Y-%m-%dT%H:%M:%S%z").unwrap();
            assert!(
                start >= lookback_start,
                "the second run re-read from {start}"
            );
        }
    }
    assert_eq!(
        world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'ok'"),
        2
    );
}

/// A sync with nothing new on a busy archive costs the lookback's first page (the API counts
/// as many jobs there as the archive holds) and a page per 100 open jobs: not the lookback's
/// every page.
#[test]
fn a_sync_with_nothing_new_costs_a_page_and_one_per_100_open_jobs() {
    let world = World::new(SimConfig {
        jobs: 20_000,
        days: 10,
        seed: 17,
        now: now(),
        open_jobs: Some(150),
        ..SimConfig::default()
    });
    world.sync(&["--since", "11d"]).assert().success();
    let open = world.count(
        "SELECT count(*) FROM jobs WHERE job_status IN ('Running', 'Pending', 'Unauthorized')",
    );
    assert_eq!(open, 150);
    let first = world.sim.request_count();
    // The last six hours hold some 500 jobs: five pages, were they all read.
    let out = world.sync(&["--json"]).assert().success();
    let again = world.sim.request_count() - first;
    assert!(
        again as i64 <= 3 + (open + 99) / 100,
        "{again} requests: {:?}",
        &world.sim.requests()[first..]
    );
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["projects"][0]["new"], 0, "{json}");
    assert_eq!(
        json["projects"][0]["windows_completed"],
        json["projects"][0]["windows_planned"]
    );

    // A job that appears late in the lookback changes the count: the stretch is read whole.
    let late = world
        .sim
        .generate_jobs(1, now() - Duration::hours(3), now() - Duration::hours(2));
    world.sync(&[]).assert().success();
    assert_eq!(
        world.count(&format!(
            "SELECT count(*) FROM jobs WHERE job_id = '{}'",
            late[0]
        )),
        1
    );
}

/// Jobs created exactly on window edges, and a second either side, under each reading of the
/// API's time filter.
#[test]
fn jobs_on_window_edges_are_not_missed() {
    for boundary in [
        Boundary::StartInclusiveEndExclusive,
        Boundary::BothExclusive,
        Boundary::BothInclusive,
    ] {
        let now = now();
        let world = World::empty(SimConfig {
            now,
            boundary,
            ..SimConfig::default()
        });
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let mut ids = Vec::new();
        for day in 0..4 {
            let edge = midnight - Duration::days(day);
            for (k, delta) in [-1i64, 0, 1].into_iter().enumerate() {
                let id = format!("edge{day}{k}{:024}", 0);
                world
                    .sim
                    .add_job(SimJob::new(&id, edge + Duration::seconds(delta)));
                ids.push(id);
            }
        }
        let since = (midnight - Duration::days(5))
            .format("%Y-%m-%d")
            .to_string();
        world
            .sync(&["--since", &since, "--window", "1d", "--page-size", "2"])
            .assert()
            .success();
        assert_eq!(
            world.count("SELECT count(*) FROM jobs"),
            ids.len() as i64,
            "boundary mode {boundary:?}"
        );
    }
}
