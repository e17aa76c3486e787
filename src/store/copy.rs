//! `adthread copy --to postgres://...` (issue 17): an SQLite database moved into an empty
//! PostgreSQL one, every table with its ids, in one PostgreSQL transaction. The SQLite side is
//! read in one read transaction (`sqlite/export.rs`), on a thread of its own that hands rows
//! over in batches through a bounded channel, so that a large table is never held whole; the
//! PostgreSQL side writes each table with one binary COPY (`postgres/import.rs`). Before the
//! transaction commits, the rows of every table are counted on both sides: nothing is kept
//! unless they all match.

use std::collections::BTreeSet;
use std::path::Path;

use tokio::sync::mpsc;

use super::postgres::import::{Import, TargetTable};
use super::postgres::{PostgresDatabase, PostgresError};
use super::sqlite::export::Snapshot;
use super::StoreError;
use crate::config::PostgresUrl;

/// Rows per batch handed from the SQLite reader to the PostgreSQL writer; with a channel of
/// `BATCHES_IN_FLIGHT`, at most a few thousand rows are in memory at once.
const BATCH_ROWS: usize = 1000;
const BATCHES_IN_FLIGHT: usize = 4;

/// Tables the migrations fill (the four assistants) on both sides: the copy replaces their rows
/// with SQLite's instead of requiring them empty, which a migrated database never is.
const SEEDED_BY_MIGRATIONS: &[&str] = &["assistants"];

/// One SQLite value as read, before it meets its PostgreSQL column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

pub type Row = Vec<Value>;

/// A table of the SQLite database as the copy needs it.
#[derive(Debug)]
pub struct SourceTable {
    pub name: String,
    /// In the table's order.
    pub columns: Vec<String>,
    /// The tables its foreign keys name: they are copied before it.
    pub references: BTreeSet<String>,
    pub rows: i64,
    /// The largest id AUTOINCREMENT ever handed out (`sqlite_sequence`), 0 when none: ids of
    /// deleted rows are never handed out again, on PostgreSQL either.
    pub highest_id_handed_out: i64,
}

/// One table's rows on each side once the copy is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub sqlite: i64,
    pub postgres: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// The two schemas do not describe the same tables and columns.
    #[error("the databases' schemas differ: {0}")]
    Schema(String),
    /// A value that its PostgreSQL column cannot hold, or a type the copy does not convert.
    #[error("{0}")]
    Value(String),
    #[error(
        "PostgreSQL's {0} table already has rows; copy only into an empty database (nothing was \
         changed)"
    )]
    NotEmpty(String),
    #[error("the foreign keys of {0} form a cycle; no order of tables satisfies them")]
    Cycle(String),
    #[error("the SQLite reader stopped before the end of {0}")]
    ReaderStopped(String),
    #[error("row counts differ between the two databases; nothing was committed")]
    CountsDiffer(Vec<TableCount>),
}

/// Copies the SQLite database at `source` into the empty PostgreSQL database at `target`, and
/// answers every table's row counts (equal on both sides, else [`CopyError::CountsDiffer`]).
pub async fn copy_to_postgres(
    source: &Path,
    target: &PostgresUrl,
) -> Result<Vec<TableCount>, CopyError> {
    let snapshot = Snapshot::open(source)?;
    let tables = in_foreign_key_order(snapshot.tables()?)?;
    let (database, _) = PostgresDatabase::open(target, 1).await?;
    let import = Import::begin(&database).await?;
    let targets = matched(&tables, import.tables().await?)?;
    import.lock(&names(&tables)).await?;
    refuse_rows_already_there(&import, &tables).await?;
    for table in &tables {
        if SEEDED_BY_MIGRATIONS.contains(&table.name.as_str()) {
            import.clear(&table.name).await?;
        }
    }
    let (batches, mut received) = mpsc::channel(BATCHES_IN_FLIGHT);
    let plan: Vec<(String, Vec<String>)> = targets
        .iter()
        .map(|target| (target.name.clone(), target.column_names()))
        .collect();
    let reader = std::thread::spawn(move || snapshot.send_rows(&plan, BATCH_ROWS, &batches));
    let written = write_tables(&import, &tables, &targets, &mut received).await;
    drop(received);
    let read = reader
        .join()
        .map_err(|_| StoreError::Database("the SQLite reader failed".into()))?;
    // A reader that failed is the cause of the writer's ReaderStopped: its error first.
    read?;
    written?;
    let counts = counted(&import, &tables).await?;
    if counts.iter().any(|count| count.sqlite != count.postgres) {
        return Err(CopyError::CountsDiffer(counts));
    }
    import.commit().await?;
    Ok(counts)
}

