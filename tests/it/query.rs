//! Query answers from the binary, checked against independent SQL on the same file.

use gaussjobs::simulate::SimConfig;
use serde_json::Value;

use crate::support::{now, World};

fn synced_world() -> World {
    let world = World::new(SimConfig {
        jobs: 800,
        days: 30,
        seed: 11,
        now: now(),
        ..SimConfig::default()
    });
    world.sync(&["--since", "31d"]).assert().success();
    world
}

fn json_stdout(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// The job_id of each object of a JSON array answer, in order.
fn job_ids(answer: &Value) -> Vec<&str> {
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect()
}

fn ids_by_sql(world: &World, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Vec<String> {
    let conn = world.conn();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map(params, |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn query_answers_match_independent_sql() {
    let world = synced_world();
    let since = (now() - chrono::Duration::days(7))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();

    // Failed jobs of the last week.
    let answer = json_stdout(world.gaussjobs().args([
        "query", "jobs", "--status", "failed", "--since", &since, "--limit", "1000", "--format",
        "json",
    ]));
    let got = job_ids(&answer);
    let want = ids_by_sql(
        &world,
        "SELECT job_id FROM jobs WHERE job_status = 'Failed' AND create_time >= ?1
         ORDER BY create_time DESC, job_id",
        &[&since],
    );
    assert!(!want.is_empty(), "the fixture has failed jobs this week");
    assert_eq!(got, want);

    // One instance, by name, several statuses.
    let name: String = world
        .conn()
        .query_row(
            "SELECT instance_name FROM jobs GROUP BY instance_name ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let answer = json_stdout(world.gaussjobs().args([
        "query",
        "jobs",
        "--instance",
        &name,
        "--status",
        "Completed",
        "--status",
        "Running",
        "--limit",
        "1000",
        "--format",
        "json",
    ]));
    let got = job_ids(&answer);
    let want = ids_by_sql(
        &world,
        "SELECT job_id FROM jobs WHERE (instance_id = ?1 OR instance_name = ?1 COLLATE NOCASE)
           AND job_status IN ('Completed', 'Running') ORDER BY create_time DESC, job_id",
        &[&name],
    );
    assert_eq!(got, want);

    // SQL: counts per type.
    let answer = json_stdout(world.gaussjobs().args([
        "query",
        "sql",
        "SELECT job_name, count(*) AS n FROM jobs GROUP BY job_name ORDER BY job_name",
        "--format",
        "json",
    ]));
    let rows = answer.as_array().unwrap();
    let conn = world.conn();
    let mut stmt = conn
        .prepare("SELECT job_name, count(*) FROM jobs GROUP BY job_name ORDER BY job_name")
        .unwrap();
    let want: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), want.len());
    for (row, (name, n)) in rows.iter().zip(&want) {
        assert_eq!(row["job_name"], Value::String(name.clone()));
        assert_eq!(row["n"], Value::from(*n));
    }

    // One job and its history.
    let id = &want_first_job(&world);
    let answer = json_stdout(
        world
            .gaussjobs()
            .args(["query", "job", id, "--format", "json"]),
    );
    assert_eq!(answer["job"]["job_id"], Value::String(id.clone()));
    assert_eq!(answer["history"].as_array().unwrap().len(), 1);

    // The other formats agree on the row count.
    let out = world
        .gaussjobs()
        .args(["query", "jobs", "--limit", "50", "--format", "ndjson"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .lines()
            .count(),
        50
    );
    let out = world
        .gaussjobs()
        .args(["query", "jobs", "--limit", "50", "--format", "csv"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(text.lines().count(), 51);
    assert!(text.starts_with("job_id,"));
    let out = world
        .gaussjobs()
        .args(["query", "jobs", "--limit", "5"])
        .assert()
        .success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(table.contains("job_status"), "{table}");
}

fn want_first_job(world: &World) -> String {
    world
        .conn()
        .query_row(
            "SELECT job_id FROM jobs ORDER BY create_time DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn query_sql_refuses_writes_and_leaves_the_file_alone() {
    let world = synced_world();
    let before = std::fs::read(&world.db).unwrap();
    let out = world
        .gaussjobs()
        .args(["query", "sql", "DELETE FROM jobs"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("only reads"), "{stderr}");
    assert_eq!(std::fs::read(&world.db).unwrap(), before);
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 800);
}

#[test]
fn instance_stats_and_as_of_match_independent_sql() {
    let world = synced_world();
    let conn = world.conn();

    // The busiest instance, by id: its jobs oldest first, and every version of them.
    let id: String = conn
        .query_row(
            "SELECT instance_id FROM jobs GROUP BY instance_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let answer = json_stdout(
        world
            .gaussjobs()
            .args(["query", "instance", &id, "--format", "json"]),
    );
    let got: Vec<&str> = answer["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    let want = ids_by_sql(
        &world,
        "SELECT job_id FROM jobs WHERE instance_id = ?1 ORDER BY create_time, job_id",
        &[&id],
    );
    assert!(want.len() > 1);
    assert_eq!(got, want);
    let versions: i64 = conn
        .query_row(
            "SELECT count(*) FROM job_history WHERE job_id IN
               (SELECT job_id FROM jobs WHERE instance_id = ?1)",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        answer["timeline"].as_array().unwrap().len() as i64,
        versions
    );
    for job in answer["jobs"].as_array().unwrap() {
        let want: Option<i64> = conn
            .query_row(
                "SELECT duration_seconds FROM job_durations WHERE job_id = ?1",
                [job["job_id"].as_str().unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(job["duration_seconds"].as_i64(), want);
    }

    // Stats by job_status: counts and failures per group.
    let answer = json_stdout(world.gaussjobs().args([
        "query",
        "stats",
        "--by",
        "job_status",
        "--format",
        "json",
    ]));
    let mut stmt = conn
        .prepare(
            "SELECT job_status, count(*), sum(job_status = 'Failed') FROM jobs
             GROUP BY job_status ORDER BY job_status",
        )
        .unwrap();
    let want: Vec<(String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let got: Vec<(String, i64, i64)> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["job_status"].as_str().unwrap().to_string(),
                r["count"].as_i64().unwrap(),
                r["failed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // As of the middle of what the sync saw: the newest version seen by then, per job.
    let at: String = conn
        .query_row(
            "SELECT observed_at FROM job_history ORDER BY observed_at
             LIMIT 1 OFFSET (SELECT count(*) / 2 FROM job_history)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let answer = json_stdout(world.gaussjobs().args([
        "query", "as-of", &at, "--limit", "100000", "--format", "json",
    ]));
    let got: Vec<(String, i64)> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["job_id"].as_str().unwrap().to_string(),
                r["version"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut stmt = conn
        .prepare(
            "SELECT h.job_id, max(h.version) FROM job_history h JOIN jobs j USING (job_id)
             WHERE h.observed_at <= ?1 GROUP BY h.job_id ORDER BY max(j.create_time) DESC, h.job_id",
        )
        .unwrap();
    let want: Vec<(String, i64)> = stmt
        .query_map([&at], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Empty answers are exit 0 in every format.
    for format in ["table", "json", "csv", "ndjson"] {
        world
            .gaussjobs()
            .args([
                "query",
                "stats",
                "--job-name",
                "NO_SUCH",
                "--format",
                format,
            ])
            .assert()
            .success();
    }
}

/// Names come from the API: ESC and BEL in them must not reach a terminal through a table,
/// while the machine formats keep them byte for byte.
#[test]
fn control_characters_are_escaped_in_tables_only() {
    use gaussjobs::simulate::SimJob;
    let world = World::empty(SimConfig {
        now: now(),
        ..SimConfig::default()
    });
    let mut job = SimJob::new(
        "0123456789abcdef0123456789abcdef",
        now() - chrono::Duration::days(1),
    );
    job.job_name = "Reboot\u{1b}]0;owned\u{7}".into();
    job.instance_name = "db\u{1b}[31mred\u{202e}".into();
    world.sim.add_job(job);
    world.sync(&["--since", "3d"]).assert().success();

    let raw_bytes = |out: &[u8]| out.iter().any(|b| *b == 0x1b || *b == 0x07);
    for args in [
        vec!["query", "jobs"],
        vec!["query", "job", "0123456789abcdef0123456789abcdef"],
        vec!["query", "instance", "79bc540dd4d6432784894a981fdfacfcin07"],
    ] {
        let out = world.gaussjobs().args(&args).assert().success();
        let stdout = &out.get_output().stdout;
        let text = String::from_utf8_lossy(stdout);
        assert!(
            !raw_bytes(stdout),
            "{args:?} printed a raw control byte:\n{text}"
        );
        assert!(
            text.contains(r"Reboot\x1b]0;owned\x07"),
            "{args:?} shows the escaped job name:\n{text}"
        );
        assert!(
            text.contains(r"db\x1b[31mred\u{202e}"),
            "{args:?} shows the escaped instance name:\n{text}"
        );
    }

    let answer = json_stdout(
        world
            .gaussjobs()
            .args(["query", "jobs", "--format", "json"]),
    );
    assert_eq!(answer[0]["job_name"], "Reboot\u{1b}]0;owned\u{7}");
    assert_eq!(answer[0]["instance_name"], "db\u{1b}[31mred\u{202e}");
    let csv = world
        .gaussjobs()
        .args(["query", "jobs", "--format", "csv"])
        .assert()
        .success();
    let csv = String::from_utf8(csv.get_output().stdout.clone()).unwrap();
    assert!(
        csv.contains("Reboot\u{1b}]0;owned\u{7}"),
        "csv is exact: {csv:?}"
    );
}
