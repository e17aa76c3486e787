//! The four assistants: whether each can answer, and their instructions (admins change them).

use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::http::security::{Admin, ChangeInstructions, SignedIn};
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::assistant::default_instructions;
use crate::schema::{AssistantDetail, AssistantUpdate, Nullable};
use crate::store::AssistantRecord;

pub struct AssistantsApi {
    pub state: AppState,
}

impl AssistantsApi {
    fn detail(&self, (assistant, instructions): AssistantRecord) -> AssistantDetail {
        let kind = assistant.assistant_type;
        let reason = self.state.assistants.unavailable_reason(kind);
        AssistantDetail {
            instructions_are_default: instructions.is_none(),
            instructions: instructions.unwrap_or_else(|| default_instructions(kind).to_string()),
            can_answer: reason.is_none(),
            unavailable_reason: Nullable(reason.map(str::to_string)),
            id: assistant.id,
            assistant_type: kind,
            date_added: assistant.date_added,
            date_updated: assistant.date_updated,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/assistants", tag = "ApiTags::Assistants")]
impl AssistantsApi {
    /// List Assistants
    ///
    /// Each assistant with its instructions and whether it can answer now.
    #[oai(path = "/", method = "get")]
    async fn list(&self, _caller: SignedIn) -> Result<JsonOut<Vec<AssistantDetail>>, ApiError> {
        let assistants = self.state.store.assistants().await?;
        Ok(JsonOut(
            assistants
                .into_iter()
                .map(|record| self.detail(record))
                .collect(),
        ))
    }

    /// Update Assistant
    ///
    /// Administrators only. `instructions: null` restores the built-in instructions.
    #[oai(path = "/:assistant_id", method = "patch")]
    async fn update(
        &self,
        _admin: Admin<ChangeInstructions>,
        assistant_id: Path<String>,
        body: JsonBody<AssistantUpdate>,
    ) -> Result<JsonOut<AssistantDetail>, ApiError> {
        let record = self
            .state
            .store
            .set_instructions(assistant_id.0, body.0.instructions.0)
            .await?;
        Ok(JsonOut(self.detail(record)))
    }
}
