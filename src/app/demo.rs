//! The demo: a simulator on a free loopback port, two syncs into a demo archive in the current
//! directory (the second after the world moved on), and a few answers. What a newcomer runs
//! first; it needs no cloud account and no network beyond loopback.
//!
//! It writes only its own file, `gaussjobs-demo.db` here, never the archive `--db` or
//! `GAUSSJOBS_DB` names: those name the user's real archive (a shell profile or a cron
//! environment sets them), which the demo must neither delete nor fill with simulated jobs.
//! It marks the file it makes as a demo archive and replaces only a file so marked that no
//! real sync has written into since.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::api::auth::Credential;
use crate::api::model::JobStatus;
use crate::api::Secret;
use crate::exit::usage_with_hint;
use crate::query::{Filter, JobsQuery, Order, QueryRequest, Question};
use crate::simulate::{SimConfig, SimJob, Simulator, TimeField, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use crate::store::{demo_file, open_read_only, DemoFile, Store};
use crate::sync::{RunControl, SyncOptions};
use crate::time;

/// Days of history the demo's simulator holds.
const DEMO_DAYS: u32 = 60;

/// The demo's own archive, in the current directory.
pub(crate) const DEMO_DB: &str = "gaussjobs-demo.db";

/// What `gaussjobs demo` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DemoRequest {
    /// Jobs the simulator holds.
    pub jobs: usize,
}

/// Runs the demo into its own archive, [`DEMO_DB`]. `asked` is the archive `--db` or
/// `GAUSSJOBS_DB` named, which the demo does not use; a note on `err` says so.
pub(crate) async fn run(
    asked: Option<&Path>,
    request: &DemoRequest,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let db = PathBuf::from(DEMO_DB);
    let db = db.as_path();
    if let Some(asked) = asked.filter(|asked| !same_file(asked, db)) {
        writeln!(
            err,
            "note: the demo writes only its own archive, ./{DEMO_DB}; it does not use {} \
             (--db or GAUSSJOBS_DB), and leaves it as it is",
            asked.display()
        )?;
    }
    replace_previous_demo(db)?;
    let now = time::now_secs();
    let simulator = Simulator::new(SimConfig {
        jobs: request.jobs,
        days: DEMO_DAYS,
        seed: 7,
        now,
        ..SimConfig::default()
    });
    let mut watched = add_running_jobs(&simulator, now);
    // One running job the API forgets before the next sync: the archive keeps its last state.
    let forgotten = watched.pop().expect("the demo adds running jobs");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot open a loopback port for the demo's simulator")?;
    let url = Url::parse(&format!("http://{}", listener.local_addr()?))?;
    // Marked before the first sync: a demo stopped half-way is still the demo's to replace.
    Store::open(db)?.mark_as_demo(url.as_str())?;
    let server = {
        let simulator = simulator.clone();
        tokio::spawn(async move { simulator.serve(listener).await })
    };

    writeln!(
        out,
        "A simulated scheduled-jobs API is serving {} jobs over {DEMO_DAYS} days at {url}",
        simulator.job_count()
    )?;
    let mut options = SyncOptions::new(
        url.clone(),
        DEFAULT_PROJECT_ID,
        Credential::Token(Secret::new(DEFAULT_TOKEN)),
    );
    options.since = Some(now - Duration::days(i64::from(DEMO_DAYS)));
    // The simulator is local: no gateway limit to respect.
    options.max_rps = 500.0;
    let first = crate::sync::run(db, &options, now, RunControl::default()).await?;
    writeln!(
        out,
        "\n$ gaussjobs --db {} sync ...   (first run)",
        db.display()
    )?;
    writeln!(out, "{}", first.summary())?;

    // The world moves on: the running jobs finish, new jobs arrive.
    let later = time::now_secs();
    for (i, job_id) in watched.iter().enumerate() {
        let status = if i % 2 == 0 { "Completed" } else { "Failed" };
        simulator.set_status(job_id, status, later);
    }
    simulator.remove_job(&forgotten);
    simulator.generate_jobs(12, now - Duration::minutes(30), now);
    options.since = None;
    let second = crate::sync::run(db, &options, time::now_secs(), RunControl::default()).await?;
    writeln!(
        out,
        "\n$ gaussjobs --db {} sync ...   (the next run, after jobs finished and new ones arrived)",
        db.display()
    )?;
    writeln!(out, "{}", second.summary())?;
    server.abort();
    leave_only_the_archive(db)?;

    let db_flag = db.display().to_string();
    let shown_job = watched.first().cloned().unwrap_or_default();
    for (question, argv, request) in questions(&shown_job, time::now_secs()) {
        writeln!(out, "\n## {question}")?;
        writeln!(out, "$ gaussjobs --db {db_flag} {}", shell_words(&argv))?;
        out.flush()?;
        crate::query::run(db, &request, out, &mut std::io::stderr())?;
    }
    let busiest: String = open_read_only(db)?.query_row(
        "SELECT instance_name FROM jobs GROUP BY instance_name ORDER BY count(*) DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    writeln!(
        out,
        "\nThe archive is {db_flag}. Ask it more, offline:\n  \
         gaussjobs --db {db_flag} query jobs --instance {busiest}\n  \
         gaussjobs --db {db_flag} query sql \"SELECT job_status, count(*) FROM jobs GROUP BY 1\""
    )?;
    Ok(())
}

