//! Queueing background generation. A task is a row of `generation_tasks`; the RSAs it fills
//! name it in their `task_id`. Queueing happens inside a write, so a task exists exactly when
//! the change that asked for it is committed; the store then wakes the generation worker
//! (`SqliteStore::generation_bell`) once the write is answered.

use rusqlite::{params, Connection, OptionalExtension};

use super::access::visible_draft;
use super::write::Write;
use super::{OptionalRow, SqliteStore, StoreError, StoreResult};
use crate::schema::{AdText, CompanyId, DraftId, GenerationStatus, Timestamp};
pub(super) use crate::store::generation::RsaRun;
use crate::store::generation::{
    brief_profile, cut_off_too_often, extension_rows, job_work, new_task_id, rsa_targets,
    ExtensionRows, RsaTargets, INTERRUPTED, RSAS_PER_RUN, UNSUPPORTED_KIND,
};
use crate::store::{
    GeneratedExtensions, GenerationBrief, GenerationJob, GenerationQueue, GenerationUsage, JobWork,
    QueuedRsas, Resumed, Viewer,
};

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
    let Some(targets) = rsa_targets(run, has_rsas, refreshable) else {
        return Ok(None);
    };
    let task_id = insert_task(write, draft_id, "rsas", Some(ad_group_id))?;
    let rsa_ids = match targets {
        RsaTargets::Existing(refreshable) => {
            let mut mark = write.prepare_cached(
                "UPDATE draft_rsas SET status = 'pending', error = NULL, task_id = ?2 WHERE id = ?1",
            )?;
            for id in &refreshable {
                mark.execute(params![id, task_id])?;
            }
            refreshable
        }
        RsaTargets::New => new_pending_rsas(write, ad_group_id, &task_id)?,
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

// ---------------------------------------------------------------------------------------------
// The generate endpoints, and the worker's side: claim, finish, fail, resume.

/// The ad group `ad_group_id`, when it is one of the draft's.
fn draft_ad_group(conn: &Connection, draft_id: DraftId, ad_group_id: i64) -> StoreResult<()> {
    conn.prepare_cached("SELECT 1 FROM draft_ad_groups WHERE id = ?1 AND draft_id = ?2")?
        .query_row(params![ad_group_id, draft_id], |_| Ok(()))
        .or_not_found(|| format!("Ad group {ad_group_id} not found in this campaign draft"))
}

fn charge(conn: &Connection, usage: GenerationUsage) -> StoreResult<()> {
    if usage.prompt_tokens == 0 && usage.completion_tokens == 0 {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO generation_usage (company_id, prompt_tokens, completion_tokens, date_added) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        usage.company_id,
        usage.prompt_tokens,
        usage.completion_tokens,
        Timestamp::now().0
    ])?;
    Ok(())
}

