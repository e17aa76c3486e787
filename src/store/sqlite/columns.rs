//! `Columns` for a SQLite row.

use rusqlite::types::Type;
use rusqlite::Row;

use crate::store::columns::Columns;

impl Columns for Row<'_> {
    type Error = rusqlite::Error;

    fn text(&self, at: usize) -> rusqlite::Result<String> {
        self.get(at)
    }

    fn opt_text(&self, at: usize) -> rusqlite::Result<Option<String>> {
        self.get(at)
    }

    fn int(&self, at: usize) -> rusqlite::Result<i64> {
        self.get(at)
    }

    fn opt_int(&self, at: usize) -> rusqlite::Result<Option<i64>> {
        self.get(at)
    }

    fn flag(&self, at: usize) -> rusqlite::Result<bool> {
        self.get(at)
    }

    fn is_null(&self, at: usize) -> rusqlite::Result<bool> {
        Ok(self.get_ref(at)?.data_type() == Type::Null)
    }
}