/// The questions the demo asks: what it prints, the command line a user would type for it,
/// and the request that command line makes (a test holds the two together).
fn questions(job_id: &str, now: DateTime<Utc>) -> [(&'static str, Vec<String>, QueryRequest); 3] {
    let argv = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let request = |question| QueryRequest {
        format: Default::default(),
        tz: Default::default(),
        table: Default::default(),
        question,
    };
    let sql = "SELECT job_name, count(*) AS jobs, sum(job_status = 'Failed') AS failed \
               FROM jobs GROUP BY job_name ORDER BY jobs DESC LIMIT 10";
    [
        (
            "Which jobs failed this week?",
            argv(&[
                "query", "jobs", "--status", "Failed", "--since", "7d", "--limit", "8",
            ]),
            request(Question::Jobs(JobsQuery {
                filter: Filter {
                    statuses: vec![JobStatus::Failed],
                    since: Some(now - Duration::days(7)),
                    ..Filter::default()
                },
                limit: 8,
                order: Order::Newest,
            })),
        ),
        (
            "How many jobs of each type, and how many failed?",
            argv(&["query", "sql", sql]),
            request(Question::Sql {
                sql: sql.to_string(),
                params: Vec::new(),
            }),
        ),
        (
            "What happened to one job, version by version?",
            argv(&["query", "job", job_id]),
            request(Question::Job {
                job_id: job_id.to_string(),
            }),
        ),
    ]
}

/// A few jobs created minutes ago and still running, to show a status change in the history
/// (and, for the last, a job the API forgets).
fn add_running_jobs(simulator: &Simulator, now: DateTime<Utc>) -> Vec<String> {
    (0..5)
        .map(|i| {
            let created = now - Duration::minutes(20 + i * 7);
            let mut job = SimJob::new(format!("demo{i:02}0c1138dcf4f1da73b0170700c78d"), created);
            job.job_name = "ResizeGaussDBforMySQLFlavor".into();
            job.job_status = "Running".into();
            job.start_time = TimeField::At(created + Duration::seconds(5));
            job.target_config = Some(serde_json::json!({
                "flavor": "gaussdb.mysql.xlarge.arm.4", "mem": "16", "cpu": "4"
            }));
            let id = job.job_id.clone();
            simulator.add_job(job);
            id
        })
        .collect()
}

/// The demo starts from an empty archive. It replaces an earlier demo's archive (marked as
/// the demo's, and synced only from the demo's simulators) and refuses to touch anything
/// else.
fn replace_previous_demo(db: &Path) -> anyhow::Result<()> {
    match demo_file(db)? {
        DemoFile::Absent => return Ok(()),
        DemoFile::Demo => {}
        DemoFile::NotDemo(why) => {
            return Err(usage_with_hint(
                format!(
                    "{} exists and is not a demo archive ({why}); the demo will not replace it",
                    db.display()
                ),
                "the demo writes only ./gaussjobs-demo.db: run it in another directory, or \
                 move that file away if it is yours",
            ))
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot replace {}", db.display())),
        }
    }
    Ok(())
}

/// Removes the sync lock file the demo's syncs left beside its archive: a newcomer's
/// directory should hold the archive and nothing else. No other sync uses the demo's file,
/// and the demo's own syncs are over.
fn leave_only_the_archive(db: &Path) -> anyhow::Result<()> {
    let mut lock = db.as_os_str().to_owned();
    lock.push(".lock");
    match std::fs::remove_file(&lock) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", Path::new(&lock).display())),
    }
}

/// Whether `a` and `b` name one file (or would, once it exists).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        match (p.parent().map(std::fs::canonicalize), p.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => p,
        }
    };
    canonical(a) == canonical(b)
}

/// The arguments as one would type them in a shell.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=".contains(c))
            {
                a.to_string()
            } else {
                format!("\"{a}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    /// The command lines the demo prints make exactly the requests it runs.
    #[test]
    fn shown_command_lines_make_the_requests_run() {
        let now = time::now_secs();
        for (_, argv, request) in questions("demo000c1138dcf4f1da73b0170700c78d", now) {
            let cli = Cli::try_parse_from(std::iter::once("gaussjobs".to_string()).chain(argv))
                .expect("the demo's command line parses");
            let Command::Query(args) = cli.command else {
                panic!("the demo only asks queries")
            };
            let parsed = super::super::query_request::query_request(&args, now).unwrap();
            assert_eq!(parsed, request);
        }
    }
}
