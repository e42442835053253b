//! Bounded reads: how much of a file is read, and from what kind of file.
//!
//! A pull request controls the logs a check reads, their names and the symbolic links among
//! them, so no read may grow without bound or wait forever (docs/reliability.md, "Threat model:
//! bounded reads"):
//!
//! - the format of a log is decided from its first [`PREFIX_BYTES`] (a file that is binary or not
//!   UTF-8 there, or that is no known format, is refused without reading the rest);
//! - a log read whole (every format but CodeCarbon CSV, eco2AI CSV, carbon-gate NDJSON and
//!   Impact Framework output manifests longer than the prefix, which are streamed with a cap per
//!   record, value or nesting level) may hold at most [`MAX_DOCUMENT`] bytes, and is read through
//!   `Read::take` so that memory is bounded before the check;
//! - only regular files are opened without a timeout: a FIFO or device named on the command line
//!   is read on a thread that hands its bytes over a bounded channel, and the read fails when no
//!   byte arrives for [`idle_timeout`].

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How many bytes of a log are read to decide its format (and whether it is text).
pub const PREFIX_BYTES: usize = 64 * 1024;

/// The most bytes of a log read whole (carbon-gate JSON arrays and documents, Impact Framework
/// manifests of at most [`PREFIX_BYTES`], model cards, carbontracker logs): 128 MiB. A larger
/// log is split, or written in a streamed format (CodeCarbon or eco2AI CSV, NDJSON records).
pub const MAX_DOCUMENT: u64 = 128 << 20;

/// The most bytes of a configuration, metrics or facts file: 16 MiB (they are kilobytes).
pub const MAX_SMALL_DOCUMENT: u64 = 16 << 20;

/// `MAX_DOCUMENT` for messages.
pub const MAX_DOCUMENT_TEXT: &str = "128 MiB";

/// The environment variable that sets [`idle_timeout`], in seconds.
pub const TIMEOUT_VAR: &str = "CARBON_GATE_PIPE_TIMEOUT";

/// How long a read from a FIFO or device may wait for its next bytes (or for a writer to open a
/// FIFO): 10 seconds, or `CARBON_GATE_PIPE_TIMEOUT` seconds (a number from 0.1 to 3600).
pub fn idle_timeout() -> Duration {
    std::env::var(TIMEOUT_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| (0.1..=3600.0).contains(s))
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

/// What kind of file `kind` is, in words, when it is neither a regular file, a directory nor a
/// symbolic link (a FIFO, a socket, a device), or `None`.
pub fn special_kind(kind: std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() || kind.is_dir() || kind.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
    }
    Some("a special file")
}

/// A file opened for reading, and its size when it is a regular file.
pub struct Source {
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
    /// The size of a regular file (`None` for a FIFO or device, read with a timeout).
    pub size: Option<u64>,
}

/// Open `path`: a regular file directly, a `special` one (a FIFO or device, which may block in
/// `open` and in every read) through a reader thread with an idle timeout, so that no read blocks
/// for ever.
pub fn open(path: &Path, special: bool) -> io::Result<Source> {
    if special {
        return Ok(Source {
            reader: timed(path.to_owned(), idle_timeout()),
            size: None,
        });
    }
    let file = File::open(path)?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok(Source {
        reader: Box::new(file),
        size,
    })
}

/// A reader of `path` on its own thread: opening a FIFO blocks until a writer comes, and reading
/// one until the writer writes; the thread does both, and the reader returned fails with
/// `TimedOut` when nothing arrives for `idle`. The channel holds at most a few chunks, so a fast
/// endless source (`/dev/zero`) is not read ahead of what is asked for. The thread ends when the
/// reader is dropped (its next send fails) or at the end of the file; one blocked for ever in
/// `open` or `read` ends with the process.
fn timed(path: std::path::PathBuf, idle: Duration) -> Box<dyn Read + Send> {
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
    let spawned = std::thread::Builder::new()
        .name("pipe-reader".into())
        .spawn(move || {
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(err) => {
                    let _ = tx.send(Err(err));
                    return;
                }
            };
            loop {
                let mut chunk = vec![0; 64 * 1024];
                match file.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        let _ = tx.send(Err(err));
                        return;
                    }
                }
            }
        });
    match spawned {
        Ok(_) => Box::new(Timed {
            rx,
            idle,
            chunk: Vec::new(),
            at: 0,
            done: false,
        }),
        Err(err) => Box::new(Failed(Some(err))),
    }
}

