//! A chat thread's campaign draft, on PostgreSQL: the newest draft whose `thread_seq` names
//! the thread, read in one snapshot, made once however many turns ask at once.

use deadpool_postgres::GenericClient;

use super::access::visible_thread;
use super::campaigns::load_draft;
use super::messages::{still_visible, HOLD_THREAD};
use super::statements::{optional_row, row, snapshot};
use super::PostgresDatabase;
use crate::schema::{CampaignDraft, DraftId, KeywordMatchType, ThreadId, Timestamp};
use crate::store::ThreadDraftStore;
use crate::store::{ChatContext, NewThreadDraft, StoreError, StoreResult, Viewer};

const NO_DRAFT: &str = "This chat thread has no campaign draft";

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

impl ThreadDraftStore for PostgresDatabase {
    /// The draft of a thread the viewer may see; NotFound when it has none.
    async fn thread_draft(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        let seq = visible_thread(&tx, viewer, &thread_id, None, "").await?.seq;
        let id = linked_draft(&tx, seq)
            .await?
            .ok_or_else(|| StoreError::NotFound(NO_DRAFT.into()))?;
        let draft = load_draft(&tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// The draft of the turn's thread as it is now (None when it has none), if the thread is
    /// still there and visible to the viewer.
    async fn turn_draft(
        &self,
        viewer: Viewer,
        context: &ChatContext,
    ) -> StoreResult<Option<CampaignDraft>> {
        let (seq, company_id) = (context.seq, context.company_id);
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        still_visible(&tx, viewer, seq, &context.thread.thread_id, company_id, "").await?;
        let draft = match linked_draft(&tx, seq).await? {
            Some(id) => Some(load_draft(&tx, id).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(draft)
    }

    /// The id of the turn's thread's draft, created with `new` (for the thread's company and
    /// Google Ads customer) when there is none. NotFound when the thread is gone or hidden
    /// from the viewer; Conflict when it has no Google Ads customer. The thread's row is locked
    /// from the look for a draft to the commit, so turns of two processes make one draft.
    async fn turn_draft_id(
        &self,
        viewer: Viewer,
        context: &ChatContext,
        new: NewThreadDraft,
    ) -> StoreResult<DraftId> {
        let (seq, company_id) = (context.seq, context.company_id);
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        still_visible(
            &tx,
            viewer,
            seq,
            &context.thread.thread_id,
            company_id,
            HOLD_THREAD,
        )
        .await?;
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
