//! Companies, their members, the onboarding profile and the model's usage.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use super::rules::{check_label, FieldProblem, Validate};
use super::types::enum_from_text;
use super::*;

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanySchema")]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// A company with every Google Ads customer and Business Profile location registered in it.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyWithConnectionsSchema")]
pub struct CompanyWithConnections {
    pub id: CompanyId,
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

impl Validate for CompanyCreate {
    /// Exactly the document's 1 to 200 characters: a name is kept as it was sent.
    fn validate(&self) -> Vec<FieldProblem> {
        check_label("name", &self.name, "").into_iter().collect()
    }
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

impl Validate for CompanyMemberCreate {}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyMemberSchema")]
pub struct CompanyMember {
    pub company_id: CompanyId,
    pub user_id: UserId,
    pub email: String,
    pub role: CompanyRole,
    pub date_added: Timestamp,
}

/// A company's answers to the onboarding interview, merged as they come.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "BusinessProfileSchema")]
pub struct BusinessProfile {
    pub company_id: CompanyId,
    /// Keys such as `business_description`, `website`, `products_and_services`,
    /// `target_customers`, `area_served`, `monthly_budget`, `goals`.
    pub profile: JsonObject,
    /// `null` until something was saved.
    pub date_updated: Nullable<Timestamp>,
}

/// Language-model tokens a company's threads have used.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "CompanyUsageSchema")]
pub struct CompanyUsage {
    pub company_id: CompanyId,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Prompt and completion tokens in the current calendar month (UTC).
    pub month_tokens: i64,
    /// Tokens per calendar month; `null` when there is no quota.
    pub monthly_token_quota: Nullable<u64>,
}
