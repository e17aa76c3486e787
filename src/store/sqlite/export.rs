//! The SQLite side of `adthread copy` (`store/copy.rs`): every table of the database read in
//! one read transaction, so that the copy is one consistent snapshot even while a server writes
//! to the file (what it writes after the snapshot is not copied).

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc::Sender;

use super::maintenance::open_existing;
use super::migrate;
use crate::store::copy::{quoted, quoted_list, Row, SourceTable, Value};
use crate::store::{StoreError, StoreResult};

/// A read-only connection inside a read transaction that has already read, so that its
/// snapshot is fixed.
pub struct Snapshot {
    conn: Connection,
}

impl Snapshot {
    /// Refuses a database whose schema is not this adthread's: the columns would not match
    /// PostgreSQL's, which the same adthread's migrations made.
    pub fn open(path: &Path) -> StoreResult<Snapshot> {
        let conn = open_existing(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.execute_batch("BEGIN")?;
        // The transaction's first read fixes its snapshot: this one.
        let version: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let latest = migrate::latest_version();
        if version != latest {
            return Err(StoreError::Migration(format!(
                "{} is at schema version {version}, this adthread's is {latest}; start this \
                 adthread's server on it once (it migrates at start-up), stop it, then copy",
                path.display()
            )));
        }
        Ok(Snapshot { conn })
    }

    /// Every table but SQLite's own (`sqlite_sequence`, `sqlite_stat1`).
    pub fn tables(&self) -> StoreResult<Vec<SourceTable>> {
        let mut names = self.conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' \
             ESCAPE '\\' ORDER BY name",
        )?;
        let names = names
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        names.into_iter().map(|name| self.table(name)).collect()
    }

    fn table(&self, name: String) -> StoreResult<SourceTable> {
        let columns = self.strings("SELECT name FROM pragma_table_info(?1) ORDER BY cid", &name)?;
        let references = self
            .strings(
                "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)",
                &name,
            )?
            .into_iter()
            .collect();
        let rows = self.conn.query_row(
            &format!("SELECT count(*) FROM {}", quoted(&name)),
            [],
            |row| row.get(0),
        )?;
        let highest_id_handed_out = self.highest_id_handed_out(&name)?;
        Ok(SourceTable {
            name,
            columns,
            references,
            rows,
            highest_id_handed_out,
        })
    }

    fn strings(&self, sql: &str, table: &str) -> StoreResult<Vec<String>> {
        let mut statement = self.conn.prepare(sql)?;
        let strings = statement
            .query_map([table], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(strings)
    }

    /// `sqlite_sequence` exists once a table with AUTOINCREMENT does.
    fn highest_id_handed_out(&self, table: &str) -> StoreResult<i64> {
        let has_sequences: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence')",
            [],
            |row| row.get(0),
        )?;
        if !has_sequences {
            return Ok(0);
        }
        Ok(self.conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?1",
            [table],
            |row| row.get(0),
        )?)
    }

    /// Sends each table's rows, `columns` in the order given, in batches of `batch_rows`, and
    /// None after each table's last. Stops without an error when the receiver is gone: the
    /// writer has failed and says why.
    pub fn send_rows(
        self,
        plan: &[(String, Vec<String>)],
        batch_rows: usize,
        batches: &Sender<Option<Vec<Row>>>,
    ) -> StoreResult<()> {
        for (table, columns) in plan {
            let mut statement = self.conn.prepare(&format!(
                "SELECT {} FROM {}",
                quoted_list(columns),
                quoted(table)
            ))?;
            let mut rows = statement.query([])?;
            let mut batch = Vec::with_capacity(batch_rows);
            while let Some(row) = rows.next()? {
                batch.push(
                    (0..columns.len())
                        .map(|at| value(row.get_ref(at)?, table))
                        .collect::<StoreResult<Row>>()?,
                );
                if batch.len() == batch_rows {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows));
                    if batches.blocking_send(Some(full)).is_err() {
                        return Ok(());
                    }
                }
            }
            if !batch.is_empty() && batches.blocking_send(Some(batch)).is_err() {
                return Ok(());
            }
            if batches.blocking_send(None).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Text that is not UTF-8 is refused rather than changed: PostgreSQL's TEXT holds only UTF-8.
fn value(value: ValueRef<'_>, table: &str) -> StoreResult<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(integer) => Value::Integer(integer),
        ValueRef::Real(real) => Value::Real(real),
        ValueRef::Text(text) => Value::Text(String::from_utf8(text.to_vec()).map_err(|_| {
            StoreError::Database(format!("{table} holds a text that is not UTF-8"))
        })?),
        ValueRef::Blob(blob) => Value::Blob(blob.to_vec()),
    })
}
