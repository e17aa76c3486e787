//! The single writer. Requests that arrive while a transaction is being committed wait in the
//! queue and go into the next one together: one COMMIT for many writes. Each request runs in its
//! own savepoint, so a failing request undoes only itself; every caller is answered after COMMIT.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::cache::{self, Caches};
use super::{StoreError, StoreResult};

/// Upper bound on requests per transaction, so one commit never holds callers too long.
const MAX_BATCH: usize = 512;
/// How often an idle writer looks for writes made by other processes (see `Caches`).
const IDLE_CHECK: Duration = Duration::from_millis(100);
const THREAD_NAME: &str = "db-writer";

/// Whether the caller runs on the writer's thread, i.e. inside a `Store::write` closure.
pub fn on_writer_thread() -> bool {
    std::thread::current().name() == Some(THREAD_NAME)
}

/// Runs a request against the writer connection (or, when its transaction could not even start,
/// takes that error as its result); returns whether it succeeded and how to tell its caller the
/// outcome once the transaction has ended.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Reply) + Send>;
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
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(work);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit_error| {
                let outcome = match commit_error {
                    Some(err) if ok => Err(commit_failure(err)),
                    _ => result,
                };
                let _ = answer.send(outcome);
            });
            (ok, reply)
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

fn commit_failure(err: &StoreError) -> StoreError {
    match err {
        StoreError::Busy => StoreError::Busy,
        other => StoreError::Commit(other.to_string()),
    }
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
    for job in batch {
        replies.push(run_in_savepoint(conn, job));
    }
    let commit_error = run_statement(conn, "COMMIT").err().map(|err| {
        let _ = run_statement(conn, "ROLLBACK");
        tracing::error!(error = %err, "write transaction failed to commit");
        StoreError::from(err)
    });
    // Before anyone is answered, so nobody who learns of a write can still read around it.
    caches.apply(&cache::take_marks());
    for reply in replies {
        reply(commit_error.as_ref());
    }
}

fn run_in_savepoint(conn: &Connection, job: Job) -> Reply {
    if let Err(err) = run_statement(conn, "SAVEPOINT request") {
        return job(Err(StoreError::from(err))).1;
    }
    let (ok, reply) = job(Ok(conn));
    let ended = if ok {
        run_statement(conn, "RELEASE request")
    } else {
        run_statement(conn, "ROLLBACK TO request")
            .and_then(|()| run_statement(conn, "RELEASE request"))
    };
    if let Err(err) = ended {
        tracing::error!(error = %err, "cannot end a savepoint");
    }
    reply
}

/// Through the statement cache: these run two to four times per request, and parsing them
/// again each time was a tenth of the writer's work.
fn run_statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
