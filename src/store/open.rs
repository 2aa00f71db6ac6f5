//! Opening the archive: deciding what a file is before anything can write to it (files that
//! are not ours are refused without a byte changed), pragmas, the numbered migrations in
//! `migrations/`, and read-only connections that create and change no file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::file::{beside, examine, resolve, uri, Found};
use super::jobs::InstanceNames;
use super::{sqlite_error, Result, StoreError};

/// `PRAGMA application_id` of a gaussjobs archive ("GJOB"), so other SQLite files are refused.
const APPLICATION_ID: i64 = 0x474a_4f42;

/// The migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_open_jobs",
        include_str!("../../migrations/0002_open_jobs.sql"),
    ),
    (
        "0003_views",
        include_str!("../../migrations/0003_views.sql"),
    ),
    (
        "0004_lean_writes",
        include_str!("../../migrations/0004_lean_writes.sql"),
    ),
    (
        "0005_rejected_objects_and_anomalies",
        include_str!("../../migrations/0005_rejected_objects_and_anomalies.sql"),
    ),
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a writer waits for another connection's transaction before giving up. Queries run
/// beside a sync, and WAL lets them; this only covers two writers meeting.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The page size of a new archive, in bytes.
const PAGE_SIZE: i64 = 16 * 1024;

/// SQLite's page cache for a writer, in KiB (negative `cache_size` means KiB). It is most of
/// a sync's memory, which is meant to stay under 64 MiB, and SQLite's sorter takes as much
/// again while a first sync builds its query indexes (`store::indexes`). A larger cache
/// gained too little to be worth the memory (the README's performance section).
const CACHE_KIB: i64 = -16 * 1024;

/// WAL pages written before SQLite copies them back into the archive (8,000 pages of 16 KiB).
const WAL_CHECKPOINT_PAGES: i64 = 8_000;

/// What is kept of the WAL file after a checkpoint, in bytes.
const WAL_KEPT_BYTES: i64 = 64 * 1024 * 1024;

/// Tables every schema version has: a file that claims a version and lacks one is not an
/// archive this build may write.
const ARCHIVE_TABLES: [&str; 4] = ["jobs", "sync_scopes", "sync_coverage", "sync_runs"];

/// What an SQLite file holds, read before anything may write to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// Nothing yet (no file, an empty one, or SQLite with no tables and no version): a sync
    /// makes a new archive of it.
    Empty,
    /// A gaussjobs archive of this schema version, which this build knows.
    Archive(i64),
}

/// A read-write archive.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Instance names this connection has written, so each is written once.
    pub(crate) instance_names: InstanceNames,
}

impl Store {
    /// Opens or creates the archive at `path` and brings its schema up to date. What the file
    /// is gets decided first, on a read-only connection ([`check_archive`]): a file that is
    /// not SQLite, SQLite that is not a gaussjobs archive, and an archive of a newer schema are
    /// refused as they were, before a writer could checkpoint their WAL or migrate them.
    pub fn open(path: &Path) -> Result<Store> {
        let file = resolve(path);
        identify_file(&file, path)?;
        let sqlite = sqlite_error(path);
        let mut conn = Connection::open(&file).map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // Only takes effect on a new, empty file. A job's row holds its JSON: 16 KiB pages cut
        // the pages a batch dirties and the file's size (the README's performance section
        // has what it saved).
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        // NORMAL is durable at every checkpoint and never corrupts in WAL mode; a power cut
        // may lose the last transactions, which the next sync fetches again.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sqlite)?;
        // Every new job updates half a dozen indexes, job_id's at a random place: a page cache
        // that holds the hot index pages saves re-reading them for each transaction. Bounded,
        // so memory stays flat.
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(sqlite)?;
        // Checkpoint less often than SQLite's default 1000 pages: an index page changed by
        // many transactions is then copied back to the file once, not once per 4 MB of log.
        // Rarer checkpoints gained nothing more.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(sqlite)?;
        // After a checkpoint, the log is cut back to this size rather than left at its largest
        // beside the archive.
        conn.pragma_update(None, "journal_size_limit", WAL_KEPT_BYTES)
            .map_err(sqlite)?;
        migrate(&mut conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            instance_names: InstanceNames::default(),
        })
    }

    /// A write transaction that takes the write lock at once (see the `store` module's doc).
    pub(crate) fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite_error(&self.path))
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for read-only checks in tests and the demo.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Decides what the file at `path` is without writing to it or creating anything beside it:
/// a sync may make or migrate an archive there, or it is refused with why. The sync lock
/// asks this before it makes its `.lock` file, so a refused file gets none.
pub(crate) fn check_archive(path: &Path) -> Result<Identity> {
    identify_file(&resolve(path), path)
}

