//! How the row readers of `row_readers.rs` and `drafts.rs` read a column, whichever library's
//! row it is: each backend implements `Columns` for its own row type (`sqlite/columns.rs`,
//! `postgres/columns.rs`). A reader is generic over it, so each backend gets its own copy,
//! compiled as if written for its row, and keeps its own error type where it reads (a SQLite
//! `query_map` wants the library's own error, not `StoreError`).

/// The columns of one row, by position.
pub(crate) trait Columns {
    type Error;

    fn text(&self, at: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, at: usize) -> Result<Option<String>, Self::Error>;
    fn int(&self, at: usize) -> Result<i64, Self::Error>;
    fn opt_int(&self, at: usize) -> Result<Option<i64>, Self::Error>;
    fn flag(&self, at: usize) -> Result<bool, Self::Error>;
    /// Whether the column is NULL, whatever its type, without reading its value.
    fn is_null(&self, at: usize) -> Result<bool, Self::Error>;
}
