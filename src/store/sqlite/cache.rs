//! Caches of what the database answered, kept exact by stamps.
//!
//! A cache is split into parts (one per company, say). Each part has a stamp. A reader takes
//! the part's stamp *before* it queries the database and may store its result only while the
//! stamp is unchanged; a write that changes what a part caches drops the part (so it gets a new
//! stamp) after its transaction has committed and before its caller is answered. So a result
//! computed from a snapshot older than a committed change is never stored, and one stored
//! before the change is gone before anyone learns of the change.
//!
//! Writes record what they change through the `Write` handle of their `SqliteStore::write` closure;
//! the writer applies the record after COMMIT (see `write.rs`, `writer.rs` and `caches.rs`).
//! Writes by other processes on the same file (the CLI) are noticed through
//! `PRAGMA data_version` and drop every cache.
//!
//! This module knows nothing of what is cached: `caches.rs` names the store's caches.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How much a cache may hold: both bounds are kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    pub bytes: usize,
    pub entries: usize,
}

/// The memory a key or value owns beyond its inline size (a string's buffer, say). Keys come
/// from what clients send, so a cache that charged only its values would let requests with
/// large keys and empty answers grow it without bound.
pub(super) trait OwnedBytes {
    /// Plain values own nothing beyond themselves.
    fn owned_bytes(&self) -> usize {
        0
    }
}

impl OwnedBytes for [u8; 32] {}

impl<T: OwnedBytes> OwnedBytes for Option<T> {
    fn owned_bytes(&self) -> usize {
        self.as_ref().map_or(0, T::owned_bytes)
    }
}

/// Charged per entry on top of its hash-table slot and what it owns: the table's control byte
/// and allocator headers of the buffers the entry owns.
const ENTRY_OVERHEAD: usize = 32;

/// A map from keys to values in parts, each part with a stamp; holds at most its budget and
/// forgets whole parts when it would hold more.
pub(super) struct StampedCache<P, K, V> {
    inner: Mutex<Inner<P, K, V>>,
    budget: Budget,
}

struct Inner<P, K, V> {
    next_stamp: u64,
    parts: HashMap<P, Part<K, V>>,
    bytes: usize,
    entries: usize,
}

struct Part<K, V> {
    stamp: u64,
    /// Each value with the bytes it was charged.
    entries: HashMap<K, (V, usize)>,
}

impl<K, V> Part<K, V> {
    fn bytes(&self) -> usize {
        self.entries.values().map(|(_, bytes)| bytes).sum()
    }
}

impl<P: Hash + Eq + Copy, K: Hash + Eq + OwnedBytes, V: Clone + OwnedBytes> StampedCache<P, K, V> {
    pub fn new(budget: Budget) -> Self {
        StampedCache {
            inner: Mutex::new(Inner {
                next_stamp: 0,
                parts: HashMap::new(),
                bytes: 0,
                entries: 0,
            }),
            budget,
        }
    }

    /// What an entry costs: its slot in the table, counted twice since a table keeps up to as
    /// many spare slots as it has entries, what its key and value own, and a fixed overhead.
    fn entry_bytes(key: &K, value: &V) -> usize {
        2 * std::mem::size_of::<(K, (V, usize))>()
            + key.owned_bytes()
            + value.owned_bytes()
            + ENTRY_OVERHEAD
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<P, K, V>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The part's current stamp: take it before reading what `put` will store.
    pub fn stamp(&self, part: P) -> u64 {
        let mut inner = self.lock();
        let Inner {
            next_stamp, parts, ..
        } = &mut *inner;
        parts
            .entry(part)
            .or_insert_with(|| {
                *next_stamp += 1;
                Part {
                    stamp: *next_stamp,
                    entries: HashMap::new(),
                }
            })
            .stamp
    }

    pub fn get(&self, part: P, key: &K) -> Option<V> {
        let inner = self.lock();
        Some(inner.parts.get(&part)?.entries.get(key)?.0.clone())
    }

    /// Stores `value` when the part still has `stamp`, i.e. nothing it caches changed since.
    pub fn put(&self, part: P, stamp: u64, key: K, value: V) {
        let bytes = Self::entry_bytes(&key, &value);
        if bytes > self.budget.bytes {
            return;
        }
        let mut inner = self.lock();
        if inner.bytes + bytes > self.budget.bytes || inner.entries >= self.budget.entries {
            inner.forget_entries_until(Budget {
                bytes: self.budget.bytes / 2,
                entries: self.budget.entries / 2,
            });
        }
        let Inner {
            parts,
            bytes: total_bytes,
            entries: total_entries,
            ..
        } = &mut *inner;
        let Some(current) = parts.get_mut(&part).filter(|p| p.stamp == stamp) else {
            return;
        };
        match current.entries.insert(key, (value, bytes)) {
            Some((_, replaced)) => *total_bytes -= replaced,
            None => *total_entries += 1,
        }
        *total_bytes += bytes;
    }

    /// Forgets the part and gives it a new stamp.
    pub fn invalidate(&self, part: P) {
        let mut inner = self.lock();
        if let Some(removed) = inner.parts.remove(&part) {
            inner.bytes -= removed.bytes();
            inner.entries -= removed.entries.len();
        }
    }

    pub fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.parts.clear();
        inner.bytes = 0;
        inner.entries = 0;
    }
}