fn identify_file(file: &Path, shown: &Path) -> Result<Identity> {
    match examine(file, shown)? {
        Found::Absent | Found::Empty => Ok(Identity::Empty),
        Found::Sqlite => identify(&read_only_connection(file, shown)?, shown),
    }
}

/// Opens an existing archive for reading only: no migrations, no writes, no journal changes,
/// and no file created or changed beside it, so a reader who may not write the file or its
/// directory can query it (see [`read_only_connection`]).
pub fn open_read_only(path: &Path) -> Result<Connection> {
    let file = resolve(path);
    let missing = || StoreError::Missing {
        path: path.to_path_buf(),
    };
    match examine(&file, path)? {
        Found::Absent | Found::Empty => return Err(missing()),
        Found::Sqlite => {}
    }
    let conn = read_only_connection(&file, path)?;
    conn.pragma_update(None, "query_only", "ON")
        .map_err(sqlite_error(path))?;
    match identify(&conn, path)? {
        Identity::Empty => Err(missing()),
        Identity::Archive(_) => Ok(conn),
    }
}

/// What `doctor` reports of an archive: its schema version and SQLite's `quick_check`
/// answer (`ok` when sound). Read-only, like [`open_read_only`].
pub fn integrity(path: &Path) -> Result<(i64, String)> {
    let conn = open_read_only(path)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite_error(path))?;
    let check: String = conn
        .pragma_query_value(None, "quick_check", |r| r.get(0))
        .map_err(sqlite_error(path))?;
    Ok((version, check))
}

