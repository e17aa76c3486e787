//! Campaign drafts: a draft row with its step-1 settings, its ad groups with their keywords and
//! RSAs, its extension items and its generation tasks. A draft is read whole, as the API
//! answers it.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::de::DeserializeOwned;

use super::access::{visible_company, visible_draft};
use super::rows::customer;
use super::{SqliteStore, StoreError, StoreResult};
use crate::schema::{
    AdGroup, AdText, CampaignDraft, CampaignDraftCreate, CompanyId, Date, DraftGenerationStatus,
    DraftId, Extensions, GenerationStatus, Keyword, KeywordMatchType, Nullable, ResponsiveSearchAd,
    RsaTaskStatus, TaskStatus, Timestamp,
};
use crate::store::{DraftFilter, DraftStore, Viewer};

/// A JSON column: `None` for NULL.
pub(super) fn json_column<T: DeserializeOwned>(text: Option<String>) -> StoreResult<Option<T>> {
    text.map(|text| serde_json::from_str(&text).map_err(StoreError::from))
        .transpose()
}

pub(super) fn json_text<T: serde::Serialize>(value: Option<&T>) -> StoreResult<Option<String>> {
    value
        .map(|value| serde_json::to_string(value).map_err(StoreError::from))
        .transpose()
}

pub(crate) fn status(text: &str) -> GenerationStatus {
    GenerationStatus::parse(text).unwrap_or(GenerationStatus::Failed)
}

pub(crate) fn match_type(text: &str) -> KeywordMatchType {
    KeywordMatchType::parse(text).unwrap_or(KeywordMatchType::Broad)
}

pub(crate) const DRAFT_COLUMNS: &str =
    "id, name, google_ads_customer_id, date_added, date_updated, \
    market_analysis_id, campaign_name, website_url, daily_budget_micros, bidding_strategy, \
    default_match_type, language_ids, location_targets, network_settings, ad_schedule, \
    start_date, end_date, conversion_goals, phone, is_published, published_at, \
    published_campaign_id";

/// The draft's row, its JSON columns still text.
pub(crate) struct DraftRow {
    pub draft: CampaignDraft,
    pub json: [Option<String>; 7],
}

fn draft_row(row: &Row) -> rusqlite::Result<DraftRow> {
    let text = |at: usize| row.get::<_, Option<String>>(at);
    let date = |at: usize| -> rusqlite::Result<Option<Date>> {
        Ok(text(at)?.as_deref().and_then(Date::parse))
    };
    Ok(DraftRow {
        draft: CampaignDraft {
            id: row.get(0)?,
            name: row.get(1)?,
            google_ads_customer_id: row.get(2)?,
            date_added: Timestamp(row.get(3)?),
            date_updated: Timestamp(row.get(4)?),
            market_analysis_id: Nullable(row.get(5)?),
            campaign_name: Nullable(row.get(6)?),
            website_url: Nullable(row.get(7)?),
            daily_budget_micros: Nullable(row.get(8)?),
            bidding_strategy: Nullable(None),
            default_match_type: match_type(&row.get::<_, String>(10)?),
            language_ids: Vec::new(),
            location_targets: Vec::new(),
            network_settings: Nullable(None),
            ad_schedule: Nullable(None),
            start_date: Nullable(date(15)?),
            end_date: Nullable(date(16)?),
            conversion_goals: Vec::new(),
            extensions: Extensions::default(),
            ad_groups_task_id: Nullable(None),
            ad_groups_generation_status: GenerationStatus::NotStarted,
            ad_groups_generation_error: Nullable(None),
            extensions_task_id: Nullable(None),
            extensions_generation_status: GenerationStatus::NotStarted,
            extensions_generation_error: Nullable(None),
            is_published: row.get(19)?,
            published_at: Nullable(text(20)?.map(Timestamp)),
            published_campaign_id: Nullable(row.get(21)?),
            all_rsas_generated: false,
            ad_groups: Vec::new(),
        },
        json: [
            text(9)?,
            text(11)?,
            text(12)?,
            text(13)?,
            text(14)?,
            text(17)?,
            text(18)?,
        ],
    })
}

/// The newest task of a draft-level kind (`ad_groups`, `extensions`), if any.
fn draft_task(conn: &Connection, draft_id: DraftId, kind: &str) -> StoreResult<TaskStatus> {
    Ok(conn
        .prepare_cached(
            "SELECT id, status, error FROM generation_tasks WHERE draft_id = ?1 AND kind = ?2 \
             ORDER BY date_added DESC, rowid DESC LIMIT 1",
        )?
        .query_row(params![draft_id, kind], |row| {
            Ok(TaskStatus {
                task_id: Nullable(row.get(0)?),
                status: status(&row.get::<_, String>(1)?),
                error: Nullable(row.get(2)?),
            })
        })
        .optional()?
        .unwrap_or_else(TaskStatus::not_started))
}

