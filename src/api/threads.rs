//! Assistant chat threads: create, list (keyset paging with an RFC 8288 `Link`), read,
//! change and delete.

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::http::cursor::Cursor;
use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonBytes, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{
    AssistantChatThread, AssistantChatThreadCreate, AssistantChatThreadUpdate, AssistantType,
    CampaignDraft, CompanyId, ThreadId,
};
use crate::store::{ThreadFilter, ThreadScope};

pub const MAX_PAGE: u32 = 500;

#[derive(ApiResponse)]
pub enum ThreadList {
    /// Newest first. Without `limit`, every thread (after `cursor`, if given), sent as it is
    /// read. With `limit`, one page; when more threads exist, `Link` holds the next page's URL
    /// (`rel="next"`), relative to this one unless the server has a `server.public_url`.
    #[oai(status = 200)]
    Ok(
        JsonBytes<Vec<AssistantChatThread>>,
        #[oai(header = "Link")] Option<String>,
    ),
}

#[derive(ApiResponse)]
pub enum Deleted {
    /// The thread and its messages are gone.
    #[oai(status = 204)]
    Done,
}

/// The next page: this request's path and query with `cursor` replaced, as a relative
/// reference, or under `public_url` when one is set. Never built from `Host` or
/// `X-Forwarded-*`: whoever sends the request chooses those.
fn next_link(request: &Request, public_url: &str, cursor: &str) -> String {
    let mut query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            url_pairs(q)
                .into_iter()
                .filter(|(key, _)| key != "cursor")
                .collect()
        })
        .unwrap_or_default();
    query.push(("cursor".into(), cursor.into()));
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!(
        "<{base}{path}?{query}>; rel=\"next\"",
        base = public_url.trim_end_matches('/'),
        path = request.uri().path()
    )
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

pub struct ThreadsApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/chat/threads", tag = "ApiTags::ChatThreads")]
impl ThreadsApi {
    /// Create Chat Thread
    ///
    /// Creates a thread with one of the four assistants for a company, optionally scoped to one
    /// of its Google Ads customers and Google Business locations.
    #[oai(path = "/", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn create(
        &self,
        caller: SignedIn,
        company_id: Query<CompanyId>,
        customer_id: Query<Option<i64>>,
        location_id: Query<Option<String>>,
        login_customer_id: Query<Option<i64>>,
        body: JsonBody<AssistantChatThreadCreate>,
    ) -> Result<JsonOut<AssistantChatThread>, ApiError> {
        let scope = ThreadScope {
            company_id: company_id.0,
            customer_id: customer_id.0,
            location_id: location_id.0,
            login_customer_id: login_customer_id.0,
        };
        let thread = self
            .state
            .store
            .create_thread(caller.0.viewer(), scope, body.0)
            .await?;
        Ok(JsonOut(thread))
    }

    /// List Chat Threads
    ///
    /// A company's threads, newest first, optionally filtered: all of them, as the published API
    /// answers. With `limit`, a page of that many; follow the `Link: <...>; rel="next"` header
    /// for the next one.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        request: &Request,
        caller: SignedIn,
        company_id: Query<CompanyId>,
        assistant_type: Query<Option<AssistantType>>,
        customer_id: Query<Option<i64>>,
        location_id: Query<Option<String>>,
        is_completed: Query<Option<bool>>,
        /// Threads per page: 1 to 500. Without it, every thread, in one answer.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u32>>,
        /// From the previous page's `Link` header.
        cursor: Query<Option<Cursor>>,
    ) -> Result<ThreadList, ApiError> {
        let filter = ThreadFilter {
            company_id: company_id.0,
            assistant_type: assistant_type.0,
            customer_id: customer_id.0,
            location_id: location_id.0,
            is_completed: is_completed.0,
            before_seq: cursor.0.map(|cursor| cursor.0),
            limit: limit.0.unwrap_or(MAX_PAGE).min(MAX_PAGE),
            max_bytes: None,
        };
        let store = &self.state.store;
        if limit.0.is_none() {
            let pieces = store.every_thread(caller.0.viewer(), filter).await?;
            return Ok(ThreadList::Ok(JsonBytes::streamed(pieces), None));
        }
        let page = store.list_threads(caller.0.viewer(), filter).await?;
        let link = page.next_before_seq.map(|seq| {
            let public_url = &self.state.config.server.public_url;
            next_link(request, public_url, &Cursor::encode(seq))
        });
        Ok(ThreadList::Ok(JsonBytes::new(page.json), link))
    }

    /// Get Chat Thread
    #[oai(path = "/:thread_id", method = "get")]
    async fn get(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        /// When given, must be the thread's company.
        company_id: Query<Option<CompanyId>>,
    ) -> Result<JsonBytes<AssistantChatThread>, ApiError> {
        let thread = self
            .state
            .store
            .thread(caller.0.viewer(), thread_id.0, company_id.0)
            .await?;
        Ok(JsonBytes::new(thread))
    }

    /// Update Chat Thread
    ///
    /// Only the fields sent change; `date_updated` moves.
    #[oai(path = "/:thread_id", method = "patch")]
    async fn update(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        /// When given, must be the thread's company.
        company_id: Query<Option<CompanyId>>,
        body: JsonBody<AssistantChatThreadUpdate>,
    ) -> Result<JsonOut<AssistantChatThread>, ApiError> {
        let thread = self
            .state
            .store
            .update_thread(caller.0.viewer(), thread_id.0, company_id.0, body.0)
            .await?;
        Ok(JsonOut(thread))
    }

    /// Campaign Draft
    ///
    /// The campaign draft the thread's campaign-creation assistant is building (the same draft
    /// as `GET /api/v1/campaigns/drafts/{id}`); 404 while the thread has none.
    #[oai(path = "/:thread_id/campaign-draft", method = "get")]
    async fn campaign_draft(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
    ) -> Result<JsonOut<CampaignDraft>, ApiError> {
        let draft = self
            .state
            .store
            .thread_draft(caller.0.viewer(), thread_id.0)
            .await?;
        Ok(JsonOut(draft))
    }

    /// Delete Chat Thread
    #[oai(path = "/:thread_id", method = "delete")]
    async fn delete(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        /// When given, must be the thread's company.
        company_id: Query<Option<CompanyId>>,
    ) -> Result<Deleted, ApiError> {
        self.state
            .store
            .delete_thread(caller.0.viewer(), thread_id.0, company_id.0)
            .await?;
        Ok(Deleted::Done)
    }
}