fn brief(
    conn: &Connection,
    draft_id: DraftId,
    ad_group_id: Option<i64>,
) -> StoreResult<GenerationBrief> {
    let (company_name, profile, draft_name, campaign_name, website_url) = conn
        .prepare_cached(
            "SELECT c.name, p.profile, d.name, d.campaign_name, d.website_url \
             FROM campaign_drafts d JOIN companies c ON c.id = d.company_id \
             LEFT JOIN business_profiles p ON p.company_id = d.company_id WHERE d.id = ?1",
        )?
        .query_row([draft_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
            ))
        })?;
    let mut brief = GenerationBrief {
        company_name,
        profile: brief_profile(profile),
        draft_name,
        campaign_name,
        website_url,
        ad_group_name: None,
        keywords: Vec::new(),
    };
    if let Some(ad_group_id) = ad_group_id {
        brief.ad_group_name = conn
            .prepare_cached("SELECT name FROM draft_ad_groups WHERE id = ?1")?
            .query_row([ad_group_id], |row| row.get(0))
            .optional()?;
        brief.keywords = conn
            .prepare_cached(
                "SELECT text FROM draft_keywords WHERE ad_group_id = ?1 AND match_type != 'NEGATIVE' \
                 ORDER BY position, id LIMIT 200",
            )?
            .query_map([ad_group_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(brief)
}

/// Fails the task and whatever RSAs it still holds, with `error`.
fn fail_task(conn: &Connection, task_id: &str, error: &str) -> StoreResult<()> {
    let now = Timestamp::now();
    conn.prepare_cached(
        "UPDATE draft_rsas SET status = 'failed', error = ?2 WHERE task_id = ?1 \
         AND edited_at IS NULL AND status IN ('pending', 'in_progress')",
    )?
    .execute(params![task_id, error])?;
    conn.prepare_cached(
        "UPDATE generation_tasks SET status = 'failed', error = ?2, date_updated = ?3 \
         WHERE id = ?1 AND status IN ('pending', 'in_progress')",
    )?
    .execute(params![task_id, error, now.0])?;
    Ok(())
}

impl GenerationQueue for SqliteStore {
    async fn generate_rsas(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
    ) -> StoreResult<QueuedRsas> {
        self.write(move |write| {
            visible_draft(write, viewer, draft_id)?;
            draft_ad_group(write, draft_id, ad_group_id)?;
            queue_rsas(write, draft_id, ad_group_id, RsaRun::ThreeNew)?
                .ok_or_else(|| StoreError::Conflict("No RSA could be queued".into()))
        })
        .await
    }

    async fn generate_extensions(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
    ) -> StoreResult<(String, GenerationStatus)> {
        self.write(move |write| {
            visible_draft(write, viewer, draft_id)?;
            let running: Option<(String, String)> = write
                .prepare_cached(
                    "SELECT id, status FROM generation_tasks WHERE draft_id = ?1 \
                     AND kind = 'extensions' AND status IN ('pending', 'in_progress') \
                     ORDER BY date_added DESC, rowid DESC LIMIT 1",
                )?
                .query_row([draft_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some((task_id, status)) = running {
                let status = GenerationStatus::parse(&status).unwrap_or(GenerationStatus::Pending);
                return Ok((task_id, status));
            }
            Ok((
                queue_extensions(write, draft_id)?,
                GenerationStatus::Pending,
            ))
        })
        .await
    }

    async fn generation_target(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: Option<i64>,
    ) -> StoreResult<()> {
        self.read(move |conn| {
            visible_draft(conn, viewer, draft_id)?;
            match ad_group_id {
                Some(ad_group_id) => draft_ad_group(conn, draft_id, ad_group_id),
                None => Ok(()),
            }
        })
        .await
    }

    async fn resume_generation(&self, max_attempts: u32) -> StoreResult<Resumed> {
        self.write(move |write| {
            let exhausted: Vec<(String, i64)> = write
                .prepare_cached(
                    "SELECT id, attempts FROM generation_tasks WHERE status = 'in_progress' \
                     AND attempts >= ?1",
                )?
                .query_map([max_attempts], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (task_id, attempts) in &exhausted {
                fail_task(write, task_id, &cut_off_too_often(*attempts))?;
            }
            let resumed = write
                .prepare_cached(
                    "UPDATE generation_tasks SET status = 'pending' WHERE status = 'in_progress'",
                )?
                .execute([])?;
            write
                .prepare_cached(
                    "UPDATE draft_rsas SET status = 'pending' WHERE status = 'in_progress' \
                     AND task_id IN (SELECT id FROM generation_tasks WHERE status = 'pending')",
                )?
                .execute([])?;
            write
                .prepare_cached(
                    "UPDATE draft_rsas SET status = 'failed', error = ?1 \
                     WHERE status IN ('pending', 'in_progress') AND (task_id IS NULL OR task_id \
                     NOT IN (SELECT id FROM generation_tasks WHERE status = 'pending'))",
                )?
                .execute([INTERRUPTED])?;
            if resumed > 0 {
                write.generation_queued();
            }
            Ok(Resumed {
                resumed,
                failed: exhausted.len(),
            })
        })
        .await
    }

    async fn claim_generation_task(&self) -> StoreResult<Option<GenerationJob>> {
        // Looked at on a reader first: the worker's looks at an idle queue cost no write.
        let pending = self
            .read(|conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM generation_tasks WHERE status = 'pending')",
                    )?
                    .query_row([], |row| row.get::<_, bool>(0))?)
            })
            .await?;
        if !pending {
            return Ok(None);
        }
        self.write(move |write| {
            let found: Option<(String, DraftId, String, Option<i64>, u32, CompanyId)> = write
                .prepare_cached(
                    "SELECT t.id, t.draft_id, t.kind, t.ad_group_id, t.attempts, d.company_id \
                     FROM generation_tasks t JOIN campaign_drafts d ON d.id = t.draft_id \
                     WHERE t.status = 'pending' ORDER BY t.date_added, t.rowid LIMIT 1",
                )?
                .query_row([], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        CompanyId(row.get(5)?),
                    ))
                })
                .optional()?;
            let Some((task_id, draft_id, kind, ad_group_id, attempts, company_id)) = found else {
                return Ok(None);
            };
            write
                .prepare_cached(
                    "UPDATE generation_tasks SET status = 'in_progress', attempts = attempts + 1, \
                     date_updated = ?2 WHERE id = ?1",
                )?
                .execute(params![task_id, Timestamp::now().0])?;
            let Some(mut work) = job_work(&kind, ad_group_id) else {
                fail_task(write, &task_id, UNSUPPORTED_KIND)?;
                return Ok(None);
            };
            if let JobWork::Rsas { rsa_ids, .. } = &mut work {
                *rsa_ids = write
                    .prepare_cached(
                        "SELECT id FROM draft_rsas WHERE task_id = ?1 AND edited_at IS NULL \
                         AND status IN ('pending', 'in_progress') ORDER BY position, id",
                    )?
                    .query_map([&task_id], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                write
                    .prepare_cached(
                        "UPDATE draft_rsas SET status = 'in_progress', error = NULL \
                         WHERE task_id = ?1 AND edited_at IS NULL \
                         AND status IN ('pending', 'in_progress')",
                    )?
                    .execute([&task_id])?;
            }
            let brief = brief(write, draft_id, ad_group_id)?;
            Ok(Some(GenerationJob {
                task_id,
                draft_id,
                company_id,
                attempt: attempts + 1,
                work,
                brief,
            }))
        })
        .await
    }

    async fn rsa_awaits(&self, task_id: String, rsa_id: i64) -> StoreResult<bool> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM draft_rsas WHERE id = ?1 AND task_id = ?2 \
                     AND edited_at IS NULL AND status IN ('pending', 'in_progress'))",
                )?
                .query_row(params![rsa_id, task_id], |row| row.get(0))?)
        })
        .await
    }

    async fn finish_generated_rsa(
        &self,
        task_id: String,
        rsa_id: i64,
        outcome: Result<(Vec<AdText>, Vec<AdText>), String>,
        usage: GenerationUsage,
    ) -> StoreResult<bool> {
        self.write(move |write| {
            charge(write, usage)?;
            let changed = match outcome {
                Ok((headlines, descriptions)) => write
                    .prepare_cached(
                        "UPDATE draft_rsas SET headlines = ?3, descriptions = ?4, \
                         status = 'completed', error = NULL, generated_at = ?5, \
                         final_url = COALESCE(final_url, (SELECT d.website_url FROM \
                         campaign_drafts d JOIN draft_ad_groups g ON g.draft_id = d.id \
                         WHERE g.id = draft_rsas.ad_group_id)) \
                         WHERE id = ?1 AND task_id = ?2 AND edited_at IS NULL",
                    )?
                    .execute(params![
                        rsa_id,
                        task_id,
                        serde_json::to_string(&headlines)?,
                        serde_json::to_string(&descriptions)?,
                        Timestamp::now().0
                    ])?,
                Err(error) => write
                    .prepare_cached(
                        "UPDATE draft_rsas SET status = 'failed', error = ?3 \
                         WHERE id = ?1 AND task_id = ?2 AND edited_at IS NULL",
                    )?
                    .execute(params![rsa_id, task_id, error])?,
            };
            Ok(changed == 1)
        })
        .await
    }

    async fn finish_generated_extensions(
        &self,
        task_id: String,
        draft_id: DraftId,
        items: GeneratedExtensions,
        usage: GenerationUsage,
    ) -> StoreResult<()> {
        self.write(move |write| {
            charge(write, usage)?;
            if !task_in_progress(write, &task_id)? {
                return Ok(());
            }
            for rows in extension_rows(&items)? {
                add_items(write, draft_id, &rows)?;
            }
            finish_task(write, &task_id, None)
        })
        .await
    }

    async fn finish_generation_task(
        &self,
        task_id: String,
        error: Option<String>,
        usage: GenerationUsage,
    ) -> StoreResult<()> {
        self.write(move |write| {
            charge(write, usage)?;
            finish_task(write, &task_id, error.as_deref())
        })
        .await
    }

    async fn release_generation_tasks(&self, task_ids: Vec<String>) -> StoreResult<()> {
        self.write(move |write| {
            for task_id in &task_ids {
                let released = write
                    .prepare_cached(
                        "UPDATE generation_tasks SET status = 'pending', \
                         attempts = MAX(attempts - 1, 0) WHERE id = ?1 AND status = 'in_progress'",
                    )?
                    .execute([task_id])?;
                if released == 1 {
                    write
                        .prepare_cached(
                            "UPDATE draft_rsas SET status = 'pending' WHERE task_id = ?1 \
                             AND status = 'in_progress'",
                        )?
                        .execute([task_id])?;
                }
            }
            Ok(())
        })
        .await
    }
}

