//! The runner: takes the lock, and for each project plans, fetches the windows concurrently
//! into one writer, refreshes the open jobs, and keeps the run ledger. A window that fails
//! leaves its coverage unrecorded, so the next run fetches exactly what is missing; everything
//! else fetched is kept.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::fetch::{Fetcher, Listing, ListingError};
use super::plan::{plan, PlanInput};
use super::progress::{Progress, Silent};
use super::refresh::{recent_start, refresh_open_jobs};
use super::stop::{Stop, StopReason};
use super::workers::fetch_all;
use super::writer::{Writer, WriterContext, Written, WRITER_QUEUE_PAGES};
use super::{Clock, SyncOptions, SyncReport, DEFAULT_SINCE};
use crate::api::{Client, ClientConfig};
use crate::store::{RunFinish, RunOutcome, RunStart, ScopeKey, Store, SyncLock, Window};
use crate::time;

/// How the run treats the lock and several projects, and who hears of its progress.
#[derive(Clone)]
pub struct RunControl {
    /// Wait for another sync to finish instead of exiting 75 at once.
    pub wait_for_lock: bool,
    /// Projects synced at the same time.
    pub parallel_projects: usize,
    pub progress: Arc<dyn Progress>,
    /// When pages are seen and runs end.
    pub clock: Clock,
    /// Asked to stop early (`--max-time`, a signal).
    pub stop: Stop,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            wait_for_lock: false,
            parallel_projects: 4,
            progress: Arc::new(Silent),
            clock: Clock::Wall,
            stop: Stop::default(),
        }
    }
}

/// The run failed: some listings could not be fetched, or the archive could not be written.
/// What was fetched is kept; `report` says how far it got.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {planned} listings could not be fetched (what was fetched is kept; the next sync fetches the rest): {first}")]
pub struct SyncFailed {
    pub failed: usize,
    pub planned: usize,
    #[source]
    pub first: ListingError,
    pub report: Box<SyncReport>,
}

/// The run was stopped (`--max-time`, a signal) before it finished. What was fetched is kept
/// and the next sync fetches the rest; `report` says how far it got.
#[derive(Debug, thiserror::Error)]
#[error("{reason}: {}", kept(report))]
pub struct Stopped {
    pub reason: StopReason,
    pub report: Box<SyncReport>,
}

/// What a stopped run kept and left, in one clause.
fn kept(report: &SyncReport) -> String {
    format!(
        "kept {} new and {} changed jobs; {} of {} windows are left for the next sync",
        report.counts.new,
        report.counts.changed,
        report
            .windows_planned
            .saturating_sub(report.windows_completed),
        report.windows_planned
    )
}

/// Runs one sync of `options` into the archive at `db`.
pub async fn run(
    db: &Path,
    options: &SyncOptions,
    now: DateTime<Utc>,
    control: RunControl,
) -> anyhow::Result<SyncReport> {
    let mut results = run_many(db, std::slice::from_ref(options), now, control).await?;
    results.pop().expect("one result per project")
}

/// Syncs several projects into one archive under one lock, `control.parallel_projects` at a
/// time. A project that fails does not stop the others: each has its own result.
pub async fn run_many(
    db: &Path,
    projects: &[SyncOptions],
    now: DateTime<Utc>,
    control: RunControl,
) -> anyhow::Result<Vec<anyhow::Result<SyncReport>>> {
    // A stop while waiting for the lock ends the run before it starts.
    let lock = tokio::select! {
        lock = acquire_lock(db, control.wait_for_lock) => lock?,
        () = control.stop.requested() => {
            let reason = control.stop.reason().expect("a stop was requested");
            return Err(anyhow::Error::new(Stopped {
                reason,
                report: Box::default(),
            })
            .context("the run stopped while waiting for the archive's lock"));
        }
    };
    let interrupted = Store::open(db)?.mark_interrupted_runs()?;
    if interrupted > 0 {
        tracing::warn!(
            "{interrupted} earlier sync runs had been killed; this run completes their work"
        );
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(
        control.parallel_projects.max(1),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, options) in projects.iter().cloned().enumerate() {
        let (db, permits) = (db.to_path_buf(), Arc::clone(&permits));
        let progress = Arc::clone(&control.progress);
        let clock = control.clock;
        let stop = control.stop.clone();
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = run_scope(&db, &options, now, Arc::clone(&progress), clock, stop).await;
            progress.project_done(&options.project_id);
            (index, result)
        });
    }
    let mut results: Vec<Option<anyhow::Result<SyncReport>>> =
        projects.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.context("a project's sync panicked")?;
        results[index] = Some(result);
    }
    drop(lock);
    Ok(results
        .into_iter()
        .map(|r| r.expect("every project reports"))
        .collect())
}