/// The reading end of [`timed`].
struct Timed {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    idle: Duration,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            match self.rx.recv_timeout(self.idle) {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(err)) => {
                    self.done = true;
                    return Err(err);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => self.done = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "nothing to read for {} s (a FIFO without a writer, or one that stopped writing); set {TIMEOUT_VAR} to wait longer",
                            seconds(self.idle)
                        ),
                    ));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// A reader that could not be started.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("reader thread not started")))
    }
}

/// Why a file read whole was refused.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The file is not a regular file (what it is, in words).
    Special(&'static str),
    /// The file is larger than the cap (the cap in bytes).
    TooBig(u64),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(err) => write!(f, "{err}"),
            ReadError::Special(kind) => write!(f, "{kind}, not a regular file"),
            ReadError::TooBig(cap) => write!(f, "larger than the {} limit", bytes_text(*cap)),
        }
    }
}

/// `cap` in words (MiB when whole).
pub fn bytes_text(cap: u64) -> String {
    if cap >= 1 << 20 && cap.is_multiple_of(1 << 20) {
        format!("{} MiB", cap >> 20)
    } else {
        format!("{cap} bytes")
    }
}

/// Read the regular file at `path` whole, at most `cap` bytes (a FIFO, device or directory is
/// refused without being opened; a larger file without being read).
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(ReadError::Special(kind));
    }
    if meta.is_dir() {
        return Err(ReadError::Io(io::Error::other("is a directory")));
    }
    if meta.len() > cap {
        return Err(ReadError::TooBig(cap));
    }
    let file = File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooBig(cap));
    }
    Ok(bytes)
}

/// Read the file named on the command line at `path` whole, at most `cap` bytes: a regular file
/// as [`read_regular`] does, a FIFO or device (`--policy <(…)`) through the reader thread with
/// its idle timeout.
pub fn read_named(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if special_kind(meta.file_type()).is_none() {
        return read_regular(path, cap);
    }
    let mut bytes = Vec::new();
    open(path, true)
        .map_err(ReadError::Io)?
        .reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooBig(cap));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, cap: u64) -> Result<String, ReadError> {
    text(read_regular(path, cap)?)
}

/// [`read_named`] as UTF-8 text.
pub fn read_named_text(path: &Path, cap: u64) -> Result<String, ReadError> {
    text(read_named(path, cap)?)
}

fn text(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|err| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// The text every parser reads: without a UTF-8 byte-order mark, and with CRLF line ends made LF
/// (CodeCarbon 1.x writes CRLF, a file can mix both, and the csv crate miscounts lines after CRLF).
pub fn normalize(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_regular(&path, 5).unwrap(), b"12345");
        assert!(matches!(read_regular(&path, 4), Err(ReadError::TooBig(4))));
        assert!(matches!(read_regular(dir.path(), 4), Err(ReadError::Io(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_not_read_whole() {
        let err = read_regular(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(err.to_string(), "a character device, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_read_as_far_as_asked() {
        let source = open(Path::new("/dev/zero"), true).unwrap();
        assert_eq!(source.size, None);
        let mut bytes = Vec::new();
        source.reader.take(300_000).read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len(), 300_000);
    }

    #[test]
    fn a_silent_source_times_out() {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut reader = Timed {
            rx,
            idle: Duration::from_millis(50),
            chunk: Vec::new(),
            at: 0,
            done: false,
        };
        let err = reader.read(&mut [0; 8]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            err.to_string().contains("nothing to read for 0.05 s"),
            "{err}"
        );
        tx.send(Ok(b"ab".to_vec())).unwrap();
        drop(tx);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"ab");
    }
}
