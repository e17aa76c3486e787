//! The PostgreSQL side of `adthread copy` (`store/copy.rs`): one transaction on one connection
//! that finds the tables and their column types, refuses rows already there, writes each table
//! with a binary COPY (one statement streamed a batch at a time), moves the identity columns'
//! sequences past the copied ids, counts, and commits only when told.

use std::error::Error;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use deadpool_postgres::Object;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::{PostgresDatabase, PostgresError, QueryError};
use crate::store::copy::{quoted, quoted_list, CopyError, Row, Value};

/// A table of the PostgreSQL database as the copy needs it.
pub struct TargetTable {
    pub name: String,
    columns: Vec<TargetColumn>,
}

struct TargetColumn {
    name: String,
    /// As information_schema names it: "bigint", "boolean", "text", "bytea".
    data_type: String,
    identity: bool,
}

impl TargetTable {
    pub fn column_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|column| column.name.clone())
            .collect()
    }
}

/// The open transaction; dropped without [`Import::commit`], the connection goes with the
/// process and PostgreSQL rolls the transaction back.
pub struct Import {
    client: Object,
    url: String,
}

impl Import {
    pub async fn begin(database: &PostgresDatabase) -> Result<Import, PostgresError> {
        let import = Import {
            client: database.client().await?,
            url: database.url.clone(),
        };
        import.run("BEGIN").await?;
        Ok(import)
    }

    fn failed(&self, err: tokio_postgres::Error) -> PostgresError {
        QueryError::from(err).at(&self.url)
    }

    async fn run(&self, sql: &str) -> Result<(), PostgresError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|err| self.failed(err))
    }

    /// Every table of the current schema but the migrations' record, with its columns in order.
    pub async fn tables(&self) -> Result<Vec<TargetTable>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                        c.is_identity = 'YES' \
                 FROM information_schema.columns c \
                 JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                   AND c.table_name <> 'adthread_migrations' \
                 ORDER BY c.table_name, c.ordinal_position",
                &[],
            )
            .await
            .map_err(|err| self.failed(err))?;
        let mut tables: Vec<TargetTable> = Vec::new();
        for row in rows {
            let table: String = row.get(0);
            let column = TargetColumn {
                name: row.get(1),
                data_type: row.get(2),
                identity: row.get(3),
            };
            match tables.last_mut() {
                Some(last) if last.name == table => last.columns.push(column),
                _ => tables.push(TargetTable {
                    name: table,
                    columns: vec![column],
                }),
            }
        }
        Ok(tables)
    }

    /// Nothing else writes the tables until the copy commits; reading them stays possible.
    pub async fn lock(&self, tables: &[String]) -> Result<(), PostgresError> {
        self.run(&format!(
            "LOCK TABLE {} IN EXCLUSIVE MODE",
            quoted_list(tables)
        ))
        .await
    }

    pub async fn has_rows(&self, table: &str) -> Result<bool, PostgresError> {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
        self.one(&sql, &[]).await
    }

    pub async fn count(&self, table: &str) -> Result<i64, PostgresError> {
        self.one(&format!("SELECT count(*) FROM {}", quoted(table)), &[])
            .await
    }

    pub async fn clear(&self, table: &str) -> Result<(), PostgresError> {
        self.run(&format!("DELETE FROM {}", quoted(table))).await
    }

    async fn one<T>(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<T, PostgresError>
    where
        T: for<'a> tokio_postgres::types::FromSql<'a>,
    {
        let row = self
            .client
            .query_one(sql, params)
            .await
            .map_err(|err| self.failed(err))?;
        row.try_get(0).map_err(|err| self.failed(err))
    }

    /// A COPY into `table`'s columns in their order, which is the order of the rows written.
    pub async fn copy_in(&self, table: &TargetTable) -> Result<TableWriter, CopyError> {
        let kinds = table
            .columns
            .iter()
            .map(|column| Kind::of(&table.name, column))
            .collect::<Result<Vec<_>, _>>()?;
        let types: Vec<Type> = kinds.iter().map(|kind| kind.pg_type()).collect();
        let sink = self
            .client
            .copy_in::<_, Bytes>(&format!(
                "COPY {} ({}) FROM STDIN BINARY",
                quoted(&table.name),
                quoted_list(&table.column_names())
            ))
            .await
            .map_err(|err| self.failed(err))?;
        Ok(TableWriter {
            writer: Box::pin(BinaryCopyInWriter::new(sink, &types)),
            columns: table
                .columns
                .iter()
                .map(|column| format!("{}.{}", table.name, column.name))
                .collect(),
            kinds,
            url: self.url.clone(),
        })
    }

    /// Moves the sequence of `table`'s identity column (when it has one) so that the next id
    /// it hands out is above both every id copied and `highest_id_handed_out`.
    pub async fn continue_ids_after(
        &self,
        table: &TargetTable,
        highest_id_handed_out: i64,
    ) -> Result<(), PostgresError> {
        let Some(column) = table.columns.iter().find(|column| column.identity) else {
            return Ok(());
        };
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), \
                           greatest((SELECT coalesce(max({column}), 0) FROM {table}), $3) + 1, \
                           false)",
            column = quoted(&column.name),
            table = quoted(&table.name),
        );
        let _: i64 = self
            .one(
                &sql,
                &[&quoted(&table.name), &column.name, &highest_id_handed_out],
            )
            .await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), PostgresError> {
        self.run("COMMIT").await
    }
}

