//! Model names as the gate compares them: one spelling per name, no invisible characters, and
//! look-alikes pointed out.
//!
//! A pull request can split a model's runs between `m`, `m` followed by a zero-width space, `M`
//! and Cyrillic `м`: four models that render alike, each under its limit. So a name is
//! normalized (trimmed, Unicode NFC) before it is compared or grouped; a name holding a control
//! character or an invisible format character (zero-width spaces and joiners, bidirectional
//! controls, the byte-order mark, tag characters…) is refused; and names of one check that are
//! confusable with each other (UTS #39 skeletons, compared without case) are reported.

use unicode_normalization::UnicodeNormalization;

/// A name that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    /// The character refused and its offset (in characters).
    pub character: char,
    /// Its position, counted in characters from 1.
    pub position: usize,
}

impl std::fmt::Display for BadName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "character {} U+{:04X} at position {} is invisible or a control character",
            self.character.escape_unicode(),
            u32::from(self.character),
            self.position
        )
    }
}

/// The name as compared: trimmed and in Unicode NFC; refused when it holds a control or
/// invisible character.
pub fn normalize(raw: &str) -> Result<String, BadName> {
    let trimmed = raw.trim();
    if let Some((i, c)) = trimmed
        .chars()
        .enumerate()
        .find(|&(_, c)| crate::error::is_unsafe_char(c))
    {
        return Err(BadName {
            character: c,
            position: i + 1,
        });
    }
    if trimmed.is_ascii() {
        return Ok(trimmed.to_owned());
    }
    Ok(trimmed.nfc().collect())
}

/// Whether two names are the same name (trimmed, NFC).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a == b || (!(a.is_ascii() && b.is_ascii()) && a.nfc().eq(b.nfc()))
}

/// What a name looks like, case aside: its UTS #39 skeletons, of its lower-case and of its
/// upper-case spelling (lower-cased). UTS #39 maps Cyrillic `М` to `M` but small `м` elsewhere,
/// and maps `1` and `I` to `l`: two names look alike when either skeleton is the same.
pub fn skeletons(name: &str) -> [String; 2] {
    let skeleton = |s: &str| -> String {
        unicode_security::confusable_detection::skeleton(s)
            .collect::<String>()
            .to_lowercase()
    };
    [
        skeleton(&name.to_lowercase()),
        skeleton(&name.to_uppercase()),
    ]
}

/// The groups of distinct names among `names` that look alike (each group sorted, groups in
/// order).
pub fn confusable<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    use std::collections::HashMap;
    let mut distinct: Vec<&str> = names.into_iter().collect();
    distinct.sort_unstable();
    distinct.dedup();
    // Union-find over the names, joined through each of their two skeletons.
    let mut parent: Vec<usize> = (0..distinct.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut seen: [HashMap<String, usize>; 2] = [HashMap::new(), HashMap::new()];
    for (i, n) in distinct.iter().enumerate() {
        for (k, key) in skeletons(n).into_iter().enumerate() {
            match seen[k].get(&key) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    seen[k].insert(key, i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<String>> = HashMap::new();
    for (i, n) in distinct.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push((*n).to_owned());
    }
    let mut out: Vec<Vec<String>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut out {
        g.sort();
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_composed() {
        assert_eq!(normalize("  text-gen ").as_deref(), Ok("text-gen"));
        // e + combining acute → é
        assert_eq!(normalize("caf\u{65}\u{301}").as_deref(), Ok("caf\u{e9}"));
        assert!(same("caf\u{e9}", " caf\u{65}\u{301}"));
        assert!(!same("m", "M"));
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in [
            "m\u{200b}",
            "m\u{202e}x",
            "m\nx",
            "\u{feff}m",
            "m\u{e0041}",
            "m\u{2066}",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
        let err = normalize("ab\u{200b}").unwrap_err();
        assert_eq!(err.position, 3);
        assert!(err.to_string().contains("U+200B"), "{err}");
    }

    #[test]
    fn look_alikes_are_grouped() {
        let groups = confusable(["m", "M", "\u{43c}", "other", "m"]);
        assert_eq!(
            groups,
            vec![vec!["M".to_owned(), "m".into(), "\u{43c}".into()]]
        );
        assert_eq!(
            confusable(["model-1", "model-l", "model-I"]),
            vec![vec![
                "model-1".to_owned(),
                "model-I".into(),
                "model-l".into()
            ]]
        );
        assert!(confusable(["text-gen", "text-gen-distilled", "text-gen-v2"]).is_empty());
    }

    #[test]
    fn shown_escapes_what_cannot_be_seen() {
        let shown = |t: &str| crate::error::escape_text(t).into_owned();
        assert_eq!(shown("a\u{200b}b\nc"), "a\\u{200b}b\\nc");
        assert_eq!(shown("plain"), "plain");
    }
}
