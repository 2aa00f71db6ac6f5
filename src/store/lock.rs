//! The sync lock: one sync per archive at a time.
//!
//! An OS file lock on `<archive>.lock` beside the archive: the kernel releases it when the
//! holder exits, however it dies, so a killed run never blocks the next one. The file's text
//! names the holder for the message the second run prints.
//!
//! The lock is made beside the file the path leads to, symlinks followed, so two paths to one
//! archive take one lock; and only once the file is known to be one a sync may write, so a
//! refused file gets no `.lock` beside it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::file::resolve;
use super::open::check_archive;
use super::{Result, StoreError};
use crate::time;

/// Held while a sync runs; released on drop (or by the kernel if the process dies).
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    path: PathBuf,
}

impl SyncLock {
    /// Takes the lock of the archive at `db` without waiting. When another process holds it,
    /// the error names that holder (pid, host, since when).
    pub fn acquire(db: &Path) -> Result<SyncLock> {
        let (mut file, path) = open_lock_file(db)?;
        match file.try_lock() {
            Ok(()) => SyncLock::hold(file, path),
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                Err(StoreError::Locked {
                    path: db.to_path_buf(),
                    holder: if holder.is_empty() {
                        "a process that has not written its name yet".into()
                    } else {
                        holder.to_string()
                    },
                })
            }
            Err(TryLockError::Error(source)) => Err(StoreError::LockIo { path, source }),
        }
    }

    /// Takes the lock, waiting for the holder to finish (or die) if there is one.
    /// Says once, naming the holder, that it waits: a run that only sat there silently looked
    /// hung.
    pub fn acquire_waiting(db: &Path) -> Result<SyncLock> {
        let (mut file, path) = open_lock_file(db)?;
        match file.try_lock() {
            Ok(()) => return SyncLock::hold(file, path),
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "a process that has not written its name yet",
                    named => named,
                };
                tracing::warn!(
                    "another sync holds {} ({holder}); waiting for it to finish (--wait)",
                    db.display()
                );
            }
            Err(TryLockError::Error(source)) => return Err(StoreError::LockIo { path, source }),
        }
        match file.lock() {
            Ok(()) => SyncLock::hold(file, path),
            Err(source) => Err(StoreError::LockIo { path, source }),
        }
    }

    /// Writes this process's name into the lock file it now holds.
    fn hold(mut file: File, path: PathBuf) -> Result<SyncLock> {
        let holder = format!(
            "pid {} on {} since {}",
            std::process::id(),
            hostname(),
            time::to_store(time::now_secs())
        );
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(holder.as_bytes()))
            .and_then(|()| file.flush());
        match written {
            Ok(()) => Ok(SyncLock { _file: file, path }),
            Err(source) => Err(StoreError::LockIo { path, source }),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_lock_file(db: &Path) -> Result<(File, PathBuf)> {
    check_archive(db)?;
    let path = lock_path(db);
    match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(file) => Ok((file, path)),
        Err(source) => Err(StoreError::LockIo { path, source }),
    }
}

/// Who holds the sync lock of the archive at `db` now, without taking it for longer than
/// the look nor creating its file: `None` when no sync runs.
pub fn holder(db: &Path) -> Result<Option<String>> {
    let path = lock_path(db);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StoreError::LockIo { path, source }),
    };
    match file.try_lock_shared() {
        // Released as the file closes.
        Ok(()) => Ok(None),
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Ok(Some(holder.trim().to_string()))
        }
        Err(TryLockError::Error(source)) => Err(StoreError::LockIo { path, source }),
    }
}

/// `<archive>.lock`, beside the file `db` leads to.
pub fn lock_path(db: &Path) -> PathBuf {
    super::file::beside(&resolve(db), ".lock")
}

/// This machine's name, for the holder line; "unknown host" when it cannot be read.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let first = SyncLock::acquire(&db).unwrap();
        match SyncLock::acquire(&db) {
            Err(StoreError::Locked { holder, .. }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                );
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        SyncLock::acquire(&db).unwrap();
    }

    #[test]
    fn one_archive_through_a_symlink_is_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let first = SyncLock::acquire(&db).unwrap();
        assert!(matches!(
            SyncLock::acquire(&link),
            Err(StoreError::Locked { .. })
        ));
        drop(first);
        let through_link = SyncLock::acquire(&link).unwrap();
        assert_eq!(through_link.path(), lock_path(&db));
    }

    #[test]
    fn a_refused_file_gets_no_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, b"not a database").unwrap();
        assert!(matches!(
            SyncLock::acquire(&notes),
            Err(StoreError::NotSqlite { .. })
        ));
        assert!(matches!(
            SyncLock::acquire_waiting(&notes),
            Err(StoreError::NotSqlite { .. })
        ));
        assert!(!lock_path(&notes).exists());
    }

    #[test]
    fn a_waiting_holder_gets_the_lock_when_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let first = SyncLock::acquire(&db).unwrap();
        let waiter = {
            let db = db.clone();
            std::thread::spawn(move || SyncLock::acquire_waiting(&db).map(|_| ()))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished(), "it waits while the lock is held");
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
