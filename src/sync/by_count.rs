//! Count-based paging: the run's windows of create time are listed by count, not one window
//! after another. Day windows each end in a part-filled page (61 of them for 60 days); a
//! stretch of consecutive windows listed as one costs one page per `page_size - 1` jobs.
//!
//! The stretch's first page gives its `total_count`; the other pages are planned at offsets
//! that overlap by one job (page `k` starts at `k * (page_size - 1)`, with the last job of
//! page `k - 1`) and fetched side by side. Each overlap is checked once both of its pages are
//! in: where the first job of a page is not the last of the one before, the pages shifted
//! between the two reads, and only the create time between those two jobs is listed again,
//! as a window paged one page after another (which splits itself where the shifting goes
//! on). A last page that is full, or short of the count, is followed by a window from the
//! stretch's start to its last job, paged the same way: `total_count` alone never ends a
//! listing (see `fetch`).
//!
//! Pages are served newest first, so a run of pages whose overlaps all held stands for the
//! create time between its edges, and every planned window inside it is recorded as covered
//! as soon as it is: a run killed midway keeps all but the pages in flight. A page out of
//! that order, or a page short of a full one before the last, sends the stretch's windows
//! not yet covered to the window-by-window paging, which needs no order.

use chrono::{DateTime, Duration, Utc};
use tokio::task::JoinSet;

use super::fetch::{Fetcher, Listing, ListingError, ListingStats, PageContent, PageView};
use super::workers::{fetch_all, stops_everything, FetchOutcome, Tally};
use crate::store::Window;

/// Fetches `windows` (oldest first), each maximal stretch of consecutive ones by count, with
/// `concurrency` requests in flight. Counted in windows, as the ledger counts them.
pub(super) async fn fetch_by_count(
    windows: Vec<Window>,
    concurrency: usize,
    fetcher: &Fetcher,
    recheck: Option<Recheck>,
) -> FetchOutcome {
    // With a page size of one, pages cannot overlap.
    if fetcher.page_size < 2 {
        let listings = windows.into_iter().map(Listing::Window).collect();
        return fetch_all(listings, concurrency, fetcher).await;
    }
    let mut outcome = FetchOutcome {
        tally: Tally::default(),
        failed: Vec::new(),
        aborted: false,
        skimmed: false,
    };
    for group in consecutive(windows) {
        if outcome.aborted || fetcher.stop.is_requested() {
            outcome.tally.planned += group.len();
            continue;
        }
        let mut stretch = Stretch::new(group, fetcher.page_size);
        stretch.recheck = recheck.filter(|r| r.start == stretch.span.start);
        let paged = stretch.fetch(concurrency.max(1), fetcher).await;
        outcome.tally.add(paged.tally);
        outcome.failed.extend(paged.failed);
        outcome.aborted |= paged.aborted;
        outcome.skimmed |= paged.skimmed;
    }
    outcome.aborted |= fetcher.stop.is_requested();
    outcome
}

/// A stretch an earlier run fetched already, read again for late jobs (`--lookback`): the
/// jobs the archive holds in it. When the API counts as many, nothing came late and nothing
/// left (jobs leave at the old end, long before), and the first page is the only one read;
/// the jobs that changed in it are the open ones, which the refresh brings up to date.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recheck {
    pub start: DateTime<Utc>,
    pub archived: u64,
}

/// The windows in runs of consecutive ones (each starting where the one before ends).
fn consecutive(windows: Vec<Window>) -> Vec<Vec<Window>> {
    let mut groups: Vec<Vec<Window>> = Vec::new();
    for w in windows {
        match groups.last_mut() {
            Some(group) if group.last().is_some_and(|l| l.end == w.start) => group.push(w),
            _ => groups.push(vec![w]),
        }
    }
    groups
}

