//! The shapes the API sends and receives, named as the published contract names them.
//! Bodies are read and written with serde; the poem-openapi derives only describe them.

pub mod rules;
mod types;

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use types::ObjectOnly;
pub use types::{JsonObject, Nullable, Timestamp, WebUrl, MAX_JSON_DEPTH};

use rules::{check_profile, FieldProblem};

/// The Assistant types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize)]
#[oai(rename = "AssistantType", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AssistantType {
    Onboarding,
    General,
    MarketAnalysis,
    CampaignCreation,
}

impl AssistantType {
    pub const ALL: [AssistantType; 4] = [
        AssistantType::Onboarding,
        AssistantType::General,
        AssistantType::MarketAnalysis,
        AssistantType::CampaignCreation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssistantType::Onboarding => "onboarding",
            AssistantType::General => "general",
            AssistantType::MarketAnalysis => "market_analysis",
            AssistantType::CampaignCreation => "campaign_creation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl<'de> Deserialize<'de> for AssistantType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const NAMES: &[&str] = &[
            "onboarding",
            "general",
            "market_analysis",
            "campaign_creation",
        ];
        enum_from_text(deserializer, AssistantType::parse, NAMES)
    }
}

/// Reads an enum from its text, so that a value of the wrong type is reported as such (serde's
/// derive makes serde_json report a number where a variant belongs as a syntax error).
fn enum_from_text<'de, D, T>(
    deserializer: D,
    parse: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::unknown_variant(&text, names))
}

/// The schema for an assistant.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "AssistantSchema")]
pub struct Assistant {
    pub id: String,
    pub assistant_type: AssistantType,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// Schema for GoogleAdsCustomer model.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "GoogleAdsCustomerSchema")]
pub struct GoogleAdsCustomer {
    /// The Google Ads customer id.
    pub id: i64,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
    pub descriptive_name: Nullable<String>,
    pub currency_code: Nullable<String>,
    pub time_zone: Nullable<String>,
    pub status: Nullable<String>,
    pub manager: bool,
    pub is_active: bool,
    pub is_deleted: bool,
}

/// A Google Ads customer to register with a company.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "GoogleAdsCustomerCreateSchema")]
pub struct GoogleAdsCustomerCreate {
    /// The Google Ads customer id (digits only, as Google Ads shows it without dashes).
    #[oai(validator(minimum(value = "1")))]
    pub id: i64,
    #[serde(default)]
    pub descriptive_name: Nullable<String>,
    #[serde(default)]
    pub currency_code: Nullable<String>,
    #[serde(default)]
    pub time_zone: Nullable<String>,
    #[serde(default)]
    pub status: Nullable<String>,
    /// Default false.
    #[serde(default, deserialize_with = "present")]
    pub manager: Option<bool>,
    /// Default true.
    #[serde(default, deserialize_with = "present")]
    pub is_active: Option<bool>,
    /// Default false.
    #[serde(default, deserialize_with = "present")]
    pub is_deleted: Option<bool>,
}

/// A change to a registered Google Ads customer: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "GoogleAdsCustomerUpdateSchema")]
pub struct GoogleAdsCustomerUpdate {
    #[serde(default, deserialize_with = "present")]
    pub descriptive_name: Option<Nullable<String>>,
    #[serde(default, deserialize_with = "present")]
    pub currency_code: Option<Nullable<String>>,
    #[serde(default, deserialize_with = "present")]
    pub time_zone: Option<Nullable<String>>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<Nullable<String>>,
    #[serde(default)]
    pub manager: Option<bool>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub is_deleted: Option<bool>,
}

/// The postal address of a Business Profile location.
#[derive(Debug, Clone, PartialEq, Default, Object, Serialize, Deserialize)]
#[oai(rename = "StorefrontAddressSchema")]
// The derives become inherent functions, called by the impls below.
#[serde(remote = "Self")]
pub struct StorefrontAddress {
    #[serde(default)]
    pub region_code: Nullable<String>,
    #[serde(default)]
    pub language_code: Nullable<String>,
    #[serde(default)]
    pub postal_code: Nullable<String>,
    #[serde(default)]
    pub administrative_area: Nullable<String>,
    #[serde(default)]
    pub locality: Nullable<String>,
    #[serde(default)]
    pub sublocality: Nullable<String>,
    pub address_lines: Vec<String>,
}

impl<'de> Deserialize<'de> for StorefrontAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StorefrontAddress::deserialize(ObjectOnly(deserializer))
    }
}

