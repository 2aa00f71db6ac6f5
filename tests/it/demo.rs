//! The demo, as a newcomer runs it; and the archives it must never touch.

use std::path::Path;

use gaussjobs::simulate::SimConfig;

use crate::support::{fresh_command, gaussjobs_in, now, World};

/// `gaussjobs demo --jobs 400` in `dir`, as typed (no `--db`).
fn demo_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = fresh_command(dir);
    cmd.args(["demo", "--jobs", "400"]);
    cmd
}

/// A real archive: synced by `gaussjobs sync` from a server on loopback (a local proxy looks
/// the same), the case in which an earlier demo deleted 20,000 jobs.
fn real_archive_at(db: &Path) -> World {
    let mut world = World::new(SimConfig {
        jobs: 200,
        days: 5,
        seed: 3,
        now: now(),
        ..SimConfig::default()
    });
    world.db = db.to_path_buf();
    world.sync(&["--since", "6d"]).assert().success();
    world
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn demo_syncs_and_answers_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = demo_in(dir.path()).assert().success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(stdout.contains("405 new"), "{stdout}");
        assert!(stdout.contains("4 changed"), "{stdout}");
        assert!(
            stdout.contains("## Which jobs failed this week?"),
            "{stdout}"
        );
        assert!(stdout.contains("ResizeGaussDBforMySQLFlavor"), "{stdout}");
        assert!(
            stdout.contains("Completed") && stdout.contains("Running"),
            "{stdout}"
        );
    }
    // Only the archive is left behind: no lock, no write-ahead log.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "env")
        .collect();
    left.sort();
    assert_eq!(left, ["gaussjobs-demo.db"]);
    // The README's next commands work on what it made.
    gaussjobs_in(dir.path(), Path::new("gaussjobs-demo.db"))
        .args([
            "query",
            "sql",
            "SELECT job_status, count(*) FROM jobs GROUP BY 1",
        ])
        .assert()
        .success();

    // The demo refuses to replace a file at its path that is not its own.
    let db = dir.path().join("gaussjobs-demo.db");
    std::fs::remove_file(&db).unwrap();
    std::fs::write(&db, b"not a demo").unwrap();
    demo_in(dir.path()).assert().code(2);
    assert_eq!(bytes(&db), b"not a demo");
}

/// A real archive where the demo writes: never deleted or changed, though it only ever
/// synced from loopback.
#[test]
fn a_real_archive_at_the_demos_path_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gaussjobs-demo.db");
    let _world = real_archive_at(&db);
    let before = bytes(&db);
    let out = demo_in(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("is not a demo archive") && stderr.contains("did not make"),
        "{stderr}"
    );
    assert_eq!(bytes(&db), before);
}

/// `--db` and `GAUSSJOBS_DB` name the user's own archive: the demo writes its own file and
/// leaves theirs as it is, saying so.
#[test]
fn the_demo_never_writes_the_archive_db_names() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("jobs.db");
    let _world = real_archive_at(&real);
    let before = bytes(&real);
    let absent = dir.path().join("not-yet.db");
    for mut demo in [
        gaussjobs_in(dir.path(), &real),
        gaussjobs_in(dir.path(), &absent),
        {
            let mut cmd = fresh_command(dir.path());
            cmd.env("GAUSSJOBS_DB", &real);
            cmd
        },
    ] {
        let out = demo.args(["demo", "--jobs", "400"]).assert().success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("the demo writes only its own archive, ./gaussjobs-demo.db"),
            "{stderr}"
        );
        assert_eq!(bytes(&real), before);
        assert!(!absent.exists(), "the demo made no archive at --db");
        assert!(dir.path().join("gaussjobs-demo.db").exists());
    }
}

/// A demo archive that a real sync later wrote into is a real archive now.
#[test]
fn a_demo_archive_a_real_sync_wrote_into_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    demo_in(dir.path()).assert().success();
    let db = dir.path().join("gaussjobs-demo.db");
    let _world = real_archive_at(&db);
    let before = bytes(&db);
    let out = demo_in(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("came from elsewhere than the demo's simulator"),
        "{stderr}"
    );
    assert_eq!(bytes(&db), before);
}
