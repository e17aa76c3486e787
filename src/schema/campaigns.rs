//! Campaign drafts: the published campaigns API's typed draft (`CampaignDraftSchema`), the body
//! that creates one, the list answer and the generation status. Enums whose full value lists
//! the pages do not publish (bidding type, target type, schedule mode, day of week, goal type,
//! category, snippet header) are plain strings; the two published ones are enums.

use std::ops::RangeInclusive;

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use super::rules::{check_chars, FieldProblem, Validate};
use super::types::{enum_from_text, present};
use super::*;

/// Lengths the reference page gives the step-1 strings (the step guide says 1 to 128 for
/// `name`; we take the reference's wider bound so that neither reading is refused).
pub const DRAFT_NAME_CHARS: RangeInclusive<usize> = 1..=256;
pub const WEBSITE_URL_CHARS: RangeInclusive<usize> = 1..=2083;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $oai:literal, $rename:literal, [$($variant:ident = $text:literal),+ $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize)]
        #[oai(rename = $oai, rename_all = $rename)]
        #[serde(rename_all = $rename)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                enum_from_text(deserializer, $name::parse, $name::NAMES)
            }
        }
    };
}

text_enum!(
    /// Status of background task generation.
    GenerationStatus, "GenerationStatus", "snake_case",
    [NotStarted = "not_started", Pending = "pending", InProgress = "in_progress",
     Completed = "completed", Failed = "failed"]
);

text_enum!(
    /// The keyword match types.
    KeywordMatchType, "KeywordMatchType", "SCREAMING_SNAKE_CASE",
    [Exact = "EXACT", Phrase = "PHRASE", Broad = "BROAD",
     BroadModifier = "BROAD_MODIFIER", Negative = "NEGATIVE"]
);

impl GenerationStatus {
    /// Pending or in progress: what `all_complete` waits for.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            GenerationStatus::Pending | GenerationStatus::InProgress
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "BiddingStrategySchema")]
pub struct BiddingStrategy {
    /// Such as `MAXIMIZE_CONVERSIONS`.
    #[oai(rename = "type")]
    #[serde(rename = "type", default)]
    pub kind: Nullable<String>,
    #[serde(default)]
    pub target_cpa_micros: Nullable<i64>,
    #[serde(default)]
    pub target_roas: Nullable<f64>,
    #[serde(default)]
    pub max_cpc_bid_ceiling_micros: Nullable<i64>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "LocationTargetSchema")]
pub struct LocationTarget {
    pub geo_target_constant_id: i64,
    /// Such as `INCLUDE`.
    #[serde(default)]
    pub target_type: Nullable<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "NetworkSettingsSchema")]
pub struct NetworkSettings {
    #[serde(default)]
    pub target_google_search: Nullable<bool>,
    #[serde(default)]
    pub target_search_network: Nullable<bool>,
    #[serde(default)]
    pub target_content_network: Nullable<bool>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "AdScheduleEntrySchema")]
pub struct AdScheduleEntry {
    /// Such as `MONDAY`.
    pub day_of_week: String,
    pub start_hour: i64,
    pub end_hour: i64,
    #[serde(default)]
    pub start_minute: Nullable<i64>,
    #[serde(default)]
    pub end_minute: Nullable<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "AdScheduleSchema")]
pub struct AdSchedule {
    /// Such as `ALL_TIME`.
    #[serde(default)]
    pub mode: Nullable<String>,
    #[serde(default)]
    pub schedule_entries: Vec<AdScheduleEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "ConversionGoalSchema")]
pub struct ConversionGoal {
    /// Such as `CAMPAIGN_SPECIFIC`.
    #[serde(default)]
    pub goal_type: Nullable<String>,
    #[serde(default)]
    pub conversion_action_id: Nullable<i64>,
    /// Such as `PURCHASE`.
    #[serde(default)]
    pub category: Nullable<String>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "SitelinkSchema")]