/// One table's COPY under way.
pub struct TableWriter {
    writer: Pin<Box<BinaryCopyInWriter>>,
    /// "table.column" of each column, for messages.
    columns: Vec<String>,
    kinds: Vec<Kind>,
    url: String,
}

impl TableWriter {
    pub async fn write(&mut self, rows: Vec<Row>) -> Result<(), CopyError> {
        for row in rows {
            let cells = row
                .into_iter()
                .zip(self.kinds.iter().zip(&self.columns))
                .map(|(value, (kind, column))| kind.cell(value, column))
                .collect::<Result<Vec<Cell>, CopyError>>()?;
            let params: Vec<&(dyn ToSql + Sync)> = cells
                .iter()
                .map(|cell| cell as &(dyn ToSql + Sync))
                .collect();
            self.writer
                .as_mut()
                .write(&params)
                .await
                .map_err(|err| QueryError::from(err).at(&self.url))?;
        }
        Ok(())
    }

    pub async fn finish(mut self) -> Result<u64, PostgresError> {
        self.writer
            .as_mut()
            .finish()
            .await
            .map_err(|err| QueryError::from(err).at(&self.url))
    }
}

/// The PostgreSQL column types our schema uses, each with what SQLite holds for it.
#[derive(Clone, Copy)]
enum Kind {
    /// SQLite INTEGER.
    BigInt,
    /// SQLite INTEGER 0 or 1.
    Boolean,
    /// SQLite TEXT, JSON included (kept as written).
    Text,
    /// SQLite BLOB.
    Bytea,
}

impl Kind {
    fn of(table: &str, column: &TargetColumn) -> Result<Kind, CopyError> {
        match column.data_type.as_str() {
            "bigint" => Ok(Kind::BigInt),
            "boolean" => Ok(Kind::Boolean),
            "text" => Ok(Kind::Text),
            "bytea" => Ok(Kind::Bytea),
            other => Err(CopyError::Value(format!(
                "{table}.{} has PostgreSQL type {other}, which the copy does not convert",
                column.name
            ))),
        }
    }

    fn pg_type(self) -> Type {
        match self {
            Kind::BigInt => Type::INT8,
            Kind::Boolean => Type::BOOL,
            Kind::Text => Type::TEXT,
            Kind::Bytea => Type::BYTEA,
        }
    }

    fn cell(self, value: Value, column: &str) -> Result<Cell, CopyError> {
        match (self, value) {
            (_, Value::Null) => Ok(Cell::Null),
            (Kind::BigInt, Value::Integer(integer)) => Ok(Cell::BigInt(integer)),
            (Kind::Boolean, Value::Integer(flag @ (0 | 1))) => Ok(Cell::Boolean(flag == 1)),
            (Kind::Text, Value::Text(text)) => Ok(Cell::Text(text)),
            (Kind::Bytea, Value::Blob(bytes)) => Ok(Cell::Bytea(bytes)),
            (kind, value) => Err(CopyError::Value(format!(
                "{column} is {} on PostgreSQL and cannot hold SQLite's {}",
                kind.pg_type(),
                described(&value)
            ))),
        }
    }
}

/// A value in a message: integers as they are, others by kind only (a text may be a secret).
fn described(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Integer(integer) => format!("integer {integer}"),
        Value::Real(_) => "real number".into(),
        Value::Text(_) => "text".into(),
        Value::Blob(bytes) => format!("blob of {} bytes", bytes.len()),
    }
}

/// A value converted for its column, written by the COPY's binary format.
#[derive(Debug)]
enum Cell {
    Null,
    BigInt(i64),
    Boolean(bool),
    Text(String),
    Bytea(Vec<u8>),
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::BigInt(integer) => integer.to_sql(ty, out),
            Cell::Boolean(flag) => flag.to_sql(ty, out),
            Cell::Text(text) => text.to_sql(ty, out),
            Cell::Bytea(bytes) => bytes.to_sql(ty, out),
        }
    }

    /// Each cell was made for its column's type (`Kind::cell`).
    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::BOOL, Type::TEXT, Type::BYTEA].contains(ty)
    }

    to_sql_checked!();
}
