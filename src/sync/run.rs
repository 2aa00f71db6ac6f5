//! The runner: takes the lock, plans, fetches listings concurrently, feeds one writer per
//! project, refreshes open jobs, and keeps the run ledger. A window that fails leaves its
//! coverage unrecorded, so the next run fetches exactly what is missing; everything else
//! fetched is kept.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::fetch::{Fetcher, Listing, ListingError, WriterMsg};
use super::plan::{plan, PlanInput};
use super::progress::{Progress, Silent};
use super::schedule::Schedule;
use super::{SyncOptions, SyncReport, DEFAULT_SINCE};
use crate::api::{ApiError, Client, ClientConfig};
use crate::store::{
    open_job_counts, open_read_only, stale_open_jobs, OpenJobsFilter, PageBatch, PageCounts,
    PageWriter, RunFinish, RunStart, ScopeKey, Store, StoreError, SyncLock, TRANSACTION_JOBS,
};
use crate::time;

/// Archived open jobs looked up per read of the archive, so memory stays flat however many.
const OPEN_JOBS_CHUNK: usize = 256;

/// How the run treats the lock and several projects, and who hears of its progress.
#[derive(Clone)]
pub struct RunControl {
    /// Wait for another sync to finish instead of exiting 75 at once.
    pub wait_for_lock: bool,
    /// Projects synced at the same time.
    pub parallel_projects: usize,
    pub progress: Arc<dyn Progress>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            wait_for_lock: false,
            parallel_projects: 4,
            progress: Arc::new(Silent),
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
    let lock = acquire_lock(db, control.wait_for_lock).await?;
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
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = run_scope(&db, &options, now, Arc::clone(&progress)).await;
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

/// One project: windows first, then the open jobs.
async fn run_scope(
    db: &Path,
    options: &SyncOptions,
    now: DateTime<Utc>,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<SyncReport> {
    let started = Instant::now();
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
        "{}: {} windows to fetch between {} and {}",
        key.project_id,
        windows.len(),
        time::to_store(scope.since),
        time::to_store(until)
    );
    progress.add_listings(&options.project_id, windows.len() as u64);
    // A first sync writes its jobs with their key alone and builds the query indexes at the
    // end (see `store::indexes`).
    let indexes_deferred = store.defer_query_indexes()?;
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

    // One writer owns the project's connection; fetchers hand it pages through a bounded
    // channel, so memory stays a few pages however many jobs there are.
    let (sender, receiver) =
        mpsc::channel::<WriterMsg>(WRITER_QUEUE_PAGES.max(options.concurrency * 2));
    let writer = spawn_writer(
        store,
        receiver,
        WriterContext {
            run_id,
            scope_id: scope.scope_id,
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
        progress: Arc::clone(&progress),
    };

    let windows_planned = windows.len();
    let recent_start = recent_start(&windows, until);
    let mut outcome = fetch_all(
        windows.into_iter().map(Listing::Window).collect(),
        options.concurrency,
        &fetcher,
    )
    .await;
    let windows_completed = outcome.completed;
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
    drop(fetcher);

    let (mut store, counts, write_error) = tokio::task::spawn_blocking(move || writer.join())
        .await
        .context("the archive writer could not be joined")?
        .map_err(|_| anyhow::anyhow!("the archive writer panicked"))?;

    // The writer's own error explains a WriterGone; list real causes first.
    outcome
        .failed
        .sort_by_key(|(_, e)| matches!(e, ListingError::WriterGone));
    let requests = client.requests();
    let report = SyncReport {
        run_id,
        project_id: options.project_id.clone(),
        counts,
        requests,
        seconds: started.elapsed().as_secs_f64(),
        windows_planned,
        windows_completed,
        open_jobs_checked: open_checked,
        failed: outcome
            .failed
            .iter()
            .map(|(l, e)| format!("{l}: {e}"))
            .collect(),
    };
    let error_text = write_error
        .as_ref()
        .map(|e| e.to_string())
        .or_else(|| report.failed.first().cloned());
    store.finish_run(
        run_id,
        &RunFinish {
            finished_at: time::now_secs(),
            ok: error_text.is_none(),
            error: error_text,
            requests,
        },
    )?;

    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some((_, first)) = outcome.failed.into_iter().next() {
        return Err(SyncFailed {
            failed: report.failed.len(),
            planned: windows_planned,
            first,
            report: Box::new(report),
        }
        .into());
    }
    Ok(report)
}

/// Where the newest stretch of this run's windows begins, when they reach `until`: the open
/// jobs created since were just read with their windows, so the open lists can stop there.
fn recent_start(windows: &[super::plan::Window], until: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut sorted: Vec<_> = windows.to_vec();
    sorted.sort();
    let last = sorted.last()?;
    if last.end < until {
        return None;
    }
    let mut start = last.start;
    for w in sorted.iter().rev().skip(1) {
        if w.end != start {
            break;
        }
        start = w.start;
    }
    Some(start)
}

struct RefreshOutcome {
    checked: u64,
    failed: Vec<(Listing, ListingError)>,
}

/// Brings archived open jobs up to date cheaply: the open-status lists return every job still
/// open in a few pages; only the archived open jobs that no list returned (they finished, were
/// cancelled, or the API forgot them) are asked for by id. History is never downloaded again.
async fn refresh_open_jobs(
    db: &Path,
    fetcher: &Fetcher,
    options: &SyncOptions,
    run_id: i64,
    created_before: Option<DateTime<Utc>>,
) -> Result<RefreshOutcome, ListingError> {
    fetcher.barrier().await?;
    let read_error = |e: rusqlite::Error| {
        tracing::error!("reading the archived open jobs failed: {e}");
        ListingError::WriterGone
    };
    let conn = open_read_only(db).map_err(|_| ListingError::WriterGone)?;
    let filter = OpenJobsFilter {
        project_id: &options.project_id,
        job_name: options.filter.job_name.as_deref(),
        instance_id: options.filter.instance_id.as_deref(),
        seen_by_run: run_id,
    };
    let counts = open_job_counts(&conn, &filter).map_err(read_error)?;
    let stale: u64 = counts.iter().map(|(_, _, stale)| stale).sum();
    // A list costs a page per `page_size` open jobs of its status; a lookup one request per
    // stale job. Lists only pay when they save lookups, and only for statuses with stale jobs.
    let lists: Vec<Listing> = counts
        .iter()
        .filter(|(_, _, stale)| *stale > 0)
        .map(|(status, _, _)| Listing::Status {
            status: status.clone(),
            created_before,
        })
        .collect();
    let list_pages: u64 = counts
        .iter()
        .filter(|(_, _, stale)| *stale > 0)
        .map(|(_, open, _)| open.div_ceil(u64::from(options.page_size)))
        .sum();
    let mut failed = Vec::new();
    if stale > list_pages {
        fetcher
            .progress
            .add_listings(&options.project_id, lists.len() as u64);
        let listed = fetch_all(lists, options.concurrency, fetcher).await;
        failed = listed.failed;
        if !failed.is_empty() {
            // Without every open list, "not listed" does not mean "finished": stop here.
            return Ok(RefreshOutcome { checked: 0, failed });
        }
        fetcher.barrier().await?;
    }

    let mut checked = 0;
    let mut after = String::new();
    loop {
        let ids = stale_open_jobs(&conn, &filter, &after, OPEN_JOBS_CHUNK).map_err(read_error)?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        checked += ids.len() as u64;
        fetcher
            .progress
            .add_listings(&options.project_id, ids.len() as u64);
        let outcome = fetch_all(
            ids.into_iter().map(Listing::Job).collect(),
            options.concurrency,
            fetcher,
        )
        .await;
        failed.extend(outcome.failed);
        if outcome.aborted {
            break;
        }
        after = last;
    }
    Ok(RefreshOutcome { checked, failed })
}

struct FetchOutcome {
    completed: usize,
    failed: Vec<(Listing, ListingError)>,
    aborted: bool,
}

/// Fetches the listings with `concurrency` workers. A failure that no other listing can
/// escape (the credentials refused, a wrong endpoint, the archive unwritable) stops them all;
/// others only fail their own listing.
async fn fetch_all(listings: Vec<Listing>, concurrency: usize, fetcher: &Fetcher) -> FetchOutcome {
    let schedule = Arc::new(Schedule::new(listings, concurrency));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let abort = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let fetcher = fetcher.clone();
        let (schedule, failed, abort) = (
            Arc::clone(&schedule),
            Arc::clone(&failed),
            Arc::clone(&abort),
        );
        workers.spawn(async move {
            while !abort.load(Ordering::Relaxed) {
                let Some((piece, added)) = schedule.take() else {
                    break;
                };
                if added > 0 {
                    fetcher.progress.add_listings(&fetcher.project_id, added);
                }
                let fetched = fetcher.fetch(&piece.listing).await;
                fetcher.progress.listing_done(&fetcher.project_id);
                schedule.finished(&piece, fetched.is_ok());
                match fetched {
                    Ok(stats) => {
                        tracing::debug!(
                            "{}: {} jobs in {} pages ({} re-paged)",
                            piece.listing,
                            stats.jobs,
                            stats.pages,
                            stats.repages
                        );
                    }
                    Err(e) => {
                        if stops_everything(&e) {
                            abort.store(true, Ordering::Relaxed);
                        }
                        tracing::warn!("{}: {e}", piece.listing);
                        failed.lock().expect("failed lock").push((piece.listing, e));
                    }
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut failed = std::mem::take(&mut *failed.lock().expect("failed lock"));
    failed.sort_by(|a, b| format!("{}", a.0).cmp(&format!("{}", b.0)));
    FetchOutcome {
        completed: schedule.completed(),
        failed,
        aborted: abort.load(Ordering::Relaxed),
    }
}

/// Errors every other listing would hit too.
fn stops_everything(e: &ListingError) -> bool {
    match e {
        ListingError::WriterGone => true,
        ListingError::Api(ApiError::Http { status, .. }) => {
            (400..500).contains(status) && *status != 429
        }
        ListingError::Api(
            ApiError::InvalidEndpoint { .. }
            | ApiError::Unreachable { .. }
            | ApiError::BadCredential { .. }
            | ApiError::Iam { .. },
        ) => true,
        ListingError::Api(_) | ListingError::KeptDrifting(_) => false,
    }
}

type WriterResult = (Store, PageCounts, Option<StoreError>);

/// Pages queued between the fetchers and the writer: enough to keep the writer busy while
/// fetchers wait on the network, few enough that memory stays a few megabytes.
const WRITER_QUEUE_PAGES: usize = 32;

/// How long the writer keeps a transaction open while pages keep coming. Committing less often
/// writes each index page to the WAL fewer times; a run killed meanwhile loses at most this
/// much of its fetching, which the next run fetches again (coverage commits with the pages).
const COMMIT_AFTER: StdDuration = StdDuration::from_secs(1);

/// What the writer needs besides the archive and its queue.
struct WriterContext {
    run_id: i64,
    scope_id: i64,
    client: Arc<Client>,
    progress: Arc<dyn Progress>,
    project_id: String,
    /// The run's runtime, to wait for pages with a deadline from the writer's own thread.
    runtime: tokio::runtime::Handle,
    /// The query indexes were dropped for this run's jobs (a first sync) and are built before
    /// anyone reads what the run wrote: at the first barrier, or at the end.
    indexes_deferred: bool,
}

/// How many jobs the writer gathers before writing them. Written in bursts, the index pages
/// a job touches are still in the CPU's caches from the jobs before it, which page-by-page
/// writing, woken for every page, loses: with every index kept up row by row, the writer's CPU
/// for 200,000 new jobs fell from 2.1 s to 1.75 s going from bursts of 2,000 jobs to 10,000.
/// 2,000 keeps the memory they take at a few MiB.
const WRITE_BURST_JOBS: usize = 2_000;

/// The writer thread: gathers pages into bursts and writes them into an open transaction, and
/// commits `COMMIT_AFTER` after the first page or at `TRANSACTION_JOBS` jobs, when the queue
/// closes, and at a barrier (whose sender then reads what was written). It stops at the
/// first error.
fn spawn_writer(
    mut store: Store,
    mut receiver: mpsc::Receiver<WriterMsg>,
    context: WriterContext,
) -> std::thread::JoinHandle<WriterResult> {
    std::thread::spawn(move || {
        let mut counts = PageCounts::default();
        let error = write_until_closed(&mut store, &mut receiver, &context, &mut counts).err();
        (store, counts, error)
    })
}

/// What the writer has received and not yet written.
#[derive(Default)]
struct Burst {
    msgs: Vec<WriterMsg>,
    jobs: usize,
}

impl Burst {
    fn push(&mut self, msg: WriterMsg) {
        if let WriterMsg::Page { jobs, .. } = &msg {
            self.jobs += jobs.len();
        }
        self.msgs.push(msg);
    }

    /// Writes what was gathered into the transaction, opening it on its first burst.
    fn write(
        &mut self,
        transaction: &mut LazyTransaction<'_>,
        context: &WriterContext,
    ) -> Result<(), StoreError> {
        if self.msgs.is_empty() {
            return Ok(());
        }
        let writer = transaction.open(context)?;
        for msg in self.msgs.drain(..) {
            write_msg(writer, msg)?;
        }
        self.jobs = 0;
        Ok(())
    }
}

/// A transaction that is opened when there is something to write: the archive's write lock
/// is held while the writer writes, not while it waits for pages.
struct LazyTransaction<'s> {
    store: Option<&'s mut Store>,
    writer: Option<PageWriter<'s>>,
}

impl<'s> LazyTransaction<'s> {
    fn new(store: &'s mut Store) -> Self {
        LazyTransaction {
            store: Some(store),
            writer: None,
        }
    }

    fn open(&mut self, context: &WriterContext) -> Result<&mut PageWriter<'s>, StoreError> {
        if let Some(store) = self.store.take() {
            self.writer = Some(store.page_writer(context.run_id, context.scope_id)?);
        }
        Ok(self.writer.as_mut().expect("the store became this writer"))
    }

    fn jobs(&self) -> usize {
        self.writer.as_ref().map_or(0, PageWriter::jobs)
    }

    /// Commits what was written, if anything was, and counts it.
    fn commit(self, context: &WriterContext, counts: &mut PageCounts) -> Result<(), StoreError> {
        if let Some(writer) = self.writer {
            let jobs = writer.jobs() as u64;
            counts.add(writer.commit(context.client.requests())?);
            context.progress.jobs_archived(&context.project_id, jobs);
        }
        Ok(())
    }
}

/// The writer's loop (see [`spawn_writer`]); returns when the fetchers are done.
fn write_until_closed(
    store: &mut Store,
    receiver: &mut mpsc::Receiver<WriterMsg>,
    context: &WriterContext,
    counts: &mut PageCounts,
) -> Result<(), StoreError> {
    let mut burst = Burst::default();
    let mut indexes = DeferredIndexes(context.indexes_deferred);
    // One pass of the outer loop per transaction: it starts with the first page after a
    // commit, and the transaction opens when its first burst is written.
    loop {
        let first = match receiver.blocking_recv() {
            None => return indexes.build(store),
            Some(WriterMsg::Barrier(done)) => {
                indexes.build(store)?;
                let _ = done.send(());
                continue;
            }
            Some(msg) => msg,
        };
        let started = Instant::now();
        burst.push(first);
        let mut transaction = LazyTransaction::new(store);
        // Why the transaction ends: a barrier to answer, or the end of the queue.
        let (barrier, closed) = loop {
            if burst.jobs >= WRITE_BURST_JOBS {
                burst.write(&mut transaction, context)?;
            }
            let written = transaction.jobs();
            let left = COMMIT_AFTER.saturating_sub(started.elapsed());
            if left.is_zero() || written + burst.jobs >= TRANSACTION_JOBS {
                break (None, false);
            }
            // Err: the deadline passed with nothing queued.
            let next = context
                .runtime
                .block_on(async { tokio::time::timeout(left, receiver.recv()).await });
            match next {
                Ok(Some(WriterMsg::Barrier(done))) => break (Some(done), false),
                Ok(Some(msg)) => burst.push(msg),
                Ok(None) => break (None, true),
                Err(_) => break (None, false),
            }
        };
        burst.write(&mut transaction, context)?;
        transaction.commit(context, counts)?;
        if let Some(done) = barrier {
            indexes.build(store)?;
            let _ = done.send(());
        }
        if closed {
            return indexes.build(store);
        }
    }
}

/// Whether the query indexes still have to be built, once, before the run's jobs are read.
struct DeferredIndexes(bool);

impl DeferredIndexes {
    fn build(&mut self, store: &mut Store) -> Result<(), StoreError> {
        if std::mem::take(&mut self.0) {
            let started = Instant::now();
            let built = store.build_query_indexes()?;
            tracing::info!(
                "built {built} query indexes in {:.1}s",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }
}

/// Writes a page, or marks a job gone, in the open transaction.
fn write_msg(writer: &mut PageWriter<'_>, msg: WriterMsg) -> Result<(), StoreError> {
    match msg {
        WriterMsg::Page {
            jobs,
            seen_at,
            completes,
        } => writer
            .write(&PageBatch {
                jobs: &jobs,
                seen_at,
                completes: completes.map(|w| (w.start, w.end)),
            })
            .map(|_| ()),
        WriterMsg::Gone { job_id, at } => writer.mark_gone(&[job_id], at),
        WriterMsg::Barrier(_) => unreachable!("the writer loop handles barriers"),
    }
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
    use crate::api::auth::Credential;
    use crate::api::client::RetryPolicy;
    use crate::api::model::Language;
    use crate::api::Secret;
    use crate::store::test_support::{begin_run, job};

    fn archived(db: &Path) -> i64 {
        open_read_only(db)
            .unwrap()
            .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
            .unwrap()
    }

    /// The writer keeps a transaction open while pages come, but a page never waits more than
    /// COMMIT_AFTER for its commit, and a barrier commits at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writer_commits_within_its_interval_and_at_barriers() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let mut store = Store::open(&db).unwrap();
        let now = time::now_secs();
        let endpoint = "http://127.0.0.1:9";
        let (scope_id, run_id) = begin_run(&mut store, endpoint, now);
        let client = Arc::new(
            Client::new(ClientConfig {
                endpoint: endpoint.parse().unwrap(),
                project_id: "p".into(),
                credential: Credential::Token(Secret::new("t")),
                language: Language::default(),
                timeout: StdDuration::from_secs(1),
                connect_timeout: StdDuration::from_secs(1),
                max_rps: 10.0,
                retry: RetryPolicy::default(),
            })
            .unwrap(),
        );
        let (sender, receiver) = mpsc::channel(4);
        let writer = spawn_writer(
            store,
            receiver,
            WriterContext {
                run_id,
                scope_id,
                client,
                progress: Arc::new(Silent),
                project_id: "p".into(),
                runtime: tokio::runtime::Handle::current(),
                indexes_deferred: false,
            },
        );
        let page = |id: &str| WriterMsg::Page {
            jobs: vec![job(id, "Completed")],
            seen_at: now,
            completes: None,
        };

        let sent = Instant::now();
        sender.send(page("a")).await.unwrap();
        while archived(&db) == 0 {
            assert!(
                sent.elapsed() < COMMIT_AFTER + StdDuration::from_secs(2),
                "a page waited more than its commit interval"
            );
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }

        sender.send(page("b")).await.unwrap();
        let (done, committed) = tokio::sync::oneshot::channel();
        let asked = Instant::now();
        sender.send(WriterMsg::Barrier(done)).await.unwrap();
        committed.await.unwrap();
        assert!(
            asked.elapsed() < COMMIT_AFTER,
            "the barrier waited for the interval"
        );
        assert_eq!(archived(&db), 2);

        sender.send(page("c")).await.unwrap();
        drop(sender);
        let (_store, counts, error) = tokio::task::spawn_blocking(move || writer.join().unwrap())
            .await
            .unwrap();
        assert!(error.is_none(), "{error:?}");
        assert_eq!(counts.new, 3);
        assert_eq!(archived(&db), 3);
    }
}
