//! Helpers shared by the fuzz targets.

include!("encoding.rs");

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Bytes as the text every parser reads: the CLI refuses non-UTF-8 files before any parser runs
/// (`ingest::read_text`), and normalizes BOM and CRLF (`ingest::normalize`) before parsing.
pub fn text(data: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let s = std::str::from_utf8(data).ok()?;
    Some(carbon_gate::ingest::normalize(s))
}

/// A scratch directory of this process (one per fuzzing process, so parallel jobs never share
/// files), under /dev/shm when it exists to keep the per-input writes in memory.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("carbon-gate-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    })
}

/// Write `bytes` to `name` in a fresh sub-directory `sub` of the scratch directory (emptied
/// first, so no file of an earlier input is seen as a sibling) and return its path.
pub fn write_fresh(sub: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = scratch().join(sub);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch sub-dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

/// Split the input at its first NUL byte: (first, rest). Lets one input
/// carry two files; without a NUL the second is empty.
pub fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
