//! The writer: one thread per project owns its archive connection and writes what the fetchers
//! send through a bounded queue, gathering pages into bursts, opening a transaction only when
//! there is something to write, and building deferred query indexes before anyone reads the
//! run's jobs.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::progress::Progress;
use crate::api::Client;
use crate::store::{
    JobRecord, PageBatch, PageCounts, PageWriter, RejectedObject, Store, StoreError, Window,
    TRANSACTION_JOBS,
};

/// What the writer is asked to do, in order.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    /// Archive a page; `completes` is set on a window's last page. `rejected` are the page's
    /// objects that are not jobs; `anomaly` says how a listing's pages disagreed with its
    /// count, on its last page.
    Page {
        jobs: Vec<JobRecord>,
        rejected: Vec<RejectedObject>,
        seen_at: DateTime<Utc>,
        completes: Option<Window>,
        anomaly: Option<String>,
    },
    /// A planned window is complete: the pages of all its pieces were sent before.
    WindowCompleted,
    /// The API no longer returns this job when asked by its id.
    Gone { job_id: String, at: DateTime<Utc> },
    /// Answer once everything sent before is committed.
    Barrier(oneshot::Sender<()>),
}

/// What the writer leaves when its queue closes: the archive back, what it wrote, and the
/// error it stopped at, if any. Everything counted here is committed, as the ledger has it.
pub(super) struct Written {
    pub store: Store,
    pub counts: PageCounts,
    pub tally: WriteTally,
    pub error: Option<StoreError>,
}

/// What the writer committed besides the jobs' counts.
#[derive(Debug, Default)]
pub(super) struct WriteTally {
    /// Pages archived (jobs or none).
    pub pages: u64,
    /// Planned windows completed (see `PageWriter::window_completed`).
    pub windows_completed: u64,
    /// Objects that are not jobs, met for the first time in this run.
    pub rejected: u64,
    /// Listings whose pages disagreed with the API's count.
    pub anomalies: Vec<String>,
}

/// Pages queued between the fetchers and the writer: enough to keep the writer busy while
/// fetchers wait on the network, few enough that memory stays a few megabytes.
pub(super) const WRITER_QUEUE_PAGES: usize = 32;

/// How long the writer keeps a transaction open while pages keep coming. Committing less often
/// writes each index page to the WAL fewer times; a run killed meanwhile loses at most this
/// much of its fetching, which the next run fetches again (coverage commits with the pages).
const COMMIT_AFTER: StdDuration = StdDuration::from_secs(1);

/// What the writer needs besides the archive and its queue.
pub(super) struct WriterContext {
    pub run_id: i64,
    pub scope_id: i64,
    pub client: Arc<Client>,
    pub progress: Arc<dyn Progress>,
    pub project_id: String,
    /// The run's runtime, to wait for pages with a deadline from the writer's own thread.
    pub runtime: tokio::runtime::Handle,
    /// The query indexes were dropped for this run's jobs (a first sync) and are built before
    /// anyone reads what the run wrote: at the first barrier, or at the end.
    pub indexes_deferred: bool,
}

/// How many jobs the writer gathers before writing them. Written in bursts, the index pages
/// a job touches are still in the CPU's caches from the jobs before it, which page-by-page
/// writing, woken for every page, loses (the README's performance section has what larger
/// bursts saved). 2,000 keeps the memory they take at a few MiB.
const WRITE_BURST_JOBS: usize = 2_000;

/// The writer thread of one project.
pub(super) struct Writer {
    thread: std::thread::JoinHandle<Written>,
}

impl Writer {
    /// Starts the writer thread with a queue of `queue_pages` pages, and returns the queue's
    /// sending end. It gathers pages into bursts and writes them into an open transaction, and
    /// commits `COMMIT_AFTER` after the first page or at `TRANSACTION_JOBS` jobs, when the
    /// queue closes, and at a barrier (whose sender then reads what was written). It stops at
    /// the first error.
    pub(super) fn spawn(
        mut store: Store,
        queue_pages: usize,
        context: WriterContext,
    ) -> (Writer, mpsc::Sender<WriterMsg>) {
        let (sender, mut receiver) = mpsc::channel::<WriterMsg>(queue_pages);
        let thread = std::thread::spawn(move || {
            let mut done = Committed::default();
            let error = write_until_closed(&mut store, &mut receiver, &context, &mut done).err();
            Written {
                store,
                counts: done.counts,
                tally: done.tally,
                error,
            }
        });
        (Writer { thread }, sender)
    }

