//! Campaign drafts: a draft row with its step-1 settings, its ad groups with their keywords and
//! RSAs, its extension items and its generation tasks. A draft is read whole, as the API
//! answers it.

use rusqlite::{params, Connection, OptionalExtension};

use super::access::{visible_company, visible_draft};
use super::rows::customer;
use super::{SqliteStore, StoreError, StoreResult};
use crate::schema::{
    AdGroup, CampaignDraft, CampaignDraftCreate, CompanyId, DraftGenerationStatus, DraftId,
    Keyword, KeywordMatchType, Nullable, ResponsiveSearchAd, RsaTaskStatus, TaskStatus, Timestamp,
};
use crate::store::drafts::{
    draft_row, keyword_from_row, rsa_from_row, status, task_status_from_row, whole_draft,
    DraftParts,
};
use crate::store::layouts::DRAFT_COLUMNS;
use crate::store::parameters::json_text;
use crate::store::{DraftFilter, DraftStore, Viewer};

/// The newest task of a draft-level kind (`ad_groups`, `extensions`), if any.
fn draft_task(conn: &Connection, draft_id: DraftId, kind: &str) -> StoreResult<TaskStatus> {
    Ok(conn
        .prepare_cached(
            "SELECT id, status, error FROM generation_tasks WHERE draft_id = ?1 AND kind = ?2 \
             ORDER BY date_added DESC, rowid DESC LIMIT 1",
        )?
        .query_row(params![draft_id, kind], |row| task_status_from_row(row))
        .optional()?
        .unwrap_or_else(TaskStatus::not_started))
}

fn keywords(conn: &Connection, ad_group_id: i64) -> StoreResult<Vec<Keyword>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, text, match_type, cpc_bid_micros, final_url FROM draft_keywords \
         WHERE ad_group_id = ?1 ORDER BY position, id",
    )?;
    let rows = statement.query_map([ad_group_id], |row| keyword_from_row(row))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn rsas(conn: &Connection, ad_group_id: i64) -> StoreResult<Vec<ResponsiveSearchAd>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, headlines, descriptions, path1, path2, final_url, status, error \
         FROM draft_rsas WHERE ad_group_id = ?1 ORDER BY position, id",
    )?;
    let mut rows = statement.query([ad_group_id])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(rsa_from_row(row, ad_group_id)?);
    }
    Ok(found)
}

fn ad_groups(conn: &Connection, draft_id: DraftId) -> StoreResult<Vec<AdGroup>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, name, cpc_bid_micros FROM draft_ad_groups WHERE draft_id = ?1 \
         ORDER BY position, id",
    )?;
    let groups: Vec<(i64, String, Option<i64>)> = statement
        .query_map([draft_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    groups
        .into_iter()
        .map(|(id, name, cpc_bid_micros)| {
            Ok(AdGroup {
                id,
                name,
                cpc_bid_micros: Nullable(cpc_bid_micros),
                keywords: keywords(conn, id)?,
                rsas: rsas(conn, id)?,
            })
        })
        .collect()
}

/// The JSON of the sitelinks, callouts or structured snippets of a draft, in order.
fn extension_items(conn: &Connection, draft_id: DraftId, kind: &str) -> StoreResult<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT data FROM draft_extension_items WHERE draft_id = ?1 AND kind = ?2 \
         ORDER BY position, id",
    )?;
    let texts = statement
        .query_map(params![draft_id, kind], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(texts)
}

/// The whole draft `draft_id` (whose visibility the caller has checked).
pub(super) fn load_draft(conn: &Connection, draft_id: DraftId) -> StoreResult<CampaignDraft> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {DRAFT_COLUMNS} FROM campaign_drafts WHERE id = ?1"
        ))?
        .query_row([draft_id], |row| draft_row(row))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("Campaign draft not found".into()))?;
    whole_draft(DraftParts {
        row,
        sitelinks: extension_items(conn, draft_id, "sitelink")?,
        callouts: extension_items(conn, draft_id, "callout")?,
        structured_snippets: extension_items(conn, draft_id, "structured_snippet")?,
        ad_groups_task: draft_task(conn, draft_id, "ad_groups")?,
        extensions_task: draft_task(conn, draft_id, "extensions")?,
        ad_groups: ad_groups(conn, draft_id)?,
    })
}

