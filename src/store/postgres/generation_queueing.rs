//! Queueing background generation on PostgreSQL, inside the transaction of the write that asks
//! for it (a generate call, a draft edit), so that a task exists exactly when that write is
//! committed. The write then rings the bell ([`ring_generation_bell`]): PostgreSQL delivers the
//! notification at commit, to every process listening (`generation.rs`), and drops it on a
//! rollback.

use deadpool_postgres::Transaction;

use super::statements::{execute, row};
use crate::schema::{DraftId, Timestamp};
use crate::store::generation::{new_task_id, RSAS_PER_RUN};
use crate::store::StoreResult;

/// The channel the generation workers of every process listen on.
pub(super) const GENERATION_CHANNEL: &str = "adthread_generation";

/// Inserts a pending task of `kind` (`rsas` with its ad group, or `extensions`); its id.
pub(super) async fn insert_task(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    kind: &str,
    ad_group_id: Option<i64>,
) -> StoreResult<String> {
    let task_id = new_task_id();
    execute(
        tx,
        "INSERT INTO generation_tasks (id, draft_id, kind, ad_group_id, status, date_added, \
         date_updated) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        &[
            &task_id,
            &draft_id.0,
            &kind,
            &ad_group_id,
            &Timestamp::now().0,
        ],
    )
    .await?;
    Ok(task_id)
}

/// Three new pending RSAs, last of the ad group's, that task `task_id` fills; their ids. The
/// caller holds the ad group's row (or its draft's) locked, so that two writers do not give
/// their RSAs the same positions.
pub(super) async fn new_pending_rsas(
    tx: &Transaction<'_>,
    ad_group_id: i64,
    task_id: &str,
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(RSAS_PER_RUN);
    for _ in 0..RSAS_PER_RUN {
        let inserted = row(
            tx,
            "INSERT INTO draft_rsas (ad_group_id, position, status, task_id) VALUES \
             ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM draft_rsas WHERE ad_group_id = $1), \
             'pending', $2) RETURNING id",
            &[&ad_group_id, &task_id],
        )
        .await?;
        ids.push(inserted.try_get(0)?);
    }
    Ok(ids)
}

/// Wakes the generation workers of every process once the transaction commits.
pub(super) async fn ring_generation_bell(tx: &Transaction<'_>) -> StoreResult<()> {
    execute(tx, "SELECT pg_notify($1, '')", &[&GENERATION_CHANNEL]).await?;
    Ok(())
}
