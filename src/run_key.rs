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

/// Hex digit values of ASCII bytes; `0x80` for a byte that is not a lowercase hex digit.
const HEX: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Where the 32 hex digits of a canonical UUID are.
const DIGITS: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35,
];

/// A canonical UUID (lowercase, hyphenated) as its 128 bits; `None` for any other text.
pub fn uuid_bits(text: &str) -> Option<u128> {
    let b: &[u8; 36] = text.as_bytes().try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let (mut hi, mut lo, mut bad) = (0u64, 0u64, 0u8);
    for (k, &at) in DIGITS.iter().enumerate() {
        let d = HEX[usize::from(b[at])];
        bad |= d;
        if k < 16 {
            hi = (hi << 4) | u64::from(d);
        } else {
            lo = (lo << 4) | u64::from(d);
        }
    }
    (bad & 0x80 == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
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
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165_70867728950e"), None);
        assert_eq!(uuid_bits("0f8fad5bd9cb469fa16570867728950e"), None);
        assert_eq!(uuid_bits("run-1"), None);
        assert_eq!(RunKey::of("run-1"), RunKey::Text("run-1".into()));
        assert_eq!(RunKey::of(id).hash(), RunKey::of(id).hash());
    }

    proptest! {
        /// Any text of 36 bytes is a UUID key exactly when it is the text of its bits.
        #[test]
        fn a_key_is_a_uuid_only_when_it_reads_back_the_same(text in "[0-9a-fA-F-]{36}") {
            match uuid_bits(&text) {
                Some(v) => prop_assert_eq!(uuid_text(v), text),
                None => prop_assert!(u128::from_str_radix(&text.replace('-', ""), 16)
                    .map(|v| uuid_text(v) != text)
                    .unwrap_or(true)),
            }
        }
    }
}
