//! Shared fixtures: a temp dir with an archive path, a simulator on loopback, and the binary.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use gaussjobs::simulate::{
    BackgroundServer, SimConfig, Simulator, DEFAULT_PROJECT_ID, DEFAULT_TOKEN,
};
use rusqlite::Connection;
use serde_json::Value;

pub struct World {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub sim: Simulator,
    pub server: BackgroundServer,
}

impl World {
    pub fn new(config: SimConfig) -> World {
        World::with(Simulator::new(config))
    }

    pub fn empty(config: SimConfig) -> World {
        World::with(Simulator::empty(config))
    }

    fn with(sim: Simulator) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("archive.db");
        let server = sim.spawn_background();
        World {
            dir,
            db,
            sim,
            server,
        }
    }

    /// The binary with a clean environment, run in the temp dir against this archive.
    pub fn gaussjobs(&self) -> Command {
        gaussjobs_in(self.dir.path(), &self.db)
    }

    /// `gaussjobs sync` against the simulator with the right token, plus `extra`.
    pub fn sync(&self, extra: &[&str]) -> Command {
        let mut cmd = self.gaussjobs();
        cmd.env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN).args([
            "sync",
            "--endpoint",
            &self.server.url,
            "--project-id",
            DEFAULT_PROJECT_ID,
            "--max-rps",
            "1000",
        ]);
        cmd.args(extra);
        cmd
    }

    pub fn conn(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The newest run's ledger row.
    pub fn last_run(&self) -> LastRun {
        self.conn()
            .query_row(
                "SELECT windows_planned, windows_completed, requests, jobs_new, outcome,
                        coalesce(error, ''), anomalies
                 FROM sync_runs ORDER BY run_id DESC LIMIT 1",
                [],
                |r| {
                    Ok(LastRun {
                        planned: r.get(0)?,
                        completed: r.get(1)?,
                        requests: r.get(2)?,
                        new: r.get(3)?,
                        outcome: r.get(4)?,
                        error: r.get(5)?,
                        anomalies: r.get(6)?,
                    })
                },
            )
            .unwrap()
    }
}

/// What `sync_runs` says of a run (the error empty when there was none).
#[derive(Debug)]
pub struct LastRun {
    pub planned: i64,
    pub completed: i64,
    pub requests: i64,
    pub new: i64,
    pub outcome: String,
    pub error: String,
    pub anomalies: i64,
}

/// The variables every run of the binary gets, and the only ones: the caller's `PATH`, a
/// fresh `HOME` and XDG directories under `dir` (so no `~/.huaweicloud` or `~/.hcloud` of the
/// developer is read), an IAM token cache there, UTC, and a metadata endpoint that refuses. Nothing
/// else of the caller's environment reaches the binary, so a developer's own `GAUSSJOBS_*`
/// or `HUAWEICLOUD_*` variables (or config and token cache in their home) cannot change a
/// result. Tests add what they need with `.env(...)` after this.
pub fn fresh_env(dir: &Path) -> Vec<(&'static str, OsString)> {
    let root = dir.join("env");
    let sub = |name: &str| {
        let path = root.join(name);
        std::fs::create_dir_all(&path).unwrap();
        path.into_os_string()
    };
    vec![
        (
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        ),
        ("HOME", sub("home")),
        ("XDG_CONFIG_HOME", sub("config")),
        ("XDG_CACHE_HOME", sub("cache")),
        ("XDG_DATA_HOME", sub("data")),
        ("GAUSSJOBS_CACHE_DIR", sub("gaussjobs-cache")),
        ("TZ", "UTC".into()),
        // A loopback port nothing listens on: no test ever probes the real metadata address.
        ("GAUSSJOBS_METADATA_ENDPOINT", "http://127.0.0.1:9".into()),
    ]
}

/// The binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("gaussjobs")
}

/// The binary, run in `dir` with only [`fresh_env`]. Every `assert_cmd` run is built here.
pub fn fresh_command(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .envs(fresh_env(dir))
        .current_dir(dir)
        // A guard against a hung run, not a timing claim.
        .timeout(std::time::Duration::from_secs(300));
    cmd
}

/// `program` (the binary itself, or a tool that runs it) as a plain `std::process::Command`,
/// for runs a test spawns and watches: run in `dir` with only [`fresh_env`].
pub fn fresh_std_command(program: impl AsRef<OsStr>, dir: &Path) -> StdCommand {
    let mut cmd = StdCommand::new(program);
    cmd.env_clear().envs(fresh_env(dir)).current_dir(dir);
    cmd
}

