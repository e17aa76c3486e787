//! Campaign drafts, under `/api/v1/campaigns/drafts`: create, list, read, the active draft of a
//! market analysis, the generation status and delete.

use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{
    CampaignDraft, CampaignDraftCreate, CampaignDraftList, CompanyId, DraftGenerationStatus,
    DraftId,
};
use crate::store::DraftFilter;

#[derive(ApiResponse)]
pub enum Deleted {
    /// The draft and everything under it are gone.
    #[oai(status = 204)]
    Done,
}

pub struct CampaignsApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/campaigns/drafts", tag = "ApiTags::Campaigns")]
impl CampaignsApi {
    /// Create Campaign Draft
    ///
    /// A draft of the company for one of its Google Ads customers (404 when the customer is not
    /// registered in the company), with any step-1 field.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        caller: SignedIn,
        company_id: Query<CompanyId>,
        body: JsonBody<CampaignDraftCreate>,
    ) -> Result<JsonOut<CampaignDraft>, ApiError> {
        let draft = self
            .state
            .store
            .create_draft(caller.0.viewer(), company_id.0, body.0)
            .await?;
        Ok(JsonOut(draft))
    }

    /// List Campaign Drafts
    ///
    /// The drafts of the companies the caller belongs to, newest first, optionally filtered.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        caller: SignedIn,
        company_id: Query<Option<CompanyId>>,
        google_ads_customer_id: Query<Option<i64>>,
    ) -> Result<JsonOut<CampaignDraftList>, ApiError> {
        let filter = DraftFilter {
            company_id: company_id.0,
            google_ads_customer_id: google_ads_customer_id.0,
        };
        let drafts = self
            .state
            .store
            .list_drafts(caller.0.viewer(), filter)
            .await?;
        Ok(JsonOut(CampaignDraftList { drafts }))
    }

    /// Get Active Campaign Draft For A Market Analysis
    ///
    /// The newest unpublished draft with that `market_analysis_id`; 404 when there is none.
    #[oai(path = "/active", method = "get")]
    async fn active(
        &self,
        caller: SignedIn,
        market_analysis_id: Query<i64>,
    ) -> Result<JsonOut<CampaignDraft>, ApiError> {
        let draft = self
            .state
            .store
            .active_draft(caller.0.viewer(), market_analysis_id.0)
            .await?;
        Ok(JsonOut(draft))
    }

    /// Get A Campaign Draft
    #[oai(path = "/:draft_id", method = "get")]
    async fn get(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
    ) -> Result<JsonOut<CampaignDraft>, ApiError> {
        let draft = self
            .state
            .store
            .draft(caller.0.viewer(), draft_id.0)
            .await?;
        Ok(JsonOut(draft))
    }

    /// Get Generation Status For A Draft
    ///
    /// The combined status of the draft's background generation tasks, for polling until
    /// `all_complete`.
    #[oai(path = "/:draft_id/generation-status", method = "get")]
    async fn generation_status(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
    ) -> Result<JsonOut<DraftGenerationStatus>, ApiError> {
        let status = self
            .state
            .store
            .draft_generation_status(caller.0.viewer(), draft_id.0)
            .await?;
        Ok(JsonOut(status))
    }

    /// Delete Campaign Draft
    #[oai(path = "/:draft_id", method = "delete")]
    async fn delete(&self, caller: SignedIn, draft_id: Path<DraftId>) -> Result<Deleted, ApiError> {
        self.state
            .store
            .delete_draft(caller.0.viewer(), draft_id.0)
            .await?;
        Ok(Deleted::Done)
    }
}
