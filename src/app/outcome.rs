//! What a sync prints: a summary line per project on stderr for people, and with `--json` one
//! [`SyncOutcome`] object on stdout for monitoring, whatever happened.

use std::io::Write;

use serde::Serialize;

use crate::exit;
use crate::sync::{Stopped, SyncFailed, SyncReport};

/// One project of a sync: the account it came from (config runs) and how it went.
pub(crate) struct ProjectRun {
    pub account: Option<String>,
    pub project_id: String,
    pub result: anyhow::Result<SyncReport>,
}

/// The one object `sync --json` prints on stdout.
#[derive(Debug, Serialize)]
pub(crate) struct SyncOutcome {
    /// `ok`, `failed`, `usage`, `locked`, ...: the exit code's name.
    pub outcome: &'static str,
    pub exit_code: u8,
    pub projects: Vec<ProjectOutcome>,
    pub error: Option<ErrorOutcome>,
}

/// One project of `sync --json`. A failed project still gives the counts of what it fetched
/// and kept (as the run's ledger row has them); they are 0 when it failed before fetching
/// anything.
#[derive(Debug, Serialize)]
pub(crate) struct ProjectOutcome {
    pub project_id: String,
    pub account: Option<String>,
    /// `ok`, `failed`, or `interrupted` (a signal stopped it).
    pub outcome: &'static str,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub requests: u64,
    /// Wall time, rounded to milliseconds.
    pub seconds: f64,
    pub windows_planned: usize,
    pub windows_completed: usize,
    /// Planned windows of which a piece could not be fetched.
    pub windows_failed: usize,
    /// Planned windows the run stopped before trying.
    pub windows_not_tried: usize,
    pub open_jobs_checked: u64,
    /// Objects the API sent without a usable job_id, kept in `rejected_objects`.
    pub rejected: u64,
    /// Listings whose pages disagreed with the API's total_count, one line each.
    pub anomalies: Vec<String>,
    pub error: Option<ErrorOutcome>,
}

/// An error as monitoring sees it: the API's error code when the API gave one, and the text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorOutcome {
    pub code: Option<String>,
    /// The API's id of the failed call (`X-Request-Id`), for a support ticket.
    pub request_id: Option<String>,
    pub message: String,
}

impl ErrorOutcome {
    pub(crate) fn of(err: &anyhow::Error) -> ErrorOutcome {
        ErrorOutcome {
            code: exit::api_code(err),
            request_id: exit::api_request_id(err),
            message: exit::message(err),
        }
    }
}

/// The report of a project's run, also when it failed or was stopped part way.
pub(crate) fn report_of(result: &anyhow::Result<SyncReport>) -> Option<&SyncReport> {
    match result {
        Ok(report) => Some(report),
        Err(e) => e
            .downcast_ref::<SyncFailed>()
            .map(|failed| failed.report.as_ref())
            .or_else(|| e.downcast_ref::<Stopped>().map(|s| s.report.as_ref())),
    }
}

impl ProjectOutcome {
    pub(crate) fn of(run: &ProjectRun) -> ProjectOutcome {
        let empty = SyncReport::default();
        let r = report_of(&run.result).unwrap_or(&empty);
        let outcome = match &run.result {
            Ok(_) => "ok",
            Err(e) => match e.downcast_ref::<Stopped>().map(|s| s.reason) {
                Some(crate::sync::StopReason::Signal(_)) => "interrupted",
                _ => "failed",
            },
        };
        ProjectOutcome {
            project_id: run.project_id.clone(),
            account: run.account.clone(),
            outcome,
            new: r.counts.new,
            changed: r.counts.changed,
            unchanged: r.counts.unchanged,
            requests: r.requests,
            seconds: (r.seconds * 1000.0).round() / 1000.0,
            windows_planned: r.windows_planned,
            windows_completed: r.windows_completed,
            windows_failed: r.windows_failed,
            windows_not_tried: r.windows_not_tried,
            open_jobs_checked: r.open_jobs_checked,
            rejected: r.rejected,
            anomalies: r.anomalies.clone(),
            error: run.result.as_ref().err().map(ErrorOutcome::of),
        }
    }
}

impl SyncOutcome {
    pub(crate) fn new(
        code: u8,
        projects: Vec<ProjectOutcome>,
        error: Option<ErrorOutcome>,
    ) -> SyncOutcome {
        SyncOutcome {
            outcome: exit::outcome_name(code),
            exit_code: code,
            projects,
            error,
        }
    }

    /// Prints the object as one line on stdout. Its messages are already redacted; the line
    /// is once more, so no field added later can carry a secret out.
    pub(crate) fn print(&self) {
        let line = serde_json::to_string(self).expect("an outcome serialises");
        // A monitor that stopped reading is not worth a panic.
        let _ = writeln!(std::io::stdout(), "{}", crate::redact::redact(&line));
    }
}

/// Prints the human lines on stderr and returns the run's result: a single project's own
/// error, or for config runs one line per account (prefixed with its name; one that failed
/// does not stop the others) and an error naming the accounts that failed.
pub(crate) fn summarise(runs: Vec<ProjectRun>, quiet: bool) -> anyhow::Result<()> {
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
