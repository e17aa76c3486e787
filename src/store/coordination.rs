//! What several processes on one database share so that they behave as one server (issue 17):
//! the sign-in throttle's counts, the answers in flight with their quota reservations, and the
//! threads' turn locks. On SQLite one process owns the file, so these stay in its memory (the
//! auth and assistant modules keep them) and `Store::shared_coordination` is None; on
//! PostgreSQL they live in the database (`postgres/coordination/`), reached through
//! [`SharedCoordination`]. The app chooses once, at start-up.
//!
//! What the throttle's counts mean stays with its policy (`auth/throttle.rs`): the store reads
//! them as counts and ages, hands them to the policy's judgement and writes back what it
//! counted, atomically across processes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::postgres::PostgresDatabase;
use super::{Backend, Store, StoreResult};
use crate::schema::ThreadId;

pub use super::postgres::{SharedSlot, SharedTurn, SlotRequest};

/// A key's recorded failures, as the moment they are judged sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub count: u32,
    /// Since the last one.
    pub age: Duration,
}

/// What is recorded of a password check's keys.
#[derive(Debug, Clone, Copy)]
pub struct AttemptLook {
    pub address: Option<FailureCount>,
    /// The account's failures from this address.
    pub pair: Option<FailureCount>,
    /// How far ahead of now the account's pace runs (zero: its budget is full).
    pub pace_ahead: Duration,
}

/// What a check let through is counted as: the new failure counts, and the account's pace
/// after it, when it spent some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    pub address: u32,
    pub pair: u32,
    pub pace_ahead: Option<Duration>,
}

/// A password check's fixed-size keys: the account's SHA-256 and the client's address (IPv4
/// mapped into IPv6).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleKeys {
    pub account: [u8; 32],
    pub address: [u8; 16],
}

impl ThrottleKeys {
    pub fn account_and_address(&self) -> Vec<u8> {
        [self.account.as_slice(), self.address.as_slice()].concat()
    }
}

/// How often the throttle's forgotten counts and expired answer slots are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// The shared versions, on the PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct SharedCoordination {
    db: PostgresDatabase,
    /// When this process last purged, in seconds since the Unix epoch.
    purged_at: Arc<AtomicU64>,
}

impl Store {
    /// The shared coordination when several processes may share the database; None on SQLite,
    /// whose one process keeps it in memory.
    pub fn shared_coordination(&self) -> Option<SharedCoordination> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => Some(SharedCoordination::new(db.clone())),
        }
    }
}

impl SharedCoordination {
    pub fn new(db: PostgresDatabase) -> Self {
        SharedCoordination {
            db,
            purged_at: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Joins a thread's queue of turns, across processes.
    pub async fn queue_turn(&self, thread_id: &ThreadId) -> StoreResult<SharedTurn> {
        self.db.queue_turn(thread_id).await
    }

    /// Takes an answer's slot, or None when the company's places are all taken.
    pub async fn take_slot(&self, request: SlotRequest) -> StoreResult<Option<SharedSlot>> {
        self.db.take_slot(request).await
    }

    /// Judges a password check and counts it when `judge` lets it through.
    pub async fn judge_attempt<Refusal>(
        &self,
        keys: &ThrottleKeys,
        judge: impl FnOnce(AttemptLook) -> Result<AttemptCount, Refusal>,
    ) -> StoreResult<Result<(), Refusal>> {
        self.db.judge_attempt(keys, judge).await
    }

    /// The owner got in: see `Throttle::succeeded`.
    pub async fn forgive_attempt(&self, keys: &ThrottleKeys) -> StoreResult<()> {
        self.db.forgive_attempt(keys).await
    }

    /// Judges a registration from `address` and counts it when `judge` lets it through.
    pub async fn judge_registration<Refusal>(
        &self,
        address: &[u8; 16],
        judge: impl FnOnce(Option<FailureCount>) -> Result<u32, Refusal>,
    ) -> StoreResult<Result<(), Refusal>> {
        self.db.judge_registration(address, judge).await
    }

    /// Deletes what no longer counts (failures older than `memory`, paces back to full,
    /// expired slots), at most once a minute per process: the tables then hold what the last
    /// `memory` brought, whatever clients send.
    pub async fn purge_when_due(&self, memory: Duration) -> StoreResult<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let last = self.purged_at.load(Ordering::Relaxed);
        let due = now >= last.saturating_add(PURGE_EVERY.as_secs());
        if due
            && self
                .purged_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.db.purge_forgotten(memory).await?;
        }
        Ok(())
    }
}
