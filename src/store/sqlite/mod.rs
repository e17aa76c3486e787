//! The SQLite store: one database file. Reads run on a pool of read-only connections; writes go
//! to one writer thread that commits whatever has queued up in a single transaction (group
//! commit), each request in its own savepoint, and answers a request only once its transaction
//! is committed. It implements every trait of `interface.rs`, one table group per module.

mod access;
mod assistants;
mod cache;
mod caches;
mod campaigns;
mod checkpointer;
mod columns;
mod companies;
mod connections;
mod draft_edits;
pub mod export;
mod files;
mod generation;
mod ids;
pub mod maintenance;
mod messages;
mod migrate;
mod rows;
mod thread_drafts;
mod threads;
mod users;
mod write;
mod writer;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

use super::{StoreError, StoreResult};
use crate::config::{DatabaseConfig, Synchronous};
use write::Write;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull,
            _ if is_failed_write(&err) => StoreError::DiskFull,
            _ => StoreError::Database(err.to_string()),
        }
    }
}

/// The I/O errors SQLite reports when the file system refuses to write or grow a file (a full
/// disk shows as these too, not only as SQLITE_FULL, depending on where it ran out).
fn is_failed_write(err: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if matches!(
                e.extended_code,
                ffi::SQLITE_IOERR_WRITE
                    | ffi::SQLITE_IOERR_FSYNC
                    | ffi::SQLITE_IOERR_TRUNCATE
                    | ffi::SQLITE_IOERR_SHMSIZE
            )
    )
}

impl From<r2d2::Error> for StoreError {
    fn from(err: r2d2::Error) -> Self {
        StoreError::NoConnection(err.to_string())
    }
}

/// A cheap handle: clone it freely. `Store` holds one as its backend.
#[derive(Clone)]
pub struct SqliteStore {
    readers: r2d2::Pool<SqliteConnectionManager>,
    writer: Arc<writer::Writer>,
    caches: Arc<caches::Caches>,
    checkpointer: Arc<checkpointer::Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database, brings its schema up to date and starts
    /// the writer.
    pub fn open(config: &DatabaseConfig) -> StoreResult<SqliteStore> {
        files::prepare_private_database(&config.path)?;
        let mut conn = Connection::open(&config.path)?;
        configure(&conn, config)?;
        migrate::apply(&mut conn)?;
        // The checkpointer does it, off the writer's path (see checkpointer.rs).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = Connection::open(&config.path)?;
        configure(&checkpoints, config)?;
        let catch_up = Arc::new(AtomicBool::new(false));
        let checkpointer = checkpointer::Checkpointer::start(checkpoints, catch_up.clone())?;
        let caches = Arc::new(caches::Caches::new());
        let writer = writer::Writer::start(conn, caches.clone(), catch_up)?;
        let readers = read_pool(&config.path, config)?;
        Ok(SqliteStore {
            readers,
            writer: Arc::new(writer),
            caches,
            checkpointer: Arc::new(checkpointer),
        })
    }

    /// Runs `work` on a read-only connection, off the async runtime's threads.
    pub async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            work(&conn)
        })
        .await
        .map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs `work` inside the writer's transaction; returns once it is committed.
    /// An error from `work` rolls back only `work`'s own changes. `work` records through its
    /// `Write` what it changes in the caches.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Write) -> StoreResult<T> + Send + 'static,
    {
        self.writer.submit(work).await
    }

    /// Answers whether the database responds, for `/healthz`. `SELECT 1` reads no page of
    /// the file: it takes a microsecond, so it runs where it is asked, on an idle connection
    /// when there is one; only when every connection is busy does it wait on the blocking pool.
    pub async fn ping(&self) -> StoreResult<()> {
        fn select_one(conn: &Connection) -> StoreResult<()> {
            conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
            Ok(())
        }
        match self.readers.try_get() {
            Some(conn) => select_one(&conn),
            None => self.read(select_one).await,
        }
    }

    /// Notified after every commit that queued generation tasks: what the generation worker
    /// waits on between looks at the queue.
    pub fn generation_bell(&self) -> Arc<tokio::sync::Notify> {
        self.caches.generation_bell.clone()
    }

    /// Waits for queued writes to commit and closes the writer's connection.
    pub fn close(&self) {
        self.checkpointer.stop();
        self.writer.stop();
    }
}

