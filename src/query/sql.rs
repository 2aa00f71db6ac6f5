//! `query sql "SELECT ..."`: one read-only statement, values rendered by their SQLite type.

use std::io::Write;

use rusqlite::{Batch, Connection};

use super::layout::TableSpec;
use super::render::{Cell, Rows};
use super::Answer;

const TABLES_HINT: &str = "the archive's tables are jobs, superseded_versions, sync_scopes, \
                           sync_coverage and sync_runs, with the views job_history (every \
                           version), status_transitions and job_durations; the README lists \
                           their columns";

/// Prepares and runs `sql`, refusing anything that is not exactly one read-only statement.
///
/// More than one statement is refused rather than running only the first: a script that
/// passes `SELECT ...; SELECT ...` would otherwise get half its answer without noticing.
/// Trailing `;`, whitespace and comments are fine.
pub fn fetch(conn: &Connection, sql: &str, params: &[String]) -> anyhow::Result<Rows> {
    let mut batch = Batch::new(conn, sql);
    // A statement that does not prepare is the user's mistake (a typo, a missing column):
    // a usage error showing the statement.
    let bad_sql = |e: rusqlite::Error| {
        crate::exit::usage_with_hint(
            format!("{e}, in the statement: {}", sql.trim()),
            TABLES_HINT,
        )
    };
    let Some(mut stmt) = batch.next().map_err(bad_sql)? else {
        return Err(crate::exit::usage(
            "query sql needs a statement, e.g. \"SELECT count(*) FROM jobs\"",
        ));
    };
    // The connection is read-only and query_only too; this check gives the reason up front
    // instead of SQLite's "attempt to write a readonly database".
    if !stmt.readonly() {
        return Err(crate::exit::usage_with_hint(
            "query sql only reads: this statement would change the archive",
            "only `gaussjobs sync` writes the archive; to experiment, copy the file and use \
             the sqlite3 shell on the copy",
        ));
    }
    // An unparsable remainder is still "more than one statement".
    if !matches!(batch.next(), Ok(None)) {
        return Err(crate::exit::usage(format!(
            "query sql runs one statement; found more than one in: {}",
            sql.trim()
        )));
    }

    bind(&mut stmt, sql, params)?;

    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let width = columns.len();
    let mut result = Rows {
        columns,
        rows: Vec::new(),
    };
    let failed = |e: rusqlite::Error| {
        anyhow::Error::new(e).context(format!("the statement failed: {}", sql.trim()))
    };
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(failed)? {
        let cells = (0..width)
            .map(|i| row.get_ref(i).map(Cell::from_sql))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(failed)?;
        result.rows.push(cells);
    }
    Ok(result)
}

pub(crate) fn run(
    conn: &Connection,
    sql: &str,
    params: &[String],
    answer: &Answer,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rows = fetch(conn, sql, params)?;
    // The statement chose the columns: none is left out, free text gives way.
    answer.write_rows(&rows, &TableSpec::ALL, out)
}

/// Binds `--param` values: `name=value` to `:name` (or `@name`, `$name`), the others in order to
/// the positional parameters. Every parameter must get a value and every value a parameter,
/// so a miscounted command line is an error rather than a silent NULL.
fn bind(stmt: &mut rusqlite::Statement<'_>, sql: &str, params: &[String]) -> anyhow::Result<()> {
    let count = stmt.parameter_count();
    // `name=value` only binds by name when the statement has that name, so a positional value
    // that happens to hold `=` (JSON, a condition) still binds in order.
    let names: Vec<String> = (1..=count)
        .filter_map(|i| stmt.parameter_name(i))
        .filter(|n| !n.starts_with('?'))
        .map(|n| n[1..].to_string())
        .collect();
    let mut named: Vec<(&str, &str, bool)> = Vec::new();
    let mut positional: Vec<&str> = Vec::new();
    for p in params {
        match p.split_once('=') {
            Some((name, value))
                if names
                    .iter()
                    .any(|n| n == name.trim_start_matches([':', '@', '$'])) =>
            {
                named.push((name.trim_start_matches([':', '@', '$']), value, false))
            }
            _ => positional.push(p),
        }
    }
    let mut next_positional = positional.iter();
    let mut missing = Vec::new();
    for index in 1..=count {
        let name = stmt.parameter_name(index).map(str::to_string);
        let value = match name.as_deref() {
            Some(n) if !n.starts_with('?') => {
                let bare = &n[1..];
                named.iter_mut().find(|(k, _, _)| *k == bare).map(|entry| {
                    entry.2 = true;
                    entry.1
                })
            }
            // `?` and `?NNN`: numbered parameters share a slot, SQLite lists each once.
            _ => next_positional.next().copied(),
        };
        match value {
            Some(v) => stmt.raw_bind_parameter(index, v).map_err(|e| {
                anyhow::Error::new(e).context(format!("cannot bind parameter {index}"))
            })?,
            None => missing.push(name.unwrap_or_else(|| format!("?{index}"))),
        }
    }
    if !missing.is_empty() {
        return Err(crate::exit::usage_with_hint(
            format!(
                "no --param value for {} in the statement: {}",
                missing.join(", "),
                sql.trim()
            ),
            "give one --param VALUE per ? in order, and --param name=value for each :name",
        ));
    }
    let unused: Vec<String> = next_positional
        .map(|v| format!("{v:?}"))
        .chain(
            named
                .iter()
                .filter(|(_, _, used)| !used)
                .map(|(k, v, _)| format!("{k}={v:?}")),
        )
        .collect();
    if !unused.is_empty() {
        return Err(crate::exit::usage(format!(
            "--param {} matches no parameter in the statement: {}",
            unused.join(", "),
            sql.trim()
        )));
    }
    Ok(())
}
