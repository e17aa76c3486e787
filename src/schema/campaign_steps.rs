//! Editing a campaign draft: the bodies of the four step PATCHes and of the ad-group and keyword
//! routes, and what they answer (the draft with the step's warnings), plus `validate`'s answer.
//! The assistants' tools send the same bodies. Bodies hold only what their type says: values
//! that break Google's rules are stored and reported as warnings (`campaign_rules.rs`).

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::campaigns::step_one_lengths;
use super::rules::{FieldProblem, Validate};
use super::types::{present, ObjectOnly};
use super::*;

/// Step 1: campaign-level settings. Only the fields sent change; `null` clears a field the
/// draft shows as nullable. Lists are replaced whole.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "CampaignSettingsUpdateSchema")]
pub struct CampaignSettingsPatch {
    /// Internal draft name.
    #[oai(validator(min_length = 1, max_length = 256))]
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// Name shown in Google Ads.
    #[oai(validator(min_length = 1, max_length = 256))]
    #[serde(default)]
    pub campaign_name: Patch<String>,
    #[oai(validator(min_length = 1, max_length = 2083))]
    #[serde(default)]
    pub website_url: Patch<String>,
    #[serde(default)]
    pub daily_budget_micros: Patch<i64>,
    #[serde(default)]
    pub bidding_strategy: Patch<BiddingStrategy>,
    /// Changing it rewrites keywords' match types: see the `apply_to_all_keywords` flag.
    #[serde(default, deserialize_with = "present")]
    pub default_match_type: Option<KeywordMatchType>,
    #[serde(default, deserialize_with = "present")]
    pub language_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub location_targets: Option<Vec<LocationTarget>>,
    #[serde(default)]
    pub network_settings: Patch<NetworkSettings>,
    #[serde(default)]
    pub ad_schedule: Patch<AdSchedule>,
    #[serde(default)]
    pub start_date: Patch<Date>,
    #[serde(default)]
    pub end_date: Patch<Date>,
    #[serde(default, deserialize_with = "present")]
    pub conversion_goals: Option<Vec<ConversionGoal>>,
}

impl Validate for CampaignSettingsPatch {
    /// The document's lengths only: Google's rules come back as warnings.
    fn validate(&self) -> Vec<FieldProblem> {
        step_one_lengths(
            self.name.as_deref(),
            self.campaign_name.new_value().map(String::as_str),
            self.website_url.new_value().map(String::as_str),
        )
    }
}

/// A keyword of a step-2 ad group: with the `id` of one of that ad group's keywords it updates
/// it, without one it is created. Fields left out keep their value (a new keyword: the draft's
/// `default_match_type`, no bid, no final URL); `null` clears.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "KeywordInputSchema")]
#[serde(remote = "Self")]
pub struct KeywordInput {
    #[serde(default, deserialize_with = "present")]
    pub id: Option<i64>,
    pub text: String,
    #[serde(default, deserialize_with = "present")]
    pub match_type: Option<KeywordMatchType>,
    #[serde(default)]
    pub cpc_bid_micros: Patch<i64>,
    #[serde(default)]
    pub final_url: Patch<String>,
}

/// An ad group of step 2: with the `id` of one of the draft's ad groups it updates it, without
/// one it is created. Its `keywords` replace the ad group's keywords.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AdGroupInputSchema")]
#[serde(remote = "Self")]
pub struct AdGroupInput {
    #[serde(default, deserialize_with = "present")]
    pub id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub cpc_bid_micros: Patch<i64>,
    pub keywords: Vec<KeywordInput>,
}

/// Step 2: the draft's ad groups and their keywords. The list replaces the draft's: items with
/// an `id` are updated, items without one created, ad groups (and keywords) left out deleted.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AdGroupsUpdateSchema")]
pub struct AdGroupsPatch {
    pub ad_groups: Vec<AdGroupInput>,
}

impl Validate for AdGroupsPatch {}

/// A responsive search ad of step 3, in ad group `ad_group_id`: with the `id` of one of that
/// ad group's RSAs it replaces its content, without one it is created.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "RsaInputSchema")]
#[serde(remote = "Self")]
pub struct RsaInput {
    #[serde(default, deserialize_with = "present")]
    pub id: Option<i64>,
    pub ad_group_id: i64,
    pub headlines: Vec<AdText>,
    pub descriptions: Vec<AdText>,
    #[serde(default)]
    pub path1: Nullable<String>,
    #[serde(default)]
    pub path2: Nullable<String>,
    #[serde(default)]
    pub final_url: Nullable<String>,
}