async fn acquire_lock(db: &Path, wait: bool) -> anyhow::Result<SyncLock> {
    if !wait {
        return Ok(SyncLock::acquire(db)?);
    }
    let db = db.to_path_buf();
    Ok(tokio::task::spawn_blocking(move || SyncLock::acquire_waiting(&db)).await??)
}

/// One project: plan, then the windows and the open jobs through one writer, then the ledger.
async fn run_scope(
    db: &Path,
    options: &SyncOptions,
    now: DateTime<Utc>,
    progress: Arc<dyn Progress>,
    clock: Clock,
    stop: Stop,
) -> anyhow::Result<SyncReport> {
    let started = Instant::now();
    let mut store = Store::open(db)?;
    let planned = plan_scope(&mut store, options, now)?;
    progress.add_listings(&options.project_id, planned.windows.len() as u64);
    // A first sync writes its jobs with their key alone and builds the query indexes at the
    // end (see `store::indexes`).
    let indexes_deferred = store.defer_query_indexes()?;
    let run_id = store.begin_run(&run_start(options, &planned, now))?;
    let client = Arc::new(Client::new(client_config(options))?);

    // One writer owns the project's connection; fetchers hand it pages through a bounded
    // channel, so memory stays a few pages however many jobs there are.
    let (writer, sender) = Writer::spawn(
        store,
        WRITER_QUEUE_PAGES.max(options.concurrency * 2),
        WriterContext {
            run_id,
            scope_id: planned.scope_id,
            client: Arc::clone(&client),
            progress: Arc::clone(&progress),
            project_id: options.project_id.clone(),
            runtime: tokio::runtime::Handle::current(),
            indexes_deferred,
        },
    );
    let fetcher = Fetcher {
        client: Arc::clone(&client),
        project_id: options.project_id.clone(),
        page_size: options.page_size,
        filter: options.filter.clone(),
        writer: sender,
        progress,
        clock,
        stop: stop.clone(),
    };
    let fetched = fetch_scope(db, fetcher, options, run_id, planned).await;
    // The fetcher, the writer's last sender, is gone: the writer finishes.
    let written = writer.finish().await?;
    finish_scope(
        options,
        run_id,
        clock,
        started,
        client.requests(),
        fetched,
        written,
        stop.reason(),
    )
}

/// What a project's run is to fetch.
struct Planned {
    scope_id: i64,
    key: ScopeKey,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    windows: Vec<Window>,
}

/// Finds (or creates) the project's scope and plans its windows from the scope's coverage.
fn plan_scope(
    store: &mut Store,
    options: &SyncOptions,
    now: DateTime<Utc>,
) -> anyhow::Result<Planned> {
    let key = ScopeKey {
        endpoint: endpoint_key(&options.endpoint),
        project_id: options.project_id.clone(),
        filter: options.filter.canonical(),
    };
    let scope = store.scope(&key, options.since, now - DEFAULT_SINCE, now)?;
    let until = options.until.unwrap_or(now);
    let windows = plan(&PlanInput {
        since: scope.since,
        until,
        coverage: &scope.coverage,
        lookback: options.lookback,
        window: options.window,
    })?;
    tracing::info!(
        "{}: {} windows to fetch between {} and {}",
        key.project_id,
        windows.len(),
        time::to_store(scope.since),
        time::to_store(until)
    );
    Ok(Planned {
        scope_id: scope.scope_id,
        key,
        since: scope.since,
        until,
        windows,
    })
}

/// The run's ledger row as it starts.
fn run_start(options: &SyncOptions, planned: &Planned, now: DateTime<Utc>) -> RunStart {
    RunStart {
        started_at: now,
        endpoint: planned.key.endpoint.clone(),
        project_id: planned.key.project_id.clone(),
        scope_id: planned.scope_id,
        range_start: planned.since,
        range_end: planned.until,
        options: options_json(options),
        windows_planned: planned.windows.len() as u64,
    }
}

fn client_config(options: &SyncOptions) -> ClientConfig {
    ClientConfig {
        endpoint: options.endpoint.clone(),
        project_id: options.project_id.clone(),
        credential: options.credential.clone(),
        language: options.language,
        timeout: options.timeout,
        connect_timeout: options.timeout.min(StdDuration::from_secs(10)),
        max_rps: options.max_rps,
        retry: options.retry,
    }
}

/// What the fetchers did.
struct Fetched {
    windows_planned: usize,
    windows_completed: usize,
    open_checked: u64,
    failed: Vec<(Listing, ListingError)>,
}

