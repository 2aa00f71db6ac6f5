//! The demo's mark: a `demo_archive` table that says `gaussjobs demo` made the archive and
//! which simulator it synced from, so the demo replaces its own files and nothing else. A
//! real archive never has the table (no migration makes it), and a demo archive that a real
//! sync later wrote into is no longer the demo's to replace.

use std::path::Path;

use rusqlite::params;

use super::{open_read_only, sqlite_error, Result, Store, StoreError};
use crate::time;

/// What is at the demo's path, for the demo to decide whether it may replace it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoFile {
    /// Nothing: the demo makes its archive there.
    Absent,
    /// An archive the demo made and only the demo's simulators wrote: the demo may replace it.
    Demo,
    /// Anything else, and why it is not the demo's: the demo leaves it as it is.
    NotDemo(String),
}

impl Store {
    /// Marks this archive as the demo's, made to sync from the simulator at `endpoint`.
    pub fn mark_as_demo(&mut self, endpoint: &str) -> Result<()> {
        let tx = self.write_transaction()?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS demo_archive (
                 endpoint TEXT NOT NULL,
                 made_at TEXT NOT NULL
             )",
        )
        .and_then(|()| {
            tx.execute(
                "INSERT INTO demo_archive (endpoint, made_at) VALUES (?1, ?2)",
                params![
                    endpoint.trim_end_matches('/'),
                    time::to_store(time::now_secs())
                ],
            )
        })
        .and_then(|_| tx.commit())
        .map_err(sqlite_error(&self.path))
    }
}

/// What is at `path`, read without changing it: absent, the demo's own archive (marked, and
/// every sync run in it from a simulator the demo marked), or something else.
pub fn demo_file(path: &Path) -> Result<DemoFile> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DemoFile::Absent),
        Err(source) => {
            return Err(StoreError::Unreadable {
                path: path.to_path_buf(),
                source,
            })
        }
        // The demo deletes what it replaces: a link would lead it to delete the link and
        // leave what the link named, or worse; the demo's file is a file.
        Ok(meta) if !meta.file_type().is_file() => {
            return Ok(DemoFile::NotDemo("it is not a regular file".into()))
        }
        Ok(_) => {}
    }
    let conn = match open_read_only(path) {
        Ok(conn) => conn,
        Err(StoreError::Missing { .. }) => {
            return Ok(DemoFile::NotDemo("it has no demo archive in it".into()))
        }
        Err(e @ StoreError::Sqlite { .. }) => return Err(e),
        Err(e) => return Ok(DemoFile::NotDemo(e.to_string())),
    };
    let sqlite = sqlite_error(path);
    let marked: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'demo_archive'",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    if !marked {
        return Ok(DemoFile::NotDemo(
            "it is a gaussjobs archive the demo did not make".into(),
        ));
    }
    let foreign: i64 = conn
        .query_row(
            "SELECT count(*) FROM sync_runs
             WHERE rtrim(endpoint, '/') NOT IN (SELECT rtrim(endpoint, '/') FROM demo_archive)",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    if foreign > 0 {
        return Ok(DemoFile::NotDemo(format!(
            "{foreign} sync runs in it came from elsewhere than the demo's simulator"
        )));
    }
    Ok(DemoFile::Demo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support;

    #[test]
    fn only_a_marked_archive_with_the_demos_runs_alone_is_the_demos() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        assert_eq!(demo_file(&path).unwrap(), DemoFile::Absent);
        let mut store = Store::open(&path).unwrap();
        assert!(matches!(demo_file(&path).unwrap(), DemoFile::NotDemo(_)));
        store.mark_as_demo("http://127.0.0.1:4000/").unwrap();
        assert_eq!(demo_file(&path).unwrap(), DemoFile::Demo);
        let now = time::now_secs();
        test_support::begin_run(&mut store, "http://127.0.0.1:4000", now);
        assert_eq!(demo_file(&path).unwrap(), DemoFile::Demo);
        // A real sync into the demo's file makes it a real archive.
        test_support::begin_run(&mut store, "http://127.0.0.1:4001", now);
        assert!(matches!(
            demo_file(&path).unwrap(),
            DemoFile::NotDemo(why) if why.contains("1 sync runs")
        ));

        std::fs::write(dir.path().join("notes.db"), b"notes").unwrap();
        assert!(matches!(
            demo_file(&dir.path().join("notes.db")).unwrap(),
            DemoFile::NotDemo(_)
        ));
        std::os::unix::fs::symlink(&path, dir.path().join("link.db")).unwrap();
        assert!(matches!(
            demo_file(&dir.path().join("link.db")).unwrap(),
            DemoFile::NotDemo(_)
        ));
    }
}
