//! The assistants: their types, and their instructions as administrators see and change them.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use super::rules::{FieldProblem, Validate, MAX_INSTRUCTIONS_CHARS};
use super::types::enum_from_text;
use super::*;

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

/// The schema for an assistant.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename = "AssistantSchema")]
pub struct Assistant {
    pub id: String,
    pub assistant_type: AssistantType,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
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

impl Validate for AssistantUpdate {
    fn validate(&self) -> Vec<FieldProblem> {
        let Some(text) = &self.instructions.0 else {
            return Vec::new();
        };
        let length = text.chars().count();
        if text.trim().is_empty() || length > MAX_INSTRUCTIONS_CHARS {
            return vec![FieldProblem::new(
                "instructions",
                format!(
                    "Instructions must have 1 to {MAX_INSTRUCTIONS_CHARS} characters (null \
                     restores the built-in ones)"
                ),
                if length == 0 {
                    "string_too_short"
                } else {
                    "string_too_long"
                },
            )];
        }
        Vec::new()
    }
}
