//! `cargo bench --bench query`: builds a 1,000,000-job archive (or reuses the one named by
//! GAUSSJOBS_BENCH_DB) and times the query commands against it, printing min and median
//! milliseconds next to the targets (listings < 100 ms, stats < 500 ms).
//!
//! The archive is written through `Store::open` (the real schema and migrations) with plain
//! inserts in one transaction: ~5,000 instances, 30 job types, weighted statuses, create times
//! over two years, and a second history version for about a fifth of the jobs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use gaussjobs::cli::{Cli, Command};
use gaussjobs::query::{run_with_style, TableStyle};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

mod synthetic;
use synthetic::{now, Job, Writer, JOB_NAMES};

const JOBS: usize = 1_000_000;
const INSTANCES: usize = 5_000;
const RUNS: usize = 7;

fn build(path: &Path) -> anyhow::Result<()> {
    let store = gaussjobs::store::Store::open(path)?;
    let conn = store.connection();
    let mut writer = Writer::begin(conn)?;
    let projects = [
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "f9e8d7c6b5a4938271605f4e3d2c1b0a",
    ];
    let mut rng = SmallRng::seed_from_u64(5);
    let end = now().timestamp();
    let span = 2 * 365 * 86_400;
    for i in 0..JOBS {
        let job_id = synthetic::job_id(i);
        // A few instances are busy, most are quiet.
        let inst = if rng.gen_bool(0.2) {
            rng.gen_range(0..50)
        } else {
            rng.gen_range(0..INSTANCES)
        };
        let (instance_id, instance_name) = synthetic::instance(inst);
        let project = projects[inst % 2];
        let name = JOB_NAMES[(rng.gen_range(0..30) * rng.gen_range(1..31)) / 30];
        let status = synthetic::status(&mut rng);
        let create = end - rng.gen_range(0..span);
        let start = create + rng.gen_range(0..600);
        let run = (rng.gen_range(30f64..7200.0) * rng.gen_range(0.1f64..1.0)) as i64;
        let (start_time, end_time) = synthetic::times(status, start, run);
        let target = format!(
            r#"{{"flavor_ref":"gaussdb.mysql.{}xlarge.x86.4"}}"#,
            inst % 4
        );
        let raw = format!(
            r#"{{"job_id":"{job_id}","instance_id":"{instance_id}","instance_name":"{instance_name}","instance_status":"normal","project_id":"{project}","job_name":"{name}","job_status":"{status}","datastore_type":"gaussdb-mysql","create_time":"{}","target_config":{target}}}"#,
            synthetic::ts(create)
        );
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
            target: &target,
            raw: &raw,
            hash: format!("{:016x}", rng.gen::<u64>()),
            two,
            seen: create + 60,
            run,
        })?;
    }
    writer.finish(conn)
}