/// Fetches the planned windows, then, unless that was stopped or the scope is limited to a
/// status, refreshes the open jobs. Takes the fetcher so that its queue to the writer closes
/// when this returns.
async fn fetch_scope(
    db: &Path,
    fetcher: Fetcher,
    options: &SyncOptions,
    run_id: i64,
    planned: Planned,
) -> Fetched {
    let windows_planned = planned.windows.len();
    let recent_start = recent_start(&planned.windows, planned.until);
    let mut outcome = fetch_all(
        planned.windows.into_iter().map(Listing::Window).collect(),
        options.concurrency,
        &fetcher,
    )
    .await;
    let mut open_checked = 0;
    if !outcome.aborted && options.filter.status.is_none() {
        match refresh_open_jobs(db, &fetcher, options, run_id, recent_start).await {
            Ok(refresh) => {
                open_checked = refresh.checked;
                outcome.failed.extend(refresh.failed);
            }
            Err(e) => outcome.failed.push((
                Listing::Status {
                    status: "open".into(),
                    created_before: None,
                },
                e,
            )),
        }
    }
    Fetched {
        windows_planned,
        windows_completed: outcome.completed,
        open_checked,
        failed: outcome.failed,
    }
}

/// Records how the run ended in the ledger and gives its report, or why it failed or was
/// stopped.
#[allow(clippy::too_many_arguments)]
fn finish_scope(
    options: &SyncOptions,
    run_id: i64,
    clock: Clock,
    started: Instant,
    requests: u64,
    mut fetched: Fetched,
    written: Written,
    stopped: Option<StopReason>,
) -> anyhow::Result<SyncReport> {
    let Written {
        mut store,
        counts,
        error: write_error,
    } = written;
    // The writer's own error explains a WriterGone; list real causes first.
    fetched
        .failed
        .sort_by_key(|(_, e)| matches!(e, ListingError::WriterGone));
    let report = SyncReport {
        run_id,
        project_id: options.project_id.clone(),
        counts,
        requests,
        seconds: started.elapsed().as_secs_f64(),
        windows_planned: fetched.windows_planned,
        windows_completed: fetched.windows_completed,
        open_jobs_checked: fetched.open_checked,
        failed: fetched
            .failed
            .iter()
            .map(|(l, e)| format!("{l}: {e}"))
            .collect(),
    };
    // A stop only matters when it left work undone.
    let stopped = stopped.filter(|_| report.windows_completed < report.windows_planned);
    // The text can quote a server, and a server can echo a credential back.
    let error_text = write_error
        .as_ref()
        .map(|e| e.to_string())
        .or_else(|| stopped.map(|reason| format!("{reason}: {}", kept(&report))))
        .or_else(|| report.failed.first().cloned())
        .map(|text| crate::redact::redact(&text).into_owned());
    let outcome = match (&error_text, stopped) {
        (None, _) => RunOutcome::Ok,
        (Some(_), Some(StopReason::Signal(_))) => RunOutcome::Interrupted,
        (Some(_), _) => RunOutcome::Failed,
    };
    store.finish_run(
        run_id,
        &RunFinish {
            finished_at: clock.now(),
            outcome,
            error: error_text,
            requests,
        },
    )?;

    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some(reason) = stopped {
        return Err(Stopped {
            reason,
            report: Box::new(report),
        }
        .into());
    }
    if let Some((_, first)) = fetched.failed.into_iter().next() {
        return Err(SyncFailed {
            failed: report.failed.len(),
            planned: fetched.windows_planned,
            first,
            report: Box::new(report),
        }
        .into());
    }
    Ok(report)
}

/// The endpoint as the archive keys scopes and runs by: without a trailing `/`, and never
/// with a `user:password@` part (such endpoints are refused before a run; this keeps one out
/// of the archive whatever the caller).
fn endpoint_key(endpoint: &url::Url) -> String {
    let mut endpoint = endpoint.clone();
    let _ = endpoint.set_username("");
    let _ = endpoint.set_password(None);
    endpoint.as_str().trim_end_matches('/').to_string()
}

/// The options a run records in its ledger row (never the credentials).
fn options_json(o: &SyncOptions) -> String {
    serde_json::json!({
        "window_seconds": o.window.num_seconds(),
        "lookback_seconds": o.lookback.num_seconds(),
        "page_size": o.page_size,
        "concurrency": o.concurrency,
        "max_rps": o.max_rps,
        "status": o.filter.status,
        "job_name": o.filter.job_name,
        "instance_id": o.filter.instance_id,
        "since": o.since.map(time::to_store),
        "until": o.until.map(time::to_store),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::endpoint_key;

    #[test]
    fn the_endpoint_key_never_holds_userinfo() {
        let url = "https://robot:pw-key-test@gaussdb.example.com/"
            .parse()
            .unwrap();
        assert_eq!(endpoint_key(&url), "https://gaussdb.example.com");
        let url = "http://127.0.0.1:8080".parse().unwrap();
        assert_eq!(endpoint_key(&url), "http://127.0.0.1:8080");
    }
}
