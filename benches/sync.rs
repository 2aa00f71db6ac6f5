//! The sync benchmark: the real binary against the simulator (a separate process) with a fixed
//! latency per request, at the default settings (`--max-rps 10 --concurrency 4`: the gateway
//! quota's share) and lifted (`--max-rps 1000 --concurrency 16`), side by side; a sync with
//! nothing new; a sync against a simulator that enforces a rate limit; and the store alone
//! against plain inserts into the same schema. Prints each figure beside its target, with PASS
//! or FAIL, and the machine it ran on; asserts nothing.
//!
//! `cargo bench --bench sync`. `GAUSSJOBS_BENCH_JOBS=20000,200000` picks the sizes,
//! `GAUSSJOBS_BENCH_LATENCY_MS` (default 100) the latency, `GAUSSJOBS_BENCH_SETTINGS`
//! (`default,lifted`) the settings; `GAUSSJOBS_BENCH_ONLY=store` measures the store alone,
//! `GAUSSJOBS_BENCH_ONLY=sync` skips it.

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

/// Jobs per page, the API's most.
const PAGE: usize = 100;

/// Open jobs the simulated archive keeps, for the sync with nothing new.
const OPEN_JOBS: u64 = 500;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How a sync is run.
#[derive(Clone, Copy)]
struct Setting {
    name: &'static str,
    max_rps: f64,
    concurrency: u32,
}

const SETTINGS: [Setting; 2] = [
    Setting {
        name: "default",
        max_rps: 10.0,
        concurrency: 4,
    },
    Setting {
        name: "lifted",
        max_rps: 1000.0,
        concurrency: 16,
    },
];

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let sizes: Vec<usize> = std::env::var("GAUSSJOBS_BENCH_JOBS")
        .unwrap_or_else(|_| "20000,200000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms: u64 = env_or("GAUSSJOBS_BENCH_LATENCY_MS", 100);
    let wanted =
        std::env::var("GAUSSJOBS_BENCH_SETTINGS").unwrap_or_else(|_| "default,lifted".into());
    let settings: Vec<Setting> = SETTINGS
        .into_iter()
        .filter(|s| wanted.split(',').any(|w| w.trim() == s.name))
        .collect();
    let only = std::env::var("GAUSSJOBS_BENCH_ONLY").unwrap_or_default();
    println!("gaussjobs sync benchmark");
    println!("machine         {}", machine());
    println!(
        "conditions      simulator in its own process, {latency_ms} ms latency per request, \
         60 days, page size {PAGE}, {OPEN_JOBS} open jobs"
    );
    for s in &settings {
        println!(
            "setting {:<8}--max-rps {} --concurrency {}",
            s.name, s.max_rps, s.concurrency
        );
    }
    println!();
    let mut rows = Vec::new();
    if only != "store" {
        for &jobs in &sizes {
            for setting in &settings {
                rows.push(bench_sync(jobs, latency_ms, *setting));
            }
        }
        print_table(&rows, latency_ms);
        bench_throttled(5_000, latency_ms);
    }
    if only != "sync" {
        bench_store(*sizes.iter().max().unwrap_or(&200_000));
    }
}