/// [`open_read_only`] for readers of this build's schema (queries): an archive an older
/// gaussjobs wrote, which only `sync` migrates, is refused with what to do instead of failing
/// on a table it does not have yet.
pub fn open_current_read_only(path: &Path) -> Result<Connection> {
    let conn = open_read_only(path)?;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite_error(path))?;
    if found < SCHEMA_VERSION {
        return Err(StoreError::TooOld {
            path: path.to_path_buf(),
            found,
            needed: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

/// A connection to `file` (a resolved path, an SQLite file) that reads and never writes.
///
/// A WAL-mode file is read through its `-wal` and `-shm`, and SQLite creates both when they
/// are missing, even for a read-only connection, and fails when it cannot (a directory the
/// reader may not write: SQLITE_READONLY_DIRECTORY). So:
/// - no `-wal` beside the file: no connection has the archive open (the last one to close
///   copies the WAL back and deletes it), the file holds every committed transaction, and it
///   is read as `immutable`, which opens nothing beside it and takes no lock;
/// - a `-wal` (a sync is running, or one was killed): read through it, read-only, so a query
///   sees what the sync has committed; SQLite uses an `-shm` it may not write read-only;
/// - a `-wal` that cannot be used here (no `-shm` and no right to create one): the file
///   alone, with a warning that what the WAL holds is left out.
pub(crate) fn read_only_connection(file: &Path, shown: &Path) -> Result<Connection> {
    let sqlite = sqlite_error(shown);
    if !beside(file, "-wal").exists() {
        return immutable_connection(file).map_err(sqlite);
    }
    let conn = Connection::open_with_flags(format!("{}?mode=ro", uri(file)), read_only_flags())
        .map_err(sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
    // SQLite opens the WAL at the first read: an -shm it cannot open shows here.
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(e) if cannot_use_wal(&e) => {
            tracing::warn!(
                "{}: its -wal cannot be read here without writing beside it ({e}); answering \
                 from the archive file alone, without what a running or killed sync wrote \
                 since its last checkpoint",
                shown.display()
            );
            drop(conn);
            immutable_connection(file).map_err(sqlite)
        }
        Err(e) => Err(sqlite(e)),
    }
}

fn read_only_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// The file as it is, read without locks, journals or anything opened beside it.
fn immutable_connection(file: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        format!("{}?mode=ro&immutable=1", uri(file)),
        read_only_flags(),
    )
}

/// Whether opening the WAL failed for want of the right to create or write beside the file.
fn cannot_use_wal(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
    )
}

/// What the SQLite file on `conn` is: a new file, an archive this build may read and write,
/// or a refusal with why. Reads only the header's fields and the schema's names.
fn identify(conn: &Connection, path: &Path) -> Result<Identity> {
    let sqlite = sqlite_error(path);
    let app_id: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(sqlite)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(sqlite)?;
    let shown = || path.to_path_buf();
    if app_id != APPLICATION_ID {
        // Another program's file; or an empty SQLite file, which a sync may make an archive of.
        return if app_id == 0 && version == 0 && objects == 0 {
            Ok(Identity::Empty)
        } else {
            Err(StoreError::NotAnArchive { path: shown() })
        };
    }
    if version == 0 {
        // Migrations set the version in the transaction that makes the tables, so tables
        // without one are not of our making.
        return if objects == 0 {
            Ok(Identity::Empty)
        } else {
            Err(StoreError::Damaged {
                path: shown(),
                what: "has no schema version (user_version 0) though it has tables".into(),
            })
        };
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: shown(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for table in ARCHIVE_TABLES {
        let present: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(sqlite)?;
        if !present {
            return Err(StoreError::Damaged {
                path: shown(),
                what: format!("says schema {version} and has no `{table}` table"),
            });
        }
    }
    Ok(Identity::Archive(version))
}

/// Applies the migrations this file has not seen, each in its own transaction with the
/// version bump, so a crash leaves the file at a whole version. A file that a newer gaussjobs
/// migrated since it was checked is left alone.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite_error(path))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    migrate_to(conn, SCHEMA_VERSION).map_err(sqlite_error(path))
}

/// [`migrate`], stopping at schema `target` (tests build archives of older versions with it).
fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (index, (_name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current || version > target {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let page_size: i64 = store
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, PAGE_SIZE);
        drop(store);
        Store::open(&path).unwrap();
        open_read_only(&path).unwrap();
    }

    /// Version 4 moves superseded versions out of job_history: an archive written by version 3
    /// keeps every version, and reads back the same through the job_history view.
    #[test]
    fn version_3_history_survives_the_move_to_superseded_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            r#"INSERT INTO jobs (job_id, job_status, create_time, raw, content_hash, version,
                   first_seen_at, last_seen_at, last_run_id)
               VALUES ('a', 'Completed', '2024-03-01T08:00:00Z', '{"v":2}', 'h2', 2,
                   '2024-03-01T08:05:00Z', '2024-03-02T00:00:00Z', 3),
                      ('b', 'Failed', '2024-03-01T09:00:00Z', '{"b":1}', 'hb', 1,
                   '2024-03-01T09:05:00Z', '2024-03-02T00:00:00Z', 3);
               INSERT INTO job_history (job_id, version, observed_at, run_id, changed,
                   job_status, create_time, raw)
               VALUES ('a', 1, '2024-03-01T08:05:00Z', 1, NULL, 'Running',
                   '2024-03-01T08:00:00Z', '{"v":1}'),
                      ('a', 2, '2024-03-01T10:00:00Z', 2, '["job_status"]', 'Completed',
                   '2024-03-01T08:00:00Z', '{"v":2}'),
                      ('b', 1, '2024-03-01T09:05:00Z', 1, NULL, 'Failed',
                   '2024-03-01T09:00:00Z', '{"b":1}');"#,
        )
        .unwrap();
        let history = |conn: &Connection| -> Vec<(String, i64, String, Option<i64>, String)> {
            let mut stmt = conn
                .prepare(
                    "SELECT job_id, version, observed_at, run_id, raw FROM job_history
                     ORDER BY job_id, version",
                )
                .unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        let before = history(&conn);
        drop(conn);
        // Queries refuse it until a sync has migrated it.
        assert!(matches!(
            open_current_read_only(&path),
            Err(StoreError::TooOld {
                found: 3,
                needed: SCHEMA_VERSION,
                ..
            })
        ));

        let store = Store::open(&path).unwrap();
        open_current_read_only(&path).unwrap();
        assert_eq!(history(&store.conn), before);
        let superseded: Vec<(String, i64)> = store
            .conn
            .prepare("SELECT job_id, version FROM superseded_versions")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(superseded, [("a".to_string(), 1)]);
        let transitions: i64 = store
            .conn
            .query_row("SELECT count(*) FROM status_transitions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            transitions, 3,
            "a: NULL->Running->Completed, b: NULL->Failed"
        );
    }

    #[test]
    fn refuses_other_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"hello, this is not a database at all").unwrap();
        assert!(matches!(
            Store::open(&text),
            Err(StoreError::NotSqlite { .. })
        ));
        assert_eq!(
            std::fs::read(&text).unwrap(),
            b"hello, this is not a database at all"
        );

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let before = std::fs::read(&other).unwrap();
        assert!(matches!(
            Store::open(&other),
            Err(StoreError::NotAnArchive { .. })
        ));
        assert_eq!(std::fs::read(&other).unwrap(), before);
    }

    /// The bytes of `path` and of its -wal, "" for one that is absent.
    fn contents(path: &Path) -> (Vec<u8>, Vec<u8>) {
        let read = |p: &Path| std::fs::read(p).unwrap_or_default();
        (read(path), read(&beside(path, "-wal")))
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Someone else's WAL-mode file whose last transactions are still in its -wal (its program
    /// was killed): a writer's close would copy them into the file and delete the -wal.
    #[test]
    fn a_foreign_file_in_wal_mode_is_refused_with_its_wal_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.db");
        let conn = Connection::open(&live).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE notes (x); INSERT INTO notes VALUES ('kept in the wal');",
        )
        .unwrap();
        let other = dir.path().join("other.db");
        for suffix in ["", "-wal", "-shm"] {
            std::fs::copy(beside(&live, suffix), beside(&other, suffix)).unwrap();
        }
        drop(conn);
        let before = contents(&other);
        assert!(!before.1.is_empty(), "the copy has its WAL");
        assert!(matches!(
            Store::open(&other),
            Err(StoreError::NotAnArchive { .. })
        ));
        assert!(matches!(
            open_read_only(&other),
            Err(StoreError::NotAnArchive { .. })
        ));
        assert_eq!(contents(&other), before);
    }

    /// A file of ours with tables but no version is not half made by us (migrations set the
    /// version with the tables): migrating it would run 0001 over its tables.
    #[test]
    fn tables_without_a_version_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 0)
            .unwrap();
        let before = contents(&path);
        for result in [
            Store::open(&path).map(|_| ()),
            open_read_only(&path).map(|_| ()),
        ] {
            match result {
                Err(StoreError::Damaged { what, .. }) => {
                    assert!(what.contains("user_version 0"), "{what}")
                }
                other => panic!("expected Damaged, got {other:?}"),
            }
        }
        assert_eq!(contents(&path), before);
        // Our id, a version, and not our tables.
        let odd = dir.path().join("odd.db");
        let conn = Connection::open(&odd).unwrap();
        conn.execute_batch("CREATE TABLE jobs (x)").unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&odd),
            Err(StoreError::Damaged { what, .. }) if what.contains("sync_scopes")
        ));
    }

    #[test]
    fn a_newer_schema_is_refused_untouched_naming_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let before = contents(&path);
        let err = Store::open(&path).err().expect("refused");
        assert!(
            matches!(
                err,
                StoreError::TooNew {
                    found: 99,
                    known: SCHEMA_VERSION,
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("schema 99") && message.contains(&format!("schema {SCHEMA_VERSION}")),
            "{message}"
        );
        assert!(matches!(
            open_read_only(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
        assert_eq!(contents(&path), before);
    }

    /// A query on a closed archive opens nothing beside it; one beside a writer reads through
    /// the writer's WAL, so it sees what the writer committed and has not copied back yet.
    #[test]
    fn readers_create_no_file_and_see_a_writers_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(Store::open(&path).unwrap());
        let files = names_in(dir.path());
        assert_eq!(files, ["a.db"]);
        let count = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM sync_scopes", [], |r| r.get(0))
                .unwrap()
        };
        let reader = open_current_read_only(&path).unwrap();
        assert_eq!(count(&reader), 0);
        drop(reader);
        assert_eq!(names_in(dir.path()), files);

        let mut store = Store::open(&path).unwrap();
        crate::store::test_support::begin_run(&mut store, "http://x", crate::time::now_secs());
        assert!(beside(&path, "-wal").exists());
        let reader = open_current_read_only(&path).unwrap();
        assert_eq!(count(&reader), 1, "the writer's commit, still in its WAL");
        drop(reader);
        drop(store);
        assert_eq!(names_in(dir.path()), files);
    }

    #[test]
    fn read_only_needs_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            open_read_only(&dir.path().join("none.db")),
            Err(StoreError::Missing { .. })
        ));
    }
}
