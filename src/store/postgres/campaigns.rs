//! Campaign drafts on PostgreSQL, as far as reading one whole goes (what a thread's draft
//! answers); the rest of the drafts' operations are the campaign drafts' group. The draft is
//! put together by the neutral `store/drafts.rs` from what is read here, as on SQLite.

use deadpool_postgres::GenericClient;

use super::statements::{optional_row, rows};
use crate::schema::{
    AdGroup, CampaignDraft, DraftId, Keyword, Nullable, ResponsiveSearchAd, TaskStatus,
};
use crate::store::drafts::{
    draft_row, keyword_from_row, rsa_from_row, task_status_from_row, whole_draft, DraftParts,
};
use crate::store::layouts::DRAFT_COLUMNS;
use crate::store::{StoreError, StoreResult};

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
    Ok(task_status_from_row(&found)?)
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
    .map(|row| Ok(keyword_from_row(row)?))
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
    .map(|row| rsa_from_row(row, ad_group_id))
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
