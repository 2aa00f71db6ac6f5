//! The notes a query writes on stderr beside its answer: what the archive covers when nothing
//! matched, and how many matched in all when `--limit` cut the answer.

use std::io::Write;

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

/// The most rows counted for a `--limit` note; past it the note says "more than". On a
/// million jobs, counting 100,000 matches took a `--like` listing from within its 100 ms
/// target to 127 ms; 10,000 costs a few ms.
const COUNT_CAP: i64 = 10_000;

/// `note: no jobs match; the archive covers 2026-10-03..2026-12-02` (the days of the first
/// and newest create time), or that it has no jobs yet.
pub fn no_match(conn: &Connection, err: &mut dyn Write) -> anyhow::Result<()> {
    // min() and max() of create_time are read from the jobs_stats index, which starts with it.
    let (first, last): (Option<String>, Option<String>) = conn.query_row(
        "SELECT substr(min(create_time), 1, 10), substr(max(create_time), 1, 10) FROM jobs",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    match (first, last) {
        (Some(first), Some(last)) => writeln!(
            err,
            "note: no jobs match; the archive covers {first}..{last} (create time)"
        )?,
        _ => writeln!(
            err,
            "note: no jobs match; the archive has no jobs yet (run `gaussjobs sync`)"
        )?,
    }
    Ok(())
}

/// How many rows `sql` gives with `params`, counted up to [`COUNT_CAP`]; `None` past it.
pub fn count(conn: &Connection, sql: &str, params: &[SqlValue]) -> anyhow::Result<Option<i64>> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT 1 FROM ({sql}) LIMIT {})",
            COUNT_CAP + 1
        ),
        rusqlite::params_from_iter(params),
        |r| r.get(0),
    )?;
    Ok((n <= COUNT_CAP).then_some(n))
}

/// `2504`, or `more than 10000` past the cap.
pub fn total(n: Option<i64>) -> String {
    match n {
        Some(n) => n.to_string(),
        None => format!("more than {COUNT_CAP}"),
    }
}

/// `1 job`, `2 jobs`: a count with its noun, plural when it is not one.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    crate::terminal::count(n.max(0) as u64, one, many)
}
