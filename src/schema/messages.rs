//! Chat messages and the front-end actions that come with a reply.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use super::rules::{FieldProblem, Validate, MAX_MESSAGE_CHARS};
use super::*;

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

impl Validate for AssistantChatMessageCreate {
    /// One problem at most: the role's, else the content's.
    fn validate(&self) -> Vec<FieldProblem> {
        self.role_problem()
            .or_else(|| self.content_problem())
            .into_iter()
            .collect()
    }
}

impl AssistantChatMessageCreate {
    fn role_problem(&self) -> Option<FieldProblem> {
        (self.role != "user").then(|| {
            FieldProblem::new(
                "role",
                "Input should be 'user': clients write only user messages",
                "literal_error",
            )
        })
    }

    fn content_problem(&self) -> Option<FieldProblem> {
        let length = self.content.chars().count();
        if self.content.trim().is_empty() {
            return Some(FieldProblem::new(
                "content",
                "The message is empty",
                "string_too_short",
            ));
        }
        (length > MAX_MESSAGE_CHARS).then(|| {
            FieldProblem::new(
                "content",
                format!(
                    "The message has {length} characters; at most {MAX_MESSAGE_CHARS} are accepted"
                ),
                "string_too_long",
            )
        })
    }
}