fn keywords(conn: &Connection, ad_group_id: i64) -> StoreResult<Vec<Keyword>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, text, match_type, cpc_bid_micros, final_url FROM draft_keywords \
         WHERE ad_group_id = ?1 ORDER BY position, id",
    )?;
    let rows = statement.query_map([ad_group_id], |row| {
        Ok(Keyword {
            id: row.get(0)?,
            text: row.get(1)?,
            match_type: match_type(&row.get::<_, String>(2)?),
            cpc_bid_micros: Nullable(row.get(3)?),
            final_url: Nullable(row.get(4)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn rsas(conn: &Connection, ad_group_id: i64) -> StoreResult<Vec<ResponsiveSearchAd>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, headlines, descriptions, path1, path2, final_url, status, error \
         FROM draft_rsas WHERE ad_group_id = ?1 ORDER BY position, id",
    )?;
    let rows = statement.query_map([ad_group_id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, Option<String>>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, String>(6)?,
            row.get::<_, Option<String>>(7)?,
        ))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (id, headlines, descriptions, path1, path2, final_url, state, error) = row?;
        found.push(ResponsiveSearchAd {
            id,
            ad_group_id,
            headlines: serde_json::from_str::<Vec<AdText>>(&headlines)?,
            descriptions: serde_json::from_str::<Vec<AdText>>(&descriptions)?,
            path1: Nullable(path1),
            path2: Nullable(path2),
            final_url: Nullable(final_url),
            status: status(&state),
            error: Nullable(error),
        });
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
        .query_row([draft_id], draft_row)
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

/// What a draft is read from: its row and, beside it, its extension items (their JSON, in
/// order), its newest draft-level tasks and its ad groups.
pub(crate) struct DraftParts {
    pub row: DraftRow,
    pub sitelinks: Vec<String>,
    pub callouts: Vec<String>,
    pub structured_snippets: Vec<String>,
    pub ad_groups_task: TaskStatus,
    pub extensions_task: TaskStatus,
    pub ad_groups: Vec<AdGroup>,
}

/// The draft, whole, as the API answers it.
pub(crate) fn whole_draft(parts: DraftParts) -> StoreResult<CampaignDraft> {
    let [bidding, languages, locations, network, schedule, goals, phone] = parts.row.json;
    let mut draft = parts.row.draft;
    draft.bidding_strategy = Nullable(json_column(bidding)?);
    draft.language_ids = json_column(languages)?.unwrap_or_default();
    draft.location_targets = json_column(locations)?.unwrap_or_default();
    draft.network_settings = Nullable(json_column(network)?);
    draft.ad_schedule = Nullable(json_column(schedule)?);
    draft.conversion_goals = json_column(goals)?.unwrap_or_default();
    draft.extensions = Extensions {
        sitelinks: parsed(&parts.sitelinks)?,
        callouts: parsed(&parts.callouts)?,
        phone: Nullable(json_column(phone)?),
        structured_snippets: parsed(&parts.structured_snippets)?,
    };
    draft.ad_groups_task_id = parts.ad_groups_task.task_id;
    draft.ad_groups_generation_status = parts.ad_groups_task.status;
    draft.ad_groups_generation_error = parts.ad_groups_task.error;
    draft.extensions_task_id = parts.extensions_task.task_id;
    draft.extensions_generation_status = parts.extensions_task.status;
    draft.extensions_generation_error = parts.extensions_task.error;
    draft.ad_groups = parts.ad_groups;
    // `not_started` is an RSA a person wrote or took over: it has its copy, and a client that
    // polls this flag after asking for generation must not wait on it for ever.
    let mut all_rsas = draft.ad_groups.iter().flat_map(|group| &group.rsas);
    draft.all_rsas_generated = all_rsas.clone().next().is_some()
        && all_rsas.all(|rsa| {
            matches!(
                rsa.status,
                GenerationStatus::Completed | GenerationStatus::NotStarted
            )
        });
    Ok(draft)
}

fn parsed<T: DeserializeOwned>(texts: &[String]) -> StoreResult<Vec<T>> {
    texts
        .iter()
        .map(|text| serde_json::from_str(text).map_err(StoreError::from))
        .collect()
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
