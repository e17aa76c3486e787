//! The single writer. Requests that arrive while a transaction is being committed wait in the
//! queue and go into the next one together: one COMMIT for many writes. Each request runs in its
//! own savepoint, so a failing request undoes only itself; every caller is answered after COMMIT.
//! A request that panics is answered an error like any failing one: the writer thread, and the
//! requests batched with it, go on.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::caches::Caches;
use super::write::{Change, Write};
use super::{StoreError, StoreResult};

/// Upper bound on requests per transaction, so one commit never holds callers too long.
const MAX_BATCH: usize = 512;
/// How often an idle writer looks for writes made by other processes (see `Caches`).
const IDLE_CHECK: Duration = Duration::from_millis(100);
const THREAD_NAME: &str = "db-writer";

/// Runs a request against the writer connection (or, when its transaction could not even start,
/// takes that error as its result); returns how it failed, if it did, and how to tell its caller
/// the outcome once the transaction has ended.
type Job =
    Box<dyn FnOnce(Result<&mut Write, StoreError>) -> (Result<(), StoreError>, Reply) + Send>;
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;

pub struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// `catch_up`: raised by the checkpointer when the WAL has grown long.
    pub fn start(
        conn: Connection,
        caches: Arc<Caches>,
        catch_up: Arc<AtomicBool>,
    ) -> StoreResult<Writer> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || run(conn, receiver, &caches, &catch_up))
            .map_err(|err| StoreError::Migration(format!("cannot start the writer: {err}")))?;
        Ok(Writer {
            queue: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub async fn submit<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Write) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(|conn| unless_it_panics(|| work(conn)));
            let failure = result.as_ref().map(|_| ()).map_err(retold);
            let ok = failure.is_ok();
            let reply: Reply = Box::new(move |transaction_error| {
                let outcome = match transaction_error {
                    Some(err) if ok => Err(retold(err)),
                    _ => result,
                };
                let _ = answer.send(outcome);
            });
            (failure, reply)
        });
        let sent = match self.queue.lock().expect("writer queue lock").as_ref() {
            Some(queue) => queue.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::WriterStopped);
        }
        answered.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Lets queued requests finish, then ends the thread (closing the connection).
    pub fn stop(&self) {
        self.queue.lock().expect("writer queue lock").take();
        if let Some(thread) = self.thread.lock().expect("writer thread lock").take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// rusqlite errors are not Clone; a failed BEGIN is answered to every request of the batch.
fn clone_error(err: &rusqlite::Error) -> rusqlite::Error {
    match err {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::InvalidParameterName(other.to_string()),
    }
}

/// The same failure, told to another caller: StoreError is not Clone, and what a caller needs
/// from it is its kind (busy and full disk are answered 503) and its words.
fn retold(err: &StoreError) -> StoreError {
    match err {
        StoreError::Busy => StoreError::Busy,
        StoreError::DiskFull => StoreError::DiskFull,
        other => StoreError::Commit(other.to_string()),
    }
}

/// A panic in a request's work becomes that request's error; its savepoint is then rolled back
/// like any failing request's. The work holds only the connection and what the request owns, so
/// nothing it leaves half-changed outlives it but the savepoint. (The panic hook has logged the
/// panic's message and place.)
fn unless_it_panics<T>(work: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        tracing::error!("a write panicked; it was rolled back");
        Err(StoreError::Panicked)
    })
}

