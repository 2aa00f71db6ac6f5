//! The simulator's state: the jobs (kept sorted by create time so a time window is a range
//! scan), their filtering and paging, the mutations tests make, and the request log.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::faults::Fault;
use super::generate::{self, Instance};
use super::job::{SimJob, TimeField};
use super::{Boundary, RecordedRequest, SimConfig};

type Key = (DateTime<Utc>, String);

/// What a list request asks for, already validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub status: Option<String>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub instance_id: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl Filter {
    fn matches(&self, job: &SimJob) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.status, &job.job_status)
            && eq(&self.job_id, &job.job_id)
            && eq(&self.job_name, &job.job_name)
            && eq(&self.instance_id, &job.instance_id)
    }
}

pub(crate) struct Page {
    pub keys: Vec<Key>,
    pub total_count: usize,
}

/// A job and its text, rendered on first serve and kept, so a page is a concatenation (a
/// job's text only changes when the job does, and every change replaces the entry).
struct Entry {
    job: SimJob,
    text: OnceCell<String>,
}

impl Entry {
    fn new(job: SimJob) -> Entry {
        Entry {
            job,
            text: OnceCell::new(),
        }
    }

    fn text(&self) -> &str {
        self.text.get_or_init(|| self.job.to_api_json().to_string())
    }
}

/// A listing as the fake tells listings apart: status, job name, instance and window.
type ListingKey = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Listings kept at most; a sync pages a few at a time.
const KEPT_LISTINGS: usize = 64;

#[derive(Default)]
struct Listings {
    generation: u64,
    keys: HashMap<ListingKey, Arc<Vec<Key>>>,
}

pub(crate) struct World {
    pub config: SimConfig,
    jobs: BTreeMap<Key, Entry>,
    /// Bumped by every change to `jobs`; the listings below are of one generation.
    generation: u64,
    /// The matching keys of recently paged listings, newest first, so the pages of a window
    /// are slices of one scan rather than a scan each: paging 200,000 jobs scanned every
    /// window once per page, and the fake's CPU slowed the syncs it was benchmarking.
    listings: RefCell<Listings>,
    by_id: HashMap<String, DateTime<Utc>>,
    instances: Vec<Instance>,
    /// Drives generation (initial jobs, `generate_jobs`, drift): the same seed and the same
    /// calls give the same jobs.
    gen_rng: StdRng,
    /// Separate from `gen_rng` so injecting a probabilistic fault does not change which jobs
    /// are generated later.
    pub fault_rng: StdRng,
    pub faults: Vec<Fault>,
    pub requests: Vec<RecordedRequest>,
    /// When the API requests of the last second arrived, for the gateway's rate limit.
    pub recent: std::collections::VecDeque<std::time::Instant>,
}

impl World {
    pub fn new(config: SimConfig, populate: bool) -> World {
        let mut gen_rng = StdRng::seed_from_u64(config.seed);
        let fault_rng = StdRng::seed_from_u64(config.seed ^ 0x5eed_fa17);
        let instances = generate::instances(&mut gen_rng, config.jobs / 20);
        let mut world = World {
            jobs: BTreeMap::new(),
            generation: 0,
            listings: RefCell::default(),
            by_id: HashMap::new(),
            instances,
            gen_rng,
            fault_rng,
            faults: Vec::new(),
            requests: Vec::new(),
            recent: Default::default(),
            config,
        };
        if populate {
            let to = world.config.now;
            let from = to - Duration::days(i64::from(world.config.days));
            world.generate(world.config.jobs, from, to);
            if let Some(keep) = world.config.open_jobs {
                world.close_all_but(keep);
            }
        }
        world
    }

    /// Completes every open job but the `keep` newest (see [`SimConfig::open_jobs`]).
    fn close_all_but(&mut self, keep: usize) {
        let open: Vec<(DateTime<Utc>, String)> = self
            .jobs
            .iter()
            .rev()
            .filter(|(_, e)| {
                ["Running", "Pending", "Unauthorized"].contains(&e.job.job_status.as_str())
            })
            .map(|(key, _)| key.clone())
            .skip(keep)
            .collect();
        let now = self.config.now;
        for (created, id) in open {
            self.set_status(&id, "Completed", (created + Duration::hours(1)).min(now));
        }
    }

