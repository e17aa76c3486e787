//! A campaign draft as both backends read it: its row (`DRAFT_COLUMNS`), its keywords, RSAs and
//! tasks, and the whole draft put together from those parts, as the API answers it. Each
//! backend reads the parts with its own queries; what they mean is decided here once.

use serde::de::DeserializeOwned;

use super::columns::Columns;
use super::{StoreError, StoreResult};
use crate::schema::{
    AdGroup, AdText, CampaignDraft, Date, DraftId, Extensions, GenerationStatus, Keyword,
    KeywordMatchType, Nullable, ResponsiveSearchAd, TaskStatus, Timestamp,
};

pub(crate) fn status(text: &str) -> GenerationStatus {
    GenerationStatus::parse(text).unwrap_or(GenerationStatus::Failed)
}

pub(crate) fn match_type(text: &str) -> KeywordMatchType {
    KeywordMatchType::parse(text).unwrap_or(KeywordMatchType::Broad)
}

/// The draft's row, its JSON columns still text.
pub(crate) struct DraftRow {
    pub draft: CampaignDraft,
    pub json: [Option<String>; 7],
}

/// A draft's row from `DRAFT_COLUMNS`.
pub(crate) fn draft_row<R: Columns>(row: &R) -> Result<DraftRow, R::Error> {
    let text = |at: usize| row.opt_text(at);
    let date = |at: usize| -> Result<Option<Date>, R::Error> {
        Ok(text(at)?.as_deref().and_then(Date::parse))
    };
    Ok(DraftRow {
        draft: CampaignDraft {
            id: DraftId(row.int(0)?),
            name: row.text(1)?,
            google_ads_customer_id: row.int(2)?,
            date_added: Timestamp(row.text(3)?),
            date_updated: Timestamp(row.text(4)?),
            market_analysis_id: Nullable(row.opt_int(5)?),
            campaign_name: Nullable(row.opt_text(6)?),
            website_url: Nullable(row.opt_text(7)?),
            daily_budget_micros: Nullable(row.opt_int(8)?),
            bidding_strategy: Nullable(None),
            default_match_type: match_type(&row.text(10)?),
            language_ids: Vec::new(),
            location_targets: Vec::new(),
            network_settings: Nullable(None),
            ad_schedule: Nullable(None),
            start_date: Nullable(date(15)?),
            end_date: Nullable(date(16)?),
            conversion_goals: Vec::new(),
            extensions: Extensions::default(),
            ad_groups_task_id: Nullable(None),
            ad_groups_generation_status: GenerationStatus::NotStarted,
            ad_groups_generation_error: Nullable(None),
            extensions_task_id: Nullable(None),
            extensions_generation_status: GenerationStatus::NotStarted,
            extensions_generation_error: Nullable(None),
            is_published: row.flag(19)?,
            published_at: Nullable(text(20)?.map(Timestamp)),
            published_campaign_id: Nullable(row.opt_int(21)?),
            all_rsas_generated: false,
            ad_groups: Vec::new(),
        },
        json: [
            text(9)?,
            text(11)?,
            text(12)?,
            text(13)?,
            text(14)?,
            text(17)?,
            text(18)?,
        ],
    })
}

/// The newest task of a draft-level kind from `id, status, error`.
pub(crate) fn task_status_from_row<R: Columns>(row: &R) -> Result<TaskStatus, R::Error> {
    Ok(TaskStatus {
        task_id: Nullable(row.opt_text(0)?),
        status: status(&row.text(1)?),
        error: Nullable(row.opt_text(2)?),
    })
}

/// A keyword from `id, text, match_type, cpc_bid_micros, final_url`.
pub(crate) fn keyword_from_row<R: Columns>(row: &R) -> Result<Keyword, R::Error> {
    Ok(Keyword {
        id: row.int(0)?,
        text: row.text(1)?,
        match_type: match_type(&row.text(2)?),
        cpc_bid_micros: Nullable(row.opt_int(3)?),
        final_url: Nullable(row.opt_text(4)?),
    })
}

