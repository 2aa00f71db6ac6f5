//! Operator experience: the progress bar only on a terminal, `sync --json` for monitoring,
//! JSON logs without secrets, completions, the man page and the help text.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::CommandFactory;
use gaussjobs::cli::Cli;
use gaussjobs::simulate::{SimAkSk, SimConfig, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use gaussjobs::store::SyncLock;
use serde_json::Value;

use crate::support::{bin, fresh_std_command, gaussjobs_in, now, required_tool, World};

const AK: &str = "HPUAK7UXTEST00000042";
const SK: &str = "sk-Ux+Secret/Key=77d0c9e1";
const TOKEN: &str = "tok-Ux-Secret-3f9b0d7a21";
const OTHER_PROJECT: &str = "ffeeddccbbaa99887766554433221100";

fn small() -> SimConfig {
    SimConfig {
        jobs: 120,
        days: 5,
        now: now(),
        ..SimConfig::default()
    }
}

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

/// The one JSON object `sync --json` prints; fails unless stdout is exactly that.
fn outcome(out: &assert_cmd::assert::Assert) -> Value {
    let text = stdout(out);
    assert_eq!(text.lines().count(), 1, "one line on stdout: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const PROJECT_FIELDS: [&str; 12] = [
    "project_id",
    "account",
    "outcome",
    "new",
    "changed",
    "unchanged",
    "requests",
    "seconds",
    "windows_planned",
    "windows_completed",
    "open_jobs_checked",
    "error",
];

fn assert_shape(v: &Value, outcome: &str, code: i64) {
    assert_eq!(v["outcome"], outcome, "{v}");
    assert_eq!(v["exit_code"], code, "{v}");
    assert!(v["projects"].is_array(), "{v}");
    assert!(v.get("error").is_some(), "{v}");
    for p in v["projects"].as_array().unwrap() {
        for field in PROJECT_FIELDS {
            assert!(p.get(field).is_some(), "project lacks {field}: {p}");
        }
    }
}

// --- the progress bar -----------------------------------------------------------------------

/// Quotes a word for `sh -c`.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Runs `gaussjobs <args>` under a pseudo-terminal (util-linux `script`), returning everything
/// the terminal received; `None` (the test says it skipped) when `script` is not installed.
fn under_a_terminal(world: &World, args: &[&str]) -> Option<(i32, String)> {
    let script = required_tool(
        "script",
        &["/usr/bin/script", "/bin/script"],
        "util-linux (Debian: bsdutils)",
    )?;
    let mut words = vec![bin().display().to_string(), "--db".into()];
    words.push(world.db.display().to_string());
    words.extend(args.iter().map(|a| a.to_string()));
    let line = words
        .iter()
        .map(|w| sh_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let out = fresh_std_command(script, world.dir.path())
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .env("TERM", "xterm-256color")
        .output()
        .expect("script runs");
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    ))
}

fn slow() -> SimConfig {
    // Slow enough answers that the bar is drawn several times.
    SimConfig {
        latency: Duration::from_millis(40),
        ..small()
    }
}

fn sync_args(world: &World) -> Vec<String> {
    [
        "sync",
        "--endpoint",
        &world.server.url,
        "--project-id",
        DEFAULT_PROJECT_ID,
        "--max-rps",
        "1000",
        "--since",
        "6d",
        "--concurrency",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_terminal_gets_the_bar_and_a_pipe_does_not() {
    let world = World::new(slow());
    let args = sync_args(&world);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some((code, terminal)) = under_a_terminal(&world, &args) else {
        return;
    };
    assert_eq!(code, 0, "{terminal}");
    assert!(
        terminal.contains("listings"),
        "no bar on the terminal: {terminal:?}"
    );
    assert!(terminal.contains(" jobs ("), "{terminal:?}");
    assert!(
        terminal.contains("synced "),
        "the summary follows: {terminal:?}"
    );

    // The same sync with stderr a pipe, as under cron: the summary line only.
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .args(&args)
        .assert()
        .success();
    let piped = stderr(&out);
    assert!(!piped.contains("listings"), "{piped:?}");
    assert!(
        !piped.contains('\r') && !piped.contains('\x1b'),
        "{piped:?}"
    );
    assert_eq!(piped.lines().count(), 1, "{piped:?}");
}

#[test]
fn a_terminal_gets_no_bar_with_q_or_json() {
    let world = World::new(slow());
    let base = sync_args(&world);
    for extra in [&["-q"][..], &["--json"][..]] {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        let Some((code, terminal)) = under_a_terminal(&world, &args) else {
            return;
        };
        assert_eq!(code, 0, "{terminal}");
        assert!(!terminal.contains("listings"), "{extra:?}: {terminal:?}");
    }
}

// --- sync --json ----------------------------------------------------------------------------

#[test]
fn sync_json_on_success_holds_every_documented_field() {
    let world = World::new(small());
    let out = world.sync(&["--since", "6d", "--json"]).assert().success();
    let v = outcome(&out);
    assert_shape(&v, "ok", 0);
    assert!(v["error"].is_null());
    let projects = v["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    let p = &projects[0];
    assert_eq!(p["project_id"], DEFAULT_PROJECT_ID);
    assert!(p["account"].is_null());
    assert_eq!(p["outcome"], "ok");
    assert_eq!(p["new"].as_u64().unwrap() as usize, world.sim.job_count());
    assert_eq!(p["changed"], 0);
    assert!(p["requests"].as_u64().unwrap() > 0);
    assert!(p["seconds"].as_f64().is_some());
    assert!(p["windows_planned"].as_u64().unwrap() >= 6);
    assert_eq!(p["windows_planned"], p["windows_completed"]);
    assert!(p["error"].is_null());
    // The human summary still goes to stderr.
    assert!(stderr(&out).contains("synced "), "{}", stderr(&out));

    // A second run finds the jobs unchanged.
    let again = outcome(&world.sync(&["--json"]).assert().success());
    assert_eq!(again["projects"][0]["new"], 0);
    assert!(again["projects"][0]["unchanged"].as_u64().unwrap() > 0);
}

#[test]
fn sync_json_of_a_refused_project_carries_the_apis_code() {
    let world = World::new(small());
    let out = world
        .sync(&["--since", "6d", "--json"])
        .env("GAUSSJOBS_TOKEN", "not-the-token")
        .assert()
        .code(1);
    let v = outcome(&out);
    assert_shape(&v, "failed", 1);
    let p = &v["projects"][0];
    assert_eq!(p["outcome"], "failed");
    assert_eq!(p["error"]["code"], "APIGW.0301", "{p}");
    assert!(p["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Incorrect IAM authentication"));
    assert_eq!(v["error"]["code"], "APIGW.0301", "{v}");
    assert!(stderr(&out).contains("error: "), "{}", stderr(&out));
}

#[test]
fn sync_json_of_a_config_names_each_account() {
    let mut aksk = BTreeMap::new();
    aksk.insert(AK.to_string(), SimAkSk::permanent(SK));
    let world = World::new(SimConfig { aksk, ..small() });
    world.sim.add_project(SimConfig {
        project_id: OTHER_PROJECT.into(),
        seed: 7,
        ..small()
    });
    let config = world.dir.path().join("gaussjobs.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"good\"\nendpoint = \"{url}\"\nproject_id = \"{DEFAULT_PROJECT_ID}\"\nak_env = \"GOOD_AK\"\nsk_env = \"GOOD_SK\"\n\n\
             [[account]]\nname = \"bad\"\nendpoint = \"{url}\"\nproject_id = \"{OTHER_PROJECT}\"\nak_env = \"BAD_AK\"\nsk_env = \"BAD_SK\"\n",
            url = world.server.url
        ),
    )
    .unwrap();
    let out = world
        .gaussjobs()
        .env("GOOD_AK", AK)
        .env("GOOD_SK", SK)
        .env("BAD_AK", AK)
        .env("BAD_SK", "sk-wrong")
        .args([
            "sync",
            "--max-rps",
            "1000",
            "--since",
            "6d",
            "--json",
            "--config",
        ])
        .arg(&config)
        .assert()
        .code(1);
    let v = outcome(&out);
    assert_shape(&v, "failed", 1);
    let projects = v["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0]["account"], "good");
    assert_eq!(projects[0]["outcome"], "ok");
    assert!(projects[0]["new"].as_u64().unwrap() > 0);
    assert_eq!(projects[1]["account"], "bad");
    assert_eq!(projects[1]["project_id"], OTHER_PROJECT);
    assert_eq!(projects[1]["error"]["code"], "APIGW.0301");
    assert!(v["error"]["message"].as_str().unwrap().contains("bad"));
}

#[test]
fn sync_json_when_another_sync_holds_the_lock_exits_75() {
    let world = World::new(small());
    let _held = SyncLock::acquire(&world.db).unwrap();
    let out = world.sync(&["--json"]).assert().code(75);
    let v = outcome(&out);
    assert_shape(&v, "locked", 75);
    assert_eq!(v["projects"].as_array().unwrap().len(), 0);
    assert!(v["error"]["code"].is_null());
    assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn sync_json_of_a_usage_error_exits_2_with_one_object() {
    let world = World::new(small());
    // Our own check of a value.
    let out = world
        .sync(&["--since", "yesterday-ish", "--json"])
        .assert()
        .code(2);
    let v = outcome(&out);
    assert_shape(&v, "usage", 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("--since"));
    // One that clap refuses before anything runs.
    let out = world
        .sync(&["--page-size", "500", "--json"])
        .assert()
        .code(2);
    let v = outcome(&out);
    assert_shape(&v, "usage", 2);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("page-size"));
    assert_eq!(world.sim.request_count(), 0);
}

// --- logs -----------------------------------------------------------------------------------

#[test]
fn debug_json_logs_never_show_a_token_or_secret_key() {
    let mut aksk = BTreeMap::new();
    aksk.insert(AK.to_string(), SimAkSk::permanent(SK));
    let world = World::new(SimConfig {
        aksk,
        token: TOKEN.into(),
        ..small()
    });
    let runs = [
        ("token", vec![("GAUSSJOBS_TOKEN", TOKEN)]),
        (
            "aksk",
            vec![("HUAWEICLOUD_SDK_AK", AK), ("HUAWEICLOUD_SDK_SK", SK)],
        ),
    ];
    for (auth, vars) in runs {
        let mut cmd = world.gaussjobs();
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["-vv", "--log-format", "json", "sync", "--json"])
            .args([
                "--endpoint",
                &world.server.url,
                "--project-id",
                DEFAULT_PROJECT_ID,
            ])
            .args(["--max-rps", "1000", "--since", "6d"])
            .assert()
            .success();
        let (o, e) = (stdout(&out), stderr(&out));
        for secret in [TOKEN, SK] {
            assert!(!o.contains(secret), "{auth}: {secret} on stdout: {o}");
            assert!(!e.contains(secret), "{auth}: {secret} on stderr: {e}");
        }
        let logs: Vec<Value> = e
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(
            logs.iter().any(|l| l["level"] == "DEBUG"),
            "{auth}: -vv gives debug lines as JSON: {e}"
        );
        assert!(world
            .sim
            .requests()
            .iter()
            .any(|r| r.auth == auth && r.status == 200));
    }
}

// --- shell and help -------------------------------------------------------------------------

#[test]
fn completions_and_the_man_page_print_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gaussjobs"),
        ("fish", "complete -c gaussjobs"),
    ] {
        let out = gaussjobs_in(dir.path(), &db)
            .args(["completions", shell])
            .assert()
            .success();
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("--project-id"), "{shell}");
    }
    let out = gaussjobs_in(dir.path(), &db).arg("man").assert().success();
    let roff = stdout(&out);
    assert!(roff.contains(".TH gaussjobs 1"), "{roff}");
    assert!(roff.contains("Examples:"), "{roff}");
    assert!(!db.exists(), "neither touches the archive");
}

#[test]
fn every_command_has_an_examples_section() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        let has = cmd
            .get_after_help()
            .is_some_and(|h| h.to_string().starts_with("Examples:"));
        if !has && cmd.get_name() != "help" {
            missing.push(path.clone());
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&Cli::command(), "", &mut missing);
    assert!(missing.is_empty(), "no Examples: {missing:?}");
}

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    // Help shows env values; the fresh environment keeps the snapshot independent of the
    // caller's.
    let out = gaussjobs_in(dir.path(), &dir.path().join("a.db"))
        .env("COLUMNS", "100")
        .args(args)
        .assert()
        .success();
    stdout(&out)
}

#[test]
fn help_snapshots() {
    insta::assert_snapshot!("help_top", help(&["--help"]));
    insta::assert_snapshot!("help_sync", help(&["sync", "--help"]));
    insta::assert_snapshot!("help_query", help(&["query", "--help"]));
    insta::assert_snapshot!("help_status", help(&["status", "--help"]));
    insta::assert_snapshot!("help_report", help(&["report", "--help"]));
}
