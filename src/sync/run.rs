//! The runner: takes the lock, and for each project plans, fetches the windows concurrently
//! into one writer, refreshes the open jobs, and keeps the run ledger. A window that fails
//! leaves its coverage unrecorded, so the next run fetches exactly what is missing; everything
//! else fetched is kept.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::by_count::{fetch_by_count, Recheck};
use super::fetch::{Fetcher, Listing, ListingError};
use super::plan::{plan, PlanInput};
use super::progress::{Progress, Silent};
use super::refresh::{recent_start, refresh_open_jobs, RefreshRange};
use super::stop::{Stop, StopReason};
use super::workers::Tally;
use super::writer::{Writer, WriterContext, Written, WRITER_QUEUE_PAGES};
use super::{Clock, SyncOptions, SyncReport, DEFAULT_SINCE};
use crate::api::{ApiError, Client, ClientConfig};
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
/// What was fetched is kept; `report` says how far it got, in the counts the ledger has.
#[derive(Debug, thiserror::Error)]
#[error("{summary}: {first}")]
pub struct SyncFailed {
    /// What failed, counted in the units the run planned ("2 of 62 windows could not be
    /// fetched ..."), or plainly what stopped it ("the credential was refused; nothing was
    /// fetched").
    pub summary: String,
    /// The first cause.
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
    left_for_next(
        report.counts.new,
        report.counts.changed,
        report.windows_planned,
        report.windows_completed,
    )
}

