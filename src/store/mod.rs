//! The store: every read and write of the server's data, behind one handle (`Store`).
//! The SQLite implementation is in `sqlite/`.

mod sqlite;

pub use sqlite::maintenance;
pub use sqlite::{
    AssistantRecord, ChatContext, Credentials, DraftFilter, Exchange, GeneratedExtensions,
    GenerationBrief, GenerationJob, GenerationUsage, HistoryMessage, JobWork, NewMessage,
    NewThreadDraft, NewUser, QueuedRsas, Resumed, RsaRun, StandingChange, Store, ThreadFilter,
    ThreadPage, ThreadScope, TokenOwner, Viewer,
};

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
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("the write could not be committed: {0}")]
    Commit(String),
    #[error("{0}")]
    Migration(String),
    #[error("cannot write a cached answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull,
            _ if is_failed_write(&err) => StoreError::DiskFull,
            _ => StoreError::Sqlite(err),
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

pub type StoreResult<T> = Result<T, StoreError>;
