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
    let got: Vec<&str> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
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
    let got: Vec<&str> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
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
