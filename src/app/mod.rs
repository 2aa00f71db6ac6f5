//! The edge of the program: parses the command line, turns each command's flags into one
//! typed request (the only room that sees clap's types), hands it to the room that does the
//! work, and prints a sync's outcome. Words for users live here and in `exit`.

mod command;
mod config;
mod demo;
mod doctor;
mod logging;
mod man;
mod options;
mod outcome;
mod progress;
mod query_request;
mod report_request;
mod simulate;
mod stops;
mod times;

pub use command::command;
pub use options::{account_options, sync_options, CredentialSource, EnvCredentials};
pub use query_request::query_request;
#[cfg(test)]
pub(crate) use query_request::query_request_from_argv;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::CommandFactory;

use crate::cli::{Cli, Command, SyncArgs};
use crate::exit;
use crate::sync::{Progress, RunControl, Stop, SyncOptions};
use crate::time;
use outcome::{ErrorOutcome, ProjectOutcome, ProjectRun, SyncOutcome};

/// Parses the command line. On a clap error returns the exit code after printing it; a
/// `sync --json` usage error also prints the JSON outcome, so monitoring always gets one.
pub fn parse() -> Result<Cli, u8> {
    use clap::FromArgMatches;
    let parsed = command()
        .try_get_matches()
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    let e = match parsed {
        Ok(cli) => return Ok(cli),
        Err(e) => e,
    };
    // --help and --version are "errors" that print on stdout and succeed.
    if !e.use_stderr() {
        let _ = e.print();
        return Err(exit::OK);
    }
    if wants_sync_json(std::env::args_os().collect()) {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("invalid command line");
        let message = first.trim_start_matches("error: ").to_string();
        let error = ErrorOutcome {
            code: None,
            request_id: None,
            message,
        };
        SyncOutcome::new(exit::USAGE, Vec::new(), Some(error)).print();
    }
    let _ = e.print();
    Err(exit::USAGE)
}

/// Whether a command line that clap refused is `sync ... --json`. It is parsed again with
/// errors ignored, so only a `sync` command counts (not `query jobs --job-name sync --json`);
/// `--json` counts when clap read it, or when it stands after an argument clap stopped at.
fn wants_sync_json(argv: Vec<std::ffi::OsString>) -> bool {
    let Ok(matches) = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(argv.clone())
    else {
        return false;
    };
    match matches.subcommand() {
        Some(("sync", sync)) => {
            sync.try_get_one::<bool>("json").ok().flatten() == Some(&true)
                || argv.iter().any(|a| a == "--json")
        }
        _ => false,
    }
}

