//! Campaign drafts, their step edits and their generation queue on PostgreSQL are being written
//! beside this change; until they land, every such call answers an error, so that the rest of
//! the server runs on PostgreSQL. The whole file goes when they land: nothing else names it.

use super::PostgresDatabase;
use crate::schema::{
    AdGroupCreate, AdGroupUpdate, AdGroupsPatch, AdText, AdsPatch, CampaignDraft,
    CampaignDraftCreate, CampaignSettingsPatch, CompanyId, DraftGenerationStatus, DraftId,
    ExtensionsPatch, GenerationStatus, KeywordCreate, KeywordUpdate,
};
use crate::store::{
    DraftEditStore, DraftFilter, DraftStore, GeneratedExtensions, GenerationJob, GenerationQueue,
    GenerationUsage, QueuedRsas, Resumed, StoreError, StoreResult, Viewer,
};

fn not_built<T>() -> StoreResult<T> {
    Err(StoreError::Database(
        "campaign drafts are not built on PostgreSQL yet".into(),
    ))
}

impl DraftStore for PostgresDatabase {
    async fn create_draft(
        &self,
        _viewer: Viewer,
        _company_id: CompanyId,
        _new: CampaignDraftCreate,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn list_drafts(
        &self,
        _viewer: Viewer,
        _filter: DraftFilter,
    ) -> StoreResult<Vec<CampaignDraft>> {
        not_built()
    }

    async fn draft(&self, _viewer: Viewer, _draft_id: DraftId) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn active_draft(
        &self,
        _viewer: Viewer,
        _market_analysis_id: i64,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn delete_draft(&self, _viewer: Viewer, _draft_id: DraftId) -> StoreResult<()> {
        not_built()
    }

    async fn draft_generation_status(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
    ) -> StoreResult<DraftGenerationStatus> {
        not_built()
    }
}

impl DraftEditStore for PostgresDatabase {
    async fn patch_campaign_settings(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _patch: CampaignSettingsPatch,
        _apply_to_all_keywords: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn patch_ad_groups(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _patch: AdGroupsPatch,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn patch_ads(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _patch: AdsPatch,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn patch_extensions(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _patch: ExtensionsPatch,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn create_ad_group(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _new: AdGroupCreate,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn update_ad_group(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: i64,
        _change: AdGroupUpdate,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn create_keyword(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: i64,
        _new: KeywordCreate,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn update_keyword(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: i64,
        _keyword_id: i64,
        _change: KeywordUpdate,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }

    async fn delete_keyword(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: i64,
        _keyword_id: i64,
        _regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        not_built()
    }
}

impl GenerationQueue for PostgresDatabase {
    async fn generate_rsas(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: i64,
    ) -> StoreResult<QueuedRsas> {
        not_built()
    }

    async fn generate_extensions(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
    ) -> StoreResult<(String, GenerationStatus)> {
        not_built()
    }

    async fn generation_target(
        &self,
        _viewer: Viewer,
        _draft_id: DraftId,
        _ad_group_id: Option<i64>,
    ) -> StoreResult<()> {
        not_built()
    }

    async fn resume_generation(&self, _max_attempts: u32) -> StoreResult<Resumed> {
        not_built()
    }

    async fn claim_generation_task(&self) -> StoreResult<Option<GenerationJob>> {
        not_built()
    }

    async fn rsa_awaits(&self, _task_id: String, _rsa_id: i64) -> StoreResult<bool> {
        not_built()
    }

    async fn finish_generated_rsa(
        &self,
        _task_id: String,
        _rsa_id: i64,
        _outcome: Result<(Vec<AdText>, Vec<AdText>), String>,
        _usage: GenerationUsage,
    ) -> StoreResult<bool> {
        not_built()
    }

    async fn finish_generated_extensions(
        &self,
        _task_id: String,
        _draft_id: DraftId,
        _items: GeneratedExtensions,
        _usage: GenerationUsage,
    ) -> StoreResult<()> {
        not_built()
    }

    async fn finish_generation_task(
        &self,
        _task_id: String,
        _error: Option<String>,
        _usage: GenerationUsage,
    ) -> StoreResult<()> {
        not_built()
    }

    async fn release_generation_tasks(&self, _task_ids: Vec<String>) -> StoreResult<()> {
        not_built()
    }
}