/// An RSA of ad group `ad_group_id` from `id, headlines, descriptions, path1, path2,
/// final_url, status, error`.
pub(crate) fn rsa_from_row<R: Columns>(row: &R, ad_group_id: i64) -> StoreResult<ResponsiveSearchAd>
where
    StoreError: From<R::Error>,
{
    Ok(ResponsiveSearchAd {
        id: row.int(0)?,
        ad_group_id,
        headlines: serde_json::from_str::<Vec<AdText>>(&row.text(1)?)?,
        descriptions: serde_json::from_str::<Vec<AdText>>(&row.text(2)?)?,
        path1: Nullable(row.opt_text(3)?),
        path2: Nullable(row.opt_text(4)?),
        final_url: Nullable(row.opt_text(5)?),
        status: status(&row.text(6)?),
        error: Nullable(row.opt_text(7)?),
    })
}

/// What a draft is read from: its row and, beside it, its extension items (their JSON, in
/// order), its newest draft-level tasks and its ad groups.
pub(crate) struct DraftParts {
    pub row: DraftRow,
    pub sitelinks: Vec<String>,
    pub callouts: Vec<String>,
    pub structured_snippets: Vec<String>,
    pub ad_groups_task: TaskStatus,
    pub extensions_task: TaskStatus,
    pub ad_groups: Vec<AdGroup>,
}

/// The draft, whole, as the API answers it.
pub(crate) fn whole_draft(parts: DraftParts) -> StoreResult<CampaignDraft> {
    let [bidding, languages, locations, network, schedule, goals, phone] = parts.row.json;
    let mut draft = parts.row.draft;
    draft.bidding_strategy = Nullable(json_column(bidding)?);
    draft.language_ids = json_column(languages)?.unwrap_or_default();
    draft.location_targets = json_column(locations)?.unwrap_or_default();
    draft.network_settings = Nullable(json_column(network)?);
    draft.ad_schedule = Nullable(json_column(schedule)?);
    draft.conversion_goals = json_column(goals)?.unwrap_or_default();
    draft.extensions = Extensions {
        sitelinks: parsed(&parts.sitelinks)?,
        callouts: parsed(&parts.callouts)?,
        phone: Nullable(json_column(phone)?),
        structured_snippets: parsed(&parts.structured_snippets)?,
    };
    draft.ad_groups_task_id = parts.ad_groups_task.task_id;
    draft.ad_groups_generation_status = parts.ad_groups_task.status;
    draft.ad_groups_generation_error = parts.ad_groups_task.error;
    draft.extensions_task_id = parts.extensions_task.task_id;
    draft.extensions_generation_status = parts.extensions_task.status;
    draft.extensions_generation_error = parts.extensions_task.error;
    draft.ad_groups = parts.ad_groups;
    // `not_started` is an RSA a person wrote or took over: it has its copy, and a client that
    // polls this flag after asking for generation must not wait on it for ever.
    let mut all_rsas = draft.ad_groups.iter().flat_map(|group| &group.rsas);
    draft.all_rsas_generated = all_rsas.clone().next().is_some()
        && all_rsas.all(|rsa| {
            matches!(
                rsa.status,
                GenerationStatus::Completed | GenerationStatus::NotStarted
            )
        });
    Ok(draft)
}

/// A JSON column: `None` for NULL.
fn json_column<T: DeserializeOwned>(text: Option<String>) -> StoreResult<Option<T>> {
    text.map(|text| serde_json::from_str(&text).map_err(StoreError::from))
        .transpose()
}

fn parsed<T: DeserializeOwned>(texts: &[String]) -> StoreResult<Vec<T>> {
    texts
        .iter()
        .map(|text| serde_json::from_str(text).map_err(StoreError::from))
        .collect()
}
