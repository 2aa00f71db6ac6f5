//! A sync that never loses a job: faults, drifting pages, late changes, overlapping runs,
//! kill -9, and the status report that tells what is missing.

use std::process::{Child, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use gaussjobs::simulate::{Fault, SimConfig, SimJob, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::support::{
    bin, fresh_std_command, holds_lock, now, served_ids, wait_until, LastRun, World,
};

fn archived_ids(world: &World) -> std::collections::HashSet<String> {
    let conn = world.conn();
    let mut stmt = conn.prepare("SELECT job_id FROM jobs").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every job the simulator holds now is archived with its current status.
fn assert_has_every_job(world: &World) {
    let conn = world.conn();
    let mut stmt = conn
        .prepare("SELECT job_status FROM jobs WHERE job_id = ?1")
        .unwrap();
    for job in world.sim.jobs() {
        let id = job["job_id"].as_str().unwrap();
        let status: String = stmt
            .query_row([id], |r| r.get(0))
            .unwrap_or_else(|e| panic!("job {id} is missing: {e}"));
        assert_eq!(
            Some(status.as_str()),
            job["job_status"].as_str(),
            "job {id}"
        );
    }
}

fn integrity_ok(world: &World) {
    let result: String = world
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "ok");
}

/// `gaussjobs status --format json`, parsed.
fn status_json(world: &World) -> Value {
    let out = world
        .gaussjobs()
        .args(["status", "--format", "json"])
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn create_time(job: &Value) -> DateTime<Utc> {
    DateTime::parse_from_str(job["create_time"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_quarter_of_requests_failing_still_archives_every_job() {
    let world = World::new(SimConfig {
        jobs: 2_500,
        days: 60,
        seed: 3,
        now: now(),
        ..SimConfig::default()
    });
    world.sim.inject(Fault::status(500).probability(0.09));
    world.sim.inject(Fault::status(503).probability(0.09));
    world
        .sim
        .inject(Fault::too_many_requests(Some(1)).probability(0.09));
    // Pages of 20, so the run makes enough requests to meet every fault.
    world
        .sync(&["--since", "61d", "--page-size", "20"])
        .assert()
        .success();
    assert_has_every_job(&world);
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 2_500);
    let requests = world.sim.requests();
    let failed = requests.iter().filter(|r| r.status != 200).count();
    for code in [500, 503, 429] {
        assert!(
            requests.iter().any(|r| r.status == code),
            "the run met a {code}"
        );
    }
    let share = failed as f64 / requests.len() as f64;
    assert!(
        (0.12..0.40).contains(&share),
        "{failed} of {} failed",
        requests.len()
    );
    integrity_ok(&world);
}

#[test]
fn retry_after_is_honoured() {
    let world = World::new(SimConfig {
        jobs: 20,
        days: 1,
        now: now(),
        ..SimConfig::default()
    });
    world.sim.inject(Fault::too_many_requests(Some(2)).times(1));
    let started = Instant::now();
    world
        .sync(&["--since", "1d", "--concurrency", "1"])
        .assert()
        .success();
    assert!(
        started.elapsed() >= StdDuration::from_secs(2),
        "the retry waited {:?}, Retry-After said 2s",
        started.elapsed()
    );
    assert_eq!(world.sim.requests()[0].status, 429);
}

#[test]
fn client_errors_are_not_retried() {
    let world = World::new(SimConfig {
        jobs: 20,
        days: 1,
        now: now(),
        ..SimConfig::default()
    });
    // Another project than the token's: 403.
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .args([
            "sync",
            "--endpoint",
            &world.server.url,
            "--project-id",
            "ffffffffffffffffffffffffffffffff",
            "--concurrency",
            "1",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("HTTP 403"), "{stderr}");
    assert_eq!(world.sim.request_count(), 1, "a 403 is asked once");
}

#[test]
fn a_window_that_keeps_failing_leaves_a_gap_the_next_run_fills_exactly() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 2_500,
        days: 60,
        seed: 9,
        now,
        ..SimConfig::default()
    });
    let day = (now - Duration::days(20))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let noon = day + Duration::hours(12);
    world.sim.inject(Fault::malformed().window_containing(noon));
    let out = world.sync(&["--since", "61d"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("could not be read"), "{stderr}");
    assert!(
        stderr.contains("1 of 62 windows could not be fetched"),
        "{stderr}"
    );

    // Everything outside the broken day was kept.
    let archived = archived_ids(&world);
    let in_day = |job: &Value| {
        let t = create_time(job);
        t >= day - Duration::seconds(1) && t <= day + Duration::days(1)
    };
    let jobs = world.sim.jobs();
    let outside: Vec<&Value> = jobs.iter().filter(|j| !in_day(j)).collect();
    assert!(outside
        .iter()
        .all(|j| archived.contains(j["job_id"].as_str().unwrap())));
    assert!(archived.len() < 2_500);
    let status = status_json(&world);
    let gaps = status[0]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{status}");
    assert_eq!(
        gaps[0]["from"],
        day.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert!(status[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("could not be read"));
    assert_eq!(status[0]["last_run_outcome"], "failed");

    // The fault is gone: the next run fetches the missing day (whole, or in pieces that idle
    // workers share) and only what else is due.
    world.sim.clear_faults();
    let before = world.sim.request_count();
    world.sync(&[]).assert().success();
    assert_has_every_job(&world);
    let lookback_start = now - Duration::hours(7);
    let read = |param: Option<&str>| {
        DateTime::parse_from_str(param.unwrap(), "%Y-%m-%dT%H:%M:%S%z").unwrap()
    };
    let mut gap_start_read = false;
    // Windows, that is: the open-job lists start at the scope's start.
    for req in &world.sim.requests()[before..] {
        if req.param("start_time").is_some() && req.param("status").is_none() {
            let (start, end) = (read(req.param("start_time")), read(req.param("end_time")));
            let in_gap = start >= day - Duration::seconds(1)
                && end <= day + Duration::days(1) + Duration::seconds(1);
            assert!(
                in_gap || start >= lookback_start,
                "the second run re-read {start}..{end}"
            );
            gap_start_read |= start == day - Duration::seconds(1);
        }
    }
    assert!(gap_start_read, "the gap was read from its start");
    let status = status_json(&world);
    assert_eq!(status[0]["gaps"].as_array().unwrap().len(), 0, "{status}");
    assert_eq!(status[0]["last_run_outcome"], "ok");
}

#[test]
fn jobs_shifting_between_pages_are_not_missed() {
    let world = World::new(SimConfig {
        jobs: 1_500,
        days: 10,
        seed: 21,
        now: now(),
        ..SimConfig::default()
    });
    let before = served_ids(&world);
    // Two drift faults: when both fire on one page, its neighbours shift by two, more than
    // the one-job overlap between pages absorbs, so only re-paging saves the sync.
    world.sim.inject(Fault::drift().probability(0.3).times(25));
    world.sim.inject(Fault::drift().probability(0.3).times(25));
    world
        .sync(&["--since", "11d", "--page-size", "10"])
        .assert()
        .success();
    // Every job present before was archived. The drift also creates jobs with old create
    // times; one created after its window's last page is a late arrival no real API makes, so
    // only some of those are expected here.
    let archived = archived_ids(&world);
    for id in &before {
        assert!(archived.contains(id), "job {id} was missed");
    }
    assert!(
        archived.len() > before.len(),
        "the drift created jobs, and they were archived"
    );
    // Some window was paged again from the start after it shifted.
    let first_pages = world
        .sim
        .requests()
        .iter()
        .filter(|r| r.param("offset") == Some("0") && r.param("start_time").is_some())
        .count();
    assert!(
        first_pages > 12,
        "{first_pages} first pages for 12 windows: no re-paging seen"
    );
}

/// Pages planned by count and fetched side by side still archive every job while the jobs
/// shift under them: each overlap is checked after both pages are in, and the time between
/// two pages that do not join is listed again.
#[test]
fn a_drifting_world_is_archived_completely_under_concurrent_offset_paging() {
    for page_size in [2u64, 10, 100] {
        let world = World::new(SimConfig {
            jobs: 600,
            days: 5,
            seed: 23 + page_size,
            now: now(),
            ..SimConfig::default()
        });
        let before = served_ids(&world);
        world.sim.inject(Fault::drift().probability(0.5).times(25));
        world.sim.inject(Fault::drift().probability(0.5).times(25));
        let size = page_size.to_string();
        world
            .sync(&["--since", "6d", "--page-size", &size, "--concurrency", "16"])
            .assert()
            .success();
        let archived = archived_ids(&world);
        let missed: Vec<_> = before.iter().filter(|id| !archived.contains(*id)).collect();
        assert!(
            missed.is_empty(),
            "page size {page_size}: {} jobs missed: {missed:?}",
            missed.len()
        );
        let requests = world.sim.requests();
        // The pages were planned by count: offsets a page less one apart, past one window.
        let step = page_size - 1;
        let far = (600 / step).saturating_sub(2) * step;
        assert!(
            requests
                .iter()
                .any(|r| r.param("offset") == Some(far.to_string().as_str())),
            "page size {page_size}: no page at offset {far}"
        );
        // And the pages shifted, and it was noticed: some stretch was listed again.
        let first_pages = requests
            .iter()
            .filter(|r| r.param("offset") == Some("0") && r.param("status").is_none())
            .count();
        assert!(
            first_pages > 1,
            "page size {page_size}: nothing listed again"
        );
        let status = status_json(&world);
        assert_eq!(
            status[0]["gaps"].as_array().unwrap().len(),
            0,
            "page size {page_size}: {status}"
        );
    }
}

#[test]
fn open_jobs_that_finished_weeks_later_are_updated_cheaply() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 2_500,
        days: 60,
        seed: 4,
        now,
        ..SimConfig::default()
    });
    let pending: Vec<String> = (0..25)
        .map(|i| {
            let id = format!("pending{i:02}{:023}", 0);
            let job = SimJob::new(&id, now - Duration::days(7) - Duration::minutes(i * 17));
            world.sim.add_job(job);
            id
        })
        .collect();
    world.sync(&["--since", "60d"]).assert().success();
    let first = world.sim.request_count();
    assert_eq!(
        world.count(
            "SELECT count(*) FROM jobs WHERE job_id LIKE 'pending%' AND job_status = 'Pending'"
        ),
        25
    );

    for id in &pending {
        assert!(world.sim.set_status(id, "Completed", now));
    }
    world.sync(&[]).assert().success();
    let second = world.sim.request_count() - first;
    // The lookback's first page, a page per open status, and one lookup per job that
    // finished: not the history again.
    assert!(
        second <= 1 + 3 + 25 && second < first + 5,
        "the refresh used {second} requests, the first sync {first}"
    );
    assert_eq!(
        world.count(
            "SELECT count(*) FROM jobs WHERE job_id LIKE 'pending%' AND job_status = 'Completed'"
        ),
        25
    );
    assert_eq!(
        world.count(
            "SELECT count(*) FROM job_history WHERE job_id LIKE 'pending%' AND version = 2
             AND job_status = 'Completed' AND changed LIKE '%job_status%'"
        ),
        25,
        "each transition is in the history"
    );
    assert_has_every_job(&world);
    // Jobs were asked for by id, not by re-reading their week.
    let by_id = world.sim.requests()[first..]
        .iter()
        .filter(|r| r.param("job_id").is_some())
        .count();
    assert!(by_id >= 25, "{by_id} lookups by id");
}

#[test]
fn an_open_job_the_api_forgot_keeps_its_last_state_and_is_not_asked_again() {
    let now = now();
    let world = World::empty(SimConfig {
        now,
        ..SimConfig::default()
    });
    world.sim.add_job(SimJob::new(
        "forgotten0000000000000000000000001",
        now - Duration::days(3),
    ));
    world.sync(&["--since", "4d"]).assert().success();
    assert!(world.sim.remove_job("forgotten0000000000000000000000001"));
    world.sync(&[]).assert().success();
    assert_eq!(
        world.count(
            "SELECT count(*) FROM jobs WHERE job_status = 'Pending' AND api_gone_at IS NOT NULL"
        ),
        1
    );
    let before = world.sim.request_count();
    world.sync(&[]).assert().success();
    assert!(
        world.sim.requests()[before..]
            .iter()
            .all(|r| r.param("job_id").is_none()),
        "a forgotten job is not looked up every run"
    );
}

fn spawn_sync(world: &World, extra: &[&str]) -> Child {
    let mut cmd = fresh_std_command(bin(), world.dir.path());
    cmd.env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .arg("--db")
        .arg(&world.db)
        .args([
            "sync",
            "--endpoint",
            &world.server.url,
            "--project-id",
            DEFAULT_PROJECT_ID,
            "--max-rps",
            "1000",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// How long a test waits for a state of a running sync before it calls the run hung.
const HANG: StdDuration = StdDuration::from_secs(120);

/// Waits until `child` holds the archive's sync lock.
fn wait_for_lock(world: &World, child: &mut Child) {
    let pid = child.id();
    wait_until(HANG, "the sync to take the lock", || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended before it was seen holding the lock"
        );
        holds_lock(&world.db, pid)
    });
}

/// The number of archived jobs, read without creating anything; `None` while the archive or
/// its tables do not exist yet.
fn archived_so_far(world: &World) -> Option<i64> {
    let conn = Connection::open_with_flags(&world.db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .ok()
}

/// 1,000 jobs served at 20 ms a page: a sync of them holds the lock long enough to overlap.
fn slow_world() -> World {
    World::new(SimConfig {
        jobs: 1_000,
        days: 20,
        seed: 8,
        latency: StdDuration::from_millis(20),
        now: now(),
        ..SimConfig::default()
    })
}

#[test]
fn overlapping_syncs_end_in_0_or_75_and_leave_a_complete_archive() {
    let world = slow_world();
    let mut first = spawn_sync(&world, &["--since", "21d", "--page-size", "20"]);
    wait_for_lock(&world, &mut first);
    // A query while the sync writes.
    wait_until(HANG, "the first jobs in the archive", || {
        archived_so_far(&world).is_some_and(|n| n > 0) || first.try_wait().unwrap().is_some()
    });
    world
        .gaussjobs()
        .args(["query", "jobs", "--limit", "5"])
        .assert()
        .success();
    let second = spawn_sync(&world, &["--since", "21d"])
        .wait_with_output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        first.status.code(),
        Some(0),
        "the run holding the lock: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    match second.status.code() {
        Some(0) => {}
        Some(75) => assert!(
            stderr.contains("another sync holds") && stderr.contains("pid "),
            "{stderr}"
        ),
        other => panic!("the overlapping run exited {other:?}: {stderr}"),
    }
    integrity_ok(&world);
    assert_has_every_job(&world);
}

#[test]
fn a_sync_with_wait_runs_after_the_one_holding_the_lock() {
    let world = slow_world();
    let mut first = spawn_sync(&world, &["--since", "21d", "--page-size", "20"]);
    wait_for_lock(&world, &mut first);
    let holder = format!("pid {} ", first.id());
    let second = spawn_sync(&world, &["--wait"]).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    // It says once that it waits, and for whom.
    let waiting: Vec<&str> = stderr.lines().filter(|l| l.contains("waiting")).collect();
    assert_eq!(waiting.len(), 1, "{stderr}");
    assert!(
        waiting[0].contains("another sync holds") && waiting[0].contains(&holder),
        "{stderr}"
    );
    assert_eq!(first.wait_with_output().unwrap().status.code(), Some(0));
    integrity_ok(&world);
    assert_has_every_job(&world);
}

#[test]
fn kill_9_at_any_moment_leaves_an_intact_archive_that_the_next_run_completes() {
    let world = World::new(SimConfig {
        jobs: 2_000,
        days: 30,
        seed: 13,
        latency: StdDuration::from_millis(15),
        now: now(),
        ..SimConfig::default()
    });
    // Killed after its first request, further in, and further still (a later run has less
    // left to do, so it may finish first; the first one is always killed mid-way).
    for requests in [1, 20, 60] {
        let mut child = spawn_sync(&world, &["--since", "31d", "--page-size", "10"]);
        let before = world.sim.request_count();
        wait_until(HANG, "the sync to send its requests", || {
            world.sim.request_count() >= before + requests || child.try_wait().unwrap().is_some()
        });
        child.kill().unwrap(); // SIGKILL; a no-op if it already ended
        child.wait().unwrap();
        integrity_ok(&world);
    }
    let killed = world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'running'");
    assert!(killed >= 1, "at least one run was killed mid-way");
    world.sync(&[]).assert().success();
    integrity_ok(&world);
    // The first run deferred the query indexes and was killed before building them; the run
    // that completed the archive built them.
    assert_eq!(
        world.count(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jobs'
             AND name IN ('jobs_instance_id', 'jobs_status', 'jobs_job_name', 'jobs_project',
                          'jobs_stats')"
        ),
        5
    );
    assert_has_every_job(&world);
    assert_eq!(
        world.count("SELECT count(*) FROM jobs"),
        2_000,
        "no duplicates, none lost"
    );
    assert_eq!(
        world.count("SELECT count(*) FROM job_history"),
        2_000,
        "a job seen again by the next run adds no version"
    );
    assert_eq!(
        world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'running'"),
        0
    );
    assert!(world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'interrupted'") >= 1);
    let status = status_json(&world);
    assert_eq!(status[0]["gaps"].as_array().unwrap().len(), 0, "{status}");
}

#[test]
fn status_warns_when_the_last_success_is_older_than_the_apis_memory() {
    let world = World::new(SimConfig {
        jobs: 50,
        days: 3,
        now: now(),
        ..SimConfig::default()
    });
    world.sync(&["--since", "4d"]).assert().success();
    let out = world.gaussjobs().args(["status"]).assert().success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        table.contains(DEFAULT_PROJECT_ID) && table.contains("open_jobs"),
        "{table}"
    );
    assert!(!table.contains("warning:"), "{table}");
    world
        .conn()
        .execute(
            "UPDATE sync_runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-40 days')",
            [],
        )
        .unwrap();
    let out = world.gaussjobs().args(["status"]).assert().success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        table.contains("warning: the last successful sync is 40d"),
        "{table}"
    );
    let json = status_json(&world);
    assert!(json[0]["last_success_age_seconds"].as_i64().unwrap() >= 40 * 86_400);
    assert_eq!(json[0]["jobs"], 50);
    assert!(json[0]["open_jobs"].as_i64().is_some());
}

#[test]
fn a_response_that_times_out_is_retried() {
    let world = World::new(SimConfig {
        jobs: 30,
        days: 1,
        now: now(),
        ..SimConfig::default()
    });
    world.sim.inject(Fault::latency(4_000).times(1));
    world
        .sync(&["--since", "1d", "--concurrency", "1", "--timeout", "1"])
        .assert()
        .success();
    assert_has_every_job(&world);
    assert!(
        world.sim.request_count() >= 2,
        "the slow answer was asked again"
    );
}

/// A world of 300 jobs over 6 days whose last page (the oldest jobs, from offset 250 on)
/// never answers: the pages before it complete, and it holds the run for as long as it is
/// allowed to.
fn world_with_a_hung_window() -> (World, DateTime<Utc>) {
    let world = World::new(SimConfig {
        jobs: 300,
        days: 6,
        seed: 21,
        now: now(),
        ..SimConfig::default()
    });
    let hung = now() - Duration::days(3);
    world.sim.inject(Fault::latency(3_600_000).min_offset(250));
    (world, hung)
}

#[test]
fn max_time_stops_a_run_that_a_server_holds_and_keeps_what_it_fetched() {
    let (world, _) = world_with_a_hung_window();
    let out = world
        .sync(&["--since", "7d", "--max-time", "3s", "--timeout", "3600"])
        .timeout(HANG)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("stopped at --max-time 3s: kept")
            && stderr.contains("left for the next sync"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: the next sync continues"), "{stderr}");
    let LastRun { outcome, error, .. } = world.last_run();
    assert_eq!(outcome, "failed");
    assert!(error.starts_with("stopped at --max-time 3s"), "{error}");
    let kept = world.count("SELECT count(*) FROM jobs");
    assert!(
        kept > 0 && kept < 300,
        "the other windows were kept: {kept}"
    );

    // The next run, with the server answering again, completes the archive.
    world.sim.clear_faults();
    world.sync(&[]).assert().success();
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 300);
}

#[test]
fn max_time_bounds_a_huge_retry_after() {
    let world = small_world_for_stops();
    world.sim.inject(Fault::too_many_requests(Some(100_000)));
    let out = world
        .sync(&["--since", "3d", "--max-time", "2s", "--json"])
        .timeout(HANG)
        .assert()
        .code(1);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["projects"][0]["outcome"], "failed");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("stopped at --max-time 2s"),
        "{json}"
    );
}

fn small_world_for_stops() -> World {
    World::new(SimConfig {
        jobs: 50,
        days: 2,
        now: now(),
        ..SimConfig::default()
    })
}

#[test]
fn sigterm_and_sigint_end_a_run_with_143_and_130_and_mark_it_interrupted() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let (world, _) = world_with_a_hung_window();
        let mut child = spawn_sync(&world, &["--since", "7d", "--timeout", "3600"]);
        // Every window but the hung one is archived; then the run only waits.
        wait_until(HANG, "the answering windows to be archived", || {
            assert!(child.try_wait().unwrap().is_none(), "the sync ended early");
            archived_so_far(&world).is_some_and(|n| n > 200) && world.sim.request_count() >= 4
        });
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "signal {signal}: {stderr}");
        let name = if signal == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line says what was kept: {stderr}"
        );
        assert!(
            stderr.starts_with(&format!("error: interrupted by {name}: kept ")),
            "{stderr}"
        );
        let LastRun { outcome, error, .. } = world.last_run();
        assert_eq!(outcome, "interrupted");
        assert!(
            error.starts_with(&format!("interrupted by {name}")),
            "{error}"
        );
        assert!(
            world.count("SELECT count(*) FROM jobs") > 200,
            "the fetched jobs are kept"
        );
        assert_eq!(
            world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'running'"),
            0
        );
    }
}
