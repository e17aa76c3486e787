//! Campaign drafts on PostgreSQL: created, listed, read whole, deleted, and their generation
//! status. The draft is put together by the neutral `store/drafts.rs` from what is read here,
//! as on SQLite; a read of several statements is one snapshot.

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use super::access::{visible_company, visible_draft, Members};
use super::rows::customer;
use super::statements::{execute, optional_row, row, rows, snapshot};
use super::PostgresDatabase;
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
use crate::store::{DraftFilter, DraftStore, StoreError, StoreResult, Viewer};

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

impl DraftStore for PostgresDatabase {
    async fn create_draft(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: CampaignDraftCreate,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        customer(&client, company_id, new.google_ads_customer_id).await?;
        let inserted = row(
            &client,
            "INSERT INTO campaign_drafts (company_id, google_ads_customer_id, \
             market_analysis_id, name, campaign_name, website_url, daily_budget_micros, \
             bidding_strategy, default_match_type, language_ids, location_targets, \
             network_settings, ad_schedule, start_date, end_date, conversion_goals, \
             date_added, date_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $17) RETURNING id",
            &[
                &company_id.0,
                &new.google_ads_customer_id,
                &new.market_analysis_id,
                &new.name,
                &new.campaign_name,
                &new.website_url,
                &new.daily_budget_micros,
                &json_text(new.bidding_strategy.as_ref())?,
                &new.default_match_type
                    .unwrap_or(KeywordMatchType::Broad)
                    .as_str(),
                &json_text(new.language_ids.as_ref())?,
                &json_text(new.location_targets.as_ref())?,
                &json_text(new.network_settings.as_ref())?,
                &json_text(new.ad_schedule.as_ref())?,
                &new.start_date.map(|day| day.0.to_string()),
                &new.end_date.map(|day| day.0.to_string()),
                &json_text(new.conversion_goals.as_ref())?,
                &Timestamp::now().0,
            ],
        )
        .await;
        let draft_id = match inserted {
            Ok(inserted) => DraftId(inserted.try_get(0)?),
            // The customer went between the check and the insert: answered as the check would
            // answer now, not as a failed foreign key.
            Err(err) if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                customer(&client, company_id, new.google_ads_customer_id).await?;
                return Err(err.into());
            }
            Err(err) => return Err(err.into()),
        };
        let tx = snapshot(&mut client).await?;
        let draft = load_draft(&tx, draft_id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    async fn list_drafts(
        &self,
        viewer: Viewer,
        filter: DraftFilter,
    ) -> StoreResult<Vec<CampaignDraft>> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        if let Some(company_id) = filter.company_id {
            visible_company(&tx, viewer, company_id, Members::Read).await?;
        }
        let ids = rows(
            &tx,
            "SELECT d.id FROM campaign_drafts d \
             WHERE ($1::BIGINT IS NULL OR d.company_id = $1) \
             AND ($2::BIGINT IS NULL OR d.google_ads_customer_id = $2) \
             AND ($3 OR EXISTS (SELECT 1 FROM company_members m \
                  WHERE m.company_id = d.company_id AND m.user_id = $4)) \
             ORDER BY d.id DESC",
            &[
                &filter.company_id.map(|id| id.0),
                &filter.google_ads_customer_id,
                &viewer.is_admin,
                &viewer.user_id.0,
            ],
        )
        .await?;
        let mut drafts = Vec::with_capacity(ids.len());
        for id in ids {
            drafts.push(load_draft(&tx, DraftId(id.try_get(0)?)).await?);
        }
        tx.commit().await?;
        Ok(drafts)
    }

    async fn draft(&self, viewer: Viewer, draft_id: DraftId) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        visible_draft(&tx, viewer, draft_id, "").await?;
        let draft = load_draft(&tx, draft_id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    async fn active_draft(
        &self,
        viewer: Viewer,
        market_analysis_id: i64,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        let found = optional_row(
            &tx,
            "SELECT d.id FROM campaign_drafts d \
             WHERE d.market_analysis_id = $1 AND NOT d.is_published \
             AND ($2 OR EXISTS (SELECT 1 FROM company_members m \
                  WHERE m.company_id = d.company_id AND m.user_id = $3)) \
             ORDER BY d.id DESC LIMIT 1",
            &[&market_analysis_id, &viewer.is_admin, &viewer.user_id.0],
        )
        .await?
        .ok_or_else(|| {
            StoreError::NotFound("No active campaign draft for this market analysis".into())
        })?;
        let draft = load_draft(&tx, DraftId(found.try_get(0)?)).await?;
        tx.commit().await?;
        Ok(draft)
    }

    async fn delete_draft(&self, viewer: Viewer, draft_id: DraftId) -> StoreResult<()> {
        let client = self.connection().await?;
        visible_draft(&client, viewer, draft_id, "").await?;
        execute(
            &client,
            "DELETE FROM campaign_drafts WHERE id = $1",
            &[&draft_id.0],
        )
        .await?;
        Ok(())
    }

    async fn draft_generation_status(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
    ) -> StoreResult<DraftGenerationStatus> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        visible_draft(&tx, viewer, draft_id, "").await?;
        let found = rows(
            &tx,
            "SELECT r.id, r.ad_group_id, r.task_id, r.status, r.error FROM draft_rsas r \
             JOIN draft_ad_groups g ON g.id = r.ad_group_id WHERE g.draft_id = $1 \
             ORDER BY g.position, g.id, r.position, r.id",
            &[&draft_id.0],
        )
        .await?;
        let mut rsas = Vec::with_capacity(found.len());
        for rsa in found {
            rsas.push(RsaTaskStatus {
                rsa_id: rsa.try_get(0)?,
                ad_group_id: rsa.try_get(1)?,
                task_id: Nullable(rsa.try_get(2)?),
                status: status(rsa.try_get(3)?),
                error: Nullable(rsa.try_get(4)?),
            });
        }
        let answer = DraftGenerationStatus::new(
            draft_task(&tx, draft_id, "ad_groups").await?,
            rsas,
            draft_task(&tx, draft_id, "extensions").await?,
        );
        tx.commit().await?;
        Ok(answer)
    }
}
