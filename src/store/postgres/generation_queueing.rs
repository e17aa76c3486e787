//! Queueing background generation on PostgreSQL, inside the transaction of the write that asks
//! for it (a generate call, a draft edit), so that a task exists exactly when that write is
//! committed. The write then rings the bell ([`ring_generation_bell`]): PostgreSQL delivers the
//! notification at commit, to every process listening (`generation.rs`), and drops it on a
//! rollback.

use deadpool_postgres::Transaction;

use super::statements::{execute, row, rows};
use crate::schema::{DraftId, Timestamp};
use crate::store::generation::{new_task_id, rsa_targets, RsaRun, RsaTargets, RSAS_PER_RUN};
use crate::store::{QueuedRsas, StoreResult};

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

/// Queues the generation of ad group `ad_group_id`'s RSAs (of draft `draft_id`, whose access
/// the caller has checked and whose row it holds locked) and rings the bell. A task that an RSA
/// no longer names (a newer task took it over, or a person edited it) writes nothing to it.
/// None when a refresh finds only RSAs a person wrote.
pub(super) async fn queue_rsas(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    ad_group_id: i64,
    run: RsaRun,
) -> StoreResult<Option<QueuedRsas>> {
    let (has_rsas, refreshable) = match run {
        RsaRun::ThreeNew => (false, Vec::new()),
        RsaRun::Refresh => {
            let found = rows(
                tx,
                "SELECT id, edited_at IS NULL FROM draft_rsas WHERE ad_group_id = $1 \
                 ORDER BY position, id",
                &[&ad_group_id],
            )
            .await?;
            let mut refreshable = Vec::new();
            for rsa in &found {
                if rsa.try_get::<_, bool>(1)? {
                    refreshable.push(rsa.try_get(0)?);
                }
            }
            (!found.is_empty(), refreshable)
        }
    };
    let Some(targets) = rsa_targets(run, has_rsas, refreshable) else {
        return Ok(None);
    };
    let task_id = insert_task(tx, draft_id, "rsas", Some(ad_group_id)).await?;
    let rsa_ids = match targets {
        RsaTargets::Existing(refreshable) => {
            execute(
                tx,
                "UPDATE draft_rsas SET status = 'pending', error = NULL, task_id = $2 \
                 WHERE id = ANY($1)",
                &[&refreshable, &task_id],
            )
            .await?;
            refreshable
        }
        RsaTargets::New => new_pending_rsas(tx, ad_group_id, &task_id).await?,
    };
    ring_generation_bell(tx).await?;
    Ok(Some(QueuedRsas { task_id, rsa_ids }))
}