/// Sets up logging on stderr from the global flags.
pub fn init_logging(cli: &Cli) {
    let colour = command::colour_logs(
        cli.color,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    logging::init(cli.verbose, cli.quiet, cli.log_format, colour);
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db_path();
    let now = time::now_secs();
    match cli.command {
        Command::Sync(ref args) => sync(&db, args, now, cli.quiet).await,
        Command::Query(ref args) => {
            let request = query_request::query_request(args, now)?;
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            crate::query::run(&db, &request, &mut stdout.lock(), &mut stderr.lock())
        }
        Command::Status(ref args) => status(&db, args, now),
        Command::Doctor(ref args) => {
            let mut stdout = std::io::stdout();
            doctor::run(&db, args, now, &mut stdout).await
        }
        Command::Report(ref args) => {
            let request = report_request::report_request(args, &db, now)?;
            report(&db, &request, &args.out, now, cli.quiet)
        }
        Command::Simulate(ref args) => simulate::run(args).await,
        Command::Demo(ref args) => {
            let request = demo::DemoRequest {
                jobs: args.jobs as usize,
            };
            let stdout = std::io::stdout();
            let asked = cli.db.as_deref();
            demo::run(asked, &request, &mut stdout.lock(), &mut std::io::stderr()).await
        }
        Command::Completions { shell } => {
            let mut command = command();
            clap_complete::generate(shell, &mut command, "gaussjobs", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { ref dir } => match dir {
            Some(dir) => {
                let pages = man::write_pages(command(), dir)?;
                eprintln!("wrote {} man pages into {}", pages.len(), dir.display());
                Ok(())
            }
            None => man::write_top(command(), &mut std::io::stdout()),
        },
    }
}

/// `gaussjobs status`: the table (or JSON, CSV), or with `--check` the health lines and
/// exit 1 on any problem; `--metrics-file` writes the numbers for Prometheus as well.
fn status(db: &Path, args: &crate::cli::StatusArgs, now: DateTime<Utc>) -> anyhow::Result<()> {
    use crate::query::health;
    let max_age =
        time::parse_duration(&args.max_age).map_err(|e| exit::usage(format!("--max-age: {e}")))?;
    if let Some(path) = &args.metrics_file {
        health::write_metrics(db, path, now)?;
    }
    let stdout = std::io::stdout();
    if args.check {
        let healthy = health::check(db, max_age, now, &mut stdout.lock())?;
        if !healthy {
            return Err(exit::AlreadyReported("the archive is not healthy".into()).into());
        }
        return Ok(());
    }
    let request = query_request::status_request(args);
    crate::query::status::run(db, &request, now, &mut stdout.lock())
}

/// `gaussjobs report`: the HTML to stdout (`--out -`) or to a file that appears whole: it is
/// written beside its final name and renamed, so a failed report leaves no half page.
fn report(
    db: &Path,
    request: &crate::report::ReportRequest,
    out: &Path,
    now: DateTime<Utc>,
    quiet: bool,
) -> anyhow::Result<()> {
    if out == Path::new("-") {
        let stdout = std::io::stdout();
        crate::report::run(db, request, now, &mut stdout.lock())?;
        return Ok(());
    }
    let written = crate::output_file::replace(out, |w| crate::report::run(db, request, now, w))?;
    if !quiet {
        eprintln!(
            "wrote {}: {} jobs, {} KiB",
            out.display(),
            written.jobs,
            written.bytes.div_ceil(1024)
        );
    }
    Ok(())
}

/// `gaussjobs sync`: one project (`--project-id`) or the accounts of `--config`. Human lines
/// go to stderr; with `--json`, one JSON object goes to stdout whatever happens.
async fn sync(db: &Path, args: &SyncArgs, now: DateTime<Utc>, quiet: bool) -> anyhow::Result<()> {
    let stop = Stop::default();
    let runs = match options::max_time(args) {
        Ok(max_time) => match stops::watch(&stop, max_time) {
            Ok(_watch) => sync_projects(db, args, now, quiet, &stop).await,
            Err(e) => Err(e.context("cannot watch for signals")),
        },
        Err(e) => Err(e),
    };
    let (projects, result) = match (runs, stop.reason()) {
        // Stopped: one line for the whole run, whatever each project did.
        (runs, Some(reason)) => {
            let runs = runs.unwrap_or_default();
            let reports: Vec<_> = runs
                .iter()
                .filter_map(|r| outcome::report_of(&r.result))
                .collect();
            let error = stops::stopped_error(reason, &reports);
            (runs.iter().map(ProjectOutcome::of).collect(), Err(error))
        }
        (Ok(runs), None) => {
            let projects = runs.iter().map(ProjectOutcome::of).collect();
            (projects, outcome::summarise(runs, quiet))
        }
        (Err(e), None) => (Vec::new(), Err(e)),
    };
    // The numbers are written whatever the outcome, so a failed run shows as one.
    let result = match (&args.metrics_file, result) {
        (None, result) => result,
        (Some(path), result) => {
            match crate::query::health::write_metrics(db, path, time::now_secs()) {
                Ok(()) => result,
                Err(e) if result.is_ok() => Err(e),
                Err(e) => {
                    tracing::warn!("cannot write the metrics file: {e:#}");
                    result
                }
            }
        }
    };
    if args.json {
        let code = match &result {
            Ok(()) => exit::OK,
            Err(e) => exit::code_for(e),
        };
        let error = result.as_ref().err().map(ErrorOutcome::of);
        SyncOutcome::new(code, projects, error).print();
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
    stop: &Stop,
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
        stop: stop.clone(),
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

#[cfg(test)]
mod tests {
    use super::wants_sync_json;

    #[test]
    fn only_the_syncs_own_json_flag_asks_for_a_json_outcome() {
        let yes = |argv: &str| wants_sync_json(argv.split(' ').map(Into::into).collect());
        assert!(yes("gaussjobs sync --json --page-size 0"));
        assert!(yes("gaussjobs --db x.db sync --bogus --json"));
        assert!(!yes("gaussjobs query jobs --job-name sync --json"));
        assert!(!yes("gaussjobs sync --page-size 0"));
        assert!(!yes("gaussjobs query sql sync --json"));
    }
}
