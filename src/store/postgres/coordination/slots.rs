//! Answers in flight and their quota reservations on PostgreSQL: one row per answer (or
//! background generation call), so every process counts the company's answers and
//! reservations from all of them. Taking one runs in a transaction holding an advisory lock on
//! the company, so two processes cannot both take the last place. The row is deleted when the
//! answer ends; a process that died cannot, so each row expires after a lifetime the caller
//! sets well past its longest answer, and expired rows count for nothing.

use super::{lock_key, micros};
use crate::schema::CompanyId;
use crate::store::postgres::statements::{execute, row};
use crate::store::postgres::PostgresDatabase;
use crate::store::StoreResult;

/// The first key of the advisory lock on a company's answers ("slot").
const SLOTS_LOCK: i32 = 0x736c_6f74;

/// One answer's row; deleted when dropped.
pub struct SharedSlot {
    id: i64,
    /// Tokens reserved by the company's other answers when this one was admitted.
    pub reserved_by_others: u64,
    db: PostgresDatabase,
}

/// What to take: a place among the company's `limit` answers (None: a background call, which
/// takes no place) with `reserved_tokens`, for at most `lifetime`.
pub struct SlotRequest {
    pub company_id: CompanyId,
    pub limit: Option<u32>,
    pub reserved_tokens: u64,
    pub lifetime: std::time::Duration,
}

impl PostgresDatabase {
    /// Takes a slot, or None when the request wants a place and all `limit` are taken.
    pub(crate) async fn take_slot(&self, request: SlotRequest) -> StoreResult<Option<SharedSlot>> {
        let company_id = request.company_id.0;
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        execute(
            &tx,
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&SLOTS_LOCK, &lock_key(&company_id.to_be_bytes())],
        )
        .await?;
        let load = row(
            &tx,
            "SELECT coalesce(sum(answers), 0)::bigint, coalesce(sum(reserved_tokens), 0)::bigint \
             FROM answer_slots WHERE company_id = $1 AND expires_at > clock_timestamp()",
            &[&company_id],
        )
        .await?;
        let (answers, reserved): (i64, i64) = (load.try_get(0)?, load.try_get(1)?);
        if request
            .limit
            .is_some_and(|limit| answers >= i64::from(limit))
        {
            return Ok(None);
        }
        let id: i64 = row(
            &tx,
            "INSERT INTO answer_slots (company_id, answers, reserved_tokens, expires_at) \
             VALUES ($1, $2, $3, clock_timestamp() + $4::bigint * interval '1 microsecond') RETURNING id",
            &[
                &company_id,
                &i32::from(request.limit.is_some()),
                &i64::try_from(request.reserved_tokens).unwrap_or(i64::MAX),
                &micros(request.lifetime),
            ],
        )
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(Some(SharedSlot {
            id,
            reserved_by_others: u64::try_from(reserved).unwrap_or(0),
            db: self.clone(),
        }))
    }
}

impl Drop for SharedSlot {
    /// Without a runtime to delete it on (the process is ending), the row expires.
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(give_back(self.db.clone(), self.id));
        }
    }
}

async fn give_back(db: PostgresDatabase, id: i64) {
    let deleted = async {
        let client = db.connection().await?;
        execute(&client, "DELETE FROM answer_slots WHERE id = $1", &[&id]).await?;
        StoreResult::Ok(())
    };
    if let Err(err) = deleted.await {
        tracing::warn!(error = %err, "cannot give an answer's slot back; it will expire");
    }
}
