//! Copies the WAL back into the database file in the background. Left to SQLite, the commit
//! that fills the WAL past 1,000 pages does the checkpoint itself, and every write queued behind
//! it waits (creates saw p99 over a second). The writer's automatic checkpoints are off; this
//! thread runs a PASSIVE checkpoint (never blocking readers or the writer) every `INTERVAL`.
//!
//! Under writes that never pause, a PASSIVE checkpoint never catches up with the end of the WAL,
//! so the WAL is never started over and grows without bound (350 MB in 10 s of creates). Past
//! `LONG_WAL_FRAMES`, this thread checkpoints back to back, each round copying what was written
//! during the one before, until a round is quick (or rounds stop getting quicker, or the WAL is
//! far too long); then it raises `catch_up`, and the writer copies the little that is left
//! itself, between two transactions, so that its next transaction starts the WAL over. (Handing
//! over without the quick rounds made every write wait 40-100 ms; a RESTART checkpoint from here
//! made them wait on its lock.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{ffi, Connection};

use super::{StoreError, StoreResult};

/// Each checkpoint's fsync of the WAL stalls the writer's own WAL writes for about as long as it
/// takes; many small ones hurt less than a few large ones (create p99 17-22 ms at 500 ms,
/// 10-12 ms at 100 ms, no better at 50 ms; see the benchmark).
const INTERVAL: Duration = Duration::from_millis(100);
/// Between back-to-back checkpoints of a long WAL.
const CATCHING_UP_INTERVAL: Duration = Duration::from_millis(1);
/// About 64 MB of WAL with 4 KB pages.
const LONG_WAL_FRAMES: i64 = 16_384;
/// Past this, the writer takes over whatever is left, however long that takes.
const TOO_LONG_WAL_FRAMES: i64 = 2 * LONG_WAL_FRAMES;
/// A checkpoint this quick copied only what a few milliseconds of writes add to the WAL, which is
/// about what the writer will have to copy when it takes over.
const QUICK_CHECKPOINT: Duration = Duration::from_millis(4);

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
            .spawn(move || run(&conn, &stopped, &catch_up))
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

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>, catch_up: &AtomicBool) {
    let mut pause = INTERVAL;
    let mut last_round = None;
    // A full disk fails every checkpoint, ten a second, until someone frees space: say so once.
    let mut failing = false;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(pause) {
        pause = INTERVAL;
        let started = Instant::now();
        let outcome = checkpoint(conn);
        if outcome.is_ok() && std::mem::take(&mut failing) {
            tracing::info!("WAL checkpoints work again");
        }
        match outcome {
            Ok(frames) if frames > LONG_WAL_FRAMES && !catch_up.load(Ordering::Relaxed) => {
                if let Err(err) = flush_database_file(conn) {
                    tracing::warn!(error = %err, "cannot flush the database file");
                }
                let round = started.elapsed();
                if is_time_to_hand_over(frames, round, last_round) {
                    catch_up.store(true, Ordering::Relaxed);
                    last_round = None;
                } else {
                    pause = CATCHING_UP_INTERVAL;
                    last_round = Some(round);
                }
            }
            Ok(_) => last_round = None,
            Err(err) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %err, "WAL checkpoint failed; retrying until one works");
                }
            }
        }
    }
}

/// When a round of catching up was quick, or no quicker than three quarters of the one before
/// (on a slow disk the rounds settle at its fsync time), or the WAL has become far too long.
fn is_time_to_hand_over(frames: i64, round: Duration, last_round: Option<Duration>) -> bool {
    round <= QUICK_CHECKPOINT
        || last_round.is_some_and(|last| round * 4 > last * 3)
        || frames > TOO_LONG_WAL_FRAMES
}

/// Runs a PASSIVE checkpoint; answers how many frames the WAL has.
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

/// Writes what checkpoints have copied into the database file through to the disk. A PASSIVE
/// checkpoint does that only when it reaches the WAL's end, which it never does while writes go
/// on; the writer's catch-up checkpoint does reach it, and its flush, holding every write, would
/// carry everything copied since (30-40 ms). The flush goes through SQLite's own file handle:
/// opening and closing another one would drop the process's POSIX locks on the file.
fn flush_database_file(conn: &Connection) -> rusqlite::Result<()> {
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: `conn` is open and used by this thread only; FILE_POINTER writes the main
    // database's sqlite3_file (owned by the connection, alive while it is) into `file`, and xSync
    // is that file's own method, called as SQLite's pager calls it.
    let code = unsafe {
        let found = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&mut file as *mut *mut ffi::sqlite3_file).cast(),
        );
        match (found, file.as_ref().and_then(|f| f.pMethods.as_ref())) {
            (ffi::SQLITE_OK, Some(methods)) => match methods.xSync {
                Some(sync) => sync(file, ffi::SQLITE_SYNC_NORMAL),
                None => ffi::SQLITE_OK,
            },
            (ffi::SQLITE_OK, None) => ffi::SQLITE_OK,
            (error, _) => error,
        }
    };
    match code {
        ffi::SQLITE_OK => Ok(()),
        error => Err(rusqlite::Error::SqliteFailure(ffi::Error::new(error), None)),
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::store::sqlite::testing::store_with_table;

    const PAGE: usize = 4096;

    fn wal_bytes(database: &Path) -> u64 {
        let wal = database.with_extension("db-wal");
        std::fs::metadata(wal).map_or(0, |meta| meta.len())
    }

    /// Writes that never pause must not grow the WAL without bound: the checkpointer hands the
    /// last pages to the writer, whose next transaction starts the WAL over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let (store, database) =
            store_with_table(dir.path(), "CREATE TABLE filler (page BLOB)").await;
        // Six times the WAL length that starts a catch-up (three times the length at which the
        // writer takes over whatever is left), one page at a time from 8 writers.
        let writes = 6 * super::LONG_WAL_FRAMES as usize;
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    for _ in 0..writes / 8 {
                        store
                            .write(|conn| {
                                conn.prepare_cached("INSERT INTO filler VALUES (zeroblob(?1))")?
                                    .execute([PAGE - 100])?;
                                // Keeps the file small; the WAL still gets every page.
                                conn.prepare_cached(
                                    "DELETE FROM filler WHERE rowid < last_insert_rowid() - 64",
                                )?
                                .execute([])?;
                                Ok(())
                            })
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let written = (writes * PAGE) as u64;
        let wal = wal_bytes(&database);
        store.close();
        // Bounded, the WAL ends near half of what was written (the writer takes over at three
        // times the catch-up length); unbounded, it would hold all of it. Three quarters leaves
        // room for a checkpointer starved on a loaded machine (202 MB against 201 MB was seen).
        assert!(
            wal < written * 3 / 4,
            "the WAL holds {wal} bytes after {written} bytes of writes"
        );
    }
}
