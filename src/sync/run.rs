//! The runner: takes the lock, plans, fetches windows concurrently, feeds one writer, and keeps
//! the run ledger. A window that fails leaves its coverage unrecorded, so the next run fetches
//! exactly what is missing; everything else fetched is kept.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::fetch::{Fetcher, PageWrite, WindowError};
use super::plan::{plan, PlanInput, Window};
use super::{SyncOptions, SyncReport, DEFAULT_SINCE};
use crate::api::{ApiError, Client, ClientConfig};
use crate::store::{PageCounts, RunFinish, RunStart, ScopeKey, Store, StoreError, SyncLock};
use crate::time;

/// The run failed: some windows could not be fetched, or the archive could not be written.
/// What was fetched is kept; `report` says how far it got.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {planned} windows could not be fetched (what was fetched is kept; the next sync fetches the rest): {first}")]
pub struct SyncFailed {
    pub failed: usize,
    pub planned: usize,
    #[source]
    pub first: WindowError,
    pub report: SyncReport,
}

/// Runs one sync of `options` into the archive at `db`.
pub async fn run(
    db: &Path,
    options: &SyncOptions,
    now: DateTime<Utc>,
) -> anyhow::Result<SyncReport> {
    let started = Instant::now();
    let lock = SyncLock::acquire(db)?;
    let mut store = Store::open(db)?;
    let key = ScopeKey {
        endpoint: options.endpoint.as_str().trim_end_matches('/').to_string(),
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
    });
    tracing::info!(
        "{} windows to fetch between {} and {}",
        windows.len(),
        time::to_store(scope.since),
        time::to_store(until)
    );
    let run_id = store.begin_run(&RunStart {
        started_at: now,
        endpoint: key.endpoint.clone(),
        project_id: key.project_id.clone(),
        scope_id: scope.scope_id,
        range_start: scope.since,
        range_end: until,
        options: options_json(options),
        windows_planned: windows.len() as u64,
    })?;

    let client = Arc::new(Client::new(ClientConfig {
        endpoint: options.endpoint.clone(),
        project_id: options.project_id.clone(),
        credential: options.credential.clone(),
        language: options.language,
        timeout: options.timeout,
        connect_timeout: options.timeout.min(StdDuration::from_secs(10)),
        max_rps: options.max_rps,
        retry: options.retry,
    })?);

    // One writer owns the archive; fetchers hand it pages through a bounded channel, so memory
    // stays a few pages however many jobs there are.
    let (sender, receiver) = mpsc::channel::<PageWrite>(options.concurrency * 2);
    let writer = spawn_writer(store, receiver, run_id, scope.scope_id, Arc::clone(&client));

    let windows_planned = windows.len();
    let outcome = fetch_all(windows, options, &client, sender).await;

    let (mut store, counts, write_error) = tokio::task::spawn_blocking(move || writer.join())
        .await
        .context("the archive writer could not be joined")?
        .map_err(|_| anyhow::anyhow!("the archive writer panicked"))?;

    let requests = client.requests();
    let report = SyncReport {
        run_id,
        counts,
        requests,
        seconds: started.elapsed().as_secs_f64(),
        windows_planned,
        windows_completed: outcome.completed,
        failed_windows: outcome
            .failed
            .iter()
            .map(|(w, e)| (*w, e.to_string()))
            .collect(),
    };
    let error_text = write_error
        .as_ref()
        .map(|e| e.to_string())
        .or_else(|| outcome.failed.first().map(|(w, e)| window_error_text(w, e)));
    store.finish_run(
        run_id,
        &RunFinish {
            finished_at: time::now_secs(),
            ok: error_text.is_none(),
            error: error_text,
            requests,
        },
    )?;
    drop(lock);

    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some((_, first)) = outcome.failed.into_iter().next() {
        return Err(SyncFailed {
            failed: report.failed_windows.len(),
            planned: windows_planned,
            first,
            report,
        }
        .into());
    }
    Ok(report)
}

fn window_error_text(w: &Window, e: &WindowError) -> String {
    format!(
        "window {}..{}: {e}",
        time::to_store(w.start),
        time::to_store(w.end)
    )
}

struct FetchOutcome {
    completed: usize,
    failed: Vec<(Window, WindowError)>,
}

/// Fetches the windows with `concurrency` workers. A failure that no other window can escape
/// (the credentials refused, a wrong endpoint, the archive unwritable) stops them all; others
/// only fail their own window.
async fn fetch_all(
    windows: Vec<Window>,
    options: &SyncOptions,
    client: &Arc<Client>,
    sender: mpsc::Sender<PageWrite>,
) -> FetchOutcome {
    let queue = Arc::new(Mutex::new(VecDeque::from(windows)));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let completed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..options.concurrency.max(1) {
        let fetcher = Fetcher {
            client: Arc::clone(client),
            project_id: options.project_id.clone(),
            page_size: options.page_size,
            filter: options.filter.clone(),
            writer: sender.clone(),
        };
        let (queue, failed, completed, abort) = (
            Arc::clone(&queue),
            Arc::clone(&failed),
            Arc::clone(&completed),
            Arc::clone(&abort),
        );
        workers.spawn(async move {
            loop {
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                let Some(window) = queue.lock().expect("queue lock").pop_front() else {
                    break;
                };
                match fetcher.fetch(window).await {
                    Ok(stats) => {
                        completed.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(
                            "window {}..{}: {} jobs in {} pages",
                            time::to_store(window.start),
                            time::to_store(window.end),
                            stats.jobs,
                            stats.pages
                        );
                    }
                    Err(e) => {
                        if stops_everything(&e) {
                            abort.store(true, Ordering::Relaxed);
                        }
                        tracing::warn!("{}", window_error_text(&window, &e));
                        failed.lock().expect("failed lock").push((window, e));
                    }
                }
            }
        });
    }
    drop(sender);
    while workers.join_next().await.is_some() {}
    let mut failed = std::mem::take(&mut *failed.lock().expect("failed lock"));
    // The writer's own error explains a WriterGone; list real causes first.
    failed.sort_by_key(|(w, e)| (matches!(e, WindowError::WriterGone), *w));
    FetchOutcome {
        completed: completed.load(Ordering::Relaxed),
        failed,
    }
}

/// Errors every other window would hit too.
fn stops_everything(e: &WindowError) -> bool {
    match e {
        WindowError::WriterGone => true,
        WindowError::Api(ApiError::Http { status, .. }) => {
            (400..500).contains(status) && *status != 429
        }
        WindowError::Api(ApiError::InvalidEndpoint { .. } | ApiError::Unreachable { .. }) => true,
        WindowError::Api(_) | WindowError::KeptDrifting(_) => false,
    }
}

type WriterResult = (Store, PageCounts, Option<StoreError>);

/// The writer thread: one transaction per page, stopping at the first error.
fn spawn_writer(
    mut store: Store,
    mut receiver: mpsc::Receiver<PageWrite>,
    run_id: i64,
    scope_id: i64,
    client: Arc<Client>,
) -> std::thread::JoinHandle<WriterResult> {
    std::thread::spawn(move || {
        let mut counts = PageCounts::default();
        while let Some(page) = receiver.blocking_recv() {
            let completes = page.completes.map(|w| (w.start, w.end));
            match store.write_page(
                run_id,
                scope_id,
                page.seen_at,
                &page.jobs,
                completes,
                client.requests(),
            ) {
                Ok(c) => counts.add(c),
                Err(e) => return (store, counts, Some(e)),
            }
        }
        (store, counts, None)
    })
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