/// How many pages list `total` jobs when each after the first starts with the last job of
/// the one before: at least one.
pub(crate) fn pages_for(total: u64, page_size: u32) -> u64 {
    let step = u64::from(page_size.max(2)) - 1;
    total.saturating_sub(1).div_ceil(step).max(1)
}

/// The offset of page `k`.
fn offset_of(k: usize, page_size: u32) -> u64 {
    k as u64 * (u64::from(page_size) - 1)
}

/// One stretch of consecutive windows and what its paging has shown so far.
struct Stretch {
    windows: Vec<Window>,
    /// Which windows were recorded as covered.
    covered: Vec<bool>,
    span: Window,
    page_size: u32,
    /// The pages planned from the first page's count.
    planned: usize,
    /// The next page to start; pages are started in order, after the work in `queue`.
    next: usize,
    /// The pages started so far, `None` until fetched. Grown as pages start, so a count
    /// far above what the API serves costs no memory: the first page short of full ends
    /// the paging.
    pages: Vec<Option<PageView>>,
    /// `joined[k]`: the overlap of pages `k - 1` and `k` held, or the time between them was
    /// listed again. `gap_asked[k]`: that listing was started.
    joined: Vec<bool>,
    gap_asked: Vec<bool>,
    /// After the last page: nothing left, or the tail window was fetched.
    tail_done: bool,
    tail_asked: bool,
    /// Work to start, in order.
    queue: std::collections::VecDeque<Task>,
    /// Something in the pages said they cannot stand for create time (see the module's doc).
    fall_back: bool,
    anomaly: Option<String>,
    failed: Vec<(Listing, ListingError)>,
    aborted: bool,
    recheck: Option<Recheck>,
    /// Read by its first page alone (see `Recheck`).
    skimmed: bool,
}

#[derive(Debug, Clone, Copy)]
enum Task {
    Page(usize),
    /// The create time between pages `k - 1` and `k`.
    Gap(usize, Window),
    /// The create time from the stretch's start to the last page's last job.
    Tail(Window),
}

enum Done {
    Page(usize, Result<(PageView, PageContent), ListingError>),
    Gap(usize, Window, Result<ListingStats, ListingError>),
    Tail(Window, Result<ListingStats, ListingError>),
}

impl Stretch {
    fn new(windows: Vec<Window>, page_size: u32) -> Stretch {
        let span = Window {
            start: windows
                .first()
                .map_or(DateTime::<Utc>::MIN_UTC, |w| w.start),
            end: windows.last().map_or(DateTime::<Utc>::MIN_UTC, |w| w.end),
        };
        Stretch {
            covered: vec![false; windows.len()],
            windows,
            span,
            page_size,
            planned: 0,
            next: 1,
            pages: Vec::new(),
            joined: Vec::new(),
            gap_asked: Vec::new(),
            tail_done: false,
            tail_asked: false,
            queue: Default::default(),
            fall_back: false,
            anomaly: None,
            failed: Vec::new(),
            aborted: false,
            recheck: None,
            skimmed: false,
        }
    }