impl Serialize for StorefrontAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StorefrontAddress::serialize(self, serializer)
    }
}

/// A Google Business Profile location.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "GoogleBusinessLocationSchema")]
pub struct GoogleBusinessLocation {
    /// The location's resource name, such as `locations/123`.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub id: String,
    #[serde(default)]
    pub title: Nullable<String>,
    #[serde(default)]
    pub store_code: Nullable<String>,
    /// An absolute http(s) URL (422 otherwise).
    #[serde(default)]
    pub maps_uri: Nullable<WebUrl>,
    #[serde(default)]
    pub storefront_address: Nullable<StorefrontAddress>,
}

/// A change to a registered Business location: only the fields sent change; `null` clears;
/// `storefront_address` replaces the whole address.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "GoogleBusinessLocationUpdateSchema")]
pub struct GoogleBusinessLocationUpdate {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Nullable<String>>,
    #[serde(default, deserialize_with = "present")]
    pub store_code: Option<Nullable<String>>,
    /// An absolute http(s) URL (422 otherwise).
    #[serde(default, deserialize_with = "present")]
    pub maps_uri: Option<Nullable<WebUrl>>,
    #[serde(default, deserialize_with = "present")]
    pub storefront_address: Option<Nullable<StorefrontAddress>>,
}

/// The schema for an assistant's chat thread.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "AssistantChatThreadSchema")]
pub struct AssistantChatThread {
    pub thread_id: String,
    pub is_completed: bool,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
    pub name: Nullable<String>,
    pub description: Nullable<String>,
    /// Extra data used to create the chat thread that is later passed to Assistant Functions (tool calls)
    pub extra_data: JsonObject,
    pub google_ads_customer: Nullable<GoogleAdsCustomer>,
    pub google_ads_login_customer_id: Nullable<i64>,
    pub google_business_location: Nullable<GoogleBusinessLocation>,
    pub assistant: Assistant,
}

/// The schema for creating an assistant's chat thread.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AssistantChatThreadCreateSchema")]
pub struct AssistantChatThreadCreate {
    pub assistant_type: AssistantType,
    #[serde(default)]
    pub name: Nullable<String>,
    #[serde(default)]
    pub description: Nullable<String>,
    /// Extra data used to create the chat thread that is later passed to Assistant Functions (tool calls)
    #[serde(default, deserialize_with = "present")]
    pub extra_data: Option<JsonObject>,
}

/// A change to a chat thread: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "AssistantChatThreadUpdateSchema")]
pub struct AssistantChatThreadUpdate {
    /// `null` clears the name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Nullable<String>>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Nullable<String>>,
    #[serde(default, deserialize_with = "present")]
    pub is_completed: Option<bool>,
    /// Replaces the whole object.
    #[serde(default, deserialize_with = "present")]
    pub extra_data: Option<JsonObject>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanySchema")]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// A company with every Google Ads customer and Business Profile location registered in it.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyWithConnectionsSchema")]
pub struct CompanyWithConnections {
    pub id: i64,
    pub name: String,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
    pub google_ads_customers: Vec<GoogleAdsCustomer>,
    pub google_business_locations: Vec<GoogleBusinessLocation>,
}

impl CompanyWithConnections {
    pub fn without_connections(company: Company) -> Self {
        CompanyWithConnections {
            id: company.id,
            name: company.name,
            date_added: company.date_added,
            date_updated: company.date_updated,
            google_ads_customers: Vec::new(),
            google_business_locations: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "CompanyCreateSchema")]
pub struct CompanyCreate {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
}

/// A person's role in a company: owners may add members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename = "CompanyRole", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CompanyRole {
    Owner,
    Member,
}

impl CompanyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyRole::Owner => "owner",
            CompanyRole::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(CompanyRole::Owner),
            "member" => Some(CompanyRole::Member),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for CompanyRole {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        enum_from_text(deserializer, CompanyRole::parse, &["owner", "member"])
    }
}