/// The CPUs, the model and the load, as the kernel reports them: figures of CPU time move
/// with what else runs.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs ({model}), load average {}", load())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// Resources a finished child used, from `wait4`.
struct Usage {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
    code: i32,
    stderr: String,
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
        stderr,
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

fn start_simulator(jobs: usize, latency_ms: u64, extra: &[&str]) -> SimProcess {
    let mut child = Command::new(BIN)
        .args(["simulate", "--port", "0", "--days", "60", "--seed", "1"])
        .args([
            "--jobs",
            &jobs.to_string(),
            "--latency-ms",
            &latency_ms.to_string(),
        ])
        .args(extra)
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

/// The simulator's counters, from its control interface.
fn sim_stats(url: &str) -> serde_json::Value {
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
    serde_json::from_str(body).unwrap()
}

/// Requests the simulator has served.
fn served_requests(url: &str) -> u64 {
    sim_stats(url)["requests"].as_u64().unwrap()
}

fn sync_command(db: &Path, url: &str, max_rps: f64, concurrency: u32) -> Command {
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
        .args(["--since", "61d", "--max-rps", &max_rps.to_string()])
        .args(["--concurrency", &concurrency.to_string()]);
    cmd
}

/// One row of the closing table.
struct Row {
    jobs: usize,
    setting: Setting,
    requests: u64,
    requests_target: f64,
    wall: f64,
    wall_target: f64,
    cpu_per_100k: f64,
    rss_mib: f64,
    again_requests: u64,
    again_target: u64,
    open_jobs: u64,
}

fn bench_sync(jobs: usize, latency_ms: u64, setting: Setting) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let open = OPEN_JOBS.to_string();
    let sim = start_simulator(jobs, latency_ms, &["--open-jobs", &open]);
    let Setting {
        name,
        max_rps,
        concurrency,
    } = setting;
    let load_before = load();
    let first = run_measured(sync_command(&db, &sim.url, max_rps, concurrency));
    let requests = served_requests(&sim.url);
    let open_jobs = open_job_count(&db);
    // The fewest requests that can list every job: one per full page.
    let fewest = jobs.div_ceil(PAGE) as f64;
    let requests_target = 1.03 * fewest + 5.0;
    let wall = first.wall.as_secs_f64();
    let cpu_per_100k = first.cpu.as_secs_f64() * 100_000.0 / jobs as f64;
    let rss_mib = first.max_rss_kib as f64 / 1024.0;
    // At the cap, the requests made take requests / max_rps; lifted, the network's floor is
    // the fewest requests, each a latency, `concurrency` at a time.
    let rate_bound = requests as f64 / max_rps;
    let network_bound = fewest * latency_ms as f64 / 1000.0 / f64::from(concurrency);
    let (floor, factor, floor_text) = if rate_bound >= network_bound {
        (
            rate_bound,
            1.05,
            format!("{requests} requests / {max_rps} per s"),
        )
    } else {
        (
            network_bound,
            1.3,
            format!("{fewest} requests x {latency_ms} ms / {concurrency}"),
        )
    };
    let wall_target = factor * floor;

    let again = run_measured(sync_command(&db, &sim.url, max_rps, concurrency));
    let again_requests = served_requests(&sim.url) - requests;
    let again_target = 3 + open_jobs.div_ceil(100);

    println!("== {jobs} jobs, {name} (--max-rps {max_rps} --concurrency {concurrency}); load average before {load_before}");
    println!(
        "first sync      exit {}, {requests} requests   target <= {requests_target:.0} (1.03 x {fewest} + 5)   {}",
        first.code,
        verdict(first.code == 0 && requests as f64 <= requests_target)
    );
    println!(
        "wall            {wall:.2} s; floor {floor:.2} s ({floor_text}); wall/floor {:.2}   target <= {factor}   {}",
        wall / floor,
        verdict(wall <= wall_target)
    );
    println!(
        "cpu             {:.2} s, {cpu_per_100k:.2} s per 100k jobs   target <= 1.5   {}   (2 cores shared with other work; see the load)",
        first.cpu.as_secs_f64(),
        verdict(cpu_per_100k <= 1.5)
    );
    println!(
        "peak rss        {rss_mib:.1} MiB   target <= 64   {}",
        verdict(rss_mib <= 64.0)
    );
    println!(
        "nothing new     exit {}, {again_requests} requests ({open_jobs} open jobs), {:.2} s   target <= {again_target} (3 + 1 per 100 open)   {}",
        again.code,
        again.wall.as_secs_f64(),
        verdict(again.code == 0 && again_requests <= again_target)
    );
    println!();
    Row {
        jobs,
        setting,
        requests,
        requests_target,
        wall,
        wall_target,
        cpu_per_100k,
        rss_mib,
        again_requests,
        again_target,
        open_jobs,
    }
}

/// The figures in one table, each with its target and verdict; and whether peak memory
/// stays flat from the smallest size to the largest.
fn print_table(rows: &[Row], latency_ms: u64) {
    if rows.is_empty() {
        return;
    }
    println!("== summary ({latency_ms} ms latency; targets in brackets)");
    println!("| jobs | setting | requests | wall | CPU per 100k jobs | peak RSS | nothing new: requests (open jobs) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} (--max-rps {} --concurrency {}) | {} [<= {:.0}] {} | {:.2} s [<= {:.2}] {} | {:.2} s [<= 1.5] {} | {:.1} MiB [<= 64] {} | {} ({}) [<= {}] {} |",
            r.jobs,
            r.setting.name,
            r.setting.max_rps,
            r.setting.concurrency,
            r.requests,
            r.requests_target,
            verdict(r.requests as f64 <= r.requests_target),
            r.wall,
            r.wall_target,
            verdict(r.wall <= r.wall_target),
            r.cpu_per_100k,
            verdict(r.cpu_per_100k <= 1.5),
            r.rss_mib,
            verdict(r.rss_mib <= 64.0),
            r.again_requests,
            r.open_jobs,
            r.again_target,
            verdict(r.again_requests <= r.again_target),
        );
    }
    for setting in SETTINGS {
        let of: Vec<&Row> = rows
            .iter()
            .filter(|r| r.setting.name == setting.name)
            .collect();
        if let (Some(small), Some(large)) = (
            of.iter().min_by_key(|r| r.jobs),
            of.iter().max_by_key(|r| r.jobs),
        ) {
            if large.jobs > small.jobs {
                let ratio = large.rss_mib / small.rss_mib;
                println!(
                    "peak RSS, {}: {:.1} MiB at {} jobs, {:.1} MiB at {}: x{ratio:.2}   target flat (<= x1.5)   {}",
                    setting.name,
                    small.rss_mib,
                    small.jobs,
                    large.rss_mib,
                    large.jobs,
                    verdict(ratio <= 1.5)
                );
            }
        }
    }
    println!();
}

