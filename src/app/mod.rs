//! Runs each command: parses, dispatches to the room that does the work, and prints a sync's
//! outcome (summary lines, `--json`). Turning flags into sync options is `options`.

mod options;

pub use options::{account_options, sync_options, CredentialSource, EnvCredentials};

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{CommandFactory, Parser};
use serde_json::json;

use crate::cli::{Cli, Command, SyncArgs};
use crate::exit;
use crate::progress;
use crate::sync::{Progress, RunControl, SyncFailed, SyncOptions, SyncReport};
use crate::time;

/// Parses the command line. On a clap error returns the exit code after printing it; a
/// `sync --json` usage error also prints the JSON outcome, so monitoring always gets one.
pub fn parse() -> Result<Cli, u8> {
    let e = match Cli::try_parse() {
        Ok(cli) => return Ok(cli),
        Err(e) => e,
    };
    // --help and --version are "errors" that print on stdout and succeed.
    if !e.use_stderr() {
        let _ = e.print();
        return Err(exit::OK);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if wants_sync_json(&args) {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("invalid command line");
        let message = first.trim_start_matches("error: ").to_string();
        print_outcome(
            exit::USAGE,
            Vec::new(),
            Some(json!({ "code": null, "message": message })),
        );
    }
    let _ = e.print();
    Err(exit::USAGE)
}

/// Whether a command line that clap refused asked for `sync --json`.
fn wants_sync_json(args: &[String]) -> bool {
    args.iter().any(|a| a == "sync") && args.iter().any(|a| a == "--json")
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db_path();
    let now = time::now_secs();
    match cli.command {
        Command::Sync(ref args) => sync(&db, args, now, cli.quiet).await,
        Command::Query(ref args) => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            crate::query::run(&db, args, now, &mut stdout.lock(), &mut stderr.lock())
        }
        Command::Status(ref args) => {
            let stdout = std::io::stdout();
            crate::status::run(&db, args.format, now, &mut stdout.lock())
        }
        Command::Simulate(ref args) => crate::simulate::run_cli(args).await,
        Command::Demo(ref args) => {
            let stdout = std::io::stdout();
            crate::demo::run(&db, args, &mut stdout.lock()).await
        }
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "gaussjobs", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

/// One project of a sync: the account it came from (config runs) and how it went.
struct ProjectRun {
    account: Option<String>,
    project_id: String,
    result: anyhow::Result<SyncReport>,
}

/// `gaussjobs sync`: one project (`--project-id`) or the accounts of `--config`. Human lines
/// go to stderr; with `--json`, one JSON object goes to stdout whatever happens.
async fn sync(db: &Path, args: &SyncArgs, now: DateTime<Utc>, quiet: bool) -> anyhow::Result<()> {
    let runs = sync_projects(db, args, now, quiet).await;
    let (projects, result) = match runs {
        Ok(runs) => {
            let projects = runs.iter().map(project_json).collect();
            (projects, summarise(runs, quiet))
        }
        Err(e) => (Vec::new(), Err(e)),
    };
    if args.json {
        let code = match &result {
            Ok(()) => exit::OK,
            Err(e) => exit::code_for(e),
        };
        print_outcome(code, projects, result.as_ref().err().map(exit::to_json));
    }
    result
}

/// Builds the options and runs every project, with a bar when a person is watching. An error
/// here means no project started (a usage error, the lock held).
async fn sync_projects(
    db: &Path,
    args: &SyncArgs,
    now: DateTime<Utc>,
    quiet: bool,
) -> anyhow::Result<Vec<ProjectRun>> {
    let accounts: Vec<(Option<String>, SyncOptions)> =
        if args.project_id.is_none() && args.config.is_some() {
            account_options(args, now, &EnvCredentials)?
                .into_iter()
                .map(|(name, options)| (Some(name), options))
                .collect()
        } else {
            vec![(None, sync_options(args, now, &EnvCredentials)?)]
        };
    let draw = progress::should_draw(std::io::stderr().is_terminal(), quiet, args.json);
    let bar = draw.then(|| Arc::new(progress::Bar::start(accounts.len())));
    let mut control = RunControl {
        wait_for_lock: args.wait,
        ..RunControl::default()
    };
    if let Some(bar) = &bar {
        control.progress = Arc::clone(bar) as Arc<dyn Progress>;
    }
    let options: Vec<SyncOptions> = accounts.iter().map(|(_, o)| o.clone()).collect();
    let results = crate::sync::run_many(db, &options, now, control).await;
    if let Some(bar) = &bar {
        bar.finish();
    }
    Ok(accounts
        .into_iter()
        .zip(results?)
        .map(|((account, options), result)| ProjectRun {
            account,
            project_id: options.project_id,
            result,
        })
        .collect())
}

/// Prints the human lines on stderr and returns the run's result: a single project's own
/// error, or for config runs one line per account (prefixed with its name; one that failed
/// does not stop the others) and an error naming the accounts that failed.
fn summarise(runs: Vec<ProjectRun>, quiet: bool) -> anyhow::Result<()> {
    let total = runs.len();
    let mut failed = Vec::new();
    for run in runs {
        match (run.account, run.result) {
            (None, Ok(report)) => {
                if !quiet {
                    eprintln!("{}", report.summary());
                }
            }
            (None, Err(e)) => return Err(e),
            (Some(name), Ok(report)) => {
                if !quiet {
                    eprintln!("{name}: {}", report.summary());
                }
            }
            (Some(name), Err(e)) => {
                let mut text = Vec::new();
                exit::report(&e, &mut text);
                for line in String::from_utf8_lossy(&text).lines() {
                    eprintln!("{name}: {line}");
                }
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{} of {} accounts failed: {}",
            failed.len(),
            total,
            failed.join(", ")
        ))
    }
}

/// One project of `sync --json`. A failed project still gives the counts of what it fetched
/// (they are kept); they are 0 when it failed before fetching anything.
fn project_json(run: &ProjectRun) -> serde_json::Value {
    let report = match &run.result {
        Ok(report) => Some(report),
        Err(e) => e
            .downcast_ref::<SyncFailed>()
            .map(|failed| failed.report.as_ref()),
    };
    let empty = SyncReport::default();
    let r = report.unwrap_or(&empty);
    json!({
        "project_id": run.project_id,
        "account": run.account,
        "outcome": if run.result.is_ok() { "ok" } else { "failed" },
        "new": r.counts.new,
        "changed": r.counts.changed,
        "unchanged": r.counts.unchanged,
        "requests": r.requests,
        "seconds": (r.seconds * 1000.0).round() / 1000.0,
        "windows_planned": r.windows_planned,
        "windows_completed": r.windows_completed,
        "open_jobs_checked": r.open_jobs_checked,
        "error": run.result.as_ref().err().map(exit::to_json),
    })
}

/// The one object `sync --json` prints on stdout.
fn print_outcome(code: u8, projects: Vec<serde_json::Value>, error: Option<serde_json::Value>) {
    let outcome = json!({
        "outcome": exit::outcome_name(code),
        "exit_code": code,
        "projects": projects,
        "error": error,
    });
    // A monitor that stopped reading is not worth a panic.
    let _ = writeln!(std::io::stdout(), "{outcome}");
}
