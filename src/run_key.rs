//! The key a run is known by while the rows of a log are folded: its id as 128 bits when it is a
//! canonical UUID (what CodeCarbon writes), else as text, with its hash.
//!
//! Keys are made on the threads that parse the log and hashed there, with one hasher for the
//! whole process (seeded at random: fast, and not predictable from the input), so that the
//! thread that folds a row into its run only looks it up.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// A run id, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunKey {
    /// A canonical UUID (lowercase, hyphenated): written back, the same text.
    Uuid(u128),
    /// Any other id.
    Text(Box<str>),
}

impl RunKey {
    /// The key of the run id `text`.
    pub fn of(text: &str) -> RunKey {
        match uuid_bits(text) {
            Some(v) => RunKey::Uuid(v),
            None => RunKey::Text(text.into()),
        }
    }

    /// Its hash (the same for the same id throughout the process).
    pub fn hash(&self) -> u64 {
        match self {
            RunKey::Uuid(v) => hash_uuid(*v),
            RunKey::Text(t) => hash_text(t),
        }
    }
}

fn hasher() -> &'static foldhash::fast::RandomState {
    static HASHER: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    HASHER.get_or_init(foldhash::fast::RandomState::default)
}

/// The hash of a run id kept as 128 bits.
pub fn hash_uuid(v: u128) -> u64 {
    hasher().hash_one(v)
}

/// The hash of a run id kept as text.
pub fn hash_text(t: &str) -> u64 {
    hasher().hash_one(t)
}

/// Eight ASCII lowercase hex digits (the first in the lowest byte, as read from text) as their
/// 32-bit value; `None` if any byte is not one. All eight at once, in the bytes of one word.
fn hex8(w: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if w & HIGH != 0 {
        return None;
    }
    // With every byte below 0x80, adding 0x80 - k sets a byte's high bit exactly when the byte
    // is k or more (no carry leaves a byte).
    let at_least = |k: u64| w.wrapping_add(ONES.wrapping_mul(0x80 - k));
    let digit = at_least(0x30) & !at_least(0x3a);
    let letter = at_least(0x61) & !at_least(0x67);
    if (digit | letter) & HIGH != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39 and 'a'..'f' 0x61..0x66: the low nibble, plus 9 for a letter.
    let nibbles = (w & (ONES * 0x0f)) + 9 * ((w >> 6) & ONES);
    // Pack the eight nibbles, the first byte's on top.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = ((pairs << 8) | (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    Some((((quads << 16) | (quads >> 32)) & 0xffff_ffff) as u32)
}

/// A canonical UUID (lowercase, hyphenated) as its 128 bits; `None` for any other text.
pub fn uuid_bits(text: &str) -> Option<u128> {
    let b: &[u8; 36] = text.as_bytes().try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    // Four bytes from `at`, the first lowest (fixed indices into the array: plain loads).
    let four = |at: usize| u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
    let word = |first: usize, second: usize| hex8(four(first) | (four(second) << 32));
    let groups = [word(0, 4)?, word(9, 14)?, word(19, 24)?, word(28, 32)?];
    Some(groups.iter().fold(0u128, |v, &g| (v << 32) | u128::from(g)))
}

/// The text of a UUID kept as 128 bits.
pub fn uuid_text(v: u128) -> String {
    let hex = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uuids_round_trip_and_other_ids_are_text() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(uuid_bits(id).map(uuid_text).as_deref(), Some(id));
        assert_eq!(uuid_bits(id), Some(0x0f8fad5b_d9cb_469f_a165_70867728950e));
        assert_eq!(uuid_bits("0F8FAD5B-D9CB-469F-A165-70867728950E"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-70867728950g"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-70867728950/"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-70867728950:"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-70867728950`"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-7086772895\u{e9}"), None);
        assert_eq!(
            uuid_bits("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            Some(u128::MAX)
        );
        assert_eq!(uuid_bits("00000000-0000-0000-0000-000000000000"), Some(0));
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165_70867728950e"), None);
        assert_eq!(uuid_bits("0f8fad5bd9cb469fa16570867728950e"), None);
        assert_eq!(uuid_bits("run-1"), None);
        assert_eq!(RunKey::of("run-1"), RunKey::Text("run-1".into()));
        assert_eq!(RunKey::of(id).hash(), RunKey::of(id).hash());
    }

    proptest! {
        /// Any text of 36 bytes is a UUID key exactly when it is the text of its bits.
        #[test]
        fn a_key_is_a_uuid_only_when_it_reads_back_the_same(text in "[0-9a-fA-F/:`g-]{36}") {
            match uuid_bits(&text) {
                Some(v) => prop_assert_eq!(uuid_text(v), text),
                None => prop_assert!(u128::from_str_radix(&text.replace('-', ""), 16)
                    .map(|v| uuid_text(v) != text)
                    .unwrap_or(true)),
            }
        }

        /// Every UUID reads back as its bits.
        #[test]
        fn every_uuid_is_its_bits(v in any::<u128>()) {
            prop_assert_eq!(uuid_bits(&uuid_text(v)), Some(v));
        }
    }
}
