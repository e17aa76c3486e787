//! Caches of what the database answered, kept exact by stamps.
//!
//! A cache is split into parts (one per company for thread-list pages and for memberships; one
//! for tokens). Each part has a stamp. A reader takes the part's stamp *before* it queries the
//! database and may store its result only while the stamp is unchanged; a write that changes
//! what a part caches drops the part (so it gets a new stamp) after its transaction has
//! committed and before its caller is answered. So a result computed from a snapshot older than
//! a committed change is never stored, and one stored before the change is gone before anyone
//! learns of the change.
//!
//! Writes mark what they change with the hooks below, from inside their `Store::write` closure;
//! the writer applies the marks after COMMIT (see `writer.rs`). A mark from a write that is
//! rolled back only costs a cache miss. Writes by other processes on the same file (the CLI)
//! are noticed through `PRAGMA data_version` and drop every cache.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use super::threads::{ThreadFilter, ThreadPage};
use super::users::CachedToken;
use crate::model::CompanyRole;

/// Serialized thread-list pages, at most this many bytes (a page of 50 threads is ~50 KB).
const THREAD_PAGES_BUDGET: usize = 8 << 20;
/// Signed-in tokens remembered at most.
const TOKENS_BUDGET: usize = 50_000;
/// (company, user) memberships remembered at most.
const MEMBERSHIPS_BUDGET: usize = 100_000;

/// Every cache the store keeps.
pub(super) struct Caches {
    /// Per company: list pages by filter and cursor.
    pub thread_pages: StampedCache<i64, ThreadFilter, ThreadPage>,
    /// Token hash to its owner; one part.
    pub tokens: StampedCache<(), [u8; 32], CachedToken>,
    /// Per existing company: a user's role in it, or None for a user who is not a member.
    pub memberships: StampedCache<i64, i64, Option<CompanyRole>>,
}

impl Caches {
    pub fn new() -> Self {
        Caches {
            thread_pages: StampedCache::new(THREAD_PAGES_BUDGET),
            tokens: StampedCache::new(TOKENS_BUDGET),
            memberships: StampedCache::new(MEMBERSHIPS_BUDGET),
        }
    }

    /// Applies what a committed (or failed) transaction marked.
    pub fn apply(&self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::CompanyThreads(company_id) => self.thread_pages.invalidate(*company_id),
                Change::AllThreads => self.thread_pages.invalidate_all(),
                Change::Tokens => self.tokens.invalidate_all(),
                Change::CompanyMembers(company_id) => self.memberships.invalidate(*company_id),
            }
        }
    }

    pub fn forget_everything(&self) {
        self.thread_pages.invalidate_all();
        self.tokens.invalidate_all();
        self.memberships.invalidate_all();
    }
}

/// What a committed write changed, for the caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Something shown in the thread list of one company: its threads, or a customer or
    /// location its threads embed.
    CompanyThreads(i64),
    /// Something shown in every company's thread list: an assistant (every thread embeds one).
    AllThreads,
    /// Who a token belongs to or whether it still works: sign-out, a password change, a user
    /// deactivated, deleted or made (no longer) an admin.
    Tokens,
    /// Who belongs to one company, or with which role.
    CompanyMembers(i64),
}

thread_local! {
    /// Marks made by the write requests of the writer's current transaction.
    static MARKS: RefCell<Vec<Change>> = const { RefCell::new(Vec::new()) };
}

/// Marks, from inside a `Store::write` closure, that company `company_id`'s listed threads
/// change with this write (a thread of it is created, changed or deleted; a customer or location
/// of it is changed or deleted).
pub(super) fn company_threads_changed(company_id: i64) {
    mark(Change::CompanyThreads(company_id));
}

/// Marks, from inside a `Store::write` closure, that every company's listed threads change with
/// this write (an assistant is changed).
pub(super) fn all_threads_changed() {
    mark(Change::AllThreads);
}

/// Marks, from inside a `Store::write` closure, that company `company_id`'s members change with
/// this write: one is added or removed, a role changes, or the company is deleted. Every write
/// to `company_members` (cascades included) must mark it, except a new company's first owner:
/// nothing is remembered about a company that does not exist.
pub(super) fn company_members_changed(company_id: i64) {
    mark(Change::CompanyMembers(company_id));
}

