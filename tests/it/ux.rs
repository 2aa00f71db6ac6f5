//! Operator experience: the progress bar only on a terminal, `sync --json` for monitoring,
//! JSON logs without secrets, completions, the man page and the help text.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::CommandFactory;
use gaussjobs::cli::Cli;
use gaussjobs::simulate::{SimAkSk, SimConfig, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use gaussjobs::store::SyncLock;
use serde_json::Value;

use crate::support::{
    bin, command_paths, fresh_std_command, gaussjobs_in, now, required_tool, World,
};

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
    // A terminal of 80 columns, as a newcomer's.
    let line = "stty cols 80 rows 24 2>/dev/null; ".to_string()
        + &words
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
    help_at(100, args)
}

/// Help as a terminal `columns` wide shows it.
fn help_at(columns: u32, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    // Help shows env values; the fresh environment keeps the snapshot independent of the
    // caller's.
    let out = gaussjobs_in(dir.path(), &dir.path().join("a.db"))
        .env("COLUMNS", columns.to_string())
        .args(args)
        .assert()
        .success();
    stdout(&out)
}

/// Every command's examples fit an 80-column terminal as written: none is wrapped, so each
/// can be copied and pasted whole.
#[test]
fn every_example_fits_80_columns_unwrapped() {
    let commands = command_paths();
    assert!(commands.len() >= 16, "{commands:?}");
    let examples = |columns, words: &[String]| {
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        let text = help_at(columns, &args);
        let (_, section) = text
            .split_once("\nExamples:\n")
            .unwrap_or_else(|| panic!("{words:?} has no examples:\n{text}"));
        section.to_string()
    };
    for words in &commands {
        let narrow = examples(80, words);
        assert_eq!(
            narrow,
            examples(300, words),
            "{words:?} wraps at 80 columns"
        );
        for line in narrow.lines() {
            assert!(line.chars().count() <= 80, "{words:?}: {line}");
        }
    }
}

#[test]
fn help_snapshots() {
    insta::assert_snapshot!("help_top", help(&["--help"]));
    insta::assert_snapshot!("help_sync", help(&["sync", "--help"]));
    insta::assert_snapshot!("help_query", help(&["query", "--help"]));
    insta::assert_snapshot!("help_status", help(&["status", "--help"]));
    insta::assert_snapshot!("help_report", help(&["report", "--help"]));
}

// --- help headings, man pages, completions, colour, words ------------------------------------

#[test]
fn global_flags_have_their_own_heading_and_stay_out_where_they_do_nothing() {
    let sync = help(&["sync", "--help"]);
    let global = sync
        .find("Global options:")
        .expect("a Global options heading");
    let options = sync.find("\nOptions:").expect("an Options heading");
    for flag in ["--db", "--verbose", "--quiet", "--log-format", "--color"] {
        let at = sync
            .find(&format!(" {flag}"))
            .unwrap_or_else(|| panic!("{flag}: {sync}"));
        assert!(at > global, "{flag} is under Global options:\n{sync}");
    }
    assert!(options < global, "{sync}");
    for command in ["man", "completions"] {
        let text = help(&[command, "--help"]);
        for flag in ["--db", "--verbose", "--quiet", "--log-format", "--color"] {
            assert!(
                !text.contains(flag),
                "{command} --help shows {flag}:\n{text}"
            );
        }
    }
    let simulate = help(&["simulate", "--help"]);
    assert!(!simulate.contains("--db"), "{simulate}");
    assert!(simulate.contains("--verbose"), "{simulate}");
}

/// `name(1)` references in a page, roff escapes undone: `\fBgaussjobs\-sync\fR(1)`.
fn references(roff: &str) -> Vec<String> {
    let plain = roff
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\-", "-");
    let mut found = Vec::new();
    for (at, _) in plain.match_indices("(1)") {
        let name: String = plain[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

#[test]
fn man_writes_a_page_per_command_with_no_dangling_reference() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    gaussjobs_in(dir.path(), &dir.path().join("a.db"))
        .arg("man")
        .arg(&pages)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "gaussjobs.1",
        "gaussjobs-sync.1",
        "gaussjobs-status.1",
        "gaussjobs-query.1",
        "gaussjobs-query-jobs.1",
        "gaussjobs-query-as-of.1",
        "gaussjobs-demo.1",
    ] {
        assert!(names.contains(&want.to_string()), "{want}: {names:?}");
    }
    let mut referenced = 0;
    for name in &names {
        let roff = std::fs::read_to_string(pages.join(name)).unwrap();
        for section in ["ENVIRONMENT", "FILES", "EXIT STATUS"] {
            assert!(roff.contains(section), "{name} lacks {section}");
        }
        for r in references(&roff)
            .into_iter()
            .filter(|r| r.starts_with("gaussjobs"))
        {
            assert!(
                names.contains(&format!("{r}.1")),
                "{name} refers to {r}(1), not written"
            );
            referenced += 1;
        }
    }
    assert!(referenced > names.len(), "pages refer to each other");
    // The sync page: every option, and the credentials.
    let sync = std::fs::read_to_string(pages.join("gaussjobs-sync.1")).unwrap();
    assert!(sync.contains("CREDENTIALS") && sync.contains("GAUSSJOBS_TOKEN"));
    let cmd = Cli::command();
    let sync_cmd = cmd.find_subcommand("sync").unwrap();
    for arg in sync_cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            let roff_long = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(sync.contains(&roff_long), "the sync page lacks --{long}");
        }
    }
    // `man` reads every page too where it is installed (the machines' image has no man-db,
    // so the parse above is what CI relies on).
    let man = std::path::Path::new("/usr/bin/man");
    if man.exists() {
        for name in &names {
            let out = fresh_std_command(man, dir.path())
                .args(["-l", "-P", "cat"])
                .arg(pages.join(name))
                .env("MANWIDTH", "80")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "man -l {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("warning"), "man -l {name}: {err}");
        }
    }
}