/// The binary at a path any user can reach: linked (or copied) into `dir`, which the test
/// has opened to all. A checkout under a private directory (`mktemp -d` makes them 0700)
/// would otherwise keep another user from running the binary where cargo built it.
pub fn bin_for_all(dir: &Path) -> PathBuf {
    let path = dir.join("gaussjobs");
    if !path.exists() && std::fs::hard_link(bin(), &path).is_err() {
        std::fs::copy(bin(), &path).unwrap();
    }
    path
}

/// Runs `cmd` as the user and group `id` (root can; others get an error from the spawn).
pub fn run_as(cmd: &mut StdCommand, id: u32) -> &mut StdCommand {
    use std::os::unix::process::CommandExt;
    cmd.uid(id).gid(id)
}

/// The binary in a fresh environment, run in `dir` against the archive `db`.
pub fn gaussjobs_in(dir: &Path, db: &Path) -> Command {
    let mut cmd = fresh_command(dir);
    cmd.arg("--db").arg(db);
    cmd
}

/// Polls `cond` until it holds, failing the test with `what` if it still does not at
/// `deadline` from now. The deadline only guards against a hang; a test waits for a state,
/// never for a length of time.
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let give_up = Instant::now() + deadline;
    while !cond() {
        assert!(
            Instant::now() < give_up,
            "still waiting after {deadline:?} for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The text of the archive's sync lock file, `<archive>.lock` (the holder's name), "" while
/// there is none.
pub fn lock_holder(db: &Path) -> String {
    let mut path = db.as_os_str().to_owned();
    path.push(".lock");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Whether the process `pid` holds the sync lock of the archive at `db` (the holder writes its
/// name only once it holds the lock).
pub fn holds_lock(db: &Path, pid: u32) -> bool {
    lock_holder(db).starts_with(&format!("pid {pid} "))
}

/// A tool a test needs: its path, or `None` (with the reason on stderr) when it is missing.
/// Under CI (`CI` set) a missing tool fails the test instead of skipping it.
pub fn required_tool(name: &str, candidates: &[&str], package: &str) -> Option<PathBuf> {
    if let Some(path) = candidates.iter().map(Path::new).find(|p| p.exists()) {
        return Some(path.to_path_buf());
    }
    let reason = format!("`{name}` is not installed (looked in {candidates:?})");
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{reason}; CI must run this test: install {package}");
    }
    eprintln!("SKIPPED: {reason}; install {package} to run this test");
    None
}

/// A time as the API writes it (`2024-03-01T08:00:00+0800`), read independently of the
/// program's own parser, in the archive's UTC form; `None` for "", null or absent.
pub fn api_time_to_utc(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    if s.is_empty() {
        return None;
    }
    let t = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .unwrap_or_else(|e| panic!("simulator time {s:?}: {e}"));
    Some(
        t.with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    )
}

/// Now, whole seconds.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

/// Every run of the binary is built by the helpers above, so none inherits the caller's
/// environment: no other module of this test binary constructs a command itself.
#[test]
fn no_test_builds_a_command_without_the_fresh_environment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("support.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if [
                "cargo_bin",
                "Command::new",
                "Command::cargo",
                "process::Command",
            ]
            .iter()
            .any(|p| line.contains(p))
            {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "build commands with support::fresh_command or fresh_std_command:\n{}",
        offenders.join("\n")
    );
}

/// A finished command's stdout and stderr, one after the other: where a message lands is
/// not what the test checks.
pub fn text_of(out: &assert_cmd::assert::Assert) -> String {
    let o = out.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The ids of every job the simulator serves now.
pub fn served_ids(world: &World) -> std::collections::HashSet<String> {
    world
        .sim
        .jobs()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().to_string())
        .collect()
}

/// Every command of the binary as the words that name it (`[]` for `gaussjobs` itself,
/// `["query", "jobs"]`, ...), clap's own `help` left out: tests of every command's help walk
/// this, so a new command is covered without being listed.
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        out.push(path.to_vec());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut words = path.to_vec();
            words.push(sub.get_name().to_string());
            walk(sub, &words, out);
        }
    }
    let mut out = Vec::new();
    walk(
        &<gaussjobs::cli::Cli as clap::CommandFactory>::command(),
        &[],
        &mut out,
    );
    out
}