/// A sync against a gateway that answers 429 beyond 10 requests a second, asked for 40 a
/// second: the rate halves at the first 429s and recovers after calm seconds, and every job
/// is archived.
fn bench_throttled(jobs: usize, latency_ms: u64) {
    let limit = 10u32;
    let (max_rps, concurrency) = (40.0, 16);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let sim = start_simulator(jobs, latency_ms, &["--rate-limit", &limit.to_string()]);
    let mut cmd = sync_command(&db, &sim.url, max_rps, concurrency);
    cmd.env("RUST_LOG", "gaussjobs=info");
    let run = run_measured(cmd);
    let stats = sim_stats(&sim.url);
    let requests = stats["requests"].as_u64().unwrap();
    let throttled = stats["throttled"].as_u64().unwrap();
    let halvings = run.stderr.matches("the rate is halved").count();
    let archived = archived_count(&db);
    let wall = run.wall.as_secs_f64();
    let floor = (requests - throttled) as f64 / f64::from(limit);
    println!("== a gateway that enforces {limit} requests a second; {jobs} jobs, --max-rps {max_rps} --concurrency {concurrency}");
    println!(
        "sync            exit {}, {archived} of {jobs} jobs archived   {}",
        run.code,
        verdict(run.code == 0 && archived == jobs as u64)
    );
    println!(
        "requests        {requests}, of them {throttled} answered 429; the rate was halved {}",
        match halvings {
            1 => "once".to_string(),
            n => format!("{n} times"),
        }
    );
    println!(
        "wall            {wall:.2} s; floor {floor:.2} s ({} answered / {limit} per s); wall/floor {:.2}   target <= 1.5   {}",
        requests - throttled,
        wall / floor,
        verdict(wall <= 1.5 * floor)
    );
    println!();
}

fn archived_count(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .unwrap()
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

/// Rounds of the store and of the plain inserts; the best of each is compared, because one
/// run of either can be slowed by the machine (the kernel writing back the last round's file).
const STORE_ROUNDS: usize = 3;

/// The store alone: new jobs archived per second (history included), in pages of 100 as a
/// sync writes them, into a new archive and into one that has jobs, beside plain INSERTs of
/// the same rows into the archive's own schema, with its keys and indexes. Fresh files each
/// round. (A bare table without keys or indexes is no comparison: no archive with the
/// indexes the queries need can reach it.)
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
    let mut schema_rates = Vec::new();
    for _ in 0..STORE_ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        store_rates.push(store_rate(
            &dir.path().join("store.db"),
            &records,
            Archive::New,
        ));
        populated_rates.push(store_rate(
            &dir.path().join("populated.db"),
            &records,
            Archive::Populated,
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
    let (store_best, populated_best, schema_best) = (
        best(&store_rates),
        best(&populated_rates),
        best(&schema_rates),
    );
    println!(
        "== store alone, {jobs} new jobs, best of {STORE_ROUNDS}; load average {}",
        load()
    );
    println!(
        "plain inserts   {schema_best:.0} rows/s (INSERTs into the archive's own tables, keys and \
         indexes kept up row by row; rounds {})",
        list(&schema_rates)
    );
    let first = store_best / schema_best;
    println!(
        "store, first    {store_best:.0} jobs/s (pages of 100, history included, query indexes \
         built after the last page; rounds {}); /plain {first:.2}   target >= 0.5   {}",
        list(&store_rates),
        verdict(first >= 0.5)
    );
    let later = populated_best / schema_best;
    println!(
        "store, later    {populated_best:.0} jobs/s (an archive that has jobs: every index kept \
         up row by row; rounds {}); /plain {later:.2}   target >= 0.5   {}",
        list(&populated_rates),
        verdict(later >= 0.5)
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

/// Writes `records` as new jobs through the store; returns jobs per second.
fn store_rate(path: &Path, records: &[JobRecord], archive: Archive) -> f64 {
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
    // Closing checkpoints the WAL into the file: work the store did, so it is counted.
    drop(store);
    records.len() as f64 / started.elapsed().as_secs_f64()
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

/// A job's API columns, in the order of the archive's jobs table.
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