fn configure(conn: &Connection, config: &DatabaseConfig) -> StoreResult<()> {
    conn.busy_timeout(Duration::from_millis(config.busy_timeout_ms))?;
    let journal: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Migration(format!(
            "cannot switch the database to WAL mode (got {journal})"
        )));
    }
    let synchronous = match config.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn read_pool(
    path: &Path,
    config: &DatabaseConfig,
) -> StoreResult<r2d2::Pool<SqliteConnectionManager>> {
    let busy_timeout = Duration::from_millis(config.busy_timeout_ms);
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(move |conn| {
            conn.busy_timeout(busy_timeout)?;
            conn.execute_batch("PRAGMA query_only = ON;")?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(())
        });
    Ok(r2d2::Pool::builder()
        .max_size(config.pool_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?)
}

/// Maps "no row" to a NotFound naming what was looked for.
trait OptionalRow<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> StoreResult<T>;
}

impl<T> OptionalRow<T> for rusqlite::Result<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> StoreResult<T> {
        match self {
            Err(rusqlite::Error::QueryReturnedNoRows) => Err(StoreError::NotFound(what())),
            other => other.map_err(StoreError::from),
        }
    }
}

/// Whether an insert failed on a UNIQUE or PRIMARY KEY constraint.
fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    use super::SqliteStore;
    use crate::config::DatabaseConfig;

    /// A store on a fresh database in `dir`.
    pub fn open_in(dir: &Path) -> SqliteStore {
        let config = DatabaseConfig {
            path: dir.join("adthread.db"),
            ..DatabaseConfig::default()
        };
        SqliteStore::open(&config).unwrap()
    }

    /// A store on a new database in `dir`, with a scratch table made by `create_table`;
    /// returns it and the database's path.
    pub async fn store_with_table(
        dir: &Path,
        create_table: &'static str,
    ) -> (SqliteStore, PathBuf) {
        let store = open_in(dir);
        store
            .write(move |conn| Ok(conn.execute_batch(create_table)?))
            .await
            .unwrap();
        (store, dir.join("adthread.db"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
        found
    }

    /// Handlers, accounts and assistants must not know which database runs (issue 17): the
    /// SQLite libraries are named only inside the SQLite backend.
    #[test]
    fn only_the_sqlite_backend_names_the_sqlite_libraries() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let backend = src.join("store").join("sqlite");
        let naming: Vec<_> = sources(&src)
            .into_iter()
            .filter(|path| !path.starts_with(&backend))
            .filter(|path| {
                let text = std::fs::read_to_string(path).unwrap();
                text.contains("rusqlite") || text.contains("r2d2")
            })
            .collect();
        assert!(naming.is_empty(), "outside src/store/sqlite/: {naming:?}");
    }

    /// What both backends share lives in neutral modules of `store/` (issue 17): neither
    /// backend's code names the other's modules. The PostgreSQL parity tests do, to compare.
    #[test]
    fn no_backend_reaches_into_the_other() {
        let store = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join("store");
        let parity_tests = store.join("postgres").join("tests");
        let reaching = |backend: &str, other: &str| -> Vec<_> {
            let path_of_other = format!("{other}::");
            sources(&store.join(backend))
                .into_iter()
                .filter(|path| !path.starts_with(&parity_tests))
                .filter(|path| {
                    std::fs::read_to_string(path)
                        .unwrap()
                        .contains(&path_of_other)
                })
                .collect()
        };
        let reaching = [
            reaching("postgres", "sqlite"),
            reaching("sqlite", "postgres"),
        ]
        .concat();
        assert!(
            reaching.is_empty(),
            "a backend names the other: {reaching:?}"
        );
    }
}
