//! A chat thread's campaign draft, on PostgreSQL: as far as making it goes. Reading a draft
//! whole (`thread_draft`, `turn_draft`) waits for the campaign drafts' group (campaigns.rs's
//! `load_draft`).

use deadpool_postgres::GenericClient;

use super::messages::still_visible;
use super::statements::{optional_row, row};
use super::PostgresDatabase;
use crate::schema::{DraftId, KeywordMatchType, Timestamp};
use crate::store::{ChatContext, NewThreadDraft, StoreError, StoreResult, Viewer};

/// The newest draft linked to thread `seq`, if any.
async fn linked_draft(client: &impl GenericClient, seq: i64) -> StoreResult<Option<DraftId>> {
    let found = optional_row(
        client,
        "SELECT id FROM campaign_drafts WHERE thread_seq = $1 ORDER BY id DESC LIMIT 1",
        &[&seq],
    )
    .await?;
    Ok(found.map(|row| row.try_get(0)).transpose()?.map(DraftId))
}

impl PostgresDatabase {
    /// The id of the turn's thread's draft, created with `new` (for the thread's company and
    /// Google Ads customer) when there is none. NotFound when the thread is gone or hidden
    /// from the viewer; Conflict when it has no Google Ads customer. The thread's row is locked
    /// from the look for a draft to the commit, so turns of two processes make one draft.
    pub async fn turn_draft_id(
        &self,
        viewer: Viewer,
        context: &ChatContext,
        new: NewThreadDraft,
    ) -> StoreResult<DraftId> {
        let (seq, company_id) = (context.seq, context.company_id);
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        still_visible(&tx, viewer, seq, &context.thread.thread_id, company_id).await?;
        if let Some(id) = linked_draft(&tx, seq).await? {
            return Ok(id);
        }
        let customer: Option<i64> = row(
            &tx,
            "SELECT customer_id FROM chat_threads WHERE seq = $1",
            &[&seq],
        )
        .await?
        .try_get(0)?;
        let customer = customer.ok_or_else(|| {
            StoreError::Conflict("This chat thread has no Google Ads customer".into())
        })?;
        let created = row(
            &tx,
            "INSERT INTO campaign_drafts (company_id, google_ads_customer_id, \
             market_analysis_id, thread_seq, name, default_match_type, date_added, \
             date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            &[
                &company_id.0,
                &customer,
                &new.market_analysis_id,
                &seq,
                &new.name,
                &KeywordMatchType::Broad.as_str(),
                &Timestamp::now().0,
            ],
        )
        .await?;
        let id = DraftId(created.try_get(0)?);
        tx.commit().await?;
        Ok(id)
    }
}