#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "CompanyMemberCreateSchema")]
pub struct CompanyMemberCreate {
    pub email: String,
    pub role: CompanyRole,
}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyMemberSchema")]
pub struct CompanyMember {
    pub company_id: i64,
    pub user_id: i64,
    pub email: String,
    pub role: CompanyRole,
    pub date_added: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Default, Object, Serialize, Deserialize)]
#[oai(rename = "UserProfileSchema")]
pub struct UserProfile {
    #[serde(default)]
    pub first_name: Nullable<String>,
    #[serde(default)]
    pub last_name: Nullable<String>,
    #[serde(default)]
    pub phone_number: Nullable<String>,
}

impl UserProfile {
    pub fn problems(&self) -> Vec<FieldProblem> {
        check_profile([
            ("first_name", self.first_name.0.as_deref()),
            ("last_name", self.last_name.0.as_deref()),
            ("phone_number", self.phone_number.0.as_deref()),
        ])
    }
}

/// A change to a user's profile: only the fields that are Some change; `Nullable(None)` clears.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub first_name: Option<Nullable<String>>,
    pub last_name: Option<Nullable<String>>,
    pub phone_number: Option<Nullable<String>>,
}

impl ProfileChange {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.last_name.is_none() && self.phone_number.is_none()
    }

    /// What is wrong with the values it sets.
    pub fn problems(&self) -> Vec<FieldProblem> {
        fn new_value(field: &Option<Nullable<String>>) -> Option<&str> {
            field.as_ref().and_then(|value| value.0.as_deref())
        }
        check_profile([
            ("first_name", new_value(&self.first_name)),
            ("last_name", new_value(&self.last_name)),
            ("phone_number", new_value(&self.phone_number)),
        ])
    }
}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "UserSchema")]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub profile: UserProfile,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// A change to the signed-in user's own account: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "UserUpdateSchema")]
pub struct UserUpdate {
    /// `null` clears it. At most 200 characters.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(max_length = 200))]
    pub first_name: Option<Nullable<String>>,
    /// `null` clears it. At most 200 characters.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(max_length = 200))]
    pub last_name: Option<Nullable<String>>,
    /// `null` clears it. 9 to 15 characters.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Option<Nullable<String>>,
    /// The password now in use; required with `new_password`.
    #[serde(default, deserialize_with = "present")]
    pub current_password: Option<String>,
    /// At least 8 characters. Signs out every other session of the user.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_length = 8))]
    pub new_password: Option<String>,
}

/// A new account, through `POST /api/v1/users/authorization/register`.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "UserRegisterSchema")]
pub struct UserRegister {
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)*$"
    ))]
    pub email: String,
    /// At least 8 characters.
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// The same password again.
    pub password_confirm: String,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub first_name: Nullable<String>,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub last_name: Nullable<String>,
    /// 9 to 15 characters.
    #[serde(default)]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Nullable<String>,
}

/// The answer of the published API's sign-in and registration: the user and a bearer token.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "LoggedInUserSchema")]
pub struct LoggedInUser {
    pub id: i64,
    pub email: String,
    pub profile: UserProfile,
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Always `null`: a self-hosted install checks no reCAPTCHA.
    pub is_google_recaptcha_response_valid: Nullable<bool>,
}

impl LoggedInUser {
    pub fn new(user: User, access_token: String) -> Self {
        LoggedInUser {
            id: user.id,
            email: user.email,
            profile: user.profile,
            access_token,
            token_type: "bearer".into(),
            is_google_recaptcha_response_valid: Nullable(None),
        }
    }
}

/// A user an administrator creates.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "UserCreateSchema")]
pub struct UserCreate {
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)*$"
    ))]
    pub email: String,
    /// At least 8 characters.
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// Default false.
    #[serde(default)]
    #[oai(default)]
    pub is_admin: bool,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub first_name: Nullable<String>,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub last_name: Nullable<String>,
    /// 9 to 15 characters.
    #[serde(default)]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Nullable<String>,
}

/// What an administrator changes about a user: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "UserAdminUpdateSchema")]
pub struct UserAdminUpdate {
    /// A new password (at least 8 characters); every token of the user stops working.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_length = 8))]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub is_admin: Option<bool>,
    /// `false` deactivates: the user can no longer sign in and every token stops working.
    #[serde(default, deserialize_with = "present")]
    pub is_active: Option<bool>,
}