impl DraftStore for SqliteStore {
    async fn create_draft(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: CampaignDraftCreate,
    ) -> StoreResult<CampaignDraft> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            customer(conn, company_id, new.google_ads_customer_id)?;
            let now = Timestamp::now();
            conn.prepare_cached(
                "INSERT INTO campaign_drafts (company_id, google_ads_customer_id, \
                 market_analysis_id, name, campaign_name, website_url, daily_budget_micros, \
                 bidding_strategy, default_match_type, language_ids, location_targets, \
                 network_settings, ad_schedule, start_date, end_date, conversion_goals, \
                 date_added, date_updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?17)",
            )?
            .execute(params![
                company_id,
                new.google_ads_customer_id,
                new.market_analysis_id,
                new.name,
                new.campaign_name,
                new.website_url,
                new.daily_budget_micros,
                json_text(new.bidding_strategy.as_ref())?,
                new.default_match_type
                    .unwrap_or(KeywordMatchType::Broad)
                    .as_str(),
                json_text(new.language_ids.as_ref())?,
                json_text(new.location_targets.as_ref())?,
                json_text(new.network_settings.as_ref())?,
                json_text(new.ad_schedule.as_ref())?,
                new.start_date.map(|day| day.0.to_string()),
                new.end_date.map(|day| day.0.to_string()),
                json_text(new.conversion_goals.as_ref())?,
                now.0,
            ])?;
            let draft_id = DraftId(conn.last_insert_rowid());
            load_draft(conn, draft_id)
        })
        .await
    }

    async fn list_drafts(
        &self,
        viewer: Viewer,
        filter: DraftFilter,
    ) -> StoreResult<Vec<CampaignDraft>> {
        self.read(move |conn| {
            if let Some(company_id) = filter.company_id {
                visible_company(conn, viewer, company_id)?;
            }
            let ids: Vec<DraftId> = conn
                .prepare_cached(
                    "SELECT d.id FROM campaign_drafts d \
                     WHERE (?1 IS NULL OR d.company_id = ?1) \
                     AND (?2 IS NULL OR d.google_ads_customer_id = ?2) \
                     AND (?3 OR EXISTS (SELECT 1 FROM company_members m \
                          WHERE m.company_id = d.company_id AND m.user_id = ?4)) \
                     ORDER BY d.id DESC",
                )?
                .query_map(
                    params![
                        filter.company_id,
                        filter.google_ads_customer_id,
                        viewer.is_admin,
                        viewer.user_id
                    ],
                    |row| row.get(0),
                )?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter().map(|id| load_draft(conn, id)).collect()
        })
        .await
    }

    async fn draft(&self, viewer: Viewer, draft_id: DraftId) -> StoreResult<CampaignDraft> {
        self.read(move |conn| {
            visible_draft(conn, viewer, draft_id)?;
            load_draft(conn, draft_id)
        })
        .await
    }

    async fn active_draft(
        &self,
        viewer: Viewer,
        market_analysis_id: i64,
    ) -> StoreResult<CampaignDraft> {
        self.read(move |conn| {
            let id: DraftId = conn
                .prepare_cached(
                    "SELECT d.id FROM campaign_drafts d \
                     WHERE d.market_analysis_id = ?1 AND d.is_published = 0 \
                     AND (?2 OR EXISTS (SELECT 1 FROM company_members m \
                          WHERE m.company_id = d.company_id AND m.user_id = ?3)) \
                     ORDER BY d.id DESC LIMIT 1",
                )?
                .query_row(
                    params![market_analysis_id, viewer.is_admin, viewer.user_id],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or_else(|| {
                    StoreError::NotFound("No active campaign draft for this market analysis".into())
                })?;
            load_draft(conn, id)
        })
        .await
    }

    async fn delete_draft(&self, viewer: Viewer, draft_id: DraftId) -> StoreResult<()> {
        self.write(move |conn| {
            visible_draft(conn, viewer, draft_id)?;
            conn.prepare_cached("DELETE FROM campaign_drafts WHERE id = ?1")?
                .execute([draft_id])?;
            Ok(())
        })
        .await
    }

    async fn draft_generation_status(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
    ) -> StoreResult<DraftGenerationStatus> {
        self.read(move |conn| {
            visible_draft(conn, viewer, draft_id)?;
            let rsas: Vec<RsaTaskStatus> = conn
                .prepare_cached(
                    "SELECT r.id, r.ad_group_id, r.task_id, r.status, r.error FROM draft_rsas r \
                     JOIN draft_ad_groups g ON g.id = r.ad_group_id WHERE g.draft_id = ?1 \
                     ORDER BY g.position, g.id, r.position, r.id",
                )?
                .query_map([draft_id], |row| {
                    Ok(RsaTaskStatus {
                        rsa_id: row.get(0)?,
                        ad_group_id: row.get(1)?,
                        task_id: Nullable(row.get(2)?),
                        status: status(&row.get::<_, String>(3)?),
                        error: Nullable(row.get(4)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(DraftGenerationStatus::new(
                draft_task(conn, draft_id, "ad_groups")?,
                rsas,
                draft_task(conn, draft_id, "extensions")?,
            ))
        })
        .await
    }
}
