//! Files: queries that create and change nothing (for a reader who may not write), files that
//! are not ours refused without a byte changed or a `.lock` left, FIFOs and devices refused
//! at once, and one sync lock per archive however it is reached.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use gaussjobs::simulate::SimConfig;
use gaussjobs::store::{SyncLock, SCHEMA_VERSION};
use rusqlite::Connection;
use serde_json::Value;

use crate::support::{bin_for_all, fresh_env, fresh_std_command, gaussjobs_in, now, run_as, World};

/// The user a test runs a reader as when it runs as root: root writes whatever the modes say.
const NOBODY: u32 = 65534;

fn world() -> World {
    World::new(SimConfig {
        jobs: 300,
        days: 10,
        seed: 5,
        now: now(),
        ..SimConfig::default()
    })
}

/// Every entry of `dir`: its name, bytes (a file's) and modification time.
fn listing(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let meta = std::fs::metadata(&path).unwrap();
            let bytes = if meta.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                Vec::new()
            };
            (name, (bytes, meta.modified().unwrap()))
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    listing(dir).into_keys().collect()
}

/// `<path><suffix>`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The bytes of the file and of its -wal (empty when absent).
fn file_and_wal(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let read = |p: PathBuf| std::fs::read(p).unwrap_or_default();
    (read(path.to_path_buf()), read(beside(path, "-wal")))
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the independent SQL says: the jobs and the Failed ones.
fn counts(db: &Path) -> (i64, i64) {
    let conn = Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*), sum(job_status = 'Failed') FROM jobs",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Checks the answers of `query jobs`, `query stats` and `status` that `run` gives on the
/// archive at `db`, which holds `jobs` jobs of which `failed` failed.
fn check_answers(db: &Path, (jobs, failed): (i64, i64), run: impl Fn(&[&str]) -> Value) {
    let listed = run(&["query", "jobs", "--limit", "100000", "--format", "json"]);
    assert_eq!(listed.as_array().unwrap().len() as i64, jobs, "{db:?}");
    let stats = run(&["query", "stats", "--by", "job_status", "--format", "json"]);
    let rows = stats.as_array().unwrap();
    let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    let failures: i64 = rows.iter().map(|r| r["failed"].as_i64().unwrap()).sum();
    assert_eq!((total, failures), (jobs, failed));
    let status = run(&["status", "--format", "json"]);
    assert_eq!(status[0]["jobs"].as_i64(), Some(jobs), "{status}");
    assert_eq!(
        status[0]["last_run_outcome"].as_str(),
        Some("ok"),
        "{status}"
    );
}

/// Skips (or under CI fails) a test that cannot be run here.
fn skip(reason: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("CI must run this test: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// An auditor with read access only: the archive 0444 in a directory 0555, the reader not
/// its owner (run as `nobody` when the test runs as root). `query jobs`, `query stats` and
/// `status` answer right and leave every file of the directory as it was, bytes and mtime.
#[test]
fn queries_on_a_read_only_archive_in_a_read_only_directory_change_nothing() {
    let mut world = world();
    let archive_dir = world.dir.path().join("archive");
    std::fs::create_dir(&archive_dir).unwrap();
    world.db = archive_dir.join("jobs.db");
    world.sync(&["--since", "11d"]).assert().success();
    let want = counts(&world.db);
    assert!(want.0 > 0);

    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for entry in std::fs::read_dir(&archive_dir).unwrap() {
        mode(&entry.unwrap().path(), 0o444);
    }
    mode(&archive_dir, 0o555);
    // The reader (perhaps nobody) must reach the directory and the binary.
    mode(world.dir.path(), 0o755);
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let before = listing(&archive_dir);

    let reader_bin = bin_for_all(world.dir.path());
    let run = |args: &[&str]| -> Option<std::process::Output> {
        let mut cmd = fresh_std_command(&reader_bin, world.dir.path());
        cmd.arg("--db").arg(&world.db).args(args);
        if as_root {
            run_as(&mut cmd, NOBODY);
        }
        match cmd.output() {
            Ok(out) => Some(out),
            Err(e) if as_root => {
                skip(&format!("cannot run the reader as uid {NOBODY} ({e})"));
                None
            }
            Err(e) => panic!("cannot run the binary: {e}"),
        }
    };
    let Some(probe) = run(&["status"]) else {
        mode(&archive_dir, 0o755);
        return;
    };
    // The reader may not write there, or it does not stand for an auditor.
    let mut writable = fresh_std_command("test", world.dir.path());
    writable.arg("-w").arg(&archive_dir);
    if as_root {
        run_as(&mut writable, NOBODY);
    }
    if writable.status().unwrap().success() {
        mode(&archive_dir, 0o755);
        assert!(!as_root, "uid {NOBODY} writes into a 0555 directory");
        return skip("this user writes into a 0555 directory (a capability), so it cannot stand for a reader");
    }
    assert!(probe.status.success(), "{}", stderr_of(&probe));

    check_answers(&world.db, want, |args| {
        let out = run(args).expect("the reader ran before");
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr_of(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    });
    assert_eq!(listing(&archive_dir), before);
    // The temp dir is removed by its owner.
    mode(&archive_dir, 0o755);
}

/// A sync is running (its connection open, its last commit still in the WAL) and the reader
/// may not write the directory or the -shm: the query reads through the WAL all the same.
#[test]
fn a_reader_without_write_access_sees_what_a_running_sync_committed() {
    let mut world = world();
    let archive_dir = world.dir.path().join("archive");
    std::fs::create_dir(&archive_dir).unwrap();
    world.db = archive_dir.join("jobs.db");
    world.sync(&["--since", "11d"]).assert().success();
    let writer = Connection::open(&world.db).unwrap();
    writer
        .execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             INSERT INTO sync_runs (started_at, endpoint, project_id, options, outcome, tool_version)
             VALUES ('2024-03-01T00:00:00Z', 'http://x', 'p', '{}', 'running', 'v');",
        )
        .unwrap();
    assert!(beside(&world.db, "-wal").exists() && beside(&world.db, "-shm").exists());
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for entry in std::fs::read_dir(&archive_dir).unwrap() {
        mode(&entry.unwrap().path(), 0o444);
    }
    mode(&archive_dir, 0o555);
    mode(world.dir.path(), 0o755);
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let mut cmd = fresh_std_command(bin_for_all(world.dir.path()), world.dir.path());
    cmd.arg("--db").arg(&world.db).args([
        "query",
        "sql",
        "SELECT count(*) AS runs FROM sync_runs",
        "--format",
        "json",
    ]);
    if as_root {
        run_as(&mut cmd, NOBODY);
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            mode(&archive_dir, 0o755);
            return skip(&format!("cannot run the reader as uid {NOBODY} ({e})"));
        }
    };
    mode(&archive_dir, 0o755);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer[0]["runs"].as_i64(), Some(2), "{answer}");
    assert!(
        out.stderr.is_empty(),
        "read through the WAL, no fallback: {}",
        stderr_of(&out)
    );
    drop(writer);
}

/// With no sync running there is no -wal or -shm beside the archive, and a query or a
/// `status` makes none, though it could.
#[test]
fn a_query_on_a_writable_archive_creates_no_wal_or_shm() {
    let world = world();
    world.sync(&["--since", "11d"]).assert().success();
    let want = counts(&world.db);
    let dir = world.db.parent().unwrap();
    let before = listing(dir);
    assert!(!before.contains_key("archive.db-wal"), "{:?}", names(dir));
    check_answers(&world.db, want, |args| {
        let out = world.gaussjobs().args(args).assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    });
    assert_eq!(listing(dir), before);
}

/// A sync's archive: made by a sync against the simulator, its `.lock` removed, so the test
/// can tell whether a refused run made one.
fn archive_without_lock(world: &World) {
    world.sync(&["--since", "11d"]).assert().success();
    std::fs::remove_file(beside(&world.db, ".lock")).unwrap();
}

/// Runs `sync` and `query jobs` on `world.db` and checks both are refused with `code` and a
/// message containing each of `words`, the file and its -wal unchanged and no `.lock` left.
fn refused_untouched(world: &World, code: i32, words: &[&str]) {
    let before = file_and_wal(&world.db);
    // The commands' own home and cache directories, made first so the listing holds them.
    fresh_env(world.dir.path());
    let listed = names(world.db.parent().unwrap());
    for args in [&["query", "jobs"][..], &["status"][..]] {
        let out = world.gaussjobs().args(args).assert().code(code);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        for word in words {
            assert!(stderr.contains(word), "{args:?}: {stderr}");
        }
    }
    let out = world.sync(&["--since", "11d"]).assert().code(code);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for word in words {
        assert!(stderr.contains(word), "sync: {stderr}");
    }
    assert_eq!(file_and_wal(&world.db), before);
    assert_eq!(names(world.db.parent().unwrap()), listed, "no file made");
    assert!(!beside(&world.db, ".lock").exists());
}

/// Someone else's WAL-mode file with transactions still in its -wal (its program was killed):
/// a writer that opened it to look would have copied them into the file on close.
#[test]
fn a_foreign_file_in_wal_mode_is_refused_with_file_and_wal_unchanged() {
    let world = world();
    let live = world.dir.path().join("live.db");
    let conn = Connection::open(&live).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE notes (x); INSERT INTO notes VALUES ('only in the wal');",
    )
    .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        std::fs::copy(beside(&live, suffix), beside(&world.db, suffix)).unwrap();
    }
    drop(conn);
    assert!(!file_and_wal(&world.db).1.is_empty());
    refused_untouched(
        &world,
        2,
        &["not a gaussjobs archive", "left untouched", "hint: "],
    );
}