/// Each table's batches as the reader sends them, a table after another, then each identity
/// column's sequence moved past every id the table ever handed out.
async fn write_tables(
    import: &Import,
    tables: &[SourceTable],
    targets: &[TargetTable],
    received: &mut mpsc::Receiver<Option<Vec<Row>>>,
) -> Result<(), CopyError> {
    for (table, target) in tables.iter().zip(targets) {
        let mut writer = import.copy_in(target).await?;
        // The reader ends each table with None, so a table's end is never guessed from a count.
        loop {
            match received.recv().await {
                Some(Some(rows)) => writer.write(rows).await?,
                Some(None) => break,
                None => return Err(CopyError::ReaderStopped(table.name.clone())),
            }
        }
        writer.finish().await?;
        import
            .continue_ids_after(target, table.highest_id_handed_out)
            .await?;
    }
    Ok(())
}

async fn counted(import: &Import, tables: &[SourceTable]) -> Result<Vec<TableCount>, CopyError> {
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        counts.push(TableCount {
            table: table.name.clone(),
            sqlite: table.rows,
            postgres: import.count(&table.name).await?,
        });
    }
    Ok(counts)
}

async fn refuse_rows_already_there(
    import: &Import,
    tables: &[SourceTable],
) -> Result<(), CopyError> {
    for table in tables {
        if !SEEDED_BY_MIGRATIONS.contains(&table.name.as_str())
            && import.has_rows(&table.name).await?
        {
            return Err(CopyError::NotEmpty(table.name.clone()));
        }
    }
    Ok(())
}

fn names(tables: &[SourceTable]) -> Vec<String> {
    tables.iter().map(|table| table.name.clone()).collect()
}

/// PostgreSQL's tables in the order of `tables`, each with the same columns by name; an error
/// names the first table or column found on one side only. PostgreSQL's own tables beyond
/// SQLite's (its migrations' record) are not copied.
fn matched(
    tables: &[SourceTable],
    mut targets: Vec<TargetTable>,
) -> Result<Vec<TargetTable>, CopyError> {
    let mut ordered = Vec::with_capacity(tables.len());
    for table in tables {
        let at = targets
            .iter()
            .position(|target| target.name == table.name)
            .ok_or_else(|| {
                CopyError::Schema(format!("table {} is missing on PostgreSQL", table.name))
            })?;
        let target = targets.swap_remove(at);
        let source: BTreeSet<&str> = table.columns.iter().map(String::as_str).collect();
        let target_names = target.column_names();
        let on_target: BTreeSet<&str> = target_names.iter().map(String::as_str).collect();
        if let Some(column) = source.difference(&on_target).next() {
            return Err(CopyError::Schema(format!(
                "column {}.{column} is missing on PostgreSQL",
                table.name
            )));
        }
        if let Some(column) = on_target.difference(&source).next() {
            return Err(CopyError::Schema(format!(
                "column {}.{column} is missing on SQLite",
                table.name
            )));
        }
        ordered.push(target);
    }
    Ok(ordered)
}

/// The tables, each after every table its foreign keys name (a reference to itself aside).
fn in_foreign_key_order(mut waiting: Vec<SourceTable>) -> Result<Vec<SourceTable>, CopyError> {
    let mut ordered: Vec<SourceTable> = Vec::with_capacity(waiting.len());
    while !waiting.is_empty() {
        let placed: BTreeSet<&str> = ordered.iter().map(|table| table.name.as_str()).collect();
        let ready = waiting.iter().position(|table| {
            table
                .references
                .iter()
                .all(|name| *name == table.name || placed.contains(name.as_str()))
        });
        let Some(ready) = ready else {
            return Err(CopyError::Cycle(names(&waiting).join(", ")));
        };
        ordered.push(waiting.remove(ready));
    }
    Ok(ordered)
}

/// An SQL identifier in double quotes, as both backends' statements name tables and columns
/// read from the databases' catalogues.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `names` quoted and separated by commas.
pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| quoted(name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, references: &[&str]) -> SourceTable {
        SourceTable {
            name: name.into(),
            columns: vec!["id".into()],
            references: references.iter().map(|name| name.to_string()).collect(),
            rows: 0,
            highest_id_handed_out: 0,
        }
    }

    #[test]
    fn a_table_comes_after_the_tables_it_references() {
        let tables = vec![
            table("draft_rsas", &["draft_ad_groups", "generation_tasks"]),
            table("generation_tasks", &["draft_ad_groups"]),
            table("draft_ad_groups", &["draft_ad_groups"]),
        ];
        let ordered = in_foreign_key_order(tables).unwrap();
        assert_eq!(
            names(&ordered),
            ["draft_ad_groups", "generation_tasks", "draft_rsas"]
        );
    }

    #[test]
    fn a_cycle_of_foreign_keys_is_refused_naming_its_tables() {
        let tables = vec![table("a", &["b"]), table("b", &["a"]), table("c", &[])];
        let err = in_foreign_key_order(tables).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the foreign keys of a, b form a cycle; no order of tables satisfies them"
        );
    }

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quoted("position"), "\"position\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
