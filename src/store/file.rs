//! What a path names, found before SQLite opens it: the file its symlinks lead to, whether that
//! is a regular file, whether it starts with SQLite's header, and the WAL files beside it.
//! Nothing here writes, and nothing here opens a file that could block (a FIFO, a device).

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Result, StoreError};

/// Symlinks followed before a path is taken as given: more means a loop.
const MAX_SYMLINKS: usize = 40;

/// What is at an archive's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing: a sync creates the archive here.
    Absent,
    /// A regular file of no bytes with no WAL beside it: as good as absent.
    Empty,
    /// A regular file that starts with SQLite's header (or an empty one with a WAL beside it).
    Sqlite,
}

/// The file SQLite opens for `db`: its symlinks followed (SQLite follows them too, and keeps
/// its `-wal` and `-shm` beside the target) and its directory made canonical, whether or not
/// the file exists yet. Two paths to one archive give the same answer, so the sync lock made
/// from it is one lock.
pub(crate) fn resolve(db: &Path) -> PathBuf {
    let mut path = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    for _ in 0..MAX_SYMLINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => match std::fs::read_link(&path) {
                Ok(target) => {
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    path = dir.join(target);
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => match std::fs::canonicalize(dir) {
            Ok(dir) => dir.join(name),
            Err(_) => path,
        },
        _ => path,
    }
}

/// `<db><suffix>`: SQLite's `-wal` and `-shm`, the sync's `.lock`.
pub(crate) fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Looks at `file` (a [`resolve`]d path) without opening anything that could block or
/// change: a FIFO, a device, a directory or a socket is refused before it is opened (opening
/// a FIFO for reading waits for a writer forever), and so is a file that is not SQLite.
/// `shown` is the path as the user gave it, for messages.
pub(crate) fn examine(file: &Path, shown: &Path) -> Result<Found> {
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Absent),
        Err(source) => {
            return Err(StoreError::Unreadable {
                path: shown.to_path_buf(),
                source,
            })
        }
    };
    if !meta.is_file() {
        return Err(StoreError::NotAFile {
            path: shown.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    let unreadable = |source| StoreError::Unreadable {
        path: shown.to_path_buf(),
        source,
    };
    let mut header = [0u8; 16];
    let read = File::open(file)
        .and_then(|mut f| read_up_to(&mut f, &mut header))
        .map_err(unreadable)?;
    match read {
        0 if wal_bytes(file) == 0 => Ok(Found::Empty),
        0 => Ok(Found::Sqlite),
        n if n == header.len() && &header == b"SQLite format 3\0" => Ok(Found::Sqlite),
        _ => Err(StoreError::NotSqlite {
            path: shown.to_path_buf(),
        }),
    }
}

/// The size of the WAL beside `file`; 0 when there is none.
pub(crate) fn wal_bytes(file: &Path) -> u64 {
    std::fs::metadata(beside(file, "-wal")).map_or(0, |m| m.len())
}

/// What a file that is not a regular file is, in words.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// `file` as an SQLite URI (`file:/dir/a.db`), every byte but the plain ones percent-encoded,
/// so `?`, `#` and `%` in a name stay part of the name.
pub(crate) fn uri(file: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::from("file:");
    for &b in file.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_lead_to_one_path() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.db");
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink("real.db", &link).unwrap();
        // Before the archive exists, and after.
        assert_eq!(resolve(&link), resolve(&real));
        std::fs::write(&real, b"").unwrap();
        assert_eq!(resolve(&link), std::fs::canonicalize(&real).unwrap());
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::os::unix::fs::symlink(dir.path(), sub.join("up")).unwrap();
        assert_eq!(resolve(&sub.join("up/link.db")), resolve(&real));
    }

    #[test]
    fn what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        assert_eq!(examine(&path, &path).unwrap(), Found::Absent);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(examine(&path, &path).unwrap(), Found::Empty);
        std::fs::write(&path, b"SQLite format 3\0and the rest").unwrap();
        assert_eq!(examine(&path, &path).unwrap(), Found::Sqlite);
        std::fs::write(&path, b"SQLite").unwrap();
        assert!(matches!(
            examine(&path, &path),
            Err(StoreError::NotSqlite { .. })
        ));
        assert!(matches!(
            examine(dir.path(), dir.path()),
            Err(StoreError::NotAFile {
                kind: "a directory",
                ..
            })
        ));
        assert!(matches!(
            examine(Path::new("/dev/zero"), Path::new("/dev/zero")),
            Err(StoreError::NotAFile {
                kind: "a device",
                ..
            })
        ));
    }

    /// Opening a FIFO for reading waits for a writer: it is refused before it is opened (the
    /// test finishing is the proof).
    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.db");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        assert!(matches!(
            examine(&fifo, &fifo),
            Err(StoreError::NotAFile {
                kind: "a FIFO (named pipe)",
                ..
            })
        ));
    }

    #[test]
    fn uris_keep_odd_names() {
        assert_eq!(
            uri(Path::new("/a b/c?d#e%f.db")),
            "file:/a%20b/c%3Fd%23e%25f.db"
        );
    }
}
