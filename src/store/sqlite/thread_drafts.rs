//! A chat thread's campaign draft: the newest draft whose `thread_seq` names the thread. The
//! campaign-creation assistant creates it on first use and edits it through the same step
//! functions as the API; `GET /api/v1/chat/threads/{id}/campaign-draft` answers it. Deleting the
//! thread keeps the draft (its link is cleared).

use rusqlite::{params, Connection, OptionalExtension};

use super::access::visible_thread;
use super::campaigns::load_draft;
use super::messages::still_visible;
use super::{SqliteStore, StoreError, StoreResult};
use crate::schema::{CampaignDraft, DraftId, KeywordMatchType, ThreadId, Timestamp};
use crate::store::{ChatContext, NewThreadDraft, ThreadDraftStore, Viewer};

/// The newest draft linked to thread `seq`, if any.
fn linked_draft(conn: &Connection, seq: i64) -> StoreResult<Option<DraftId>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM campaign_drafts WHERE thread_seq = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([seq], |row| row.get(0))
        .optional()?)
}

const NO_DRAFT: &str = "This chat thread has no campaign draft";

impl ThreadDraftStore for SqliteStore {
    async fn thread_draft(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
    ) -> StoreResult<CampaignDraft> {
        self.read(move |conn| {
            let seq = visible_thread(conn, viewer, &thread_id, None)?.seq;
            let id =
                linked_draft(conn, seq)?.ok_or_else(|| StoreError::NotFound(NO_DRAFT.into()))?;
            load_draft(conn, id)
        })
        .await
    }

    async fn turn_draft(
        &self,
        viewer: Viewer,
        context: &ChatContext,
    ) -> StoreResult<Option<CampaignDraft>> {
        let (seq, company_id) = (context.seq, context.company_id);
        let thread_id = context.thread.thread_id.clone();
        self.read(move |conn| {
            still_visible(conn, viewer, seq, &thread_id, company_id)?;
            linked_draft(conn, seq)?
                .map(|id| load_draft(conn, id))
                .transpose()
        })
        .await
    }

    async fn turn_draft_id(
        &self,
        viewer: Viewer,
        context: &ChatContext,
        new: NewThreadDraft,
    ) -> StoreResult<DraftId> {
        let (seq, company_id) = (context.seq, context.company_id);
        let thread_id = context.thread.thread_id.clone();
        self.write(move |conn| {
            still_visible(conn, viewer, seq, &thread_id, company_id)?;
            if let Some(id) = linked_draft(conn, seq)? {
                return Ok(id);
            }
            let customer: Option<i64> = conn
                .prepare_cached("SELECT customer_id FROM chat_threads WHERE seq = ?1")?
                .query_row([seq], |row| row.get(0))?;
            let customer = customer.ok_or_else(|| {
                StoreError::Conflict("This chat thread has no Google Ads customer".into())
            })?;
            conn.prepare_cached(
                "INSERT INTO campaign_drafts (company_id, google_ads_customer_id, \
                 market_analysis_id, thread_seq, name, default_match_type, date_added, \
                 date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                company_id,
                customer,
                new.market_analysis_id,
                seq,
                new.name,
                KeywordMatchType::Broad.as_str(),
                Timestamp::now().0,
            ])?;
            Ok(DraftId(conn.last_insert_rowid()))
        })
        .await
    }
}