/// `kept 812 new and 3 changed jobs; 14 of 61 windows are left for the next sync`, with
/// `1 of 1 window is left` said as it is.
pub fn left_for_next(new: u64, changed: u64, planned: usize, completed: usize) -> String {
    let left = planned.saturating_sub(completed);
    format!(
        "kept {new} new and {changed} changed jobs; {left} of {} {} left for the next sync",
        super::count(planned as u64, "window", "windows"),
        if left == 1 { "is" } else { "are" }
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
            "{} been killed; this run completes their work",
            match interrupted {
                1 => "1 earlier sync run had".to_string(),
                n => format!("{n} earlier sync runs had"),
            }
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
    /// Where the newest stretch starts when it only reads again what earlier runs fetched
    /// (the lookback) and what came since (see `by_count::Recheck`).
    recheck: Option<DateTime<Utc>>,
}

/// The archived jobs a listing of `[start, until)` would count: its requests reach a second
/// beyond each end (see `fetch`).
fn archived_between(
    db: &Path,
    project_id: &str,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64, crate::store::StoreError> {
    crate::store::OpenJobsReader::open(db)?.jobs_created_between(
        project_id,
        start
            .checked_sub_signed(chrono::Duration::seconds(1))
            .unwrap_or(start),
        until
            .checked_add_signed(chrono::Duration::seconds(1))
            .unwrap_or(until),
    )
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
    // What this run fetches: its windows' range (the lookback and any gaps), not the
    // archive's whole span.
    match (
        windows.iter().map(|w| w.start).min(),
        windows.iter().map(|w| w.end).max(),
    ) {
        (Some(from), Some(to)) => tracing::info!(
            "{}: {} to fetch, create time {} .. {} (the archive covers from {})",
            key.project_id,
            super::count(windows.len() as u64, "window", "windows"),
            time::to_store(from),
            time::to_store(to),
            time::to_store(scope.since)
        ),
        _ => tracing::info!(
            "{}: nothing to fetch up to {}",
            key.project_id,
            time::to_store(until)
        ),
    }
    // Only a scope of every job: a filtered one's archived jobs are not what the API counts
    // (a status changes after it was archived).
    let frontier = scope.coverage.iter().map(|c| c.to).max();
    let recheck = match (frontier, recent_start(&windows, until)) {
        (Some(frontier), Some(start))
            if key.filter.is_empty()
                && frontier
                    .checked_sub_signed(options.lookback)
                    .is_some_and(|from| start >= from) =>
        {
            Some(start)
        }
        _ => None,
    };
    Ok(Planned {
        scope_id: scope.scope_id,
        key,
        since: scope.since,
        until,
        windows,
        recheck,
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

/// The API client's settings for a sync's options.
pub fn client_config(options: &SyncOptions) -> ClientConfig {
    ClientConfig {
        endpoint: options.endpoint.clone(),
        fallbacks: options.fallbacks.clone(),
        network: options.network.clone(),
        project_id: options.project_id.clone(),
        credential: options.credential.clone(),
        language: options.language,
        timeout: options.timeout,
        connect_timeout: options.timeout.min(StdDuration::from_secs(10)),
        max_rps: options.max_rps,
        retry: options.retry,
    }
}

/// What the fetchers did, each kind of listing counted as it was planned.
struct Fetched {
    windows: Tally,
    /// The open-status lists of the refresh.
    lists: Tally,
    /// The archived open jobs the refresh asked for by id.
    lookups: Tally,
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
    let mut range = RefreshRange {
        since: planned.since,
        created_before: recent_start(&planned.windows, planned.until),
    };
    let recheck = match planned.recheck {
        Some(start) => match archived_between(db, &options.project_id, start, planned.until) {
            Ok(archived) => Some(Recheck { start, archived }),
            Err(e) => {
                tracing::warn!("the archive's jobs could not be counted: {e}");
                None
            }
        },
        None => None,
    };
    let outcome = fetch_by_count(planned.windows, options.concurrency, &fetcher, recheck).await;
    // A stretch read by its first page alone did not see its open jobs: the lists cover it.
    if outcome.skimmed {
        range.created_before = None;
    }
    let mut fetched = Fetched {
        windows: outcome.tally,
        lists: Tally::default(),
        lookups: Tally::default(),
        open_checked: 0,
        failed: outcome.failed,
    };
    if !outcome.aborted && options.filter.status.is_none() {
        match refresh_open_jobs(db, &fetcher, options, run_id, range).await {
            Ok(refresh) => {
                fetched.open_checked = refresh.checked;
                fetched.lists = refresh.lists;
                fetched.lookups = refresh.lookups;
                fetched.failed.extend(refresh.failed);
            }
            Err(e) => fetched.failed.push((
                Listing::Status {
                    status: "open".into(),
                    created_after: None,
                    created_before: None,
                },
                e,
            )),
        }
    }
    fetched
}

/// Records how the run ended in the ledger and gives its report, or why it failed or was
/// stopped. A failed or stopped run's report carries what it kept, as the ledger counts it.
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
        tally,
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
        windows_planned: fetched.windows.planned,
        windows_completed: tally.windows_completed as usize,
        windows_failed: fetched.windows.failed,
        windows_not_tried: fetched.windows.not_tried(),
        open_jobs_checked: fetched.open_checked,
        rejected: tally.rejected,
        anomalies: tally.anomalies,
        failed: fetched
            .failed
            .iter()
            .map(|(l, e)| format!("{l}: {e}"))
            .collect(),
    };
    // A stop only matters when it left work undone.
    let stopped = stopped.filter(|_| report.windows_completed < report.windows_planned);
    let failure = match write_error {
        Some(e) => Some((write_failure_summary(&report), ListingError::Store(e))),
        None => {
            let summary = fetched
                .failed
                .first()
                .map(|(_, first)| failure_summary(&fetched, first, tally.pages));
            summary.zip(fetched.failed.into_iter().next().map(|(_, e)| e))
        }
    };
    // A write failure explains itself first; then the stop, which left the rest undone; then
    // the first listing that failed on its own.
    let write_failed = failure
        .as_ref()
        .is_some_and(|(_, e)| matches!(e, ListingError::Store(_)));
    let stopped = stopped.filter(|_| !write_failed);
    let error_text = match (&failure, stopped) {
        (_, Some(reason)) => Some(format!("{reason}: {}", kept(&report))),
        (Some((summary, e)), None) => Some(format!("{summary}: {e}")),
        (None, None) => None,
    }
    // The text can quote a server, and a server can echo a credential back.
    .map(|text| crate::redact::redact(&text).into_owned());
    let outcome = match (&error_text, stopped) {
        (None, _) => RunOutcome::Ok,
        (Some(_), Some(StopReason::Signal(_))) => RunOutcome::Interrupted,
        (Some(_), _) => RunOutcome::Failed,
    };
    let finished = store.finish_run(
        run_id,
        &RunFinish {
            finished_at: clock.now(),
            outcome,
            error: error_text,
            requests,
        },
    );
    warn_of_oddities(&report);
    let failure = match (failure, finished) {
        (failure, Ok(())) => failure,
        (Some(failure), Err(e)) => {
            tracing::warn!("the run's ending could not be recorded in the ledger: {e}");
            Some(failure)
        }
        (None, Err(e)) => Some((
            "the run's ending could not be recorded in the ledger".to_string(),
            ListingError::Store(e),
        )),
    };
    if let Some(reason) = stopped {
        return Err(Stopped {
            reason,
            report: Box::new(report),
        }
        .into());
    }
    match failure {
        None => Ok(report),
        Some((summary, first)) => Err(SyncFailed {
            summary,
            first,
            report: Box::new(report),
        }
        .into()),
    }
}

/// Sums up a run whose listings failed: what could not be fetched, in the units each kind
/// was planned in (a window split in pieces is one window), and what was never tried because
/// the run stopped. A refused credential that let nothing through is said plainly.
fn failure_summary(fetched: &Fetched, first: &ListingError, pages: u64) -> String {
    let refused = refused_credential(first);
    if let (Some(what), 0) = (refused, pages) {
        return format!("{what}; nothing was fetched");
    }
    let mut parts = Vec::new();
    for (one, many, tally) in [
        ("window", "windows", fetched.windows),
        ("open-job list", "open-job lists", fetched.lists),
        (
            "open job asked for by id",
            "open jobs asked for by id",
            fetched.lookups,
        ),
    ] {
        let not_tried = tally.not_tried();
        let planned = tally.planned;
        let unit = if planned == 1 { one } else { many };
        match (tally.failed, not_tried) {
            (0, 0) => continue,
            (0, n) => parts.push(format!("{n} of {planned} {unit} not tried")),
            (f, 0) => parts.push(format!("{f} of {planned} {unit} could not be fetched")),
            (f, n) => parts.push(format!(
                "{f} of {planned} {unit} could not be fetched, {n} not tried"
            )),
        }
    }
    if parts.is_empty() {
        parts.push("the open jobs could not be refreshed".to_string());
    }
    let lead = refused.map(|what| format!("{what}: ")).unwrap_or_default();
    format!(
        "{lead}{} (what was fetched is kept; the next sync fetches the rest)",
        parts.join("; ")
    )
}

/// A run stopped by its archive: what it kept before.
fn write_failure_summary(report: &SyncReport) -> String {
    let kept = report.counts.new + report.counts.changed + report.counts.unchanged;
    format!(
        "the archive could not be written ({kept} jobs archived before are kept; the next sync \
         fetches the rest)"
    )
}

/// What a failure says when the API refused the credential itself, which no other listing
/// escapes (a token that refreshing could renew was renewed by the client already).
fn refused_credential(e: &ListingError) -> Option<&'static str> {
    match e {
        ListingError::Api(ApiError::Http { status: 401, .. }) => Some("the credential was refused"),
        ListingError::Api(ApiError::Http { status: 403, .. }) => {
            Some("the credential was refused for this project")
        }
        ListingError::Api(ApiError::Iam { .. }) => Some("the IAM login failed"),
        ListingError::Api(ApiError::BadCredential { .. }) => Some("the credential cannot be used"),
        _ => None,
    }
}

/// One line each for what the run kept aside or found odd, with where to look.
fn warn_of_oddities(report: &SyncReport) {
    if report.rejected > 0 {
        let what = match report.rejected {
            1 => "1 object the API sent has no usable job_id and was not archived as a job; its \
                  text is"
                .to_string(),
            n => format!(
                "{n} objects the API sent have no usable job_id and were not archived as jobs; \
                 their text is"
            ),
        };
        tracing::warn!(
            "{}: {what} kept in the archive's rejected_objects table (`gaussjobs status` counts \
             them)",
            report.project_id
        );
    }
    if let Some(first) = report.anomalies.first() {
        let what = match report.anomalies.len() {
            1 => "1 listing's pages disagree".to_string(),
            n => format!("{n} listings' pages disagree"),
        };
        tracing::warn!(
            "{}: {what} with the API's total_count; the jobs served were archived \
             (`gaussjobs status` and sync_runs.anomaly_notes say which): {first}",
            report.project_id
        );
    }
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
    use super::*;

    fn tally(planned: usize, completed: usize, failed: usize) -> Tally {
        Tally {
            planned,
            completed,
            failed,
        }
    }

    fn fetched(windows: Tally, lists: Tally, lookups: Tally) -> Fetched {
        Fetched {
            windows,
            lists,
            lookups,
            open_checked: 0,
            failed: Vec::new(),
        }
    }

    fn refused() -> ListingError {
        ListingError::Api(ApiError::Http {
            status: 401,
            code: Some("APIGW.0301".into()),
            message: None,
            retry_after: None,
            request_id: None,
        })
    }

    const KEPT: &str = " (what was fetched is kept; the next sync fetches the rest)";

    /// Each kind of listing is counted against its own plan (a window split in pieces is one
    /// window), with what the run never tried.
    #[test]
    fn failures_are_counted_in_the_units_they_were_planned_in() {
        let drifting = ListingError::KeptDrifting(8);
        let run = fetched(tally(3, 1, 2), tally(2, 0, 1), Tally::default());
        assert_eq!(
            failure_summary(&run, &drifting, 9),
            format!(
                "2 of 3 windows could not be fetched; \
                 1 of 2 open-job lists could not be fetched, 1 not tried{KEPT}"
            )
        );
        let run = fetched(tally(62, 62, 0), Tally::default(), tally(40, 37, 3));
        assert_eq!(
            failure_summary(&run, &drifting, 9),
            format!("3 of 40 open jobs asked for by id could not be fetched{KEPT}")
        );
    }

    /// A refused credential is said plainly: nothing fetched, or what was tried when some
    /// pages came through before it.
    #[test]
    fn a_refused_credential_says_what_it_stopped() {
        let run = fetched(tally(31, 0, 4), Tally::default(), Tally::default());
        assert_eq!(
            failure_summary(&run, &refused(), 0),
            "the credential was refused; nothing was fetched"
        );
        let run = fetched(tally(31, 9, 4), Tally::default(), Tally::default());
        assert_eq!(
            failure_summary(&run, &refused(), 30),
            format!(
                "the credential was refused: 4 of 31 windows could not be fetched, 18 not \
                 tried{KEPT}"
            )
        );
    }

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