/// Step 3: responsive search ads. For each ad group named by an item, the list replaces that
/// ad group's RSAs (those left out are deleted); other ad groups' RSAs are left alone.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AdsUpdateSchema")]
pub struct AdsPatch {
    pub rsas: Vec<RsaInput>,
}

impl Validate for AdsPatch {}

/// Step 4: each list sent replaces that list; `phone` is the call extension (`null` removes
/// it); keys left out keep theirs.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "ExtensionsUpdateSchema")]
pub struct ExtensionsPatch {
    #[serde(default, deserialize_with = "present")]
    pub sitelinks: Option<Vec<Sitelink>>,
    #[serde(default, deserialize_with = "present")]
    pub callouts: Option<Vec<Callout>>,
    #[serde(default)]
    pub phone: Patch<Phone>,
    #[serde(default, deserialize_with = "present")]
    pub structured_snippets: Option<Vec<StructuredSnippet>>,
}

impl Validate for ExtensionsPatch {}

/// A new keyword: `match_type` defaults to the draft's `default_match_type`.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "KeywordCreateSchema")]
#[serde(remote = "Self")]
pub struct KeywordCreate {
    pub text: String,
    #[serde(default, deserialize_with = "present")]
    pub match_type: Option<KeywordMatchType>,
    #[serde(default)]
    pub cpc_bid_micros: Nullable<i64>,
    #[serde(default)]
    pub final_url: Nullable<String>,
}

impl Validate for KeywordCreate {}

/// A change to a keyword: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "KeywordUpdateSchema")]
pub struct KeywordUpdate {
    #[serde(default, deserialize_with = "present")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub match_type: Option<KeywordMatchType>,
    #[serde(default)]
    pub cpc_bid_micros: Patch<i64>,
    #[serde(default)]
    pub final_url: Patch<String>,
}

impl Validate for KeywordUpdate {}

/// A new ad group, with its keywords if any.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AdGroupCreateSchema")]
pub struct AdGroupCreate {
    pub name: String,
    #[serde(default)]
    pub cpc_bid_micros: Nullable<i64>,
    #[serde(default)]
    pub keywords: Vec<KeywordCreate>,
}

impl Validate for AdGroupCreate {}

/// A change to an ad group: only the fields sent change; `null` clears the bid. Its keywords
/// have their own routes.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "AdGroupUpdateSchema")]
pub struct AdGroupUpdate {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default)]
    pub cpc_bid_micros: Patch<i64>,
}

impl Validate for AdGroupUpdate {}

/// Items of a body's lists come from JSON objects only (serde's derive would also read an
/// array, field by field).
macro_rules! objects_only {
    ($($name:ident),+) => {
        $(impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::deserialize(ObjectOnly(deserializer))
            }
        })+
    };
}

objects_only!(KeywordInput, AdGroupInput, RsaInput, KeywordCreate);

/// One thing a saved step breaks of Google's rules.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize)]
#[oai(rename = "ValidationErrorSchema")]
pub struct StepWarning {
    /// A JSON path to the field: `daily_budget_micros`, `ad_groups[0].rsas[1].headlines[2].text`.
    pub path: String,
    /// `REQUIRED`, `INVALID_RANGE`, `TOO_LONG`, `TOO_FEW`, `TOO_MANY` or `INVALID_VALUE`.
    pub code: String,
    pub message: String,
}

/// A step's answer: the whole draft as saved, and what of that step breaks Google's rules.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "DraftStepResponseSchema")]
pub struct DraftStepResponse {
    pub draft: CampaignDraft,
    pub warnings: Vec<StepWarning>,
}

/// A rule the draft breaks, as `validate` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize)]
#[oai(rename = "DraftValidationErrorSchema")]
pub struct DraftValidationError {
    /// The same path syntax as the step warnings.
    pub field: String,
    pub code: String,
    pub message: String,
}

/// Whether the draft could become a campaign: Google's limits as `errors`, advice as
/// `warnings`.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "DraftValidationSchema")]
pub struct DraftValidation {
    pub valid: bool,
    pub errors: Vec<DraftValidationError>,
    pub warnings: Vec<String>,
    pub draft: CampaignDraft,
}
