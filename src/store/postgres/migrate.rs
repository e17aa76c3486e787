//! Numbered migrations from `schema.postgres.sql`, each recorded with the SHA-256 of its text.
//! Several processes may start at once: the first to take the advisory lock applies what is
//! missing, the others wait for it and then find nothing to do.

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::QueryError;
use crate::store::migration_file::{self, Migration};

const SCHEMA: &str = include_str!("../../../schema.postgres.sql");

/// Any fixed number will do, as long as every adthread process takes the same one ("adthread"
/// in ASCII).
const MIGRATION_LOCK: i64 = 0x6164_7468_7265_6164;

pub struct MigrationReport {
    /// What this start applied, in order; empty when the schema was up to date.
    pub applied: Vec<u32>,
    /// The schema's migration number now.
    pub version: u32,
}

pub(super) async fn apply(client: &mut Client) -> Result<MigrationReport, QueryError> {
    apply_migrations(client, &migration_file::parse(SCHEMA)).await
}

/// All pending migrations in one transaction: PostgreSQL's DDL is transactional, so a failed one
/// leaves the schema as it was, and the transaction's lock goes with it.
async fn apply_migrations(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<MigrationReport, QueryError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS adthread_migrations (
             version    INTEGER PRIMARY KEY,
             title      TEXT NOT NULL,
             checksum   TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let recorded: Vec<(u32, String)> = tx
        .query(
            "SELECT version, checksum FROM adthread_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get::<_, i32>(0) as u32, row.get(1)))
        .collect();
    verify(&recorded, migrations).map_err(QueryError::Refused)?;
    let mut applied = Vec::new();
    for migration in migrations
        .iter()
        .filter(|migration| !recorded.iter().any(|(n, _)| *n == migration.number))
    {
        tx.batch_execute(&migration.sql).await.map_err(|err| {
            QueryError::Refused(format!(
                "PostgreSQL migration {} ({}) failed: {}",
                migration.number,
                migration.title,
                super::reason(&err)
            ))
        })?;
        tx.execute(
            "INSERT INTO adthread_migrations (version, title, checksum) VALUES ($1, $2, $3)",
            &[
                &(migration.number as i32),
                &migration.title,
                &checksum(&migration.sql),
            ],
        )
        .await?;
        applied.push(migration.number);
    }
    tx.commit().await?;
    for number in &applied {
        tracing::info!(version = number, "applied PostgreSQL migration");
    }
    Ok(MigrationReport {
        applied,
        version: migrations.last().map_or(0, |migration| migration.number),
    })
}

/// Each recorded migration must be one this adthread has, with the same text.
fn verify(recorded: &[(u32, String)], migrations: &[Migration]) -> Result<(), String> {
    for (number, recorded_checksum) in recorded {
        let Some(migration) = migrations.iter().find(|m| m.number == *number) else {
            return Err(format!(
                "the PostgreSQL database has migration {number}, newer than this adthread \
                 knows ({}); run a newer adthread",
                migrations.last().map_or(0, |m| m.number)
            ));
        };
        if checksum(&migration.sql) != *recorded_checksum {
            return Err(format!(
                "PostgreSQL migration {number} ({}) was applied from a different text than \
                 this adthread's schema.postgres.sql has: a migration must not change once \
                 applied (add a new one instead); refusing to go on",
                migration.title
            ));
        }
    }
    Ok(())
}

fn checksum(sql: &str) -> String {
    format!("{:x}", Sha256::digest(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(number: u32, sql: &str) -> Migration {
        Migration {
            number,
            title: format!("m{number}"),
            sql: sql.into(),
        }
    }

    #[test]
    fn recorded_migrations_must_be_known_and_unchanged() {
        let known = [migration(1, "A;"), migration(2, "B;")];
        assert!(verify(&[(1, checksum("A;"))], &known).is_ok());
        let edited = verify(&[(1, checksum("A; -- edited"))], &known).unwrap_err();
        assert!(edited.contains("migration 1 (m1)"), "{edited}");
        let newer = verify(&[(3, checksum("C;"))], &known).unwrap_err();
        assert!(newer.contains("newer than this adthread"), "{newer}");
    }
}
