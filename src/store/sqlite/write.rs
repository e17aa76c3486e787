//! What a write request works with: the writer's connection, through `Deref`, and the record of
//! what the write changes in the caches. The writer makes one per request, inside its
//! transaction, and applies what was recorded after COMMIT (see `writer.rs` and `cache.rs`).
//! Only a `SqliteStore::write` closure gets one, so only a write can record a change.

use std::ops::Deref;

use crate::schema::CompanyId;
use rusqlite::Connection;

/// What a committed write changed, for the caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Something shown in the thread list of one company: its threads, or a customer or
    /// location its threads embed.
    CompanyThreads(CompanyId),
    /// Something shown in every company's thread list: an assistant (every thread embeds one).
    AllThreads,
    /// Who a token belongs to or whether it still works: sign-out, a password change, a user
    /// deactivated, deleted or made (no longer) an admin.
    Tokens,
    /// Who belongs to one company, or with which role.
    CompanyMembers(CompanyId),
    /// Not a cache: background generation was queued, and the worker is woken after COMMIT.
    GenerationQueued,
}

/// A write request's view of the writer: its connection and the changes of its transaction.
/// A change recorded by a write that is then rolled back only costs a cache miss.
pub struct Write<'a> {
    conn: &'a Connection,
    changes: &'a mut Vec<Change>,
}

impl<'a> Write<'a> {
    /// `changes` collects what every request of the transaction records.
    pub(super) fn new(conn: &'a Connection, changes: &'a mut Vec<Change>) -> Self {
        Write { conn, changes }
    }

    /// Company `company_id`'s listed threads change with this write (a thread of it is
    /// created, changed or deleted; a customer or location of it is changed or deleted).
    pub(super) fn company_threads_changed(&mut self, company_id: CompanyId) {
        self.changes.push(Change::CompanyThreads(company_id));
    }

    /// Every company's listed threads change with this write (an assistant is changed).
    pub(super) fn all_threads_changed(&mut self) {
        self.changes.push(Change::AllThreads);
    }

    /// Company `company_id`'s members change with this write: one is added or removed, a role
    /// changes, or the company is deleted. Every write to `company_members` (cascades included)
    /// must record it, except a new company's first owner: nothing is remembered about a
    /// company that does not exist.
    pub(super) fn company_members_changed(&mut self, company_id: CompanyId) {
        self.changes.push(Change::CompanyMembers(company_id));
    }

    /// Which tokens work, or for whom, changes with this write.
    pub(super) fn tokens_changed(&mut self) {
        self.changes.push(Change::Tokens);
    }

    /// This write queues generation tasks: the worker is woken once they are committed.
    pub(super) fn generation_queued(&mut self) {
        self.changes.push(Change::GenerationQueued);
    }
}

impl Deref for Write<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}