fn run(conn: Connection, queue: mpsc::Receiver<Job>, caches: &Caches, catch_up: &AtomicBool) {
    let mut outside_writes = OutsideWrites::new(&conn);
    loop {
        let first = match queue.recv_timeout(IDLE_CHECK) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                outside_writes.forget_caches_if_any(&conn, caches);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        outside_writes.forget_caches_if_any(&conn, caches);
        commit_batch(&conn, batch, caches);
        if catch_up.swap(false, Ordering::Relaxed) {
            // No write is under way now, so this one can reach the WAL's end.
            if let Err(err) = super::checkpointer::checkpoint(&conn) {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
    }
    // A clean close checkpoints the WAL into the main file.
    drop(conn);
}

/// Commits by other connections, which the caches cannot hear of: `PRAGMA data_version` on the
/// writer's own connection moves only when another connection (another process, such as
/// `adthread user create`) has committed, since our read connections never write.
struct OutsideWrites {
    last_version: Option<i64>,
}

impl OutsideWrites {
    fn new(conn: &Connection) -> Self {
        OutsideWrites {
            last_version: data_version(conn),
        }
    }

    fn forget_caches_if_any(&mut self, conn: &Connection, caches: &Caches) {
        let version = data_version(conn);
        if version != self.last_version {
            caches.forget_everything();
            self.last_version = version;
        }
    }
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        .ok()
}

fn commit_batch(conn: &Connection, batch: Vec<Job>, caches: &Caches) {
    if let Err(err) = run_statement(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %err, "cannot begin a write transaction");
        for job in batch {
            let (_, reply) = job(Err(StoreError::from(clone_error(&err))));
            reply(None);
        }
        return;
    }
    let mut replies = Vec::with_capacity(batch.len());
    // What the requests record, kept also from those that fail: a change recorded by a write
    // that is rolled back only costs a cache miss.
    let mut changes = Vec::new();
    let mut jobs = batch.into_iter();
    let mut lost = None;
    for job in jobs.by_ref() {
        let (failure, reply) = run_in_savepoint(conn, &mut changes, job);
        replies.push(reply);
        if let (Err(err), true) = (&failure, conn.is_autocommit()) {
            lost = Some(transaction_lost(err));
            break;
        }
    }
    let transaction_error = match lost {
        Some(err) => {
            // What was not run yet gets the same answer, without touching the database.
            for job in jobs {
                replies.push(job(Err(retold(&err))).1);
            }
            Some(err)
        }
        None => commit(conn),
    };
    // Before anyone is answered, so nobody who learns of a write can still read around it.
    caches.apply(&changes);
    for reply in replies {
        reply(transaction_error.as_ref());
    }
}

/// SQLite may roll back the whole transaction on its own when a statement fails for a full
/// disk, an I/O error or lack of memory. Every request of the batch run so far went with it,
/// and going on would run the rest outside any transaction, each committed on its own.
fn transaction_lost(cause: &StoreError) -> StoreError {
    tracing::error!(error = %cause, "the write transaction was rolled back by SQLite");
    retold(cause)
}

/// A COMMIT that fails (a full disk, most often) leaves the transaction open: rolling it back
/// lets the next batch begin, and its callers are told their writes did not happen.
fn commit(conn: &Connection) -> Option<StoreError> {
    let err = run_statement(conn, "COMMIT").err()?;
    tracing::error!(error = %err, "write transaction failed to commit");
    if !conn.is_autocommit() {
        if let Err(rollback) = run_statement(conn, "ROLLBACK") {
            tracing::error!(error = %rollback, "cannot roll back the failed transaction");
        }
    }
    Some(StoreError::from(err))
}

fn run_in_savepoint(
    conn: &Connection,
    changes: &mut Vec<Change>,
    job: Job,
) -> (Result<(), StoreError>, Reply) {
    if let Err(err) = run_statement(conn, "SAVEPOINT request") {
        return job(Err(StoreError::from(err)));
    }
    let (failure, reply) = job(Ok(&mut Write::new(conn, changes)));
    let ended = if failure.is_ok() {
        run_statement(conn, "RELEASE request")
    } else if conn.is_autocommit() {
        // SQLite rolled back the whole transaction, savepoint and all (see `transaction_lost`).
        Ok(())
    } else {
        run_statement(conn, "ROLLBACK TO request")
            .and_then(|()| run_statement(conn, "RELEASE request"))
    };
    if let Err(err) = ended {
        tracing::error!(error = %err, "cannot end a savepoint");
    }
    (failure, reply)
}

/// Through the statement cache: these run two to four times per request, and parsing them
/// again each time was a tenth of the writer's work.
fn run_statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite::testing::store_with_table;
    use crate::store::StoreError;

    /// A write that panics gets an error and leaves nothing behind; the writes batched with it
    /// and those after it are committed as usual.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_is_answered_an_error_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_table(dir.path(), "CREATE TABLE note (text TEXT)").await;
        let insert = |text: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |conn| {
                        conn.execute("INSERT INTO note VALUES (?1)", [text])?;
                        if text == "panics" {
                            panic!("a bug in a write");
                        }
                        Ok(())
                    })
                    .await
            })
        };
        let writes: Vec<_> = ["before", "panics", "after"].map(insert).into();
        let mut outcomes = Vec::new();
        for write in writes {
            outcomes.push(write.await.expect("the caller's task survives"));
        }
        assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
        assert!(matches!(outcomes[1], Err(StoreError::Panicked)));
        assert!(outcomes[2].is_ok(), "{:?}", outcomes[2]);

        insert("later").await.unwrap().unwrap();
        let texts = store
            .read(|conn| {
                let mut statement = conn.prepare("SELECT text FROM note ORDER BY text")?;
                let texts = statement
                    .query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(texts)
            })
            .await
            .unwrap();
        assert_eq!(texts, ["after", "before", "later"]);
        store.close();
    }

    /// When SQLite gives up the whole transaction (as it may on a full disk), every request of
    /// the batch is told its write was not saved, and the rest of the batch does not run
    /// outside a transaction. A request that ends the transaction itself stands in for SQLite.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_sqlite_rolled_back_is_a_failure_for_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_table(dir.path(), "CREATE TABLE note (text TEXT)").await;
        // Holds the writer while the three below queue up, so they share one transaction.
        let holding = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|_| {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut batch = Vec::new();
        for text in ["saved first", "loses the transaction", "queued after"] {
            let store = store.clone();
            batch.push(tokio::spawn(async move {
                store
                    .write(move |conn| {
                        if text == "loses the transaction" {
                            conn.execute_batch("ROLLBACK")?;
                            return Err(StoreError::DiskFull);
                        }
                        conn.execute("INSERT INTO note VALUES (?1)", [text])?;
                        Ok(())
                    })
                    .await
            }));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        holding.await.unwrap().unwrap();
        for write in batch {
            let outcome = write.await.unwrap();
            assert!(matches!(outcome, Err(StoreError::DiskFull)), "{outcome:?}");
        }
        let saved: i64 = store
            .write(|conn| Ok(conn.query_row("SELECT count(*) FROM note", [], |row| row.get(0))?))
            .await
            .unwrap();
        assert_eq!(saved, 0);
        store.close();
    }
}
