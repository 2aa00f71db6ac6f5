//! The five indexes queries read `jobs` through, and the first sync's bulk load, which builds
//! them once at the end instead of entry by entry.
//!
//! Each new job costs an entry in every one of these indexes, at a random place for most, and
//! keeping them up to date was most of a large sync's CPU; built in bulk after the last page,
//! SQLite sorts their entries and writes the pages full, so they also come out smaller (the
//! README's performance section has the figures). Only a first sync has that many new jobs at
//! once, so only a sync into
//! an archive without jobs defers them; one that finds them missing (a first sync that was
//! killed) defers them too, and so finishes the build.
//!
//! While they are deferred, queries still answer, by reading the whole table; the job_id key
//! is never deferred, because the writer finds archived jobs by it.

use rusqlite::{Connection, OptionalExtension};

use super::{sqlite_error, Result, Store};

/// The query indexes, as the migrations create them. A test checks that building them gives
/// the same definitions as a freshly migrated archive has.
pub(crate) const QUERY_INDEXES: [(&str, &str); 5] = [
    (
        "jobs_instance_id",
        "CREATE INDEX IF NOT EXISTS jobs_instance_id ON jobs (instance_id, create_time)",
    ),
    (
        "jobs_status",
        "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (job_status, create_time)",
    ),
    (
        "jobs_job_name",
        "CREATE INDEX IF NOT EXISTS jobs_job_name ON jobs (job_name, create_time)",
    ),
    (
        "jobs_project",
        "CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project_id, create_time)",
    ),
    (
        "jobs_stats",
        "CREATE INDEX IF NOT EXISTS jobs_stats ON jobs (
    create_time, job_status, job_name, instance_id, project_id, start_time, end_time
)",
    ),
];

/// The page cache while the indexes are built, in KiB (`cache_size` form): the sorter's
/// memory too.
const BUILD_CACHE_KIB: i64 = -4 * 1024;

impl Store {
    /// Drops the query indexes when the archive holds no jobs yet, or when some are missing
    /// already, so that the jobs about to be written cost their key alone. Returns whether
    /// they are deferred; the caller then builds them with [`Store::build_query_indexes`]
    /// once its jobs are written.
    pub fn defer_query_indexes(&mut self) -> Result<bool> {
        let path = self.path.clone();
        let sqlite = sqlite_error(&path);
        // Two syncs starting side by side decide one after the other.
        let tx = self.write_transaction()?;
        let has_jobs = tx
            .query_row("SELECT 1 FROM jobs LIMIT 1", [], |_| Ok(()))
            .optional()
            .map_err(sqlite)?
            .is_some();
        if has_jobs && missing_query_indexes(&tx).map_err(sqlite)?.is_empty() {
            return Ok(false);
        }
        for (name, _) in QUERY_INDEXES {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))
                .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)?;
        Ok(true)
    }

    /// Creates the query indexes that are missing, in one transaction. Returns how many it
    /// built; none when they all exist, which costs a look at the schema.
    pub fn build_query_indexes(&mut self) -> Result<usize> {
        let path = self.path.clone();
        let sqlite = sqlite_error(&path);
        let tx = self.write_transaction()?;
        let missing = missing_query_indexes(&tx).map_err(sqlite)?;
        if missing.is_empty() {
            return Ok(0);
        }
        // SQLite's sorter, which builds an index, holds as much in memory as the page cache
        // may. With the cache shrunk while it works, the cache's pages go back to the
        // allocator and the sorter reuses them, so a first sync of 200,000 jobs peaks no
        // higher than one of 20,000; the sorter spills the rest to temporary files.
        let cache: i64 = tx
            .pragma_query_value(None, "cache_size", |r| r.get(0))
            .map_err(sqlite)?;
        tx.pragma_update(None, "cache_size", BUILD_CACHE_KIB)
            .map_err(sqlite)?;
        let built = missing.iter().try_for_each(|name| {
            let (_, sql) = QUERY_INDEXES
                .iter()
                .find(|(index, _)| index == name)
                .expect("missing names come from QUERY_INDEXES");
            tx.execute_batch(sql)
        });
        let restored = tx.pragma_update(None, "cache_size", cache);
        built.and(restored).map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(missing.len())
    }
}

/// The query indexes the archive lacks.
pub(crate) fn missing_query_indexes(conn: &Connection) -> rusqlite::Result<Vec<&'static str>> {
    let mut exists = conn.prepare_cached(
        "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1 AND tbl_name = 'jobs'",
    )?;
    let mut missing = Vec::new();
    for (name, _) in QUERY_INDEXES {
        if !exists.exists([name])? {
            missing.push(name);
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{begin_run, job};
    use crate::store::PageBatch;

    /// Each index's definition, spaces collapsed, by name.
    fn definitions(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jobs'
                 AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap();
        stmt.query_map([], |r| {
            let sql: String = r.get(1)?;
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            Ok((r.get(0)?, sql.replace("( ", "(").replace(" )", ")")))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn built_indexes_are_the_migrated_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let migrated = definitions(store.connection());
        assert_eq!(
            migrated.len(),
            QUERY_INDEXES.len(),
            "every index on jobs but its key is a query index: {migrated:?}"
        );
        assert!(store.defer_query_indexes().unwrap());
        assert_eq!(
            missing_query_indexes(store.connection()).unwrap().len(),
            QUERY_INDEXES.len()
        );
        let cache = |store: &Store| -> i64 {
            store
                .connection()
                .pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        let before = cache(&store);
        assert_eq!(store.build_query_indexes().unwrap(), QUERY_INDEXES.len());
        assert_eq!(
            cache(&store),
            before,
            "the page cache is restored after the build"
        );
        let built: Vec<_> = definitions(store.connection())
            .into_iter()
            .map(|(name, sql)| (name, sql.replace("IF NOT EXISTS ", "")))
            .collect();
        assert_eq!(built, migrated);
        assert_eq!(store.build_query_indexes().unwrap(), 0);
    }

    #[test]
    fn only_an_archive_without_jobs_or_with_missing_indexes_defers_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let now = chrono::Utc::now();
        let (scope, run) = begin_run(&mut store, "http://e", now);
        let jobs = [job("j1", "Running")];
        let page = PageBatch {
            jobs: &jobs,
            seen_at: now,
            completes: None,
        };
        store.write_pages(run, scope, &[page], 0).unwrap();
        assert!(
            !store.defer_query_indexes().unwrap(),
            "the archive has jobs"
        );
        assert!(missing_query_indexes(store.connection())
            .unwrap()
            .is_empty());

        // A first sync killed before it built them: the next one defers and builds them.
        store
            .connection()
            .execute_batch("DROP INDEX jobs_status")
            .unwrap();
        assert!(store.defer_query_indexes().unwrap());
        assert_eq!(store.build_query_indexes().unwrap(), QUERY_INDEXES.len());
        let status: String = store
            .connection()
            .query_row(
                "SELECT job_status FROM jobs INDEXED BY jobs_status WHERE job_status = 'Running'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(status, "Running");
    }
}
