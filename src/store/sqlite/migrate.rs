//! Numbered migrations from `schema.sql`, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use super::{StoreError, StoreResult};

const SCHEMA: &str = include_str!("../../../schema.sql");
/// A migration starts at a line `-- migration N: title` and runs to the next one.
fn migrations() -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = Vec::new();
    for line in SCHEMA.lines() {
        let number = line
            .strip_prefix("-- migration ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|digits| digits.trim().parse().ok());
        match (number, found.last_mut()) {
            (Some(number), _) => found.push((number, String::new())),
            (None, Some((_, sql))) => {
                sql.push_str(line);
                sql.push('\n');
            }
            (None, None) => {}
        }
    }
    found
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
    fn migrations_are_numbered_from_one_without_gaps() {
        let numbers: Vec<u32> = migrations().iter().map(|(n, _)| *n).collect();
        let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
        assert_eq!(numbers, expected);
    }

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