impl<P, K, V> Inner<P, K, V> {
    /// Empties parts (keeping their stamps: what they held was still exact) until both bytes
    /// and entries are within `target`. Their tables are dropped, not cleared: a cleared table
    /// keeps its size.
    fn forget_entries_until(&mut self, target: Budget) {
        for part in self.parts.values_mut() {
            if self.bytes <= target.bytes && self.entries <= target.entries {
                break;
            }
            self.bytes -= part.bytes();
            self.entries -= part.entries.len();
            part.entries = HashMap::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl OwnedBytes for i64 {}

    impl OwnedBytes for u32 {}

    impl OwnedBytes for String {
        fn owned_bytes(&self) -> usize {
            self.capacity()
        }
    }

    const ROOMY: Budget = Budget {
        bytes: 1 << 20,
        entries: 100,
    };

    fn cache_of_strings(budget: Budget) -> StampedCache<i64, String, String> {
        StampedCache::new(budget)
    }

    #[test]
    fn a_result_read_before_an_invalidation_is_not_stored() {
        let cache: StampedCache<i64, i64, u32> = StampedCache::new(ROOMY);
        let stamp = cache.stamp(7);
        cache.invalidate(7);
        cache.put(7, stamp, 0, 1);
        assert_eq!(cache.get(7, &0), None);
        let stamp = cache.stamp(7);
        cache.put(7, stamp, 0, 2);
        assert_eq!(cache.get(7, &0), Some(2));
    }

    #[test]
    fn invalidating_one_part_keeps_the_others() {
        let cache: StampedCache<i64, i64, u32> = StampedCache::new(ROOMY);
        for part in [1, 2] {
            let stamp = cache.stamp(part);
            cache.put(part, stamp, 0, part as u32);
        }
        cache.invalidate(1);
        assert_eq!(cache.get(1, &0), None);
        assert_eq!(cache.get(2, &0), Some(2));
        cache.invalidate_all();
        assert_eq!(cache.get(2, &0), None);
    }

    #[test]
    fn an_entry_is_charged_its_key_its_value_and_an_overhead() {
        let cache = cache_of_strings(ROOMY);
        let stamp = cache.stamp(1);
        let key = "k".repeat(3000);
        let value = "v".repeat(500);
        let slot = std::mem::size_of::<(String, (String, usize))>();
        cache.put(1, stamp, key, value);
        assert_eq!(cache.lock().bytes, 3000 + 500 + 2 * slot + ENTRY_OVERHEAD);
        assert_eq!(cache.lock().entries, 1);
        cache.invalidate(1);
        let inner = cache.lock();
        assert_eq!((inner.bytes, inner.entries), (0, 0));
    }

    #[test]
    fn replacing_an_entry_charges_only_the_new_one() {
        let cache = cache_of_strings(ROOMY);
        let stamp = cache.stamp(1);
        cache.put(1, stamp, "page".into(), "x".repeat(1000));
        cache.put(1, stamp, "page".into(), "x".repeat(10));
        let charged = cache.lock().bytes;
        assert!(charged < 1000, "{charged}");
        assert_eq!(cache.lock().entries, 1);
    }

    /// The attack the accounting is for: thousands of distinct large keys, each with an empty
    /// answer.
    #[test]
    fn large_keys_with_empty_values_are_held_to_the_byte_budget() {
        let budget = Budget {
            bytes: 64 * 1024,
            entries: 1_000_000,
        };
        let cache = cache_of_strings(budget);
        for n in 0..2_000 {
            let stamp = cache.stamp(n % 3);
            cache.put(n % 3, stamp, format!("{n:04096}"), String::new());
            assert!(cache.lock().bytes <= budget.bytes);
        }
        let held: usize = cache.lock().parts.values().map(|p| p.entries.len()).sum();
        assert!((1..=16).contains(&held), "{held} entries of 4 KB held");
    }

    #[test]
    fn the_entry_budget_is_kept_however_small_the_entries() {
        let budget = Budget {
            bytes: 1 << 30,
            entries: 10,
        };
        let cache: StampedCache<i64, i64, u32> = StampedCache::new(budget);
        for n in 0..1_000 {
            let stamp = cache.stamp(n % 4);
            cache.put(n % 4, stamp, n, 0);
            let inner = cache.lock();
            let held: usize = inner.parts.values().map(|p| p.entries.len()).sum();
            assert!(held <= 10 && held == inner.entries, "{held}");
        }
    }

    #[test]
    fn an_entry_larger_than_the_whole_budget_is_not_stored() {
        let cache = cache_of_strings(Budget {
            bytes: 1000,
            entries: 10,
        });
        let stamp = cache.stamp(99);
        cache.put(99, stamp, "k".repeat(1001), String::new());
        assert_eq!(cache.lock().entries, 0);
    }
}