    async fn fetch(mut self, concurrency: usize, fetcher: &Fetcher) -> FetchOutcome {
        let span = self.span;
        let first = tokio::select! {
            biased;
            () = fetcher.stop.requested() => None,
            first = fetcher.fetch_page(span, 0) => Some(first),
        };
        let Some(first) = first else {
            return self.outcome(fetcher, concurrency).await;
        };
        match first {
            Ok((view, content)) => {
                let unchanged = self
                    .recheck
                    .is_some_and(|r| r.archived == view.total_count && view.ordered);
                if unchanged {
                    self.skimmed = true;
                    tracing::info!(
                        "{}: the API counts the {} jobs the archive holds; nothing came late",
                        Listing::Window(self.span),
                        view.total_count
                    );
                    self.tail_done = true;
                }
                let planned = if unchanged || view.served < u64::from(self.page_size) {
                    1
                } else {
                    pages_for(view.total_count, self.page_size)
                };
                self.planned = usize::try_from(planned).unwrap_or(usize::MAX);
                self.grow(1);
                self.page_in(0, view, content, fetcher).await;
            }
            Err(e) => self.fail(e),
        }
        let mut tasks: JoinSet<Done> = JoinSet::new();
        loop {
            if !self.aborted {
                if let Err(e) = self.record_covered(fetcher).await {
                    self.fail(e);
                }
            }
            let starting = !self.aborted && !self.fall_back && !fetcher.stop.is_requested();
            while starting && tasks.len() < concurrency {
                let task = match self.queue.pop_front() {
                    Some(task) => task,
                    None if self.next < self.planned => {
                        self.next += 1;
                        self.grow(self.next);
                        Task::Page(self.next - 1)
                    }
                    None => break,
                };
                let fetcher = fetcher.clone();
                let span = self.span;
                let page_size = self.page_size;
                tasks.spawn(async move {
                    match task {
                        Task::Page(k) => {
                            Done::Page(k, fetcher.fetch_page(span, offset_of(k, page_size)).await)
                        }
                        Task::Gap(k, w) => {
                            Done::Gap(k, w, fetcher.fetch(&Listing::Window(w)).await)
                        }
                        Task::Tail(w) => Done::Tail(w, fetcher.fetch(&Listing::Window(w)).await),
                    }
                });
            }
            // A stop abandons the requests in flight (dropping the set aborts them): what
            // they handed the writer is kept, their windows stay uncovered.
            let done = tokio::select! {
                biased;
                () = fetcher.stop.requested() => break,
                done = tasks.join_next() => done,
            };
            match done {
                None => break,
                Some(Ok(done)) => self.done(done, fetcher).await,
                Some(Err(e)) => tracing::warn!("a page's fetch ended abnormally: {e}"),
            }
        }
        drop(tasks);
        self.outcome(fetcher, concurrency).await
    }

    /// Makes room for the first `pages` pages.
    fn grow(&mut self, pages: usize) {
        if self.pages.len() < pages {
            self.pages.resize(pages, None);
            self.joined.resize(pages, false);
            self.gap_asked.resize(pages, false);
        }
    }

    fn fail(&mut self, e: ListingError) {
        if stops_everything(&e) {
            self.aborted = true;
        }
        tracing::warn!("{}: {e}", Listing::Window(self.span));
        self.failed.push((Listing::Window(self.span), e));
    }

    async fn done(&mut self, done: Done, fetcher: &Fetcher) {
        match done {
            Done::Page(k, Ok((view, content))) => self.page_in(k, view, content, fetcher).await,
            Done::Page(_, Err(e)) => self.fail(e),
            Done::Gap(k, w, Ok(stats)) => {
                tracing::debug!(
                    "{}: {} jobs in {} pages",
                    Listing::Window(w),
                    stats.jobs,
                    stats.pages
                );
                self.joined[k] = true;
            }
            Done::Tail(_, Ok(_)) => self.tail_done = true,
            Done::Gap(_, w, Err(e)) | Done::Tail(w, Err(e)) => {
                tracing::warn!("{}: {e}", Listing::Window(w));
                self.failed.push((Listing::Window(w), e));
            }
        }
    }

