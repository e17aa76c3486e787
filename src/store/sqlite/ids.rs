//! The typed ids bind and read as their inner value, so SQL takes them as they are.

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::schema::{CompanyId, DraftId, ThreadId, UserId};

macro_rules! sql_as_inner {
    ($($id:ty),*) => {$(
        impl ToSql for $id {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                FromSql::column_result(value).map(Self)
            }
        }
    )*};
}

sql_as_inner!(CompanyId, UserId, ThreadId, DraftId);
