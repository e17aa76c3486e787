//! A thread's turn lock on PostgreSQL: a session-level advisory lock on the thread, held on a
//! connection of the turn pool (apart from the store's, so that long turns never starve the
//! store of connections) from the moment the turn gets it until the turn is dropped.
//!
//! A `Drop` cannot wait, so letting go runs on a spawned task: it records the turn's end, unlocks,
//! and gives the connection back to the pool. A turn dropped while still waiting for the lock
//! (its client went away) first cancels its wait, so that the connection is free at once rather
//! than when the thread is (the unlock after it covers a lock granted before the cancel came).
//! A connection on which any of this failed never goes back to the pool: it is closed, and the
//! server lets its locks go with its session, as it does for a process that died.
//!
//! Whether another turn went first is read from `thread_turns` (schema.postgres.sql, migration
//! 7): its counts as the turn joined the queue against those once it holds the lock.

use deadpool_postgres::Object;
use tokio_postgres::CancelToken;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::lock_key;
use crate::schema::ThreadId;
use crate::store::postgres::statements::{execute, optional_row, row};
use crate::store::postgres::PostgresDatabase;
use crate::store::StoreResult;

/// The first key of a thread's advisory lock ("turn").
const TURN_LOCK: i32 = 0x7475_726e;

/// `thread_turns`' counts of a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    begun: i64,
    ended: i64,
}

enum State {
    Queued,
    /// The lock was asked for and may be granted any moment.
    Waiting,
    Held,
}

/// A thread's turn, queued, waiting or held.
pub struct SharedTurn {
    db: PostgresDatabase,
    thread_id: String,
    lock_key: i32,
    queued: Counts,
    state: State,
    connection: Option<Object>,
    others_went_first: bool,
}

impl PostgresDatabase {
    /// Joins the thread's queue: notes how many turns had begun and ended.
    pub(crate) async fn queue_turn(&self, thread_id: &ThreadId) -> StoreResult<SharedTurn> {
        let client = self.connection().await?;
        let queued = optional_row(
            &client,
            "SELECT begun, ended FROM thread_turns WHERE thread_id = $1",
            &[&thread_id.0],
        )
        .await?
        .map(|row| -> StoreResult<Counts> {
            Ok(Counts {
                begun: row.try_get(0)?,
                ended: row.try_get(1)?,
            })
        })
        .transpose()?
        .unwrap_or_default();
        Ok(SharedTurn {
            db: self.clone(),
            thread_id: thread_id.0.clone(),
            lock_key: lock_key(thread_id.0.as_bytes()),
            queued,
            state: State::Queued,
            connection: None,
            others_went_first: false,
        })
    }
}

/// Counts the turn as begun and the turns before it as ended; answers the counts before, and
/// whether the thread is still there to count on (a deleted one has no row to keep them).
const BEGIN: &str = "WITH before AS (SELECT begun, ended FROM thread_turns WHERE thread_id = $1), \
     counted AS ( \
       INSERT INTO thread_turns (thread_id, begun, ended) \
       SELECT thread_id, 1, 0 FROM chat_threads WHERE thread_id = $1 \
       ON CONFLICT (thread_id) DO UPDATE \
         SET begun = thread_turns.begun + 1, ended = thread_turns.begun \
       RETURNING 1) \
     SELECT (SELECT begun FROM before), (SELECT ended FROM before), \
            EXISTS (SELECT 1 FROM counted)";

impl SharedTurn {
    /// Waits until the turns before this one, in every process, have let the thread go.
    pub async fn acquire(&mut self) -> StoreResult<()> {
        let client = self.db.turn_connection().await?;
        self.state = State::Waiting;
        let client = self.connection.insert(client);
        execute(
            &*client,
            "SELECT pg_advisory_lock($1, $2)",
            &[&TURN_LOCK, &self.lock_key],
        )
        .await?;
        let counted = row(&*client, BEGIN, &[&self.thread_id]).await?;
        self.state = State::Held;
        let before = Counts {
            begun: counted.try_get::<_, Option<i64>>(0)?.unwrap_or(0),
            ended: counted.try_get::<_, Option<i64>>(1)?.unwrap_or(0),
        };
        let recorded: bool = counted.try_get(2)?;
        self.others_went_first = !recorded || before != self.queued || before.begun != before.ended;
        Ok(())
    }

    /// Whether, since this joined the queue, another turn may have stored an exchange: one
    /// began, one that was under way ended, or one never said it ended. Asked once acquired.
    pub fn others_went_first(&self) -> bool {
        self.others_went_first
    }

    /// The session holding (or waiting for) the lock, for tests that kill it.
    #[cfg(test)]
    pub(crate) async fn backend_pid(&self) -> i32 {
        let client = self.connection.as_ref().expect("acquired");
        client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    }
}

impl Drop for SharedTurn {
    fn drop(&mut self) {
        let Some(client) = self.connection.take() else {
            return;
        };
        let held = match self.state {
            State::Queued => return,
            State::Waiting => false,
            State::Held => true,
        };
        let (thread_id, lock_key) = (std::mem::take(&mut self.thread_id), self.lock_key);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let waiting = (!held).then(|| (client.cancel_token(), self.db.tls.clone()));
                runtime.spawn(let_go(client, thread_id, lock_key, waiting));
            }
            // The process is ending: closing the connection lets the lock go.
            Err(_) => drop(Object::take(client)),
        }
    }
}

/// Records the turn's end (when it held the lock; else cancels the wait, with `waiting`) and
/// unlocks; the connection goes back to the pool only when this worked, else it is closed and
/// its session's locks go with it.
async fn let_go(
    client: Object,
    thread_id: String,
    lock_key: i32,
    waiting: Option<(CancelToken, MakeRustlsConnect)>,
) {
    let released = async {
        if let Some((wait, tls)) = waiting {
            // A wait already over is not cancelled: the unlock below lets the lock go.
            if let Err(err) = wait.cancel_query(tls).await {
                tracing::debug!(error = %err, "cannot cancel a turn's wait for its lock");
            }
        } else {
            execute(
                &client,
                "UPDATE thread_turns SET ended = begun WHERE thread_id = $1",
                &[&thread_id],
            )
            .await?;
        }
        execute(
            &client,
            "SELECT pg_advisory_unlock($1, $2)",
            &[&TURN_LOCK, &lock_key],
        )
        .await
    }
    .await;
    if let Err(err) = released {
        tracing::warn!(error = %err, "cannot let a thread's lock go; closing its connection");
        drop(Object::take(client));
    }
}