    /// Takes in page `k`: hands its objects to the writer (less the one it shares with a
    /// neighbour that is in and joins it: that one handed it), checks it against its
    /// neighbours and, for the last page, what is left after it.
    async fn page_in(&mut self, k: usize, view: PageView, content: PageContent, fetcher: &Fetcher) {
        let shared = |a: Option<&PageView>, b: Option<&PageView>| match (a, b) {
            (Some(a), Some(b)) => a.last.is_some() && a.last == b.first,
            _ => false,
        };
        let before = k.checked_sub(1).and_then(|i| self.pages[i].as_ref());
        let after = self.pages.get(k + 1).and_then(Option::as_ref);
        let drop_first = shared(before, Some(&view));
        let drop_last = shared(Some(&view), after);
        // An object served twice is kept by whichever page came first; when the two do not
        // join, both pages' objects are kept.
        if let Err(e) = fetcher.send_page(content, drop_first, drop_last).await {
            self.fail(e);
        }
        let last_planned = k + 1 == self.planned;
        let full = view.served == u64::from(self.page_size);
        // A page short of a full one before the last: the jobs moved, or the count was
        // wrong. Paging window by window sorts that out.
        if !view.ordered || (!last_planned && !full) {
            self.fall_back = true;
        }
        self.pages[k] = Some(view);
        self.check_overlap(k);
        self.check_overlap(k + 1);
        if last_planned {
            self.check_tail(k);
        }
    }

    fn check_overlap(&mut self, k: usize) {
        if k == 0 || k >= self.pages.len() || self.joined[k] || self.gap_asked[k] {
            return;
        }
        let (Some(before), Some(page)) = (&self.pages[k - 1], &self.pages[k]) else {
            return;
        };
        let (Some(a), Some(b)) = (&before.last, &page.first) else {
            self.fall_back = true;
            return;
        };
        if a.key == b.key {
            self.joined[k] = true;
            return;
        }
        let (Some(ta), Some(tb)) = (a.time, b.time) else {
            self.fall_back = true;
            return;
        };
        // Every job that belongs between the two lies in the seconds from one to the other.
        let gap = Window {
            start: ta.min(tb),
            end: ta.max(tb) + Duration::seconds(1),
        };
        tracing::info!(
            "pages shifted between offsets {} and {} of {}; reading {} again",
            offset_of(k - 1, self.page_size),
            offset_of(k, self.page_size),
            Listing::Window(self.span),
            Listing::Window(gap)
        );
        self.gap_asked[k] = true;
        self.queue.push_front(Task::Gap(k, gap));
    }

    fn check_tail(&mut self, k: usize) {
        if self.tail_asked || self.tail_done {
            return;
        }
        let Some(view) = &self.pages[k] else {
            return;
        };
        let reached = offset_of(k, self.page_size) + view.served;
        let full = view.served == u64::from(self.page_size);
        if !full && reached >= view.total_count {
            if reached > view.total_count {
                self.anomaly = Some(format!(
                    "{}: total_count said {}, but the pages served {reached} jobs",
                    Listing::Window(self.span),
                    view.total_count
                ));
            }
            self.tail_done = true;
            return;
        }
        // A full last page is never the last; one short of the count is read again.
        let end = match (&view.last, view.served) {
            (Some(last), _) => match last.time {
                Some(t) => t + Duration::seconds(1),
                None => {
                    self.fall_back = true;
                    return;
                }
            },
            (None, 0) if k == 0 => self.span.end,
            (None, _) => {
                self.fall_back = true;
                return;
            }
        };
        if end <= self.span.start {
            self.tail_done = true;
            return;
        }
        self.tail_asked = true;
        self.queue.push_front(Task::Tail(Window {
            start: self.span.start,
            end: end.min(self.span.end),
        }));
    }

