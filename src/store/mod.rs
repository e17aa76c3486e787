//! The store: every read and write of the server's data, behind one handle, `Store`, that the
//! handlers, accounts and assistants hold. What it offers is declared once, per table group, in
//! `interface.rs`; what it takes and answers beyond the API's shapes is in `records.rs`; the
//! database behind it is a `Backend`: an SQLite file (`sqlite/`) or a PostgreSQL server
//! (`postgres/`). What every backend
//! reads and writes alike (column layouts, row readers over `Columns`, thread pages, a draft
//! put together) is in the neutral modules beside them, never borrowed from one backend.

mod columns;
pub mod coordination;
pub mod copy;
mod draft_edits;
mod drafts;
mod generation;
mod interface;
mod layouts;
mod migration_file;
mod parameters;
pub mod postgres;
mod records;
mod row_readers;
pub(crate) mod sqlite;
mod thread_pages;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::config::{DatabaseConfig, DatabaseLocation};
use postgres::PostgresDatabase;
use sqlite::SqliteStore;

pub use interface::{
    AssistantStore, CompanyStore, ConnectionStore, DraftEditStore, DraftStore, GenerationQueue,
    MessageStore, ThreadDraftStore, ThreadStore, UserStore,
};
pub use records::{
    AssistantRecord, ChatContext, Credentials, DraftFilter, Exchange, GeneratedExtensions,
    GenerationBrief, GenerationJob, GenerationUsage, HistoryMessage, JobWork, NewMessage,
    NewThreadDraft, NewUser, QueuedRsas, Resumed, StandingChange, ThreadFilter, ThreadPage,
    ThreadScope, TokenOwner, Viewer,
};
pub use sqlite::maintenance;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// A body names something that is not where it says (an id of another draft): 422 at
    /// `loc` (`["body", "ad_groups", 0, "id"]`).
    #[error("{message}")]
    Invalid {
        loc: Vec<serde_json::Value>,
        message: String,
    },
    #[error("the database is busy; try again")]
    Busy,
    /// SQLite could not write for lack of space (or an I/O error while writing): nothing of
    /// the write was kept, and writes work again once there is room.
    #[error("the server's disk is full")]
    DiskFull,
    #[error("a write failed unexpectedly and was rolled back")]
    Panicked,
    /// The database failed in a way no other variant names (the backend's own words).
    #[error("database error: {0}")]
    Database(String),
    /// No connection to the database could be had in time.
    #[error("no database connection available: {0}")]
    NoConnection(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("the write could not be committed: {0}")]
    Commit(String),
    #[error("{0}")]
    Migration(String),
    #[error("cannot write a cached answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a thread the viewer may not see, or that does not exist, is answered.
pub(crate) fn thread_not_found() -> StoreError {
    StoreError::NotFound("Chat thread not found".into())
}

/// The Conflict of a customer or location threads are scoped to (both backends).
pub(crate) fn still_used(what: String, threads: i64) -> StoreError {
    let threads = if threads == 1 {
        "1 chat thread".to_string()
    } else {
        format!("{threads} chat threads")
    };
    StoreError::Conflict(format!(
        "{what} is used by {threads}; delete those threads first"
    ))
}

/// A cheap handle: clone it freely. Its methods for the table groups are made from the traits
/// in `interface.rs`; the database's own life (open, ping, the generation bell, close) is here.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

/// The database a store runs on. Every method of `Store` matches on it, so a call costs a
/// jump, not an indirect call or a boxed future (issue 16 measured every microsecond).
#[derive(Clone)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresDatabase),
}

impl Store {
    /// A store on an SQLite store already open (the PostgreSQL tests compare the two).
    #[cfg(test)]
    pub(crate) fn on_sqlite(db: SqliteStore) -> Store {
        Store {
            backend: Backend::Sqlite(db),
        }
    }

    /// Opens the database at `location` (an SQLite file, created when missing, or a PostgreSQL
    /// server), brings its schema up to date and starts what the backend runs beside it
    /// (SQLite: the writer and the checkpointer; PostgreSQL: a pool of `config.pool_size`).
    pub async fn open(
        location: DatabaseLocation<'_>,
        config: &DatabaseConfig,
    ) -> StoreResult<Store> {
        let backend = match location {
            DatabaseLocation::Sqlite(path) => {
                let config = DatabaseConfig {
                    path: path.to_path_buf(),
                    ..config.clone()
                };
                Backend::Sqlite(SqliteStore::open(&config)?)
            }
            DatabaseLocation::Postgres(url) => {
                // Each migration applied is logged as it is; the report is for `adthread check`.
                let (database, _) = PostgresDatabase::open(url, config.pool_size).await?;
                Backend::Postgres(database)
            }
        };
        Ok(Store { backend })
    }

    /// Answers whether the database responds, for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(db) => db.ping().await,
            Backend::Postgres(db) => db.ping().await,
        }
    }

    /// Notified after every commit that queued generation tasks: what the generation worker
    /// waits on between looks at the queue.
    pub fn generation_bell(&self) -> Arc<tokio::sync::Notify> {
        match &self.backend {
            Backend::Sqlite(db) => db.generation_bell(),
            Backend::Postgres(db) => db.generation_bell(),
        }
    }

    /// Waits for queued writes to commit and lets the database go.
    pub fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close(),
            Backend::Postgres(db) => db.close(),
        }
    }

    /// Purges expired tokens every `every`, for as long as the task runs, so that the table
    /// does not grow with every sign-in.
    pub async fn purge_expired_tokens_forever(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.purge_expired_tokens(Utc::now().timestamp()).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired tokens deleted"),
                Err(err) => tracing::warn!(error = %err, "cannot delete expired tokens"),
            }
        }
    }
}
