//! Files the tool writes for people and other programs to read (a report, the Prometheus
//! textfile): they appear whole or not at all, so a browser, a mail or node exporter never
//! reads half of one. Each is written to a temporary file beside its name (the rename never
//! crosses file systems; the name is unique, so two writers never share one), flushed to
//! disk, then renamed over it. A failure removes the temporary file and leaves what was there.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes `path` whole through `write`, or leaves it as it was. The file gets the modes a
/// plain create gives (0666 less the umask), so other users' readers (an exporter) can read
/// it as before.
pub fn replace<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let cannot = || format!("cannot write {}", path.display());
    let temp = builder
        .tempfile_in(dir)
        .map_err(without_temp_path)
        .with_context(cannot)?;
    let mut writer = BufWriter::new(temp);
    let value = write(&mut writer)?;
    let temp = writer
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(cannot)?;
    temp.as_file().sync_all().with_context(cannot)?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(cannot)?;
    Ok(value)
}

/// The cause of a failed temporary file without its made-up name: the message already names
/// the file the user asked for, and `.r.html.w0Akfr.tmp` would only puzzle them. tempfile
/// appends the name as ` at path "..."` and keeps no other form of the cause.
fn without_temp_path(e: std::io::Error) -> anyhow::Error {
    let text = e.to_string();
    let cause = text
        .split_once(" at path \"")
        .map_or(text.as_str(), |(cause, _)| cause);
    anyhow::anyhow!(cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::replace;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let failed: anyhow::Result<()> = replace(&path, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("broken")
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        replace(&path, |w| Ok(w.write_all(b"new")?)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_as_readable_as_a_plain_create_makes_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let path = dir.path().join("replaced");
        replace(&path, |w| Ok(w.write_all(b"x")?)).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn a_missing_directory_is_said_without_the_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("r.html");
        let e = replace(&path, |w| Ok(w.write_all(b"x")?)).unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains("cannot write") && text.contains("r.html"),
            "{text}"
        );
        assert!(!text.contains(".r.html."), "{text}");
    }
}
