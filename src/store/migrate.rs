//! Numbered migrations from `schema.sql`, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use super::{StoreError, StoreResult};

const SCHEMA: &str = include_str!("../../schema.sql");
fn migrations() -> Vec<(u32, String)> {
    super::migration_file::parse(SCHEMA)
        .into_iter()
        .map(|migration| (migration.number, migration.sql))
        .collect()
}

pub fn latest_version() -> u32 {
    migrations().last().map_or(0, |(number, _)| *number)
}

pub fn apply(conn: &mut Connection) -> StoreResult<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let latest = latest_version();
    if current > latest {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {current}, newer than this adthread knows \
             ({latest}); run a newer adthread or restore a backup"
        )));
    }
    for (number, sql) in migrations().into_iter().filter(|(n, _)| *n > current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(&sql)
            .map_err(|err| StoreError::Migration(format!("migration {number} failed: {err}")))?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(version = number, "applied database migration");
    }
    Ok(())
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
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, latest_version());
    }
}
