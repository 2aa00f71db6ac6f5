//! Bad input: each gets a clear message and the exit code DESIGN.md promises, and costs
//! nothing already archived.

use gaussjobs::simulate::{SimConfig, DEFAULT_PROJECT_ID};
use gaussjobs::store::SyncLock;

use crate::support::{gaussjobs_in, now, World};

fn small_world() -> World {
    World::new(SimConfig {
        jobs: 50,
        days: 5,
        now: now(),
        ..SimConfig::default()
    })
}

fn stderr_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

#[test]
fn an_unparsable_since_is_a_usage_error() {
    let world = small_world();
    let out = world.sync(&["--since", "last tuesday"]).assert().code(2);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("--since") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
    assert_eq!(world.sim.request_count(), 0, "nothing was asked of the API");
}

#[test]
fn a_page_size_over_100_is_a_usage_error() {
    let world = small_world();
    let out = world.sync(&["--page-size", "101"]).assert().code(2);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("--page-size") && stderr.contains("2..=100"),
        "{stderr}"
    );
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn a_wrong_token_shows_the_apis_code_and_never_the_token() {
    let world = small_world();
    let secret = "wrong-token-8c1f9e2ab7";
    let out = world
        .sync(&["--since", "6d"])
        .env("GAUSSJOBS_TOKEN", secret)
        .assert()
        .code(1);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("APIGW.0301"), "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(!stderr.contains(secret), "the token leaked: {stderr}");
    assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains(secret));
    // The ledger records the failure, without the token either.
    let (outcome, error): (String, String) = world
        .conn()
        .query_row("SELECT outcome, error FROM sync_runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(outcome, "failed");
    assert!(
        error.contains("APIGW.0301") && !error.contains(secret),
        "{error}"
    );
    // Not retried: a 401 is not worth it, and one refused window stops the others.
    assert!(
        world.sim.request_count() <= 4,
        "{} requests",
        world.sim.request_count()
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let world = small_world();
    let content = b"quarterly report, definitely not a database\n".repeat(100);
    std::fs::write(&world.db, &content).unwrap();
    let out = world.sync(&["--since", "6d"]).assert().code(2);
    assert!(
        stderr_of(&out).contains("not an SQLite database"),
        "{}",
        stderr_of(&out)
    );
    let out = world.gaussjobs().args(["query", "jobs"]).assert().code(2);
    assert!(stderr_of(&out).contains("not an SQLite database"));
    assert_eq!(
        std::fs::read(&world.db).unwrap(),
        content,
        "left byte for byte"
    );
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn an_unreachable_endpoint_fails_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = gaussjobs_in(dir.path(), &db)
        .env("GAUSSJOBS_TOKEN", "t")
        .args([
            "sync",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--project-id",
            DEFAULT_PROJECT_ID,
        ])
        .assert()
        .code(1);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("cannot reach http://127.0.0.1"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn missing_credentials_and_bad_values_are_usage_errors() {
    let world = small_world();
    let out = world
        .sync(&[])
        .env_remove("GAUSSJOBS_TOKEN")
        .assert()
        .code(2);
    assert!(
        stderr_of(&out).contains("no credentials"),
        "{}",
        stderr_of(&out)
    );
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", "x")
        .args([
            "sync",
            "--region",
            "moon-1",
            "--project-id",
            DEFAULT_PROJECT_ID,
        ])
        .assert()
        .code(2);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("unknown region") && stderr.contains("cn-north-4"),
        "{stderr}"
    );
    let out = world.sync(&["--window", "soon"]).assert().code(2);
    assert!(stderr_of(&out).contains("--window"));
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", "x")
        .args([
            "sync",
            "--endpoint",
            &world.server.url,
            "--project-id",
            "abc",
        ])
        .assert()
        .code(2);
    assert!(stderr_of(&out).contains("32 letters and digits"));
    // No archive yet: a usage error naming what to do.
    let out = world.gaussjobs().args(["query", "jobs"]).assert().code(2);
    assert!(
        stderr_of(&out).contains("no archive"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn a_sync_while_another_holds_the_archive_exits_75_and_one_after_it_succeeds() {
    let world = small_world();
    // Hold the lock as a running sync does; the binary must refuse, not wait or share it.
    let lock = SyncLock::acquire(&world.db).unwrap();
    let out = world.sync(&["--since", "6d"]).assert().code(75);
    let stderr = stderr_of(&out);
    let holder = format!(
        "another sync holds {}: pid {} on ",
        world.db.display(),
        std::process::id()
    );
    assert!(
        stderr.starts_with("error: ") && stderr.contains(&holder),
        "{stderr}"
    );
    assert_eq!(world.sim.request_count(), 0, "a refused sync asks nothing");
    drop(lock);
    world.sync(&["--since", "6d"]).assert().success();
    assert_eq!(
        world.count("SELECT count(*) FROM jobs"),
        world.sim.job_count() as i64
    );
}

/// Flag values that used to panic, plan for ever, or archive nothing with exit 0: each is a
/// usage error that shows what was read, asks nothing of the API and writes no archive.
#[test]
fn absurd_flag_values_are_usage_errors_that_show_what_was_read() {
    let world = small_world();
    let tomorrow = (now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--max-rps", "0.000001"],
            "--max-rps 0.000001 is out of range",
        ),
        (
            &["--max-rps", "1e300"],
            "is out of range; give a number of requests per second",
        ),
        (&["--max-rps", "NaN"], "out of range"),
        (&["--lookback", "100000000d"], "--lookback"),
        (&["--lookback", "400d"], "--lookback 400d is out of range"),
        (&["--window", "30s"], "--window 30s is out of range"),
        (
            &["--since", "0026-11-01"],
            "--since (0026-11-01T00:00:00Z) is before 2015",
        ),
        (
            &["--since", &tomorrow],
            "is in the future: the sync would archive nothing",
        ),
        (&["--since", "2016-01-01", "--window", "5m"], "would plan"),
        (
            &["--until", "9999-12-31"],
            "--until (9999-12-31T00:00:00Z) is in the future",
        ),
        (&["--page-size", "1"], "2..=100"),
        (&["--timeout", "0"], "--timeout"),
        (&["--concurrency", "0"], "--concurrency"),
    ];
    for (args, want) in cases {
        // Without `World::sync`'s own --max-rps, which a case may give.
        let out = world
            .gaussjobs()
            .env("GAUSSJOBS_TOKEN", gaussjobs::simulate::DEFAULT_TOKEN)
            .args([
                "sync",
                "--endpoint",
                &world.server.url,
                "--project-id",
                DEFAULT_PROJECT_ID,
            ])
            .args(*args)
            .assert()
            .code(2);
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains(want),
            "{args:?}: want {want:?} in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert_eq!(world.sim.request_count(), 0, "nothing was asked of the API");
    assert!(!world.db.exists(), "no archive was made");
}
