//! Values stored once each and known by their index: the profiles that rows share, interned per
//! chunk by the workers and across files by the check's ledger.

use hashbrown::HashTable;

/// A value that carries its own hash (so that the table never rehashes a value's contents).
pub trait Hashed {
    /// The value's hash.
    fn hash(&self) -> u64;
}

/// Distinct values in the order they were first seen.
#[derive(Debug)]
pub struct Interner<T> {
    items: Vec<T>,
    index: HashTable<u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            items: Vec::new(),
            index: HashTable::new(),
        }
    }
}

impl<T: Hashed> Interner<T> {
    /// The index of the value with hash `hash` for which `same` holds, if one is stored.
    pub fn find(&self, hash: u64, same: impl Fn(&T) -> bool) -> Option<u32> {
        let items = &self.items;
        self.index
            .find(hash, |&i| same(&items[i as usize]))
            .copied()
    }

    /// Store `item` (not stored yet), and give its index; `None` when `limit` values are stored
    /// already.
    pub fn insert(&mut self, item: T, limit: u32) -> Option<u32> {
        let id = u32::try_from(self.items.len())
            .ok()
            .filter(|&id| id < limit)?;
        let hash = item.hash();
        self.items.push(item);
        let items = &self.items;
        self.index
            .insert_unique(hash, id, |&i| items[i as usize].hash());
        Some(id)
    }

    /// The value of index `id`.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.items.get(id as usize)
    }

    /// The values, by index.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The values, by index.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Word(&'static str, u64);

    impl Hashed for Word {
        fn hash(&self) -> u64 {
            self.1
        }
    }

    #[test]
    fn each_value_once_by_index_up_to_the_limit() {
        let mut words = Interner::default();
        // Two values with the same hash stay apart.
        for (w, h) in [("a", 1), ("b", 1), ("c", 2)] {
            assert_eq!(words.find(h, |x: &Word| x.0 == w), None);
            words.insert(Word(w, h), 3);
        }
        assert_eq!(words.find(1, |x| x.0 == "b"), Some(1));
        assert_eq!(words.find(2, |x| x.0 == "c"), Some(2));
        assert_eq!(words.get(0).map(|w| w.0), Some("a"));
        assert_eq!(words.insert(Word("d", 4), 3), None);
        assert_eq!(words.items().len(), 3);
    }
}