fn task_in_progress(conn: &Connection, task_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT status = 'in_progress' FROM generation_tasks WHERE id = ?1")?
        .query_row([task_id], |row| row.get(0))
        .optional()?
        .unwrap_or(false))
}

fn finish_task(conn: &Connection, task_id: &str, error: Option<&str>) -> StoreResult<()> {
    match error {
        Some(error) => fail_task(conn, task_id, error),
        None => {
            conn.prepare_cached(
                "UPDATE generation_tasks SET status = 'completed', error = NULL, date_updated = ?2 \
                 WHERE id = ?1 AND status = 'in_progress'",
            )?
            .execute(params![task_id, Timestamp::now().0])?;
            Ok(())
        }
    }
}

/// Appends the rows to the draft's items of their kind, leaving out those whose key the draft
/// already has.
fn add_items(conn: &Connection, draft_id: DraftId, rows: &ExtensionRows) -> StoreResult<()> {
    let stored: Vec<String> = conn
        .prepare_cached("SELECT data FROM draft_extension_items WHERE draft_id = ?1 AND kind = ?2")?
        .query_map(params![draft_id, rows.kind], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for data in rows.new_items(&stored) {
        conn.prepare_cached(
            "INSERT INTO draft_extension_items (draft_id, kind, position, data) VALUES \
             (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM draft_extension_items \
             WHERE draft_id = ?1 AND kind = ?2), ?3)",
        )?
        .execute(params![draft_id, rows.kind, data])?;
    }
    Ok(())
}