#[test]
fn completions_offer_the_values_of_status_by_format_and_region() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = gaussjobs_in(dir.path(), &dir.path().join("a.db"))
            .args(["completions", shell])
            .assert()
            .success();
        let text = stdout(&out);
        for value in ["Unauthorized", "job_status", "ndjson", "cn-north-4"] {
            assert!(text.contains(value), "{shell} does not offer {value}");
        }
    }
}

#[test]
fn color_always_never_and_no_color_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], no_color: bool| {
        let mut cmd = gaussjobs_in(dir.path(), &dir.path().join("a.db"));
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        stdout(&cmd.args(args).assert().success())
    };
    assert!(run(&["--color", "always", "sync", "--help"], false).contains('\x1b'));
    assert!(!run(&["--color", "never", "sync", "--help"], false).contains('\x1b'));
    assert!(!run(&["sync", "--help"], true).contains('\x1b'));
    // Log lines: colour only when asked for, whatever stderr is.
    let world = World::new(small());
    let out = world
        .sync(&["--since", "6d", "-v", "--color", "always"])
        .assert()
        .success();
    assert!(stderr(&out).contains('\x1b'), "{}", stderr(&out));
    let out = world.sync(&["-v"]).assert().success();
    assert!(!stderr(&out).contains('\x1b'), "{}", stderr(&out));
}

#[test]
fn with_json_logs_the_final_error_and_hint_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = gaussjobs_in(dir.path(), &dir.path().join("missing.db"))
        .args(["--log-format", "json", "query", "jobs"])
        .assert()
        .code(2);
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["level"], "ERROR");
    assert!(
        v["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("missing.db"),
        "{v}"
    );
    assert!(
        v["fields"]["hint"].as_str().unwrap().contains("sync"),
        "{v}"
    );
}

#[test]
fn verbose_says_the_range_a_run_fetches_and_counts_say_one_or_many() {
    let world = World::new(small());
    world.sync(&["--since", "6d"]).assert().success();
    let out = world.sync(&["-v"]).assert().success();
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("to fetch, create time"))
        .unwrap_or_else(|| panic!("{err}"));
    // The lookback (6h), not the archive's six days.
    let from = line
        .split("create time ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let from = chrono::DateTime::parse_from_rfc3339(from).unwrap();
    assert!(from > now() - chrono::Duration::hours(7), "{line}");
    assert!(line.contains("1 window to fetch"), "{line}");
    assert!(err.contains("; 1 window, "), "{err}");
}

#[test]
fn the_bar_fits_80_columns() {
    let world = World::new(slow());
    let mut args = sync_args(&world);
    args.insert(0, "--color".into());
    args.insert(1, "never".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some((code, terminal)) = under_a_terminal(&world, &args) else {
        return;
    };
    assert_eq!(code, 0, "{terminal}");
    let mut frames = 0;
    for frame in terminal.split(['\r', '\n']) {
        let visible = strip_escapes(frame);
        if visible.contains("listings") {
            frames += 1;
            assert!(
                visible.chars().count() <= 80,
                "{} columns: {visible:?}",
                visible.chars().count()
            );
        }
    }
    assert!(frames > 0, "{terminal:?}");
}

/// Text without its terminal escape sequences (`ESC [ ... letter`).
fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// At a terminal of 80 columns a table fits it, with every job_id whole; piped, the same
/// question is not fitted (nothing wrapped, no column left out).
#[test]
fn a_terminal_of_80_columns_gets_a_table_that_fits_it() {
    let world = World::new(small());
    world.sync(&["--since", "6d"]).assert().success();
    let Some((code, terminal)) = under_a_terminal(&world, &["query", "jobs", "--limit", "5"])
    else {
        return;
    };
    assert_eq!(code, 0, "{terminal}");
    let ids: Vec<String> = {
        let conn = world.conn();
        let mut stmt = conn
            .prepare("SELECT job_id FROM jobs ORDER BY create_time DESC, job_id LIMIT 5")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for line in terminal
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
    {
        assert!(line.trim_end().chars().count() <= 80, "{line}\n{terminal}");
    }
    for id in &ids {
        assert!(
            terminal.contains(id.as_str()),
            "{id} not whole:\n{terminal}"
        );
    }
    let piped = stdout(
        &world
            .gaussjobs()
            .args(["query", "jobs", "--limit", "5"])
            .assert()
            .success(),
    );
    assert!(piped.contains("instance_name"), "{piped}");
}
