//! Every file the tool writes goes through here, so that a pull request that plants symbolic
//! links in the checkout cannot make the gate write anywhere else (issue #17, item 8;
//! `docs/reliability.md`, "Threat model: writes and injection").
//!
//! - [`replace`] writes a whole file atomically: an unpredictable temporary file created
//!   exclusively (`O_CREAT | O_EXCL`, which never follows a link) in the target's directory,
//!   synced, then renamed over the target. A symbolic link at the target is replaced by the
//!   file, never written through. A device node, FIFO or socket at the target (`/dev/null`, a
//!   named pipe) is written directly, never replaced by a regular file; so is a path under
//!   `/dev/` (`/dev/stdout`, `/dev/fd/1`), which a checkout cannot contain.
//! - [`append`] appends to a file and refuses a symbolic link at the path (`O_NOFOLLOW`, checked
//!   by the kernel when the file is opened, so there is no window between a check and the open).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Write `bytes` as the whole content of `path` (see the module documentation).
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, &mut |out| out.write_all(bytes))
}

/// Write the whole content of `path` as `produce` writes it, streamed (a report too large to
/// hold in memory); the file appears at `path` only once all of it is written, as [`replace`].
pub fn replace_with(
    path: &Path,
    produce: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let existing = std::fs::symlink_metadata(path).ok();
    if let Some(meta) = &existing
        && (is_special(&meta.file_type()) || (meta.file_type().is_symlink() && under_dev(path)))
    {
        return write_directly(path, produce);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".carbon-gate-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What `File::create` gives (the umask applies), not the temporary file's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir)?;
    if let Some(meta) = &existing
        && meta.is_file()
    {
        // Rewriting a file (a model card) keeps its permissions.
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        produce(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    // On failure the temporary file is removed when `PersistError` drops it.
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Append `bytes` to `path`, creating it; a symbolic link at `path` is refused.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) => {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(if link {
                io::Error::other(
                    "it is a symbolic link, and appending through a link is refused (name the file itself, or remove the link)",
                )
            } else {
                e
            });
        }
    };
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::other(
            "it is a symbolic link, and appending through a link is refused (name the file itself, or remove the link)",
        ));
    }
    file.write_all(bytes)?;
    file.flush()
}

/// A device node, FIFO or socket: written in place, never replaced.
fn is_special(kind: &std::fs::FileType) -> bool {
    !(kind.is_file() || kind.is_dir() || kind.is_symlink())
}

/// `/dev/stdout`, `/dev/fd/1` and the like: links the system made, not the checkout.
fn under_dev(path: &Path) -> bool {
    cfg!(unix) && path.is_absolute() && path.starts_with("/dev")
}

/// Open an existing special file for writing (never creating one) and write to it.
fn write_directly(
    path: &Path,
    produce: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    if !under_dev(path) {
        use std::os::unix::fs::OpenOptionsExt;
        // It was not a link when looked at; it must not have become one since.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let file: File = options.open(path)?;
    if file.metadata()?.is_file() {
        // `/dev/stdout` redirected to a file: rewrite it, as the shell's `>` would.
        file.set_len(0)?;
    }
    let mut out = io::BufWriter::new(file);
    produce(&mut out)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_writes_a_new_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.md");
        replace(&path, b"one").unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn replace_replaces_a_link_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("r.md");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        replace(&path, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
        assert_eq!(std::fs::read(&path).unwrap(), b"report");
    }

    #[cfg(unix)]
    #[test]
    fn append_refuses_a_link_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("ledger.jsonl");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = append(&path, b"x\n").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        append(&dir.path().join("real.jsonl"), b"a\n").unwrap();
        append(&dir.path().join("real.jsonl"), b"b\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("real.jsonl")).unwrap(),
            "a\nb\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_stays_a_device() {
        replace(Path::new("/dev/null"), b"report").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    }
}
