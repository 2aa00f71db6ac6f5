//! The sync benchmark: the real binary against the simulator (a separate process) with a fixed
//! latency per request, and the store alone against SQLite's own insert rate, measured in the
//! same run. Prints figures; asserts nothing (targets are printed beside them).
//!
//! `cargo bench --bench sync` (200,000 jobs). `GAUSSJOBS_BENCH_JOBS=20000,200000` picks the
//! sizes; `GAUSSJOBS_BENCH_LATENCY_MS` (default 30) and `GAUSSJOBS_BENCH_CONCURRENCY`
//! (default 8) the conditions; `GAUSSJOBS_BENCH_ONLY=store` measures the store alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gaussjobs::api::ScheduleTask;
use gaussjobs::simulate::{SimConfig, Simulator, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use gaussjobs::store::{JobRecord, ScopeKey, Store};
use gaussjobs::sync::job_record;
use gaussjobs::time;

const BIN: &str = env!("CARGO_BIN_EXE_gaussjobs");

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let sizes: Vec<usize> = std::env::var("GAUSSJOBS_BENCH_JOBS")
        .unwrap_or_else(|_| "20000,200000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("GAUSSJOBS_BENCH_LATENCY_MS", 30);
    let concurrency: u32 = env_or("GAUSSJOBS_BENCH_CONCURRENCY", 8);
    println!(
        "gaussjobs sync benchmark: latency {latency_ms} ms, concurrency {concurrency}, 60 days"
    );
    println!();
    // GAUSSJOBS_BENCH_ONLY=store skips the syncs (for tuning the store).
    let store_only = std::env::var("GAUSSJOBS_BENCH_ONLY").is_ok_and(|v| v == "store");
    for &jobs in sizes.iter().filter(|_| !store_only) {
        bench_sync(jobs, latency_ms, concurrency);
    }
    bench_store(*sizes.iter().max().unwrap_or(&200_000));
}

/// Resources a finished child used, from `wait4`.
struct Usage {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
    code: i32,
}

fn run_measured(mut cmd: Command) -> Usage {
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = String::new();
    let mut child = child;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let wall = started.elapsed();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    if code != 0 {
        eprintln!("{stderr}");
    }
    Usage {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
        code,
    }
}

struct SimProcess {
    child: Child,
    url: String,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_simulator(jobs: usize, latency_ms: u64) -> SimProcess {
    let mut child = Command::new(BIN)
        .args(["simulate", "--port", "0", "--days", "60", "--seed", "1"])
        .args([
            "--jobs",
            &jobs.to_string(),
            "--latency-ms",
            &latency_ms.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.split_whitespace().next().unwrap().to_string();
    SimProcess { child, url }
}

/// Requests the simulator has served, from its control interface.
fn served_requests(url: &str) -> u64 {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /_sim/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("{}");
    let stats: serde_json::Value = serde_json::from_str(body).unwrap();
    stats["requests"].as_u64().unwrap()
}

fn sync_command(db: &Path, url: &str, concurrency: u32) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .env_remove("RUST_LOG")
        .arg("--db")
        .arg(db)
        .args([
            "-q",
            "sync",
            "--endpoint",
            url,
            "--project-id",
            DEFAULT_PROJECT_ID,
        ])
        .args(["--since", "61d", "--max-rps", "100000"])
        .args(["--concurrency", &concurrency.to_string()]);
    cmd
}

fn bench_sync(jobs: usize, latency_ms: u64, concurrency: u32) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let sim = start_simulator(jobs, latency_ms);

    let first = run_measured(sync_command(&db, &sim.url, concurrency));
    let requests = served_requests(&sim.url);
    let open_jobs = open_job_count(&db);
    // The fewest requests that can list every job: one per full page.
    let fewest = jobs.div_ceil(100) as f64;
    let ideal = fewest * latency_ms as f64 / 1000.0 / f64::from(concurrency);
    let wall = first.wall.as_secs_f64();
    let cpu_per_100k = first.cpu.as_secs_f64() * 100_000.0 / jobs as f64;

    let again = run_measured(sync_command(&db, &sim.url, concurrency));
    let again_requests = served_requests(&sim.url) - requests;

    println!("== {jobs} jobs");
    println!(
        "first sync      exit {}, {requests} requests, {wall:.2} s wall",
        first.code
    );
    println!(
        "ideal           {ideal:.2} s ({fewest} requests x {latency_ms} ms / {concurrency}); wall/ideal {:.2}   (target <= 1.3)",
        wall / ideal
    );
    println!(
        "cpu             {:.2} s, {cpu_per_100k:.2} s per 100k jobs   (target <= 1.5)",
        first.cpu.as_secs_f64()
    );
    println!(
        "peak rss        {:.1} MiB   (target <= 64, flat in jobs)",
        first.max_rss_kib as f64 / 1024.0
    );
    let allowed = 10 + open_jobs.div_ceil(100);
    println!(
        "nothing new     exit {}, {again_requests} requests, {:.2} s, {:.1} MiB; {open_jobs} open jobs   (target <= {allowed})",
        again.code,
        again.wall.as_secs_f64(),
        again.max_rss_kib as f64 / 1024.0
    );
    println!();
}

fn open_job_count(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM jobs WHERE job_status IN ('Pending','Running','Unauthorized')",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Rounds of the store and of the bare insert; the best of each is compared, because one
/// run of either can be slowed by the machine (the kernel writing back the last round's file).
const STORE_ROUNDS: usize = 3;

/// The store alone: new jobs archived per second (history included), in pages of 100 as a
/// sync writes them, beside SQLite inserting the same rows into a bare table in one
/// transaction, with the archive's page size and cache. Fresh files each round.
fn bench_store(jobs: usize) {
    let sim = Simulator::new(SimConfig {
        jobs,
        days: 60,
        seed: 2,
        ..SimConfig::default()
    });
    let records: Vec<JobRecord> = sim
        .jobs()
        .iter()
        .map(|v| {
            let raw = serde_json::value::RawValue::from_string(v.to_string()).unwrap();
            job_record(ScheduleTask::from_raw(&raw).unwrap(), DEFAULT_PROJECT_ID)
        })
        .collect();
    let mut store_rates = Vec::new();
    let mut populated_rates = Vec::new();
    let mut bare_rates = Vec::new();
    let mut schema_rates = Vec::new();
    for _ in 0..STORE_ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let (rate, page_size, cache_size) =
            store_rate(&dir.path().join("store.db"), &records, Archive::New);
        store_rates.push(rate);
        populated_rates.push(
            store_rate(
                &dir.path().join("populated.db"),
                &records,
                Archive::Populated,
            )
            .0,
        );
        bare_rates.push(bare_rate(
            &dir.path().join("bare.db"),
            &records,
            page_size,
            cache_size,
        ));
        schema_rates.push(schema_rate(&dir.path().join("schema.db"), &records));
    }
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    let list = |rates: &[f64]| {
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (store_best, bare_best, schema_best) =
        (best(&store_rates), best(&bare_rates), best(&schema_rates));
    let populated_best = best(&populated_rates);
    println!("== store alone, {jobs} new jobs, best of {STORE_ROUNDS}");
    println!(
        "store           {store_best:.0} jobs/s (a first sync: pages of 100, history included, \
         query indexes built after the last page; rounds {})",
        list(&store_rates)
    );
    println!(
        "store, later    {populated_best:.0} jobs/s (an archive that has jobs: every index kept \
         up row by row; rounds {}); /bare {:.2}",
        list(&populated_rates),
        populated_best / bare_best
    );
    println!(
        "sqlite bare     {bare_best:.0} rows/s (one transaction, no indexes; rounds {})",
        list(&bare_rates)
    );
    println!(
        "store/bare      {:.2}   (target >= 0.5)",
        store_best / bare_best
    );
    println!(
        "sqlite schema   {schema_best:.0} rows/s (plain inserts into the archive's own tables, \
         indexes kept up row by row; rounds {}); store/schema {:.2}",
        list(&schema_rates),
        store_best / schema_best
    );
}

/// The archive the store writes new jobs into.
#[derive(Clone, Copy)]
enum Archive {
    /// No jobs yet: a first sync.
    New,
    /// Jobs already: every later sync.
    Populated,
}

/// Writes `records` as new jobs through the store; returns jobs per second and the archive's
/// page size and cache size, for the bare table to use the same.
fn store_rate(path: &Path, records: &[JobRecord], archive: Archive) -> (f64, i64, i64) {
    let mut store = Store::open(path).unwrap();
    let now = time::now_secs();
    let key = ScopeKey {
        endpoint: "http://bench".into(),
        project_id: DEFAULT_PROJECT_ID.into(),
        filter: String::new(),
    };
    let scope = store.scope(&key, None, now, now).unwrap();
    let run = store
        .begin_run(&gaussjobs::store::RunStart {
            started_at: now,
            endpoint: key.endpoint.clone(),
            project_id: key.project_id.clone(),
            scope_id: scope.scope_id,
            range_start: now,
            range_end: now,
            options: "{}".into(),
            windows_planned: 0,
        })
        .unwrap();
    let records = match archive {
        Archive::New => records,
        // One job archived beforehand (not timed) makes it an archive that has jobs.
        Archive::Populated => {
            let first = gaussjobs::store::PageBatch {
                jobs: &records[..1],
                seen_at: now,
                completes: None,
            };
            store.write_pages(run, scope.scope_id, &[first], 0).unwrap();
            &records[1..]
        }
    };
    // Pages of 100, committed every TRANSACTION_JOBS jobs as the sync's writer does when
    // pages arrive faster than its commit interval. A new archive's query indexes are
    // deferred and built after the last page, as a first sync does: timed too.
    let started = Instant::now();
    let deferred = store.defer_query_indexes().unwrap();
    assert_eq!(deferred, matches!(archive, Archive::New));
    for batch in records.chunks(gaussjobs::store::TRANSACTION_JOBS) {
        let pages: Vec<gaussjobs::store::PageBatch<'_>> = batch
            .chunks(100)
            .map(|jobs| gaussjobs::store::PageBatch {
                jobs,
                seen_at: now,
                completes: None,
            })
            .collect();
        store.write_pages(run, scope.scope_id, &pages, 0).unwrap();
    }
    store.build_query_indexes().unwrap();
    let pragma = |name: &str| -> i64 {
        store
            .connection()
            .pragma_query_value(None, name, |r| r.get(0))
            .unwrap()
    };
    let (page_size, cache_size) = (pragma("page_size"), pragma("cache_size"));
    // Closing checkpoints the WAL into the file: work the store did, so it is counted.
    drop(store);
    let rate = records.len() as f64 / started.elapsed().as_secs_f64();
    (rate, page_size, cache_size)
}

/// Inserts the same rows into the archive's own schema with plain INSERTs (no lookup, no
/// fingerprint check, no history logic), in transactions as large as the store's, and closes
/// the file: what SQLite itself needs for this schema's keys and indexes, so the store's own
/// cost is the difference.
fn schema_rate(path: &Path, records: &[JobRecord]) -> f64 {
    // The store creates the schema; its connection settings are set again, as the store sets
    // them.
    let store = Store::open(path).unwrap();
    let pragma = |name: &str| -> i64 {
        store
            .connection()
            .pragma_query_value(None, name, |r| r.get(0))
            .unwrap()
    };
    let settings = format!(
        "PRAGMA cache_size = {}; PRAGMA wal_autocheckpoint = {}; PRAGMA synchronous = {};",
        pragma("cache_size"),
        pragma("wal_autocheckpoint"),
        pragma("synchronous")
    );
    drop(store);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&settings).unwrap();
    let started = Instant::now();
    for batch in records.chunks(gaussjobs::store::TRANSACTION_JOBS) {
        conn.execute_batch("BEGIN").unwrap();
        {
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO jobs (job_id, project_id, instance_id, instance_name,
                        instance_status, job_name, job_status, datastore_type, create_time,
                        start_time, end_time, target_config, raw, content_hash, version,
                        first_seen_at, last_seen_at, version_observed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1,
                        ?15, ?15, ?15)",
                )
                .unwrap();
            for r in batch {
                insert
                    .execute(rusqlite::params_from_iter(
                        job_columns(r).into_iter().chain([
                            &r.content_hash as &dyn rusqlite::ToSql,
                            &"2026-01-01T00:00:00Z",
                        ]),
                    ))
                    .unwrap();
            }
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    drop(conn);
    records.len() as f64 / started.elapsed().as_secs_f64()
}

/// A job's API columns, in the order of the bare table (and of the archive's jobs table).
fn job_columns(r: &JobRecord) -> [&dyn rusqlite::ToSql; 13] {
    [
        &r.job_id,
        &r.project_id,
        &r.instance_id,
        &r.instance_name,
        &r.instance_status,
        &r.job_name,
        &r.job_status,
        &r.datastore_type,
        &r.create_time,
        &r.start_time,
        &r.end_time,
        &r.target_config,
        &r.raw,
    ]
}

/// Inserts the same rows into a table without keys or indexes, in one transaction, and closes
/// the file.
fn bare_rate(path: &Path, records: &[JobRecord], page_size: i64, cache_size: i64) -> f64 {
    let bare = rusqlite::Connection::open(path).unwrap();
    bare.execute_batch(&format!(
        "PRAGMA page_size = {page_size}; PRAGMA cache_size = {cache_size};
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE jobs (job_id TEXT, project_id TEXT, instance_id TEXT, instance_name TEXT,
            instance_status TEXT, job_name TEXT, job_status TEXT, datastore_type TEXT,
            create_time TEXT, start_time TEXT, end_time TEXT, target_config TEXT, raw TEXT)"
    ))
    .unwrap();
    let started = Instant::now();
    bare.execute_batch("BEGIN").unwrap();
    {
        let mut insert = bare
            .prepare("INSERT INTO jobs VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)")
            .unwrap();
        for r in records {
            insert.execute(job_columns(r)).unwrap();
        }
    }
    bare.execute_batch("COMMIT").unwrap();
    // Counted to the checkpoint on close, as the store is.
    drop(bare);
    records.len() as f64 / started.elapsed().as_secs_f64()
}