/// An archive whose version was reset to 0: its tables are not of a migration's making, and
/// migrating them would run the first migration over them.
#[test]
fn tables_without_a_schema_version_are_refused_untouched() {
    let world = world();
    archive_without_lock(&world);
    world.conn().pragma_update(None, "user_version", 0).unwrap();
    refused_untouched(&world, 2, &["user_version 0", "left untouched"]);
}

/// An archive a newer gaussjobs wrote: refused by every command, naming both versions and
/// what to do, before a byte is written.
#[test]
fn an_archive_of_a_newer_schema_is_refused_naming_both_versions() {
    let world = world();
    archive_without_lock(&world);
    world
        .conn()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    refused_untouched(
        &world,
        1,
        &[
            "archive schema 99",
            &format!("knows schema {SCHEMA_VERSION}"),
            "hint: upgrade gaussjobs",
        ],
    );
}

/// A FIFO as `--db`: opening it to read its header would wait for a writer forever. Refused
/// at once by every command (the test finishing shows none blocked), and no `.lock` made.
#[test]
fn a_fifo_or_a_device_as_the_archive_is_refused_at_once() {
    let world = world();
    let fifo = world.dir.path().join("pipe.db");
    let made = fresh_std_command("mkfifo", world.dir.path())
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut query = gaussjobs_in(world.dir.path(), &fifo);
    query.args(["query", "jobs"]);
    let mut status = gaussjobs_in(world.dir.path(), &fifo);
    status.arg("status");
    let mut world = world;
    world.db = fifo.clone();
    let runs = [world.sync(&["--since", "1d"]), query, status];
    for mut cmd in runs {
        let out = cmd.assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("is a FIFO (named pipe), not an archive file"),
            "{stderr}"
        );
    }
    assert!(!beside(&fifo, ".lock").exists());

    let out = gaussjobs_in(world.dir.path(), Path::new("/dev/zero"))
        .args(["query", "jobs"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("/dev/zero is a device"), "{stderr}");
}

/// One archive, two paths: a sync through a symlink meets the lock taken through the real
/// path, and exits 75.
#[test]
fn a_sync_through_a_symlink_meets_the_lock_of_the_real_path() {
    let mut world = world();
    let real = world.db.clone();
    let held = SyncLock::acquire(&real).unwrap();
    let link = world.dir.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    world.db = link;
    let out = world.sync(&["--since", "11d"]).assert().code(75);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("another sync holds"), "{stderr}");
    drop(held);
    world.sync(&["--since", "11d"]).assert().success();
    assert!(
        counts(&real).0 > 0,
        "the sync wrote the archive the link names"
    );
}
