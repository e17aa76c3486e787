//! Numbered migrations from `schema.sql`, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use super::{StoreError, StoreResult};
use crate::store::migration_file::{self, Migration};

const SCHEMA: &str = include_str!("../../../schema.sql");

/// A migration holding this line runs with foreign keys off (see `apply_one`).
const FOREIGN_KEYS_OFF: &str = "-- with foreign keys off";

/// A table rebuild (SQLite's 12-step procedure) drops and recreates tables that others
/// reference: with foreign keys on, dropping one would delete its children's rows.
fn needs_foreign_keys_off(migration: &Migration) -> bool {
    migration
        .sql
        .lines()
        .any(|line| line.trim() == FOREIGN_KEYS_OFF)
}

fn migrations() -> Vec<Migration> {
    migration_file::parse(SCHEMA)
}

pub fn latest_version() -> u32 {
    migrations().last().map_or(0, |migration| migration.number)
}

pub fn apply(conn: &mut Connection) -> StoreResult<()> {
    let current = user_version(conn)?;
    let latest = latest_version();
    if current > latest {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {current}, newer than this adthread knows \
             ({latest}); run a newer adthread or restore a backup"
        )));
    }
    for migration in migrations().into_iter().filter(|m| m.number > current) {
        apply_one(conn, &migration)?;
        tracing::info!(version = migration.number, "applied database migration");
    }
    Ok(())
}

/// Foreign keys can only be switched outside a transaction: they are turned off around the
/// migration's transaction, and checked whole before it commits.
fn apply_one(conn: &mut Connection, migration: &Migration) -> StoreResult<()> {
    if !needs_foreign_keys_off(migration) {
        return run(conn, migration);
    }
    let enforced = foreign_keys_enforced(conn)?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = if foreign_keys_enforced(conn)? {
        Err(StoreError::Migration(format!(
            "migration {}: cannot turn foreign keys off",
            migration.number
        )))
    } else {
        run(conn, migration)
    };
    conn.pragma_update(None, "foreign_keys", enforced)?;
    result
}

fn run(conn: &mut Connection, migration: &Migration) -> StoreResult<()> {
    let number = migration.number;
    let failed =
        |err: rusqlite::Error| StoreError::Migration(format!("migration {number} failed: {err}"));
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process starting on the same database may have applied it while this one
    // waited for the lock: a rebuild run twice would forget the ids its first run kept.
    if user_version(&tx)? >= number {
        return Ok(());
    }
    tx.execute_batch(&migration.sql).map_err(failed)?;
    if needs_foreign_keys_off(migration) {
        refuse_broken_foreign_keys(&tx, number)?;
    }
    tx.pragma_update(None, "user_version", number)?;
    tx.commit()?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

fn foreign_keys_enforced(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))
}

/// What `PRAGMA foreign_key_check` finds, as an error naming the first few rows.
fn refuse_broken_foreign_keys(conn: &Connection, number: u32) -> StoreResult<()> {
    let mut check = conn.prepare("PRAGMA foreign_key_check")?;
    let broken = check
        .query_map([], |row| {
            Ok(format!(
                "{} row {} -> {}",
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                row.get::<_, String>(2)?
            ))
        })?
        .take(5)
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if broken.is_empty() {
        return Ok(());
    }
    Err(StoreError::Migration(format!(
        "migration {number} would leave rows referring to missing ones ({}); nothing was \
         changed. `adthread check` lists them",
        broken.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        let err = apply(&mut conn).unwrap_err();
        assert!(
            err.to_string().contains("newer than this adthread"),
            "{err}"
        );
    }

    #[test]
    fn applying_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), latest_version());
    }

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
    }

    /// A parent with two rows, each with a child that goes with it (ON DELETE CASCADE).
    fn parent_and_children() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);
             INSERT INTO parent VALUES (1), (2);
             INSERT INTO child VALUES (1), (2);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        conn
    }

    /// Migration 2 rebuilding `parent` with the rows `keep` selects.
    fn rebuild_parent(keep: &str) -> Migration {
        Migration {
            number: 2,
            title: "rebuild".to_string(),
            sql: format!(
                "{FOREIGN_KEYS_OFF}
                 CREATE TABLE new_parent (id INTEGER PRIMARY KEY AUTOINCREMENT);
                 INSERT INTO new_parent SELECT * FROM parent WHERE {keep};
                 DROP TABLE parent;
                 ALTER TABLE new_parent RENAME TO parent;"
            ),
        }
    }

    #[test]
    fn a_rebuild_runs_with_foreign_keys_off_and_turns_them_back_on() {
        let mut conn = parent_and_children();
        apply_one(&mut conn, &rebuild_parent("1")).unwrap();
        // With foreign keys on, dropping the old parent would have deleted every child.
        assert_eq!(count(&conn, "child"), 2);
        assert_eq!(count(&conn, "parent"), 2);
        assert!(foreign_keys_enforced(&conn).unwrap());
        assert_eq!(user_version(&conn).unwrap(), 2);
    }

    #[test]
    fn a_rebuild_that_breaks_a_foreign_key_is_refused_and_changes_nothing() {
        let mut conn = parent_and_children();
        let err = apply_one(&mut conn, &rebuild_parent("id <> 2")).unwrap_err();
        assert!(err.to_string().contains("child row"), "{err}");
        assert_eq!(count(&conn, "parent"), 2);
        assert_eq!(count(&conn, "child"), 2);
        assert!(foreign_keys_enforced(&conn).unwrap());
        assert_eq!(user_version(&conn).unwrap(), 1);
    }

    /// The rows of `sqlite_master` that say what the schema is (not where it is stored).
    fn schema_of(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
        conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn an_upgraded_database_has_the_schema_of_a_new_one() {
        let mut new = Connection::open_in_memory().unwrap();
        apply(&mut new).unwrap();
        for before in 1..latest_version() {
            let mut old = Connection::open_in_memory().unwrap();
            for migration in migrations().iter().take_while(|m| m.number <= before) {
                old.execute_batch(&migration.sql).unwrap();
            }
            old.pragma_update(None, "user_version", before).unwrap();
            apply(&mut old).unwrap();
            assert_eq!(schema_of(&old), schema_of(&new), "upgraded from {before}");
        }
    }

    #[test]
    fn a_migration_another_process_applied_meanwhile_is_not_run_again() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        let seq = |conn: &Connection| -> i64 {
            conn.query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'companies'",
                [],
                |row| row.get(0),
            )
            .unwrap()
        };
        conn.execute_batch(
            "INSERT INTO companies (id, name, date_added, date_updated) VALUES (7, 'A', '', '');
             DELETE FROM companies;",
        )
        .unwrap();
        assert_eq!(seq(&conn), 7);
        // As a process that read the version before the other one committed would.
        let rebuild = migrations()
            .into_iter()
            .find(|migration| migration.number == 5)
            .unwrap();
        assert!(needs_foreign_keys_off(&rebuild));
        apply_one(&mut conn, &rebuild).unwrap();
        assert_eq!(seq(&conn), 7, "the rebuild ran again and forgot id 7");
    }
}
