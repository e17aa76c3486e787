//! Editing a campaign draft, under `/api/v1/campaigns/drafts/{draft_id}`: the four step
//! PATCHes, `validate`, and the ad-group and keyword routes of the RSA guide. Each edit answers
//! the draft as saved with the warnings of its step (the ad-group and keyword routes are step
//! 2); `validate` answers Google's limits as errors.

use poem_openapi::param::{Path, Query};
use poem_openapi::OpenApi;

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::campaign_rules::{
    ad_group_warnings, ads_warnings, extension_warnings, settings_warnings, validate_draft,
};
use crate::schema::{
    AdGroupCreate, AdGroupUpdate, AdGroupsPatch, AdsPatch, AssistantType, CampaignDraft,
    CampaignSettingsPatch, DraftId, DraftStepResponse, DraftValidation, ExtensionsPatch,
    KeywordCreate, KeywordUpdate, StepWarning,
};

type StepAnswer = Result<JsonOut<DraftStepResponse>, ApiError>;

fn answer(draft: CampaignDraft, warnings: fn(&CampaignDraft) -> Vec<StepWarning>) -> StepAnswer {
    let warnings = warnings(&draft);
    Ok(JsonOut(DraftStepResponse { draft, warnings }))
}

pub struct CampaignStepsApi {
    pub state: AppState,
}

impl CampaignStepsApi {
    /// Whether a change queues RSA regeneration: asked for (`regenerate_rsas`, default true)
    /// and a model to generate with (without one it is skipped silently, as the guide does
    /// when it cannot generate).
    fn regenerate(&self, regenerate_rsas: Option<bool>) -> bool {
        regenerate_rsas.unwrap_or(true)
            && self
                .state
                .assistants
                .unavailable_reason(AssistantType::CampaignCreation)
                .is_none()
    }
}

#[OpenApi(prefix_path = "/api/v1/campaigns/drafts", tag = "ApiTags::Campaigns")]
impl CampaignStepsApi {
    /// Update Campaign Settings (Step 1)
    ///
    /// Only the fields sent change. When `default_match_type` changes, keywords that had the
    /// previous default get the new one; with `apply_to_all_keywords=true`, every keyword does.
    /// Always saves; what breaks Google's rules comes back in `warnings`.
    #[oai(path = "/:draft_id/campaign-settings", method = "patch")]
    async fn campaign_settings(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        apply_to_all_keywords: Query<Option<bool>>,
        body: JsonBody<CampaignSettingsPatch>,
    ) -> StepAnswer {
        let draft = self
            .state
            .store
            .patch_campaign_settings(
                caller.0.viewer(),
                draft_id.0,
                body.0,
                apply_to_all_keywords.0.unwrap_or(false),
            )
            .await?;
        answer(draft, settings_warnings)
    }

    /// Update Ad Groups (Step 2)
    ///
    /// The list replaces the draft's ad groups and their keywords: items with an `id` are
    /// updated, items without one created, those left out deleted. An `id` that is not the
    /// draft's (or, for a keyword, its ad group's) is 422 and nothing changes.
    #[oai(path = "/:draft_id/ad-groups", method = "patch")]
    async fn ad_groups(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        regenerate_rsas: Query<Option<bool>>,
        body: JsonBody<AdGroupsPatch>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .patch_ad_groups(caller.0.viewer(), draft_id.0, body.0, regenerate)
            .await?;
        answer(draft, ad_group_warnings)
    }

    /// Update Ads (Step 3)
    ///
    /// For each ad group an item names, the list replaces its responsive search ads. An RSA
    /// whose content is changed here is never overwritten by generation afterwards.
    #[oai(path = "/:draft_id/ads", method = "patch")]
    async fn ads(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        body: JsonBody<AdsPatch>,
    ) -> StepAnswer {
        let draft = self
            .state
            .store
            .patch_ads(caller.0.viewer(), draft_id.0, body.0)
            .await?;
        answer(draft, ads_warnings)
    }

    /// Update Extensions (Step 4)
    ///
    /// Each list sent replaces that list; `phone` is set, or removed with `null`.
    #[oai(path = "/:draft_id/extensions", method = "patch")]
    async fn extensions(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        body: JsonBody<ExtensionsPatch>,
    ) -> StepAnswer {
        let draft = self
            .state
            .store
            .patch_extensions(caller.0.viewer(), draft_id.0, body.0)
            .await?;
        answer(draft, extension_warnings)
    }