    /// Waits, off the runtime's threads, for the writer to finish: every sender must be gone.
    pub(super) async fn finish(self) -> anyhow::Result<Written> {
        use anyhow::Context as _;
        tokio::task::spawn_blocking(move || self.thread.join())
            .await
            .context("the archive writer could not be joined")?
            .map_err(|_| anyhow::anyhow!("the archive writer panicked"))
    }
}

/// What the writer's transactions committed so far.
#[derive(Default)]
struct Committed {
    counts: PageCounts,
    tally: WriteTally,
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
        transaction.open(context)?;
        for msg in self.msgs.drain(..) {
            transaction.pages += u64::from(matches!(msg, WriterMsg::Page { .. }));
            write_msg(transaction.writer(), msg)?;
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
    /// Pages written into it.
    pages: u64,
}

impl<'s> LazyTransaction<'s> {
    fn new(store: &'s mut Store) -> Self {
        LazyTransaction {
            store: Some(store),
            writer: None,
            pages: 0,
        }
    }

    fn open(&mut self, context: &WriterContext) -> Result<(), StoreError> {
        if let Some(store) = self.store.take() {
            self.writer = Some(store.page_writer(context.run_id, context.scope_id)?);
        }
        Ok(())
    }

    fn writer(&mut self) -> &mut PageWriter<'s> {
        self.writer.as_mut().expect("the store became this writer")
    }

    fn jobs(&self) -> usize {
        self.writer.as_ref().map_or(0, PageWriter::jobs)
    }

    /// Commits what was written, if anything was, and counts it.
    fn commit(self, context: &WriterContext, done: &mut Committed) -> Result<(), StoreError> {
        if let Some(writer) = self.writer {
            let jobs = writer.jobs() as u64;
            let rejected = writer.rejected();
            let windows = writer.windows_completed();
            let anomalies = writer.anomalies().to_vec();
            done.counts.add(writer.commit(context.client.requests())?);
            done.tally.pages += self.pages;
            done.tally.rejected += rejected;
            done.tally.windows_completed += windows;
            done.tally.anomalies.extend(anomalies);
            context.progress.jobs_archived(&context.project_id, jobs);
        }
        Ok(())
    }
}

/// The writer's loop (see [`Writer::spawn`]); returns when the fetchers are done.
fn write_until_closed(
    store: &mut Store,
    receiver: &mut mpsc::Receiver<WriterMsg>,
    context: &WriterContext,
    done: &mut Committed,
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
        transaction.commit(context, done)?;
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

/// Writes a page, marks a job gone, or counts a window, in the open transaction.
fn write_msg(writer: &mut PageWriter<'_>, msg: WriterMsg) -> Result<(), StoreError> {
    match msg {
        WriterMsg::Page {
            jobs,
            rejected,
            seen_at,
            completes,
            anomaly,
        } => {
            writer.write(&PageBatch {
                jobs: &jobs,
                seen_at,
                completes: completes.map(|w| (w.start, w.end)),
            })?;
            if !rejected.is_empty() {
                writer.reject(&rejected, seen_at)?;
            }
            if let Some(note) = anomaly {
                writer.note_anomaly(&note);
            }
            Ok(())
        }
        WriterMsg::WindowCompleted => {
            writer.window_completed();
            Ok(())
        }
        WriterMsg::Gone { job_id, at } => writer.mark_gone(&[job_id], at),
        WriterMsg::Barrier(_) => unreachable!("the writer loop handles barriers"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::api::auth::Credential;
    use crate::api::client::RetryPolicy;
    use crate::api::model::Language;
    use crate::api::ClientConfig;
    use crate::api::Secret;
    use crate::store::open_read_only;
    use crate::store::test_support::{begin_run, job};
    use crate::sync::Silent;
    use crate::time;

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
                fallbacks: Vec::new(),
                network: Default::default(),
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
        let (writer, sender) = Writer::spawn(
            store,
            4,
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
            rejected: Vec::new(),
            seen_at: now,
            completes: None,
            anomaly: None,
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
        let written = writer.finish().await.unwrap();
        assert!(written.error.is_none(), "{:?}", written.error);
        assert_eq!(written.counts.new, 3);
        assert_eq!(archived(&db), 3);
    }
}
