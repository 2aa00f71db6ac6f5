//! Objects the API sent that are not jobs the archive can key (no usable `job_id`), kept
//! exactly as received in `rejected_objects` so nothing the API said is lost, while the rest
//! of their page is archived. One row per distinct object and scope: an object the API keeps
//! sending is counted again (`sightings`), not stored again.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

use super::Window;
use crate::time;

/// An object of a page that could not be archived as a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedObject {
    /// Why it is not a job, e.g. `job_id is missing`.
    pub reason: String,
    /// The object exactly as received.
    pub raw: String,
    /// The create-time window whose page held it; `None` for other listings.
    pub window: Option<Window>,
}

/// Records `object`, met by run `run_id` of scope `scope_id` at `seen_at`, in the caller's
/// transaction. Returns whether this is the run's first sighting of it (a run that reads the
/// same window twice, or its lookback, meets it more than once).
pub(crate) fn record_rejected(
    tx: &Transaction<'_>,
    scope_id: i64,
    run_id: i64,
    seen_at: DateTime<Utc>,
    object: &RejectedObject,
) -> rusqlite::Result<bool> {
    let hash = hex::encode(Sha256::digest(object.raw.as_bytes()));
    let seen_at = time::to_store(seen_at);
    let last_run: Option<Option<i64>> = tx
        .prepare_cached(
            "SELECT last_run_id FROM rejected_objects WHERE scope_id = ?1 AND raw_hash = ?2",
        )?
        .query_row(params![scope_id, hash], |r| r.get(0))
        .optional()?;
    match last_run {
        None => {
            let (start, end) = match object.window {
                Some(w) => (Some(time::to_store(w.start)), Some(time::to_store(w.end))),
                None => (None, None),
            };
            tx.prepare_cached(
                "INSERT INTO rejected_objects (scope_id, run_id, window_start, window_end,
                    reason, raw, raw_hash, seen_at, last_seen_at, last_run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?2)",
            )?
            .execute(params![
                scope_id,
                run_id,
                start,
                end,
                object.reason,
                object.raw,
                hash,
                seen_at
            ])?;
            Ok(true)
        }
        Some(last) => {
            let first_this_run = last != Some(run_id);
            tx.prepare_cached(
                "UPDATE rejected_objects SET last_seen_at = ?3, last_run_id = ?4,
                    sightings = sightings + ?5
                 WHERE scope_id = ?1 AND raw_hash = ?2",
            )?
            .execute(params![
                scope_id,
                hash,
                seen_at,
                run_id,
                i64::from(first_this_run)
            ])?;
            Ok(first_this_run)
        }
    }
}