    /// Validate Draft For Campaign Creation
    ///
    /// Always 200: `valid` is false when `errors` (Google's limits) is not empty; `warnings`
    /// is advice.
    #[oai(path = "/:draft_id/validate", method = "post")]
    async fn validate(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
    ) -> Result<JsonOut<DraftValidation>, ApiError> {
        let draft = self
            .state
            .store
            .draft(caller.0.viewer(), draft_id.0)
            .await?;
        let (errors, warnings) = validate_draft(&draft);
        Ok(JsonOut(DraftValidation {
            valid: errors.is_empty(),
            errors,
            warnings,
            draft,
        }))
    }

    /// Create Ad Group
    ///
    /// Added last, with its keywords; the draft is answered with the step-2 warnings. Created
    /// with at least one keyword, it queues RSA generation (unless `regenerate_rsas=false`).
    #[oai(path = "/:draft_id/ad-groups", method = "post")]
    async fn create_ad_group(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        regenerate_rsas: Query<Option<bool>>,
        body: JsonBody<AdGroupCreate>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .create_ad_group(caller.0.viewer(), draft_id.0, body.0, regenerate)
            .await?;
        answer(draft, ad_group_warnings)
    }

    /// Update Ad Group
    ///
    /// Only the fields sent change. A new name regenerates its RSAs (unless
    /// `regenerate_rsas=false`); a bid does not.
    #[oai(path = "/:draft_id/ad-groups/:ad_group_id", method = "put")]
    async fn update_ad_group(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        ad_group_id: Path<i64>,
        regenerate_rsas: Query<Option<bool>>,
        body: JsonBody<AdGroupUpdate>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .update_ad_group(
                caller.0.viewer(),
                draft_id.0,
                ad_group_id.0,
                body.0,
                regenerate,
            )
            .await?;
        answer(draft, ad_group_warnings)
    }

    /// Add Keyword
    ///
    /// Added last to the ad group; regenerates its RSAs (unless `regenerate_rsas=false`).
    #[oai(path = "/:draft_id/ad-groups/:ad_group_id/keywords", method = "post")]
    async fn create_keyword(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        ad_group_id: Path<i64>,
        regenerate_rsas: Query<Option<bool>>,
        body: JsonBody<KeywordCreate>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .create_keyword(
                caller.0.viewer(),
                draft_id.0,
                ad_group_id.0,
                body.0,
                regenerate,
            )
            .await?;
        answer(draft, ad_group_warnings)
    }

    /// Update Keyword
    ///
    /// Only the fields sent change. A new text regenerates the ad group's RSAs (unless
    /// `regenerate_rsas=false`); a match type, bid or final URL does not.
    #[oai(
        path = "/:draft_id/ad-groups/:ad_group_id/keywords/:keyword_id",
        method = "put"
    )]
    async fn update_keyword(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        ad_group_id: Path<i64>,
        keyword_id: Path<i64>,
        regenerate_rsas: Query<Option<bool>>,
        body: JsonBody<KeywordUpdate>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .update_keyword(
                caller.0.viewer(),
                draft_id.0,
                ad_group_id.0,
                keyword_id.0,
                body.0,
                regenerate,
            )
            .await?;
        answer(draft, ad_group_warnings)
    }

    /// Delete Keyword
    ///
    /// Answers the draft without it; regenerates the ad group's RSAs (unless
    /// `regenerate_rsas=false`).
    #[oai(
        path = "/:draft_id/ad-groups/:ad_group_id/keywords/:keyword_id",
        method = "delete"
    )]
    async fn delete_keyword(
        &self,
        caller: SignedIn,
        draft_id: Path<DraftId>,
        ad_group_id: Path<i64>,
        keyword_id: Path<i64>,
        regenerate_rsas: Query<Option<bool>>,
    ) -> StepAnswer {
        let regenerate = self.regenerate(regenerate_rsas.0);
        let draft = self
            .state
            .store
            .delete_keyword(
                caller.0.viewer(),
                draft_id.0,
                ad_group_id.0,
                keyword_id.0,
                regenerate,
            )
            .await?;
        answer(draft, ad_group_warnings)
    }
}
