//! SHA-256 digests of the files a verdict rests on, so an auditor can tell whether the inputs
//! they hold are the ones that were evaluated.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Location, Problem};

/// Lower-case hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

/// Lower-case hex of the SHA-256 of a file's bytes, read as a stream (a log may be gigabytes).
/// A FIFO or device is refused: what was read from it cannot be read again.
pub fn file_sha256(path: &Path) -> Result<String, Error> {
    let mut file = open_regular(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| cannot_read(path, &e))?;
    Ok(hex(&hasher.finalize()))
}

fn cannot_read(path: &Path, err: &dyn std::fmt::Display) -> Error {
    Error::input(Problem::new(
        Location::file(path),
        format!("cannot read to take its digest: {err}"),
    ))
}

/// Open `path` when it is a regular file (links followed).
fn open_regular(path: &Path) -> Result<std::fs::File, Error> {
    let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
    if let Some(kind) = crate::bounded::special_kind(meta.file_type()) {
        return Err(cannot_read(
            path,
            &format!("{kind}, whose bytes were read once and cannot be read again; pass a file"),
        ));
    }
    std::fs::File::open(path).map_err(|e| cannot_read(path, &e))
}

/// One digest over a set of files (a policy): SHA-256 over each file's name, length and bytes,
/// in the given order, written `sha256:<hex>`. Renaming, editing or reordering a file changes it.
pub fn files_digest(paths: &[std::path::PathBuf]) -> Result<String, Error> {
    let mut hasher = Sha256::new();
    for path in paths {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut open_regular(path)?, &mut bytes)
            .map_err(|e| cannot_read(path, &e))?;
        let name = crate::error::path_text(path);
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // FIPS 180-2 test vector.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
