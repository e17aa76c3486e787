//! Chat threads.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::rules::Validate;
use super::types::present;
use super::*;

/// The schema for an assistant's chat thread.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "AssistantChatThreadSchema")]
pub struct AssistantChatThread {
    pub thread_id: ThreadId,
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

impl Validate for AssistantChatThreadCreate {}

/// A change to a chat thread: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "AssistantChatThreadUpdateSchema")]
pub struct AssistantChatThreadUpdate {
    /// `null` clears the name.
    #[serde(default)]
    pub name: Patch<String>,
    /// `null` clears the description.
    #[serde(default)]
    pub description: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub is_completed: Option<bool>,
    /// Replaces the whole object.
    #[serde(default, deserialize_with = "present")]
    pub extra_data: Option<JsonObject>,
}

impl Validate for AssistantChatThreadUpdate {}
