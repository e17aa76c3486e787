//! One async lock per thread, so two messages to a thread are answered one after the other.
//! A turn joins its thread's queue before it reads what answering needs, and learns once it
//! holds the lock whether another turn ended in between (then what it read may miss that
//! turn's exchange).
//!
//! On SQLite the lock is this process's. When processes share a PostgreSQL database, a turn
//! also holds the thread's lock in the database (`store/postgres/coordination/turns.rs`), and
//! the database says whether another turn went first. The process's own queue stays in front
//! of it, so that the turns of one process waiting for a thread wait here, holding no
//! database connection: each process holds at most one per thread with a turn under way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::schema::ThreadId;
use crate::store::coordination::{SharedCoordination, SharedTurn};
use crate::store::StoreResult;
use tokio::sync::OwnedMutexGuard;

/// The threads' locks: this process's, or this process's in front of the database's.
pub enum ThreadLocks {
    Local(LocalThreadLocks),
    Shared {
        local: LocalThreadLocks,
        coordination: SharedCoordination,
    },
}

/// A thread's lock, waited for or held, in this process and, shared, in the database.
pub struct ThreadLock {
    /// Let go before `local`, so that the next turn of this process finds it going.
    shared: Option<SharedTurn>,
    local: LocalThreadLock,
}

impl ThreadLocks {
    /// Shared through the database when `shared` is Some.
    pub fn new(shared: Option<SharedCoordination>) -> Self {
        let local = LocalThreadLocks::default();
        match shared {
            Some(coordination) => ThreadLocks::Shared {
                local,
                coordination,
            },
            None => ThreadLocks::Local(local),
        }
    }

    /// Joins the thread's queue, without waiting yet.
    pub async fn queue(&self, thread_id: &ThreadId) -> StoreResult<ThreadLock> {
        Ok(match self {
            ThreadLocks::Local(local) => ThreadLock {
                shared: None,
                local: local.queue(thread_id),
            },
            ThreadLocks::Shared {
                local,
                coordination,
            } => ThreadLock {
                shared: Some(coordination.queue_turn(thread_id).await?),
                local: local.queue(thread_id),
            },
        })
    }
}

impl ThreadLock {
    /// Waits until the turns queued before this one have ended.
    pub async fn acquire(&mut self) -> StoreResult<()> {
        self.local.acquire().await;
        if let Some(shared) = &mut self.shared {
            shared.acquire().await?;
        }
        Ok(())
    }

    /// Whether, since this joined the queue, another turn held the lock and let it go. Asked
    /// once acquired, when no other turn can end. Shared, the database counts every process's
    /// turns, this one's included.
    pub fn others_went_first(&self) -> bool {
        match &self.shared {
            Some(shared) => shared.others_went_first(),
            None => self.local.others_went_first(),
        }
    }
}

/// A thread's entry lives only while someone holds or waits for its lock (counted, not guessed
/// from reference counts), so the map holds at most one entry per request in progress,
/// whatever thread ids clients send.
#[derive(Default, Clone)]
pub struct LocalThreadLocks {
    locks: Arc<Mutex<HashMap<ThreadId, ThreadEntry>>>,
}

#[derive(Default)]
struct ThreadEntry {
    lock: Arc<tokio::sync::Mutex<()>>,
    users: usize,
    /// Turns that have held the lock and let it go while the entry lived.
    turns_ended: u64,
}

/// A thread's lock, waited for or held. Dropping it, also while still waiting (a client that
/// went away), forgets the thread's entry when nobody else holds or waits for it.
pub struct LocalThreadLock {
    guard: Option<OwnedMutexGuard<()>>,
    lock: Arc<tokio::sync::Mutex<()>>,
    /// The entry's `turns_ended` when this joined the queue.
    turns_ended_before: u64,
    thread_id: ThreadId,
    locks: LocalThreadLocks,
}