pub struct Sitelink {
    pub link_text: String,
    #[serde(default)]
    pub final_url: Nullable<String>,
    #[serde(default)]
    pub description_1: Nullable<String>,
    #[serde(default)]
    pub description_2: Nullable<String>,
    #[serde(default)]
    pub final_mobile_url: Nullable<String>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "CalloutSchema")]
pub struct Callout {
    pub callout_text: String,
}

/// The call extension: one per draft.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "PhoneSchema")]
pub struct Phone {
    pub phone_number: String,
    #[serde(default)]
    pub country_code: Nullable<String>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "StructuredSnippetSchema")]
pub struct StructuredSnippet {
    /// Such as `AMENITIES`.
    pub header: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Object, Serialize)]
#[oai(rename = "ExtensionsSchema")]
pub struct Extensions {
    pub sitelinks: Vec<Sitelink>,
    pub callouts: Vec<Callout>,
    pub phone: Nullable<Phone>,
    pub structured_snippets: Vec<StructuredSnippet>,
}

/// A headline or a description of a responsive search ad.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "AdTextSchema")]
pub struct AdText {
    pub text: String,
    /// 1 to 3 for a headline, 1 to 2 for a description; `null` when not pinned.
    #[serde(default)]
    pub pinned_position: Nullable<i64>,
}

/// A responsive search ad, under its ad group.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "ResponsiveSearchAdSchema")]
pub struct ResponsiveSearchAd {
    pub id: i64,
    pub ad_group_id: i64,
    pub headlines: Vec<AdText>,
    pub descriptions: Vec<AdText>,
    pub path1: Nullable<String>,
    pub path2: Nullable<String>,
    pub final_url: Nullable<String>,
    /// Its generation: `not_started` for an RSA written by hand.
    pub status: GenerationStatus,
    pub error: Nullable<String>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "KeywordSchema")]
pub struct Keyword {
    pub id: i64,
    pub text: String,
    pub match_type: KeywordMatchType,
    pub cpc_bid_micros: Nullable<i64>,
    pub final_url: Nullable<String>,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "AdGroupSchema")]
pub struct AdGroup {
    pub id: i64,
    pub name: String,
    pub cpc_bid_micros: Nullable<i64>,
    pub keywords: Vec<Keyword>,
    pub rsas: Vec<ResponsiveSearchAd>,
}

/// A saved, editable plan for a Google Ads Search campaign, filled in through the 4-step wizard.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "CampaignDraftSchema")]
pub struct CampaignDraft {
    pub id: DraftId,
    pub name: String,
    pub google_ads_customer_id: i64,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
    pub market_analysis_id: Nullable<i64>,
    pub campaign_name: Nullable<String>,
    pub website_url: Nullable<String>,
    pub daily_budget_micros: Nullable<i64>,
    pub bidding_strategy: Nullable<BiddingStrategy>,
    pub default_match_type: KeywordMatchType,
    pub language_ids: Vec<i64>,
    pub location_targets: Vec<LocationTarget>,
    pub network_settings: Nullable<NetworkSettings>,
    pub ad_schedule: Nullable<AdSchedule>,
    pub start_date: Nullable<Date>,
    pub end_date: Nullable<Date>,
    pub conversion_goals: Vec<ConversionGoal>,
    pub extensions: Extensions,
    pub ad_groups_task_id: Nullable<String>,
    pub ad_groups_generation_status: GenerationStatus,
    pub ad_groups_generation_error: Nullable<String>,
    pub extensions_task_id: Nullable<String>,
    pub extensions_generation_status: GenerationStatus,
    pub extensions_generation_error: Nullable<String>,
    pub is_published: bool,
    pub published_at: Nullable<Timestamp>,
    pub published_campaign_id: Nullable<i64>,
    /// True when the draft has RSAs and each has its copy: generated (`completed`) or written by
    /// a person (`not_started`); none waits for generation or failed.
    pub all_rsas_generated: bool,
    pub ad_groups: Vec<AdGroup>,
}

