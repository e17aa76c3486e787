//! Background generation of a campaign draft's copy, under `/api/v1/campaigns/drafts`: three new
//! RSAs for an ad group, or the draft's extensions. Both answer at once with the task queued;
//! the worker (`assistant::generation`) fills it in, and clients poll `generation-status`.

use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{DraftId, ExtensionGenerationResponse, RsaGenerationResponse};

pub struct CampaignGenerationApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/campaigns/drafts", tag = "ApiTags::Campaigns")]
impl CampaignGenerationApi {
    /// Start RSA Generation For An Ad Group (Creates 3 RSAs)
    ///
    /// Three new RSAs in the ad group, `pending` until the background task fills them; poll
    /// `generation-status`. 404 for an ad group not in the draft; 503 without a language model.
    #[oai(
        path = "/:draft_id/ad-groups/:ad_group_id/rsa/generate",
        method = "post"
    )]
    async fn generate_rsas(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        ad_group_id: Path<i64>,
    ) -> Result<JsonOut<RsaGenerationResponse>, ApiError> {
        let viewer = caller.0.viewer();
        let store = &self.state.store;
        if let Some(reason) = self.state.assistants.generation_unavailable() {
            store
                .generation_target(viewer, draft_id.0, Some(ad_group_id.0))
                .await?;
            return Err(ApiError::unavailable(reason));
        }
        let queued = store
            .generate_rsas(viewer, draft_id.0, ad_group_id.0)
            .await?;
        Ok(JsonOut(RsaGenerationResponse {
            rsa_ids: queued.rsa_ids,
            task_id: queued.task_id,
            status: crate::schema::GenerationStatus::Pending,
        }))
    }

    /// Start Extension Generation For A Draft (Sitelinks, Callouts, Snippets)
    ///
    /// Generated items are added to the draft's own. While an extensions task of the draft is
    /// pending or in progress, that task is answered and no second one is queued. 503 without
    /// a language model.
    #[oai(path = "/:draft_id/extensions/generate", method = "post")]
    async fn generate_extensions(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
    ) -> Result<JsonOut<ExtensionGenerationResponse>, ApiError> {
        let viewer = caller.0.viewer();
        let store = &self.state.store;
        if let Some(reason) = self.state.assistants.generation_unavailable() {
            store.generation_target(viewer, draft_id.0, None).await?;
            return Err(ApiError::unavailable(reason));
        }
        let (task_id, status) = store.generate_extensions(viewer, draft_id.0).await?;
        Ok(JsonOut(ExtensionGenerationResponse { task_id, status }))
    }
}
