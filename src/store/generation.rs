//! Queueing background generation. A task is a row of `generation_tasks`; the RSAs it fills
//! name it in their `task_id`. Queueing happens inside a write, so a task exists exactly when
//! the change that asked for it is committed; the store then wakes the generation worker
//! (`Store::generation_bell`) once the write is answered.

use rand::RngCore;
use rusqlite::{params, Connection};

use super::write::Write;
use super::StoreResult;
use crate::schema::{DraftId, Timestamp};

/// How an ad group's RSAs are (re)generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaRun {
    /// Three new RSAs, filled by the task (the generate endpoint).
    ThreeNew,
    /// After a change to the ad group's name or keywords: the RSAs no person wrote or edited
    /// are filled again (three new ones when the group has no RSA at all); RSAs a person
    /// wrote or edited are left alone, and when only those exist nothing is queued.
    Refresh,
}

/// What was queued: the task and the RSAs it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRsas {
    pub task_id: String,
    pub rsa_ids: Vec<i64>,
}

const RSAS_PER_RUN: usize = 3;

/// A task id: `task_` and 24 hex digits, time first so that ids sort by creation.
fn new_task_id() -> String {
    let millis = chrono::Utc::now().timestamp_millis() as u64 & 0xffff_ffff_ffff;
    let mut random = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut random);
    let random = random
        .iter()
        .fold(0u64, |all, byte| all << 8 | u64::from(*byte));
    format!("task_{millis:012x}{random:012x}")
}

/// Inserts a pending task of `kind` (`rsas` with its ad group, or `extensions`).
fn insert_task(
    conn: &Connection,
    draft_id: DraftId,
    kind: &str,
    ad_group_id: Option<i64>,
) -> StoreResult<String> {
    let task_id = new_task_id();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO generation_tasks (id, draft_id, kind, ad_group_id, status, date_added, \
         date_updated) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
    )?
    .execute(params![task_id, draft_id, kind, ad_group_id, now.0])?;
    Ok(task_id)
}

fn new_pending_rsas(conn: &Connection, ad_group_id: i64, task_id: &str) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(RSAS_PER_RUN);
    for _ in 0..RSAS_PER_RUN {
        conn.prepare_cached(
            "INSERT INTO draft_rsas (ad_group_id, position, status, task_id) VALUES \
             (?1, (SELECT COALESCE(MAX(position), -1) + 1 FROM draft_rsas WHERE ad_group_id = ?1), \
             'pending', ?2)",
        )?
        .execute(params![ad_group_id, task_id])?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

/// Queues the generation of ad group `ad_group_id`'s RSAs (of draft `draft_id`, whose access
/// the caller has checked) and records that the worker has work. A task that an RSA no longer
/// names (a newer task took it over, or a person edited it) writes nothing to it.
pub(super) fn queue_rsas(
    write: &mut Write,
    draft_id: DraftId,
    ad_group_id: i64,
    run: RsaRun,
) -> StoreResult<Option<QueuedRsas>> {
    let refreshable: Vec<i64> = match run {
        RsaRun::ThreeNew => Vec::new(),
        RsaRun::Refresh => write
            .prepare_cached(
                "SELECT id FROM draft_rsas WHERE ad_group_id = ?1 AND edited_at IS NULL \
                 ORDER BY position, id",
            )?
            .query_map([ad_group_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?,
    };
    let has_rsas = run == RsaRun::Refresh
        && write
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM draft_rsas WHERE ad_group_id = ?1)")?
            .query_row([ad_group_id], |row| row.get::<_, bool>(0))?;
    if has_rsas && refreshable.is_empty() {
        return Ok(None);
    }
    let task_id = insert_task(write, draft_id, "rsas", Some(ad_group_id))?;
    let rsa_ids = if has_rsas {
        let mut mark = write.prepare_cached(
            "UPDATE draft_rsas SET status = 'pending', error = NULL, task_id = ?2 WHERE id = ?1",
        )?;
        for id in &refreshable {
            mark.execute(params![id, task_id])?;
        }
        refreshable
    } else {
        new_pending_rsas(write, ad_group_id, &task_id)?
    };
    write.generation_queued();
    Ok(Some(QueuedRsas { task_id, rsa_ids }))
}

/// Queues the generation of draft `draft_id`'s extensions (sitelinks, callouts, structured
/// snippets) and records that the worker has work; the new task is the draft's extensions task.
// Called by the generation endpoints (branch c-gen); unused until they are merged.
#[allow(dead_code)]
pub(super) fn queue_extensions(write: &mut Write, draft_id: DraftId) -> StoreResult<String> {
    let task_id = insert_task(write, draft_id, "extensions", None)?;
    write.generation_queued();
    Ok(task_id)
}
