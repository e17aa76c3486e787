//! A company's Google connections: Google Ads customers and Business Profile locations.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::rules::{check_label, FieldProblem, Validate};
use super::types::{present, ObjectOnly};
use super::*;

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

impl Validate for GoogleAdsCustomerCreate {
    fn validate(&self) -> Vec<FieldProblem> {
        if self.id < 1 {
            return vec![FieldProblem::new(
                "id",
                "Input should be greater than 0",
                "greater_than",
            )];
        }
        Vec::new()
    }
}

/// A change to a registered Google Ads customer: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "GoogleAdsCustomerUpdateSchema")]
pub struct GoogleAdsCustomerUpdate {
    #[serde(default)]
    pub descriptive_name: Patch<String>,
    #[serde(default)]
    pub currency_code: Patch<String>,
    #[serde(default)]
    pub time_zone: Patch<String>,
    #[serde(default)]
    pub status: Patch<String>,
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

impl Validate for GoogleBusinessLocation {
    fn validate(&self) -> Vec<FieldProblem> {
        check_label("id", &self.id, ", such as locations/123")
            .into_iter()
            .collect()
    }
}

/// A change to a registered Business location: only the fields sent change; `null` clears;
/// `storefront_address` replaces the whole address.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "GoogleBusinessLocationUpdateSchema")]
pub struct GoogleBusinessLocationUpdate {
    #[serde(default)]
    pub title: Patch<String>,
    #[serde(default)]
    pub store_code: Patch<String>,
    /// An absolute http(s) URL (422 otherwise).
    #[serde(default)]
    pub maps_uri: Patch<WebUrl>,
    #[serde(default)]
    pub storefront_address: Patch<StorefrontAddress>,
}

impl Validate for GoogleAdsCustomerUpdate {}

impl Validate for GoogleBusinessLocationUpdate {}
