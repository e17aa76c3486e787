//! Campaign drafts on PostgreSQL, as far as reading one whole goes (what a thread's draft
//! answers); the rest of the drafts' operations are the campaign drafts' group. The draft is
//! put together by the SQLite store's own `whole_draft` from what is read here.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::statements::{optional_row, rows};
use crate::schema::{
    AdGroup, AdText, CampaignDraft, Date, DraftId, Extensions, GenerationStatus, Keyword, Nullable,
    ResponsiveSearchAd, TaskStatus, Timestamp,
};
use crate::store::sqlite::campaigns::{
    match_type, status, whole_draft, DraftParts, DraftRow, DRAFT_COLUMNS,
};
use crate::store::{StoreError, StoreResult};

fn draft_row(row: &Row) -> StoreResult<DraftRow> {
    let text = |at: usize| row.try_get::<_, Option<String>>(at);
    let date =
        |at: usize| -> StoreResult<Option<Date>> { Ok(text(at)?.as_deref().and_then(Date::parse)) };
    Ok(DraftRow {
        draft: CampaignDraft {
            id: DraftId(row.try_get(0)?),
            name: row.try_get(1)?,
            google_ads_customer_id: row.try_get(2)?,
            date_added: Timestamp(row.try_get(3)?),
            date_updated: Timestamp(row.try_get(4)?),
            market_analysis_id: Nullable(row.try_get(5)?),
            campaign_name: Nullable(row.try_get(6)?),
            website_url: Nullable(row.try_get(7)?),
            daily_budget_micros: Nullable(row.try_get(8)?),
            bidding_strategy: Nullable(None),
            default_match_type: match_type(row.try_get(10)?),
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
            is_published: row.try_get(19)?,
            published_at: Nullable(text(20)?.map(Timestamp)),
            published_campaign_id: Nullable(row.try_get(21)?),
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

/// The newest task of a draft-level kind (`ad_groups`, `extensions`), if any. Tasks of one
/// kind queued in the same microsecond fall back to the id's order, where SQLite takes the
/// later inserted (PostgreSQL rows have no rowid).
async fn draft_task(
    client: &impl GenericClient,
    draft_id: DraftId,
    kind: &str,
) -> StoreResult<TaskStatus> {
    let found = optional_row(
        client,
        "SELECT id, status, error FROM generation_tasks WHERE draft_id = $1 AND kind = $2 \
         ORDER BY date_added DESC, id DESC LIMIT 1",
        &[&draft_id.0, &kind],
    )
    .await?;
    let Some(found) = found else {
        return Ok(TaskStatus::not_started());
    };
    Ok(TaskStatus {
        task_id: Nullable(found.try_get(0)?),
        status: status(found.try_get(1)?),
        error: Nullable(found.try_get(2)?),
    })
}

async fn keywords(client: &impl GenericClient, ad_group_id: i64) -> StoreResult<Vec<Keyword>> {
    rows(
        client,
        "SELECT id, text, match_type, cpc_bid_micros, final_url FROM draft_keywords \
         WHERE ad_group_id = $1 ORDER BY position, id",
        &[&ad_group_id],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(Keyword {
            id: row.try_get(0)?,
            text: row.try_get(1)?,
            match_type: match_type(row.try_get(2)?),
            cpc_bid_micros: Nullable(row.try_get(3)?),
            final_url: Nullable(row.try_get(4)?),
        })
    })
    .collect()
}

async fn rsas(
    client: &impl GenericClient,
    ad_group_id: i64,
) -> StoreResult<Vec<ResponsiveSearchAd>> {
    rows(
        client,
        "SELECT id, headlines, descriptions, path1, path2, final_url, status, error \
         FROM draft_rsas WHERE ad_group_id = $1 ORDER BY position, id",
        &[&ad_group_id],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ResponsiveSearchAd {
            id: row.try_get(0)?,
            ad_group_id,
            headlines: serde_json::from_str::<Vec<AdText>>(row.try_get(1)?)?,
            descriptions: serde_json::from_str::<Vec<AdText>>(row.try_get(2)?)?,
            path1: Nullable(row.try_get(3)?),
            path2: Nullable(row.try_get(4)?),
            final_url: Nullable(row.try_get(5)?),
            status: status(row.try_get(6)?),
            error: Nullable(row.try_get(7)?),
        })
    })
    .collect()
}

async fn ad_groups(client: &impl GenericClient, draft_id: DraftId) -> StoreResult<Vec<AdGroup>> {
    let found = rows(
        client,
        "SELECT id, name, cpc_bid_micros FROM draft_ad_groups WHERE draft_id = $1 \
         ORDER BY position, id",
        &[&draft_id.0],
    )
    .await?;
    let mut groups = Vec::with_capacity(found.len());
    for row in found {
        let id: i64 = row.try_get(0)?;
        groups.push(AdGroup {
            id,
            name: row.try_get(1)?,
            cpc_bid_micros: Nullable(row.try_get(2)?),
            keywords: keywords(client, id).await?,
            rsas: rsas(client, id).await?,
        });
    }
    Ok(groups)
}

/// The JSON of the sitelinks, callouts or structured snippets of a draft, in order.
async fn extension_items(
    client: &impl GenericClient,
    draft_id: DraftId,
    kind: &str,
) -> StoreResult<Vec<String>> {
    rows(
        client,
        "SELECT data FROM draft_extension_items WHERE draft_id = $1 AND kind = $2 \
         ORDER BY position, id",
        &[&draft_id.0, &kind],
    )
    .await?
    .iter()
    .map(|row| Ok(row.try_get(0)?))
    .collect()
}

/// The whole draft `draft_id` (whose visibility the caller has checked), read in the
/// caller's transaction, which should be one snapshot.
pub(super) async fn load_draft(
    client: &impl GenericClient,
    draft_id: DraftId,
) -> StoreResult<CampaignDraft> {
    let found = optional_row(
        client,
        &format!("SELECT {DRAFT_COLUMNS} FROM campaign_drafts WHERE id = $1"),
        &[&draft_id.0],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound("Campaign draft not found".into()))?;
    whole_draft(DraftParts {
        row: draft_row(&found)?,
        sitelinks: extension_items(client, draft_id, "sitelink").await?,
        callouts: extension_items(client, draft_id, "callout").await?,
        structured_snippets: extension_items(client, draft_id, "structured_snippet").await?,
        ad_groups_task: draft_task(client, draft_id, "ad_groups").await?,
        extensions_task: draft_task(client, draft_id, "extensions").await?,
        ad_groups: ad_groups(client, draft_id).await?,
    })
}
