//! Copies the WAL back into the database file in the background. Left to SQLite, the commit
//! that fills the WAL past 1,000 pages does the checkpoint itself, and every write queued behind
//! it waits (creates saw p99 over a second). The writer's automatic checkpoints are off; this
//! thread runs a PASSIVE checkpoint (never blocking readers or the writer) twice a second.
//!
//! Under writes that never pause, a PASSIVE checkpoint never catches up with the end of the WAL,
//! so the WAL is never started over and grows without bound (350 MB in 10 s of creates). Past
//! `CATCH_UP_AFTER_FRAMES`, this thread raises `catch_up` and the writer runs one checkpoint
//! itself between two transactions, so that its next transaction starts the WAL over. (A RESTART
//! checkpoint from here did the same but made writes wait on the lock: create p99 350 ms.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::{StoreError, StoreResult};

const INTERVAL: Duration = Duration::from_millis(500);
/// About 64 MB of WAL with 4 KB pages.
const CATCH_UP_AFTER_FRAMES: i64 = 16_384;

pub struct Checkpointer {
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Raises `catch_up` when the WAL has grown long (see the module's comment).
    pub fn start(conn: Connection, catch_up: Arc<AtomicBool>) -> StoreResult<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("db-checkpointer".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    match checkpoint(&conn) {
                        Ok(frames) if frames > CATCH_UP_AFTER_FRAMES => {
                            catch_up.store(true, Ordering::Relaxed)
                        }
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed; retrying"),
                    }
                }
            })
            .map_err(|err| {
                StoreError::Migration(format!("cannot start the checkpointer: {err}"))
            })?;
        Ok(Checkpointer {
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn stop(&self) {
        self.stop.lock().expect("checkpointer lock").take();
        if let Some(thread) = self.thread.lock().expect("checkpointer lock").take() {
            let _ = thread.join();
        }
    }
}

/// Runs a PASSIVE checkpoint; answers how many frames the WAL has.
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
