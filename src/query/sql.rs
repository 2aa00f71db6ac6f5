//! `query sql "SELECT ..."`: one read-only statement, values rendered by their SQLite type.

use std::io::Write;

use rusqlite::{Batch, Connection};

use super::render::{self, Cell, Rows, TableStyle};
use crate::cli::Format;

const TABLES_HINT: &str = "the archive's tables are jobs, job_history, sync_scopes, \
                           sync_coverage and sync_runs; the README lists their columns";

/// Prepares and runs `sql`, refusing anything that is not exactly one read-only statement.
///
/// More than one statement is refused rather than running only the first: a script that
/// passes `SELECT ...; SELECT ...` would otherwise get half its answer without noticing.
/// Trailing `;`, whitespace and comments are fine.
pub fn fetch(conn: &Connection, sql: &str) -> anyhow::Result<Rows> {
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

    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let width = columns.len();
    let mut result = Rows {
        columns,
        rows: Vec::new(),
    };
    let failed = |e: rusqlite::Error| {
        anyhow::Error::new(e).context(format!("the statement failed: {}", sql.trim()))
    };
    let mut rows = stmt.query([]).map_err(failed)?;
    while let Some(row) = rows.next().map_err(failed)? {
        let cells = (0..width)
            .map(|i| row.get_ref(i).map(Cell::from_sql))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(failed)?;
        result.rows.push(cells);
    }
    Ok(result)
}

pub fn run(
    conn: &Connection,
    sql: &str,
    format: Format,
    style: TableStyle,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rows = fetch(conn, sql)?;
    render::write_rows(&rows, format, style, out)
}
