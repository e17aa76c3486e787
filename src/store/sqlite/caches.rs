//! Every cache the store keeps, and how a committed write's changes reach them.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Notify;

use super::access::Memberships;
use super::cache::{Budget, StampedCache};
use super::users::CachedToken;
use super::write::Change;
use crate::schema::{CompanyId, ThreadId};
use crate::store::{ThreadFilter, ThreadPage};

/// List pages: a page of 50 threads is ~50 KB, an empty one a few hundred bytes with its key.
const THREAD_PAGES_BUDGET: Budget = Budget {
    bytes: 8 << 20,
    entries: 20_000,
};
/// Single threads, as JSON (about 1.5 KB each with their customer and location).
const THREADS_BUDGET: Budget = Budget {
    bytes: 8 << 20,
    entries: 20_000,
};
/// The company of each thread read (about 150 bytes each).
const THREAD_COMPANIES_BUDGET: Budget = Budget {
    bytes: 8 << 20,
    entries: 50_000,
};
/// Signed-in tokens (about 160 bytes each, so the entry bound is the one reached).
const TOKENS_BUDGET: Budget = Budget {
    bytes: 16 << 20,
    entries: 50_000,
};
/// (company, user) memberships (about 80 bytes each; likewise).
const MEMBERSHIPS_BUDGET: Budget = Budget {
    bytes: 16 << 20,
    entries: 100_000,
};

/// Every cache the store keeps.
pub(super) struct Caches {
    /// Per company: list pages by filter and cursor.
    pub thread_pages: StampedCache<CompanyId, ThreadFilter, ThreadPage>,
    /// Per company: its threads read one by one, as JSON. Changes with its list pages.
    pub threads: StampedCache<CompanyId, ThreadId, Bytes>,
    /// Each thread's company, which never changes; one part. A deleted thread's entry only
    /// leads to its company's part, where the thread is no more.
    pub thread_companies: StampedCache<(), ThreadId, CompanyId>,
    /// Token hash to its owner; one part.
    pub tokens: StampedCache<(), [u8; 32], CachedToken>,
    /// Per existing company: a user's role in it, or None for a user who is not a member.
    pub memberships: Memberships,
    /// Not a cache, but rung at the same moment: after a transaction that queued generation
    /// tasks, for the worker that runs them (a rolled-back one only costs a look at the queue).
    pub generation_bell: Arc<Notify>,
}

impl Caches {
    pub fn new() -> Self {
        Caches {
            thread_pages: StampedCache::new(THREAD_PAGES_BUDGET),
            threads: StampedCache::new(THREADS_BUDGET),
            thread_companies: StampedCache::new(THREAD_COMPANIES_BUDGET),
            tokens: StampedCache::new(TOKENS_BUDGET),
            memberships: StampedCache::new(MEMBERSHIPS_BUDGET),
            generation_bell: Arc::new(Notify::new()),
        }
    }

    /// Applies what the requests of a committed (or failed) transaction recorded.
    pub fn apply(&self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::CompanyThreads(company_id) => {
                    self.thread_pages.invalidate(*company_id);
                    self.threads.invalidate(*company_id);
                }
                Change::AllThreads => {
                    self.thread_pages.invalidate_all();
                    self.threads.invalidate_all();
                }
                Change::Tokens => self.tokens.invalidate_all(),
                Change::CompanyMembers(company_id) => self.memberships.invalidate(*company_id),
                Change::GenerationQueued => self.generation_bell.notify_one(),
            }
        }
    }

    pub fn forget_everything(&self) {
        self.thread_pages.invalidate_all();
        self.threads.invalidate_all();
        self.thread_companies.invalidate_all();
        self.tokens.invalidate_all();
        self.memberships.invalidate_all();
    }
}