    /// The create time each run of joined pages stands for: `[from, to)`.
    fn stretches(&self) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out = Vec::new();
        let count = self.pages.len();
        let final_page = self.planned.saturating_sub(1);
        let mut k = 0;
        while k < count {
            let Some(first) = &self.pages[k] else {
                k += 1;
                continue;
            };
            let i = k;
            while k + 1 < count && self.pages[k + 1].is_some() && self.joined[k + 1] {
                k += 1;
            }
            let last = self.pages[k].as_ref().expect("joined pages are in");
            // Jobs newer than a page's first job are on the pages before it, and jobs as old
            // as the last page's last job may be on the page after: whole seconds between.
            let to = if i == 0 {
                Some(self.span.end)
            } else {
                first.first.as_ref().and_then(|e| e.time)
            };
            let from = if k == final_page && self.tail_done {
                Some(self.span.start)
            } else {
                last.last
                    .as_ref()
                    .and_then(|e| e.time)
                    .map(|t| t + Duration::seconds(1))
            };
            if let (Some(from), Some(to)) = (from, to) {
                out.push((from, to));
            }
            k += 1;
        }
        out
    }

    /// Records the windows that a run of joined pages now covers, after their pages.
    async fn record_covered(&mut self, fetcher: &Fetcher) -> Result<(), ListingError> {
        let stretches = self.stretches();
        for (index, w) in self.windows.iter().enumerate() {
            if self.covered[index] {
                continue;
            }
            if stretches
                .iter()
                .any(|(from, to)| *from <= w.start && w.end <= *to)
            {
                self.covered[index] = true;
                fetcher.covered(*w).await?;
                fetcher.progress.listing_done(&fetcher.project_id);
            }
        }
        if let Some(note) = self.anomaly.take() {
            fetcher.note_anomaly(note).await?;
        }
        Ok(())
    }

    /// What the stretch came to, in windows; the windows left uncovered when its pages
    /// could not stand for create time are paged window by window first.
    async fn outcome(self, fetcher: &Fetcher, concurrency: usize) -> FetchOutcome {
        let completed = self.covered.iter().filter(|c| **c).count();
        let left: Vec<Window> = self
            .windows
            .iter()
            .zip(&self.covered)
            .filter(|(_, c)| !**c)
            .map(|(w, _)| *w)
            .collect();
        let mut tally = Tally {
            planned: self.windows.len(),
            completed,
            failed: 0,
        };
        let mut failed = self.failed;
        let stopped = fetcher.stop.is_requested();
        // A page that failed (after its retries) may hold what breaks it, a bad object or a
        // day the server cannot answer: window by window, only that window stays a gap.
        let again = self.fall_back || !failed.is_empty();
        if again && !self.aborted && !stopped && !left.is_empty() {
            if failed.is_empty() {
                tracing::info!(
                    "{}: the pages could not stand for create time; paging {} windows one by one",
                    Listing::Window(self.span),
                    left.len()
                );
            } else {
                tracing::info!(
                    "{}: pages could not be fetched; paging the {} windows left one by one",
                    Listing::Window(self.span),
                    left.len()
                );
                failed.clear();
            }
            let paged = fetch_all(
                left.into_iter().map(Listing::Window).collect(),
                concurrency,
                fetcher,
            )
            .await;
            tally.completed += paged.tally.completed;
            tally.failed += paged.tally.failed;
            failed.extend(paged.failed);
            return FetchOutcome {
                tally,
                failed,
                aborted: paged.aborted,
                skimmed: false,
            };
        }
        if !failed.is_empty() {
            tally.failed = left.len();
        }
        for _ in &left {
            fetcher.progress.listing_done(&fetcher.project_id);
        }
        FetchOutcome {
            tally,
            failed,
            aborted: self.aborted || stopped,
            skimmed: self.skimmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    #[test]
    fn consecutive_windows_are_one_stretch() {
        let t = |s: &str| time::from_store(s).unwrap();
        let w = |a: &str, b: &str| Window {
            start: t(a),
            end: t(b),
        };
        let groups = consecutive(vec![
            w("2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            w("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
            w("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"),
        ]);
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn pages_overlap_by_one_job() {
        assert_eq!(pages_for(0, 100), 1);
        assert_eq!(pages_for(100, 100), 1);
        assert_eq!(pages_for(101, 100), 2);
        assert_eq!(pages_for(199, 100), 2);
        assert_eq!(pages_for(200, 100), 3);
        assert_eq!(pages_for(200_000, 100), 2021);
        assert_eq!(pages_for(5, 2), 4);
        assert_eq!(offset_of(3, 100), 297);
    }
}
