//! What may end a sync early, at the edge: `--max-time` and SIGINT/SIGTERM. Each turns into a
//! request on the run's [`Stop`]; the run then stops fetching, commits what it has and marks
//! its ledger row, and [`stopped_error`] words the one line the user sees. A second signal
//! exits at once, for someone who really means it.

use std::time::Duration;

use tokio::task::JoinSet;

use crate::exit;
use crate::sync::{Signal, Stop, StopReason, SyncReport};

/// Watches the clock and the signals for one run; dropping it stops watching.
pub(crate) struct StopWatch {
    _tasks: JoinSet<()>,
}

/// Starts watching: `max_time` after now, and SIGINT/SIGTERM, each request a stop.
pub(crate) fn watch(stop: &Stop, max_time: Option<Duration>) -> anyhow::Result<StopWatch> {
    let mut tasks = JoinSet::new();
    if let Some(budget) = max_time {
        let stop = stop.clone();
        tasks.spawn(async move {
            tokio::time::sleep(budget).await;
            tracing::warn!(
                "--max-time {} is up; stopping",
                humantime::format_duration(budget)
            );
            stop.request(StopReason::TimeBudget(budget));
        });
    }
    for (kind, signal) in [
        (
            tokio::signal::unix::SignalKind::interrupt(),
            Signal::Interrupt,
        ),
        (
            tokio::signal::unix::SignalKind::terminate(),
            Signal::Terminate,
        ),
    ] {
        let mut stream = tokio::signal::unix::signal(kind)?;
        let stop = stop.clone();
        tasks.spawn(async move {
            if stream.recv().await.is_none() {
                return;
            }
            stop.request(StopReason::Signal(signal));
            if stream.recv().await.is_some() {
                eprintln!(
                    "{} again: exiting without waiting for the archive",
                    signal.name()
                );
                std::process::exit(i32::from(signal_code(signal)));
            }
        });
    }
    Ok(StopWatch { _tasks: tasks })
}

fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Interrupt => exit::INTERRUPTED,
        Signal::Terminate => exit::TERMINATED,
    }
}

/// The run's one line when it was stopped, over every project's report: what was kept and
/// what is left. A signal exits 130/143; `--max-time` exits 1 with a hint.
pub(crate) fn stopped_error(reason: StopReason, reports: &[&SyncReport]) -> anyhow::Error {
    let new: u64 = reports.iter().map(|r| r.counts.new).sum();
    let changed: u64 = reports.iter().map(|r| r.counts.changed).sum();
    let planned: usize = reports.iter().map(|r| r.windows_planned).sum();
    let completed: usize = reports.iter().map(|r| r.windows_completed).sum();
    let message = format!(
        "{reason}: {}",
        crate::sync::left_for_next(new, changed, planned, completed)
    );
    match reason {
        StopReason::Signal(signal) => exit::Signalled {
            code: signal_code(signal),
            message,
        }
        .into(),
        StopReason::TimeBudget(_) => exit::Hinted {
            message,
            hint: "the next sync continues where this one stopped; if runs keep stopping, raise --max-time or sync a shorter range".into(),
        }
        .into(),
    }
}
