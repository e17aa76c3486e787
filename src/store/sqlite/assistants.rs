//! The four assistants and their instructions.

use rusqlite::{params, Connection, Row};

use super::{OptionalRow, SqliteStore, StoreResult};
use crate::schema::{Assistant, AssistantType, Timestamp};
use crate::store::{AssistantRecord, AssistantStore};

fn assistant_from_row(row: &Row) -> rusqlite::Result<AssistantRecord> {
    let kind: String = row.get(1)?;
    Ok((
        Assistant {
            id: row.get(0)?,
            assistant_type: AssistantType::parse(&kind).unwrap_or(AssistantType::General),
            date_added: Timestamp(row.get(2)?),
            date_updated: Timestamp(row.get(3)?),
        },
        row.get(4)?,
    ))
}

const SELECT_ASSISTANTS: &str =
    "SELECT id, assistant_type, date_added, date_updated, instructions FROM assistants";

fn assistant_by_id(conn: &Connection, assistant_id: &str) -> StoreResult<AssistantRecord> {
    conn.prepare_cached(&format!("{SELECT_ASSISTANTS} WHERE id = ?1"))?
        .query_row([assistant_id], assistant_from_row)
        .or_not_found(|| "Assistant not found".into())
}

impl AssistantStore for SqliteStore {
    async fn assistants(&self) -> StoreResult<Vec<AssistantRecord>> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached(&format!("{SELECT_ASSISTANTS} ORDER BY rowid"))?;
            let rows = statement.query_map([], assistant_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_instructions(
        &self,
        assistant_id: String,
        instructions: Option<String>,
    ) -> StoreResult<AssistantRecord> {
        self.write(move |conn| {
            assistant_by_id(conn, &assistant_id)?;
            conn.all_threads_changed();
            conn.prepare_cached(
                "UPDATE assistants SET instructions = ?2, date_updated = ?3 WHERE id = ?1",
            )?
            .execute(params![assistant_id, instructions, Timestamp::now().0])?;
            assistant_by_id(conn, &assistant_id)
        })
        .await
    }
}