impl LocalThreadLocks {
    /// Joins the thread's queue, without waiting yet.
    pub fn queue(&self, thread_id: &ThreadId) -> LocalThreadLock {
        let mut map = self.map();
        let entry = map.entry(thread_id.clone()).or_default();
        entry.users += 1;
        LocalThreadLock {
            guard: None,
            lock: entry.lock.clone(),
            turns_ended_before: entry.turns_ended,
            thread_id: thread_id.clone(),
            locks: self.clone(),
        }
    }

    /// Nothing panics while this is held, so a poisoned map is still sound.
    fn map(&self) -> MutexGuard<'_, HashMap<ThreadId, ThreadEntry>> {
        self.locks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LocalThreadLock {
    /// Waits until the turns queued before this one have ended.
    pub async fn acquire(&mut self) {
        self.guard = Some(self.lock.clone().lock_owned().await);
    }

    /// Whether, since this joined the queue, another turn held the lock and let it go. Asked
    /// once acquired, when no other turn can end.
    pub fn others_went_first(&self) -> bool {
        self.locks
            .map()
            .get(&self.thread_id)
            .is_some_and(|entry| entry.turns_ended != self.turns_ended_before)
    }
}

impl Drop for LocalThreadLock {
    /// The end of a turn is counted before its guard (a field, dropped after this) lets the
    /// next turn in, so that turn sees it.
    fn drop(&mut self) {
        let mut locks = self.locks.map();
        if let Some(entry) = locks.get_mut(&self.thread_id) {
            if self.guard.is_some() {
                entry.turns_ended += 1;
            }
            entry.users -= 1;
            if entry.users == 0 {
                locks.remove(&self.thread_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(id: &str) -> ThreadId {
        ThreadId(id.to_string())
    }

    async fn lock(locks: &LocalThreadLocks, thread_id: &str) -> LocalThreadLock {
        let mut lock = locks.queue(&thread(thread_id));
        lock.acquire().await;
        lock
    }

    #[tokio::test]
    async fn the_thread_lock_map_forgets_threads_nobody_holds_or_waits_for() {
        let locks = LocalThreadLocks::default();
        for n in 0..1000 {
            let held = lock(&locks, &format!("thr_{n}")).await;
            drop(held);
        }
        assert_eq!(locks.map().len(), 0);

        // Waiters that give up (clients that went away) leave nothing behind either.
        let held = lock(&locks, "thr_busy").await;
        for _ in 0..100 {
            let waiting = lock(&locks, "thr_busy");
            let gave_up = tokio::time::timeout(std::time::Duration::from_millis(1), waiting).await;
            assert!(gave_up.is_err());
        }
        assert_eq!(locks.map().len(), 1);
        assert_eq!(locks.map()[&thread("thr_busy")].users, 1);
        drop(held);
        assert_eq!(locks.map().len(), 0);

        // Nor does one that was waiting when the holder left, and gave up before its turn.
        let held = lock(&locks, "thr_handover").await;
        let mut waiting = Box::pin(lock(&locks, "thr_handover"));
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        drop(held);
        drop(waiting);
        assert_eq!(locks.map().len(), 0);
    }

    #[tokio::test]
    async fn a_turn_learns_whether_another_ended_since_it_joined_the_queue() {
        let locks = LocalThreadLocks::default();
        let mut alone = locks.queue(&thread("thr_a"));
        alone.acquire().await;
        assert!(!alone.others_went_first());

        // Queued while another held the lock: that one ends before this one gets it.
        let mut second = locks.queue(&thread("thr_a"));
        drop(alone);
        second.acquire().await;
        assert!(second.others_went_first());

        // Queued while the lock was free, but another took it first and ended in between.
        let mut overtaken = locks.queue(&thread("thr_b"));
        drop(lock(&locks, "thr_b").await);
        overtaken.acquire().await;
        assert!(overtaken.others_went_first());

        // A waiter that gave up without holding the lock ended no turn.
        let mut patient = locks.queue(&thread("thr_c"));
        drop(locks.queue(&thread("thr_c")));
        patient.acquire().await;
        assert!(!patient.others_went_first());
        drop((second, overtaken, patient));
        assert_eq!(locks.map().len(), 0);
    }
}