    /// Whether one more API request fits the gateway's limit this second; counts it if so.
    pub fn admit(&mut self) -> bool {
        let Some(limit) = self.config.rate_limit else {
            return true;
        };
        let now = std::time::Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit as usize {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// The job's text exactly as served.
    pub fn text(&self, key: &Key) -> Option<&str> {
        self.jobs.get(key).map(Entry::text)
    }

    /// The job under a key.
    pub fn job(&self, key: &Key) -> Option<&SimJob> {
        self.jobs.get(key).map(|e| &e.job)
    }

    /// Every job, newest first (the API's order).
    pub fn all(&self) -> impl Iterator<Item = &SimJob> {
        self.jobs.values().rev().map(|e| &e.job)
    }

    pub fn insert(&mut self, job: SimJob) {
        self.remove(&job.job_id.clone());
        self.generation += 1;
        self.by_id.insert(job.job_id.clone(), job.create_time);
        self.jobs
            .insert((job.create_time, job.job_id.clone()), Entry::new(job));
    }

    pub fn remove(&mut self, job_id: &str) -> Option<SimJob> {
        let created = self.by_id.remove(job_id)?;
        self.generation += 1;
        self.jobs
            .remove(&(created, job_id.to_string()))
            .map(|e| e.job)
    }

    fn fresh_id(&mut self) -> String {
        loop {
            let id = generate::hex32(&mut self.gen_rng);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn generate(&mut self, n: usize, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let id = self.fresh_id();
            let created = generate::time_in(&mut self.gen_rng, from, to);
            let job = generate::job(
                &mut self.gen_rng,
                &self.instances,
                &self.config.project_id,
                id.clone(),
                created,
                self.config.now,
            );
            self.insert(job);
            ids.push(id);
        }
        ids
    }

    pub fn purge_before(&mut self, t: DateTime<Utc>) -> usize {
        self.generation += 1;
        let keep = self.jobs.split_off(&(t, String::new()));
        let gone = std::mem::replace(&mut self.jobs, keep);
        for (_, id) in gone.keys() {
            self.by_id.remove(id);
        }
        gone.len()
    }

    pub fn set_status(&mut self, job_id: &str, status: &str, at: DateTime<Utc>) -> bool {
        let Some(mut job) = self.remove(job_id) else {
            return false;
        };
        job.job_status = status.to_string();
        match status {
            "Running" => job.start_time = TimeField::At(at),
            "Completed" | "Failed" | "Canceled" => {
                if job.start_time.at().is_none() {
                    job.start_time = TimeField::At(at);
                }
                job.end_time = TimeField::At(at);
            }
            _ => {}
        }
        self.insert(job);
        true
    }

    /// The keys of the create times a window admits, as a range of the sorted map; `None` when
    /// the window is empty (a reversed window would make `BTreeMap::range` panic).
    fn range(&self, filter: &Filter) -> Option<(Bound<Key>, Bound<Key>)> {
        let tick = Duration::nanoseconds(1);
        let (start_incl, end_incl) = match self.config.boundary {
            Boundary::StartInclusiveEndExclusive => (true, false),
            Boundary::BothExclusive => (false, false),
            Boundary::BothInclusive => (true, true),
        };
        let lo = filter.start.map(|s| if start_incl { s } else { s + tick });
        let hi = filter.end.map(|e| if end_incl { e + tick } else { e });
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo >= hi {
                return None;
            }
        }
        Some((
            lo.map_or(Bound::Unbounded, |t| Bound::Included((t, String::new()))),
            hi.map_or(Bound::Unbounded, |t| Bound::Excluded((t, String::new()))),
        ))
    }

    /// One page of matches, newest first; ties in create time are ordered by job_id,
    /// descending (reverse key order), which is stable across requests.
    pub fn list(&self, filter: &Filter, offset: u64, limit: u32) -> Page {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = limit as usize;
        let Some(range) = self.range(filter) else {
            return Page {
                keys: Vec::new(),
                total_count: 0,
            };
        };
        // A job_id filter is a point lookup, not a scan of the window.
        if let Some(id) = &filter.job_id {
            let keys: Vec<Key> = self
                .by_id
                .get(id)
                .map(|t| (*t, id.clone()))
                .filter(|k| range_contains(&range, k) && filter.matches(&self.jobs[k].job))
                .into_iter()
                .collect();
            let total_count = keys.len();
            return Page {
                keys: keys.into_iter().skip(offset).take(limit).collect(),
                total_count,
            };
        }
        let matching = self.matching(filter, range);
        Page {
            keys: matching.iter().skip(offset).take(limit).cloned().collect(),
            total_count: matching.len(),
        }
    }

    /// Every key the filter and window match, newest first: scanned once per generation of
    /// the jobs and kept for the listing's next pages.
    fn matching(&self, filter: &Filter, range: (Bound<Key>, Bound<Key>)) -> Arc<Vec<Key>> {
        let mut listings = self.listings.borrow_mut();
        if listings.generation != self.generation || listings.keys.len() >= KEPT_LISTINGS {
            listings.keys.clear();
            listings.generation = self.generation;
        }
        let listing = (
            filter.status.clone(),
            filter.job_name.clone(),
            filter.instance_id.clone(),
            filter.start,
            filter.end,
        );
        let keys = listings.keys.entry(listing).or_insert_with(|| {
            Arc::new(
                self.jobs
                    .range(range)
                    .rev()
                    .filter(|(_, entry)| filter.matches(&entry.job))
                    .map(|(key, _)| key.clone())
                    .collect(),
            )
        });
        Arc::clone(keys)
    }

    /// The drift fault: drop the page's newest job and create a like job (so it matches the
    /// same filters) at the oldest time the window admits, so total_count is unchanged and the
    /// rest of the window slides one place towards the front.
    pub fn drift(&mut self, filter: &Filter, page: &[Key]) {
        let Some(last) = page.last() else {
            return;
        };
        // The newest job of the page still held: a second drift on the same page purges the
        // next one, so the pages after it shift by two.
        let Some(mut job) = page.iter().find_map(|(_, id)| self.remove(id)) else {
            return;
        };
        let floor = match filter.start {
            Some(s) if self.config.boundary == Boundary::BothExclusive => s + Duration::seconds(1),
            Some(s) => s,
            None => {
                self.jobs
                    .keys()
                    .next()
                    .map_or(last.0, |(t, _)| *t)
                    .min(last.0)
                    - Duration::seconds(1)
            }
        };
        job.job_id = self.fresh_id();
        job.create_time = floor.min(last.0);
        self.insert(job);
    }

    /// Ids of every job, for tests that check coverage.
    #[cfg(test)]
    pub fn ids(&self) -> std::collections::HashSet<String> {
        self.by_id.keys().cloned().collect()
    }
}

fn range_contains(range: &(Bound<Key>, Bound<Key>), key: &Key) -> bool {
    use std::ops::RangeBounds;
    (range.0.as_ref(), range.1.as_ref()).contains(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn world(jobs: usize) -> World {
        let config = SimConfig {
            jobs,
            now: crate::time::from_store("2024-04-01T00:00:00Z").unwrap(),
            ..SimConfig::default()
        };
        World::new(config, true)
    }

    #[test]
    fn paging_covers_every_job_once_newest_first() {
        let w = world(1000);
        let all = Filter::default();
        let mut seen = Vec::new();
        for offset in (0..1000).step_by(70) {
            let page = w.list(&all, offset, 70);
            assert_eq!(page.total_count, 1000);
            seen.extend(page.keys);
        }
        assert_eq!(seen.len(), 1000);
        assert!(
            seen.windows(2).all(|p| p[0] > p[1]),
            "newest first, no repeats"
        );
        let ids: HashSet<String> = seen.into_iter().map(|k| k.1).collect();
        assert_eq!(ids, w.ids());
    }

    #[test]
    fn purge_forgets_only_older_jobs() {
        let mut w = world(500);
        let cut = w.config.now - Duration::days(30);
        let older = w.all().filter(|j| j.create_time < cut).count();
        assert!(older > 100);
        assert_eq!(w.purge_before(cut), older);
        assert_eq!(w.len(), 500 - older);
        assert!(w.all().all(|j| j.create_time >= cut));
        assert_eq!(w.ids().len(), w.len());
    }

    #[test]
    fn reversed_window_is_empty_not_a_panic() {
        let w = world(10);
        let now = w.config.now;
        let f = Filter {
            start: Some(now),
            end: Some(now - Duration::days(1)),
            ..Filter::default()
        };
        assert_eq!(w.list(&f, 0, 100).total_count, 0);
    }

    #[test]
    fn drift_without_a_window_adds_the_oldest_job() {
        let mut w = world(300);
        let all = Filter::default();
        let before = w.list(&all, 0, 300).keys;
        let page = w.list(&all, 0, 50);
        w.drift(&all, &page.keys);
        let after = w.list(&all, 0, 300);
        assert_eq!(after.total_count, 300);
        assert_eq!(
            after.keys[..299],
            before[1..],
            "everything slid one place forward"
        );
        assert!(
            after.keys[299].0 < before[299].0,
            "the new job is the oldest"
        );
        assert!(!w.ids().contains(&before[0].1));
    }
}
