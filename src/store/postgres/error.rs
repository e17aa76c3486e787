//! tokio-postgres's and the pool's errors as the store's, in one place. A unique violation is
//! a Conflict only where the operation says what it conflicts with ([`on_unique`]); elsewhere
//! it is as unexpected as any other failure.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

impl From<tokio_postgres::Error> for StoreError {
    /// Two transactions that could not both go on (one was chosen to fail) are Busy, as a
    /// locked SQLite database is: trying again succeeds. The text never holds the password:
    /// neither the server's messages nor tokio-postgres's quote the connection settings.
    fn from(err: tokio_postgres::Error) -> Self {
        match err.code() {
            Some(&SqlState::T_R_SERIALIZATION_FAILURE | &SqlState::T_R_DEADLOCK_DETECTED) => {
                StoreError::Busy
            }
            _ => StoreError::Database(super::reason(&err)),
        }
    }
}

impl From<PoolError> for StoreError {
    /// No connection within the pool's wait, or none could be opened: the same 503 as an
    /// SQLite pool with none to spare.
    fn from(err: PoolError) -> Self {
        StoreError::NoConnection(match err {
            PoolError::Backend(err) => super::reason(&err),
            other => format!("PostgreSQL: {other}"),
        })
    }
}

/// `err` as a Conflict saying `message` when it is a unique violation; else as any error.
pub(super) fn on_unique(
    err: tokio_postgres::Error,
    message: impl FnOnce() -> String,
) -> StoreError {
    if err.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(message())
    } else {
        err.into()
    }
}

/// Opening a PostgreSQL store fails in the words `adthread check` uses for the same failure.
impl From<super::PostgresError> for StoreError {
    fn from(err: super::PostgresError) -> Self {
        match err {
            super::PostgresError::Migration(reason) => StoreError::Migration(reason),
            other => StoreError::NoConnection(other.to_string()),
        }
    }
}
