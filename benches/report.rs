//! `cargo bench --bench report`: builds a 100,000-job archive of one year (or reuses the one
//! named by GAUSSJOBS_BENCH_REPORT_DB) and times `gaussjobs report` over the whole year,
//! printing min and median milliseconds and the file's size next to the targets (a few
//! seconds; a file that stays a few MiB however many jobs).
//!
//! The archive is written through `Store::open` (the real schema and migrations) with plain
//! inserts in one transaction: 400 instances (a few busy ones), 12 job types, weighted
//! statuses, and a second history version for about a fifth of the jobs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gaussjobs::query::{DisplayTz, Filter};
use gaussjobs::report::{run, ReportRequest};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

mod synthetic;
use synthetic::{now, Job, Writer, JOB_NAMES};

const JOBS: usize = 100_000;
const INSTANCES: usize = 400;
const RUNS: usize = 5;

fn build(path: &Path) -> anyhow::Result<()> {
    let store = gaussjobs::store::Store::open(path)?;
    let conn = store.connection();
    let mut writer = Writer::begin(conn)?;
    let project = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let mut rng = SmallRng::seed_from_u64(16);
    let end = now().timestamp();
    let span = 365 * 86_400;
    for i in 0..JOBS {
        let job_id = synthetic::job_id(i);
        let inst = if rng.gen_bool(0.3) {
            rng.gen_range(0..8)
        } else {
            rng.gen_range(0..INSTANCES)
        };
        let (instance_id, instance_name) = synthetic::instance(inst);
        // Twelve job types: the first twelve of the shared list.
        let name = JOB_NAMES[rng.gen_range(0..12)];
        let status = synthetic::status(&mut rng);
        let create = end - rng.gen_range(0..span);
        let start = create + rng.gen_range(0..600);
        let run = rng.gen_range(30..7200);
        let (start_time, end_time) = synthetic::times(status, start, run);
        let raw = format!(r#"{{"job_id":"{job_id}","job_status":"{status}"}}"#);
        let two = status != "Pending" && rng.gen_bool(0.2);
        writer.insert(&Job {
            job_id: &job_id,
            project,
            instance_id: &instance_id,
            instance_name: &instance_name,
            name,
            status,
            create,
            start_time,
            end_time,
            target: "{}",
            raw: &raw,
            hash: format!("{:016x}", rng.gen::<u64>()),
            two,
            seen: create + 60,
            run,
        })?;
    }
    writer.finish(conn)
}

fn main() -> anyhow::Result<()> {
    let (db, _dir) = match std::env::var_os("GAUSSJOBS_BENCH_REPORT_DB") {
        Some(path) => (PathBuf::from(path), None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().join("bench-report.db"), Some(dir))
        }
    };
    if !db.exists() {
        let started = Instant::now();
        build(&db)?;
        eprintln!("built {JOBS} jobs in {:.1?}", started.elapsed());
    }
    let request = ReportRequest {
        filter: Filter {
            since: Some(now() - chrono::Duration::days(365)),
            until: Some(now()),
            ..Filter::default()
        },
        title: "A year of a large tenant".to_string(),
        tz: DisplayTz::Utc,
        archive: db.display().to_string(),
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut bytes = 0;
    let mut jobs = 0;
    for _ in 0..RUNS {
        let mut out = Vec::new();
        let started = Instant::now();
        let written = run(&db, &request, now(), &mut out)?;
        times.push(started.elapsed());
        (bytes, jobs) = (out.len(), written.jobs);
    }
    if let Some(path) = std::env::var_os("GAUSSJOBS_BENCH_REPORT_OUT") {
        let mut out = std::fs::File::create(path)?;
        run(&db, &request, now(), &mut out)?;
    }
    times.sort();
    println!(
        "report of {jobs} jobs in range: min {} ms, median {} ms (target: a few seconds); \
         file {:.2} MiB (target: bounded, a few MiB)",
        times[0].as_millis(),
        times[RUNS / 2].as_millis(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
