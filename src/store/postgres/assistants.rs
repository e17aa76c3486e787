//! The four assistants and their instructions, on PostgreSQL.

use tokio_postgres::Row;

use super::statements::{optional_row, rows};
use super::PostgresDatabase;
use crate::schema::{Assistant, AssistantType, Timestamp};
use crate::store::AssistantStore;
use crate::store::{AssistantRecord, StoreError, StoreResult};

const ASSISTANT_COLUMNS: &str = "id, assistant_type, date_added, date_updated, instructions";

fn assistant_from_row(row: &Row) -> StoreResult<AssistantRecord> {
    let kind: String = row.try_get(1)?;
    Ok((
        Assistant {
            id: row.try_get(0)?,
            assistant_type: AssistantType::parse(&kind).unwrap_or(AssistantType::General),
            date_added: Timestamp(row.try_get(2)?),
            date_updated: Timestamp(row.try_get(3)?),
        },
        row.try_get(4)?,
    ))
}

impl AssistantStore for PostgresDatabase {
    /// In the order the schema made them (SQLite answers by rowid), which is
    /// `AssistantType::ALL`'s: PostgreSQL has no insertion order to go by.
    async fn assistants(&self) -> StoreResult<Vec<AssistantRecord>> {
        let order: Vec<&str> = AssistantType::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect();
        let client = self.connection().await?;
        rows(
            &client,
            &format!(
                "SELECT {ASSISTANT_COLUMNS} FROM assistants \
                 ORDER BY array_position($1::TEXT[], assistant_type)"
            ),
            &[&order],
        )
        .await?
        .iter()
        .map(assistant_from_row)
        .collect()
    }

    /// None restores the built-in instructions. One statement: the last of two changes at once
    /// is the one kept, as on SQLite.
    async fn set_instructions(
        &self,
        assistant_id: String,
        instructions: Option<String>,
    ) -> StoreResult<AssistantRecord> {
        let client = self.connection().await?;
        let updated = optional_row(
            &client,
            &format!(
                "UPDATE assistants SET instructions = $2, date_updated = $3 WHERE id = $1 \
                 RETURNING {ASSISTANT_COLUMNS}"
            ),
            &[&assistant_id, &instructions, &Timestamp::now().0],
        )
        .await?;
        assistant_from_row(
            &updated.ok_or_else(|| StoreError::NotFound("Assistant not found".into()))?,
        )
    }
}