/// Marks, from inside a `Store::write` closure, a change to which tokens work or for whom.
pub(super) fn tokens_changed() {
    mark(Change::Tokens);
}

fn mark(change: Change) {
    assert!(
        super::writer::on_writer_thread(),
        "cache changes are marked inside Store::write closures only"
    );
    MARKS.with(|marks| marks.borrow_mut().push(change));
}

/// The marks of the transaction that just ended (the writer thread calls this).
pub(super) fn take_marks() -> Vec<Change> {
    MARKS.with(|marks| std::mem::take(&mut *marks.borrow_mut()))
}

/// A map from keys to values in parts, each part with a stamp; holds at most `budget` units of
/// cost (bytes, or entries) and forgets whole parts when it would hold more.
pub(super) struct StampedCache<P, K, V> {
    inner: Mutex<Inner<P, K, V>>,
    budget: usize,
}

struct Inner<P, K, V> {
    next_stamp: u64,
    parts: HashMap<P, Part<K, V>>,
    cost: usize,
}

struct Part<K, V> {
    stamp: u64,
    entries: HashMap<K, (V, usize)>,
}

impl<P: Hash + Eq + Copy, K: Hash + Eq, V: Clone> StampedCache<P, K, V> {
    pub fn new(budget: usize) -> Self {
        StampedCache {
            inner: Mutex::new(Inner {
                next_stamp: 0,
                parts: HashMap::new(),
                cost: 0,
            }),
            budget,
        }
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
    pub fn put(&self, part: P, stamp: u64, key: K, value: V, cost: usize) {
        if cost > self.budget {
            return;
        }
        let mut inner = self.lock();
        if inner.cost + cost > self.budget {
            inner.forget_entries_until(self.budget / 2);
        }
        let Some(current) = inner.parts.get_mut(&part).filter(|p| p.stamp == stamp) else {
            return;
        };
        let replaced = current.entries.insert(key, (value, cost));
        inner.cost += cost;
        inner.cost -= replaced.map_or(0, |(_, cost)| cost);
    }

    /// Forgets the part and gives it a new stamp.
    pub fn invalidate(&self, part: P) {
        let mut inner = self.lock();
        if let Some(removed) = inner.parts.remove(&part) {
            inner.cost -= removed
                .entries
                .values()
                .map(|(_, cost)| cost)
                .sum::<usize>();
        }
    }

    pub fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.parts.clear();
        inner.cost = 0;
    }
}

impl<P, K, V> Inner<P, K, V> {
    /// Empties parts (keeping their stamps: what they held was still exact) until the cost is
    /// at most `target`.
    fn forget_entries_until(&mut self, target: usize) {
        for part in self.parts.values_mut() {
            if self.cost <= target {
                break;
            }
            self.cost -= part.entries.values().map(|(_, cost)| cost).sum::<usize>();
            part.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_read_before_an_invalidation_is_not_stored() {
        let cache: StampedCache<i64, &str, u32> = StampedCache::new(100);
        let stamp = cache.stamp(7);
        cache.invalidate(7);
        cache.put(7, stamp, "page", 1, 1);
        assert_eq!(cache.get(7, &"page"), None);
        let stamp = cache.stamp(7);
        cache.put(7, stamp, "page", 2, 1);
        assert_eq!(cache.get(7, &"page"), Some(2));
    }

    #[test]
    fn invalidating_one_part_keeps_the_others() {
        let cache: StampedCache<i64, &str, u32> = StampedCache::new(100);
        for part in [1, 2] {
            let stamp = cache.stamp(part);
            cache.put(part, stamp, "page", part as u32, 1);
        }
        cache.invalidate(1);
        assert_eq!(cache.get(1, &"page"), None);
        assert_eq!(cache.get(2, &"page"), Some(2));
        cache.invalidate_all();
        assert_eq!(cache.get(2, &"page"), None);
    }

    #[test]
    fn the_budget_is_kept() {
        let cache: StampedCache<i64, u32, u32> = StampedCache::new(10);
        for part in 0..20 {
            let stamp = cache.stamp(part);
            cache.put(part, stamp, 0, 0, 3);
            assert!(cache.lock().cost <= 10);
        }
        let stamp = cache.stamp(99);
        cache.put(99, stamp, 0, 0, 11);
        assert_eq!(cache.get(99, &0), None);
    }
}
