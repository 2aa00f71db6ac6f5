//! The sync state: scopes (endpoint + project + filter) and the create-time ranges of each
//! that were fetched completely. Coverage only changes inside the transaction that wrote the
//! window's last page, so state and data never disagree.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{sqlite_error, Coverage, Result, Store};
use crate::time;

/// What one sync keeps track of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeKey {
    /// The endpoint URL without a trailing slash.
    pub endpoint: String,
    pub project_id: String,
    /// Canonical filter text (`status=Failed&job_name=...`), empty for all jobs.
    pub filter: String,
}

/// A scope as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub scope_id: i64,
    pub key: ScopeKey,
    /// The earliest create time this scope reaches back to.
    pub since: DateTime<Utc>,
    /// The completely fetched ranges, oldest first, merged.
    pub coverage: Vec<Coverage>,
}

impl Store {
    /// Returns the scope for `key`, creating it with `since` (or `default_since` when none was
    /// asked for). An earlier `since` than the stored one extends the scope backwards (a
    /// backfill); a later one never shrinks it.
    pub fn scope(
        &mut self,
        key: &ScopeKey,
        since: Option<DateTime<Utc>>,
        default_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Scope> {
        let path = self.path.clone();
        let sqlite = sqlite_error(&path);
        let tx = self.write_transaction()?;
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT scope_id, since FROM sync_scopes
                 WHERE endpoint = ?1 AND project_id = ?2 AND filter = ?3",
                params![key.endpoint, key.project_id, key.filter],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sqlite)?;
        let (scope_id, stored_since) = match existing {
            Some((id, stored)) => {
                let stored = time::from_store(&stored).unwrap_or(default_since);
                let since = since.unwrap_or(stored);
                if since < stored {
                    tx.execute(
                        "UPDATE sync_scopes SET since = ?2 WHERE scope_id = ?1",
                        params![id, time::to_store(since)],
                    )
                    .map_err(sqlite)?;
                    (id, since)
                } else {
                    (id, stored)
                }
            }
            None => {
                let since = since.unwrap_or(default_since);
                tx.execute(
                    "INSERT INTO sync_scopes (endpoint, project_id, filter, since, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        key.endpoint,
                        key.project_id,
                        key.filter,
                        time::to_store(since),
                        time::to_store(now)
                    ],
                )
                .map_err(sqlite)?;
                (tx.last_insert_rowid(), since)
            }
        };
        let coverage = read_coverage(&tx, scope_id).map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(Scope {
            scope_id,
            key: key.clone(),
            since: stored_since,
            coverage,
        })
    }

    /// The coverage of a scope as it stands now.
    pub fn coverage(&self, scope_id: i64) -> Result<Vec<Coverage>> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(sqlite_error(&self.path))?;
        read_coverage(&tx, scope_id).map_err(sqlite_error(&self.path))
    }
}

fn read_coverage(tx: &Transaction<'_>, scope_id: i64) -> rusqlite::Result<Vec<Coverage>> {
    let mut stmt = tx.prepare_cached(
        "SELECT covered_from, covered_to FROM sync_coverage WHERE scope_id = ?1
         ORDER BY covered_from",
    )?;
    let rows = stmt.query_map([scope_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (from, to) = row?;
        if let (Some(from), Some(to)) = (time::from_store(&from), time::from_store(&to)) {
            out.push(Coverage { from, to });
        }
    }
    Ok(out)
}

/// Marks `[from, to)` of a scope as fetched completely, merging it with the ranges it overlaps
/// or touches so the table stays one row per contiguous stretch.
pub(crate) fn add_coverage(
    tx: &Transaction<'_>,
    scope_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if to <= from {
        return Ok(());
    }
    let (from_text, to_text) = (time::to_store(from), time::to_store(to));
    let mut stmt = tx.prepare_cached(
        "SELECT covered_from, covered_to FROM sync_coverage
         WHERE scope_id = ?1 AND covered_from <= ?3 AND covered_to >= ?2",
    )?;
    let touching: Vec<(String, String)> = stmt
        .query_map(params![scope_id, from_text, to_text], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut merged_from = from_text;
    let mut merged_to = to_text;
    for (f, t) in &touching {
        if *f < merged_from {
            merged_from = f.clone();
        }
        if *t > merged_to {
            merged_to = t.clone();
        }
    }
    tx.prepare_cached(
        "DELETE FROM sync_coverage WHERE scope_id = ?1 AND covered_from <= ?3 AND covered_to >= ?2",
    )?
    .execute(params![scope_id, time::to_store(from), time::to_store(to)])?;
    tx.prepare_cached(
        "INSERT INTO sync_coverage (scope_id, covered_from, covered_to) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![scope_id, merged_from, merged_to])?;
    Ok(())
}