/// RFC 6749 §5.1 access token response.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "TokenSchema")]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// The Front-end actions
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize, Deserialize)]
#[oai(rename = "FrontendAction", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FrontendAction {
    EnableSubmitButton,
    DisableSubmitButton,
    UpdateCampaignDraft,
    #[oai(rename = "set_campaign_draft_step_1")]
    #[serde(rename = "set_campaign_draft_step_1")]
    SetCampaignDraftStep1,
    #[oai(rename = "set_campaign_draft_step_2")]
    #[serde(rename = "set_campaign_draft_step_2")]
    SetCampaignDraftStep2,
    #[oai(rename = "set_campaign_draft_step_3")]
    #[serde(rename = "set_campaign_draft_step_3")]
    SetCampaignDraftStep3,
    #[oai(rename = "set_campaign_draft_step_4")]
    #[serde(rename = "set_campaign_draft_step_4")]
    SetCampaignDraftStep4,
}

impl FrontendAction {
    /// `set_campaign_draft_step_N` for a step from 1 to 4.
    pub fn campaign_draft_step(step: u8) -> Option<Self> {
        match step {
            1 => Some(FrontendAction::SetCampaignDraftStep1),
            2 => Some(FrontendAction::SetCampaignDraftStep2),
            3 => Some(FrontendAction::SetCampaignDraftStep3),
            4 => Some(FrontendAction::SetCampaignDraftStep4),
            _ => None,
        }
    }
}

/// A message of a chat thread, as clients see it.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "AssistantChatMessageSchema")]
pub struct AssistantChatMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
    pub frontend_actions: Vec<FrontendAction>,
}

/// A message to the thread's assistant.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AssistantChatMessageCreateSchema")]
pub struct AssistantChatMessageCreate {
    /// Only `user` is accepted.
    #[oai(validator(pattern = "^user$"))]
    pub role: String,
    /// 1 to 32,000 characters, not only blanks.
    #[oai(validator(min_length = 1, max_length = 32000, pattern = "\\S"))]
    pub content: String,
}

/// An assistant with its instructions (its system prompt).
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "AssistantDetailSchema")]
pub struct AssistantDetail {
    pub id: String,
    pub assistant_type: AssistantType,
    /// What the model is told before the conversation.
    pub instructions: String,
    /// True while the built-in instructions for the type are in use.
    pub instructions_are_default: bool,
    /// Whether the assistant can answer now: with a model configured, or (onboarding only) with
    /// the built-in interview.
    pub can_answer: bool,
    /// Why it cannot answer, when it cannot.
    pub unavailable_reason: Nullable<String>,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// A change to an assistant's instructions; `null` restores the built-in ones.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AssistantUpdateSchema")]
pub struct AssistantUpdate {
    /// 1 to 32,000 characters, not only blanks.
    #[oai(validator(min_length = 1, max_length = 32000, pattern = "\\S"))]
    pub instructions: Nullable<String>,
}

/// A company's answers to the onboarding interview, merged as they come.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "BusinessProfileSchema")]
pub struct BusinessProfile {
    pub company_id: i64,
    /// Keys such as `business_description`, `website`, `products_and_services`,
    /// `target_customers`, `area_served`, `monthly_budget`, `goals`.
    pub profile: JsonObject,
    /// `null` until something was saved.
    pub date_updated: Nullable<Timestamp>,
}

/// The campaign a campaign-creation thread is building, in the wizard's four steps.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CampaignDraftSchema")]
pub struct CampaignDraft {
    pub thread_id: String,
    /// The step last written, 1 to 4; `null` while the draft is empty.
    pub current_step: Nullable<u8>,
    /// Step 1.
    pub campaign_settings: Nullable<JsonObject>,
    /// Step 2.
    pub ad_groups: Nullable<JsonObject>,
    /// Step 3.
    pub ads: Nullable<JsonObject>,
    /// Step 4.
    pub extensions: Nullable<JsonObject>,
}

/// Language-model tokens a company's threads have used.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyUsageSchema")]
pub struct CompanyUsage {
    pub company_id: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Prompt and completion tokens in the current calendar month (UTC).
    pub month_tokens: i64,
    /// Tokens per calendar month; `null` when there is no quota.
    pub monthly_token_quota: Nullable<u64>,
}