/// Creates a draft for one of the company's Google Ads customers, with any step-1 field.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "CampaignDraftCreateSchema")]
pub struct CampaignDraftCreate {
    /// Internal draft name.
    #[oai(validator(min_length = 1, max_length = 256))]
    pub name: String,
    /// Must be registered in the company.
    pub google_ads_customer_id: i64,
    #[serde(default, deserialize_with = "present")]
    pub market_analysis_id: Option<i64>,
    /// Name shown in Google Ads.
    #[oai(validator(min_length = 1, max_length = 256))]
    #[serde(default, deserialize_with = "present")]
    pub campaign_name: Option<String>,
    #[oai(validator(min_length = 1, max_length = 2083))]
    #[serde(default, deserialize_with = "present")]
    pub website_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub daily_budget_micros: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub bidding_strategy: Option<BiddingStrategy>,
    /// `BROAD` when left out.
    #[serde(default, deserialize_with = "present")]
    pub default_match_type: Option<KeywordMatchType>,
    #[serde(default, deserialize_with = "present")]
    pub language_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub location_targets: Option<Vec<LocationTarget>>,
    #[serde(default, deserialize_with = "present")]
    pub network_settings: Option<NetworkSettings>,
    #[serde(default, deserialize_with = "present")]
    pub ad_schedule: Option<AdSchedule>,
    #[serde(default, deserialize_with = "present")]
    pub start_date: Option<Date>,
    #[serde(default, deserialize_with = "present")]
    pub end_date: Option<Date>,
    #[serde(default, deserialize_with = "present")]
    pub conversion_goals: Option<Vec<ConversionGoal>>,
}

impl Validate for CampaignDraftCreate {
    /// The document's lengths; values that only break Google's rules are kept (the step
    /// warnings and `validate` report them).
    fn validate(&self) -> Vec<FieldProblem> {
        step_one_lengths(
            Some(&self.name),
            self.campaign_name.as_deref(),
            self.website_url.as_deref(),
        )
    }
}

/// The document's lengths of the step-1 strings sent (creating a draft, or step 1).
pub(super) fn step_one_lengths(
    name: Option<&str>,
    campaign_name: Option<&str>,
    website_url: Option<&str>,
) -> Vec<FieldProblem> {
    [
        name.and_then(|name| check_chars("name", name, DRAFT_NAME_CHARS)),
        campaign_name.and_then(|name| check_chars("campaign_name", name, DRAFT_NAME_CHARS)),
        website_url.and_then(|url| check_chars("website_url", url, WEBSITE_URL_CHARS)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The list answer: an object, not a bare array.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CampaignDraftListSchema")]
pub struct CampaignDraftList {
    pub drafts: Vec<CampaignDraft>,
}

/// A draft-level generation task (ad groups or extensions).
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "TaskStatusSchema")]
pub struct TaskStatus {
    pub task_id: Nullable<String>,
    pub status: GenerationStatus,
    pub error: Nullable<String>,
}

impl TaskStatus {
    pub fn not_started() -> Self {
        TaskStatus {
            task_id: Nullable(None),
            status: GenerationStatus::NotStarted,
            error: Nullable(None),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "RsaTaskStatusSchema")]
pub struct RsaTaskStatus {
    pub rsa_id: i64,
    pub ad_group_id: i64,
    pub task_id: Nullable<String>,
    pub status: GenerationStatus,
    pub error: Nullable<String>,
}

/// Combined status of a draft's background generation, for polling.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "DraftGenerationStatusSchema")]
pub struct DraftGenerationStatus {
    pub ad_groups: TaskStatus,
    pub rsas: Vec<RsaTaskStatus>,
    pub extensions: TaskStatus,
    /// True when no task is pending or in progress (one never started does not count).
    pub all_complete: bool,
}

impl DraftGenerationStatus {
    pub fn new(ad_groups: TaskStatus, rsas: Vec<RsaTaskStatus>, extensions: TaskStatus) -> Self {
        let all_complete = !ad_groups.status.is_running()
            && !extensions.status.is_running()
            && rsas.iter().all(|rsa| !rsa.status.is_running());
        DraftGenerationStatus {
            ad_groups,
            rsas,
            extensions,
            all_complete,
        }
    }
}