fn time_query(db: &Path, args: &[&str]) -> anyhow::Result<(Vec<Duration>, usize)> {
    let argv = ["gaussjobs", "--db", db.to_str().unwrap(), "query"]
        .into_iter()
        .chain(args.iter().copied());
    let cli = Cli::try_parse_from(argv)?;
    let Command::Query(args) = cli.command else {
        unreachable!()
    };
    let query = gaussjobs::app::query_request(&args, now())?;
    let mut times = Vec::new();
    let mut lines = 0;
    for _ in 0..RUNS {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let started = Instant::now();
        run_with_style(db, &query, TableStyle::PLAIN, &mut out, &mut err)?;
        times.push(started.elapsed());
        lines = out.iter().filter(|b| **b == b'\n').count();
    }
    times.sort();
    Ok((times, lines))
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; filters and other flags are not used.
    let dir = tempfile::tempdir()?;
    let db: PathBuf = match std::env::var_os("GAUSSJOBS_BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    if !db.exists() {
        eprintln!("building a {JOBS}-job archive at {} ...", db.display());
        let started = Instant::now();
        build(&db)?;
        eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&db)?.len();
    let conn = rusqlite::Connection::open(&db)?;
    let count = |sql: &str| -> anyhow::Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    println!(
        "archive: {} jobs, {} history rows, {} instances, {:.0} MB",
        count("SELECT count(*) FROM jobs")?,
        count("SELECT count(*) FROM job_history")?,
        count("SELECT count(DISTINCT instance_id) FROM jobs")?,
        size as f64 / 1e6
    );

    let listing = 100.0;
    let stats = 500.0;
    let cases: &[(&str, &[&str], f64)] = &[
        ("jobs (newest 100)", &["jobs"], listing),
        (
            "jobs --status Failed",
            &["jobs", "--status", "Failed"],
            listing,
        ),
        ("jobs --open", &["jobs", "--open"], listing),
        (
            "jobs --status Unauthorized --since 30d",
            &["jobs", "--status", "Unauthorized", "--since", "30d"],
            listing,
        ),
        (
            "jobs --instance db-0042",
            &["jobs", "--instance", "db-0042"],
            listing,
        ),
        (
            "jobs --instance ID --status Failed",
            &[
                "jobs",
                "--instance",
                "0a2ac0ffee1234567890abcdef12in07",
                "--status",
                "Failed",
            ],
            listing,
        ),
        (
            "jobs --job-name RESET_PASSWORD",
            &["jobs", "--job-name", "RESET_PASSWORD"],
            listing,
        ),
        (
            "jobs --job-name resize --like",
            &["jobs", "--job-name", "resize", "--like"],
            listing,
        ),
        (
            "jobs --since/--until one March day",
            &[
                "jobs",
                "--since",
                "2025-03-10",
                "--until",
                "2025-03-11",
                "--limit",
                "1000",
            ],
            listing,
        ),
        (
            "jobs --project P --order oldest",
            &[
                "jobs",
                "--project",
                "f9e8d7c6b5a4938271605f4e3d2c1b0a",
                "--order",
                "oldest",
            ],
            listing,
        ),
        (
            "instance db-0042 (March 2025)",
            &[
                "instance",
                "db-0042",
                "--since",
                "2025-03-01",
                "--until",
                "2025-04-01",
            ],
            listing,
        ),
        (
            "as-of 2025-06-01 (newest 100)",
            &["as-of", "2025-06-01"],
            listing,
        ),
        (
            "as-of 2025-06-01 --status Running",
            &["as-of", "2025-06-01", "--status", "Running"],
            listing,
        ),
        ("stats (all jobs, no --by)", &["stats"], stats),
        ("stats --by job_name", &["stats", "--by", "job_name"], stats),
        ("stats --by month", &["stats", "--by", "month"], stats),
        ("stats --by instance", &["stats", "--by", "instance"], stats),
        (
            "stats --by instance --format json",
            &["stats", "--by", "instance", "--format", "json"],
            stats,
        ),
        (
            "stats --by job_name,week --since 90d",
            &["stats", "--by", "job_name,week", "--since", "90d"],
            stats,
        ),
        (
            "stats --by day --status Failed",
            &["stats", "--by", "day", "--status", "Failed"],
            stats,
        ),
    ];
    println!();
    println!(
        "{:<42} {:>9} {:>11} {:>10} {:>7}  ok",
        "query", "min ms", "median ms", "target ms", "lines"
    );
    let mut failed = 0;
    for (label, args, target) in cases {
        let (times, lines) = time_query(&db, args)?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (min, median) = (ms(times[0]), ms(times[times.len() / 2]));
        let ok = median < *target;
        failed += usize::from(!ok);
        println!(
            "{label:<42} {min:>9.1} {median:>11.1} {target:>10.0} {lines:>7}  {}",
            if ok { "yes" } else { "NO" }
        );
    }
    println!(
        "\n{} of {} queries within target ({RUNS} runs each, median)",
        cases.len() - failed,
        cases.len()
    );
    Ok(())
}
