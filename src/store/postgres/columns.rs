//! `Columns` for a PostgreSQL row.

use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Row;

use crate::store::columns::Columns;

impl Columns for Row {
    type Error = tokio_postgres::Error;

    fn text(&self, at: usize) -> Result<String, Self::Error> {
        self.try_get(at)
    }

    fn opt_text(&self, at: usize) -> Result<Option<String>, Self::Error> {
        self.try_get(at)
    }

    fn int(&self, at: usize) -> Result<i64, Self::Error> {
        self.try_get(at)
    }

    fn opt_int(&self, at: usize) -> Result<Option<i64>, Self::Error> {
        self.try_get(at)
    }

    fn flag(&self, at: usize) -> Result<bool, Self::Error> {
        self.try_get(at)
    }

    fn is_null(&self, at: usize) -> Result<bool, Self::Error> {
        Ok(self.try_get::<_, Option<AnyValue>>(at)?.is_none())
    }
}

/// A value of any type, not decoded: what `is_null` reads.
struct AnyValue;

impl FromSql<'_> for AnyValue {
    fn from_sql(_: &Type, _: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyValue)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
