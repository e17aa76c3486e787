//! The campaign-creation assistant's tools on its thread's campaign draft: the typed draft of
//! `/api/v1/campaigns/drafts`, created on the first edit for a thread with a Google Ads
//! customer, and edited with the same bodies and store functions as the wizard's four steps.
//! Each edit is its own write, made as the tool runs; a successful one adds
//! `update_campaign_draft` and `set_campaign_draft_step_N` (the step last edited) to the reply.

use std::future::Future;
use std::sync::LazyLock;

use poem_openapi::registry::Registry;
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::tools::{function, Workspace};
use super::AssistantError;
use crate::schema::campaign_rules::{
    ad_group_warnings, ads_warnings, extension_warnings, settings_warnings,
};
use crate::schema::rules::Validate;
use crate::schema::{
    AdGroupsPatch, AdsPatch, CampaignDraft, CampaignSettingsPatch, DraftId, ExtensionsPatch,
    FrontendAction, StepWarning, DRAFT_NAME_CHARS,
};
use crate::store::{NewThreadDraft, StoreError};

/// The draft tools, as the protocol's `tools` entries (built once: their parameters come from
/// the document's schemas).
pub fn specs() -> &'static [Value] {
    static SPECS: LazyLock<Vec<Value>> = LazyLock::new(build_specs);
    &SPECS
}

fn build_specs() -> Vec<Value> {
    vec![
        function(
            "get_campaign_draft",
            "The thread's campaign draft as it is now (ids, settings, ad groups with their \
             keywords and ads, extensions), or null before the first step is saved.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        function(
            "update_campaign_settings",
            "Saves step 1, the campaign settings: only the fields sent change (a new \
             default_match_type is given to the keywords that had the previous one). Answers \
             the step's warnings and the draft.",
            parameters_of::<CampaignSettingsPatch>(),
        ),
        function(
            "set_ad_groups",
            "Saves step 2: the list replaces the draft's ad groups and their keywords (items \
             with an id are updated, without one created, those left out deleted). Answers the \
             step's warnings and the draft.",
            parameters_of::<AdGroupsPatch>(),
        ),
        function(
            "set_ads",
            "Saves step 3, responsive search ads: for each ad group named, the list replaces \
             its ads. Answers the step's warnings and the draft.",
            parameters_of::<AdsPatch>(),
        ),
        function(
            "set_extensions",
            "Saves step 4: each list sent replaces that list; phone null removes it. Answers \
             the step's warnings and the draft.",
            parameters_of::<ExtensionsPatch>(),
        ),
    ]
}

/// The JSON schema of body `T` as the OpenAPI document states it, with the schemas it refers to
/// written in place (a tool's parameters have no `components` to refer to), so the tool and the
/// step's endpoint cannot describe the body differently.
fn parameters_of<T: Type>() -> Value {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let schemas: Map<String, Value> = registry
        .schemas
        .iter()
        .map(|(name, schema)| {
            let schema = serde_json::to_value(schema).expect("a schema serializes");
            (name.clone(), schema)
        })
        .collect();
    let mut parameters = schemas[&*T::name()].clone();
    inline_references(&mut parameters, &schemas, 0);
    parameters
}

/// Replaces each `{"$ref": "#/components/schemas/X"}` under `value` with X (the bodies' types
/// do not refer to themselves; the depth only guards against one that would), and drops the
/// schemas' titles (the document's names, which tell the model nothing).
fn inline_references(value: &mut Value, schemas: &Map<String, Value>, depth: usize) {
    const PREFIX: &str = "#/components/schemas/";
    if let Some(name) = value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix(PREFIX))
    {
        if let Some(schema) = schemas.get(name).filter(|_| depth < 8) {
            *value = schema.clone();
            inline_references(value, schemas, depth + 1);
        }
        return;
    }
    match value {
        Value::Object(fields) => {
            // A string: a schema's title (a property named `title` would be an object).
            if fields.get("title").is_some_and(Value::is_string) {
                fields.remove("title");
            }
            for field in fields.values_mut() {
                inline_references(field, schemas, depth);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline_references(item, schemas, depth);
            }
        }
        _ => {}
    }
}

/// What a tool answers the model: a result as JSON text, or an error it can correct.
pub(super) type ToolResult = Result<String, String>;

impl Workspace<'_> {
    /// Runs draft tool `name` (one the assistant offers). Fails only when the store does.
    pub(super) async fn run_draft_tool(
        &mut self,
        name: &str,
        arguments: Value,
    ) -> Result<ToolResult, AssistantError> {
        if self.context.thread.google_ads_customer.0.is_none() {
            return Ok(Err(
                "This thread has no Google Ads customer, so it has no campaign \
                           draft: start a campaign-creation thread with a customer_id"
                    .into(),
            ));
        }
        let (viewer, store) = (self.viewer, self.store);
        match name {
            "get_campaign_draft" => self.read_draft().await,
            "update_campaign_settings" => match step_body::<CampaignSettingsPatch>(arguments) {
                Err(problem) => Ok(Err(problem)),
                Ok(body) => {
                    let save = |id| store.patch_campaign_settings(viewer, id, body, false);
                    self.edit(1, settings_warnings, save).await
                }
            },
            "set_ad_groups" => match step_body::<AdGroupsPatch>(arguments) {
                Err(problem) => Ok(Err(problem)),
                Ok(body) => {
                    let save = |id| store.patch_ad_groups(viewer, id, body, false);
                    self.edit(2, ad_group_warnings, save).await
                }
            },
            "set_ads" => match step_body::<AdsPatch>(arguments) {
                Err(problem) => Ok(Err(problem)),
                Ok(body) => {
                    let save = |id| store.patch_ads(viewer, id, body);
                    self.edit(3, ads_warnings, save).await
                }
            },
            "set_extensions" => match step_body::<ExtensionsPatch>(arguments) {
                Err(problem) => Ok(Err(problem)),
                Ok(body) => {
                    let save = |id| store.patch_extensions(viewer, id, body);
                    self.edit(4, extension_warnings, save).await
                }
            },
            _ => Ok(Err(format!("There is no tool named {name} here"))),
        }
    }

    /// Saves step `step` of the thread's draft (created first if it has none) with `save`;
    /// answers the model the step's warnings and the draft.
    async fn edit<F, Saving>(
        &mut self,
        step: u8,
        warnings: fn(&CampaignDraft) -> Vec<StepWarning>,
        save: F,
    ) -> Result<ToolResult, AssistantError>
    where
        F: FnOnce(DraftId) -> Saving,
        Saving: Future<Output = Result<CampaignDraft, StoreError>>,
    {
        let id = match self.draft_id().await? {
            Ok(id) => id,
            Err(problem) => return Ok(Err(problem)),
        };
        match tool_outcome(save(id).await)? {
            Ok(draft) => {
                self.edited_step(step);
                Ok(Ok(saved_step(step, &warnings(&draft), &draft)))
            }
            Err(problem) => {
                // Perhaps deleted meanwhile: the next edit looks for the draft again.
                self.draft_id = None;
                Ok(Err(problem))
            }
        }
    }

    async fn read_draft(&mut self) -> Result<ToolResult, AssistantError> {
        let found = tool_outcome(self.store.turn_draft(self.viewer, self.context).await)?;
        Ok(found.map(|draft| {
            match draft {
                Some(draft) => json!({ "draft": draft }),
                None => json!({
                    "draft": null,
                    "note": "There is no draft yet: the first step you save creates it."
                }),
            }
            .to_string()
        }))
    }

    /// The thread's draft, created now if it has none.
    async fn draft_id(&mut self) -> Result<Result<DraftId, String>, AssistantError> {
        if let Some(id) = self.draft_id {
            return Ok(Ok(id));
        }
        let new = NewThreadDraft {
            name: self.new_draft_name(),
            market_analysis_id: self.market_analysis_id(),
        };
        let found = tool_outcome(
            self.store
                .turn_draft_id(self.viewer, self.context, new)
                .await,
        )?;
        if let Ok(id) = found {
            self.draft_id = Some(id);
        }
        Ok(found)
    }

    /// The thread's name, else its company's, cut to a draft name's length.
    fn new_draft_name(&self) -> String {
        let thread_name = self.context.thread.name.0.as_deref().map(str::trim);
        let name = match thread_name {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => format!("{} campaign", self.context.company_name.trim()),
        };
        name.chars().take(*DRAFT_NAME_CHARS.end()).collect()
    }

    /// `extra_data.market_analysis_id` of the thread, when it is a positive integer.
    fn market_analysis_id(&self) -> Option<i64> {
        self.context.thread.extra_data.to_value()["market_analysis_id"]
            .as_i64()
            .filter(|id| *id > 0)
    }

    /// After a saved step: the client reloads the draft and shows that step (only the step
    /// last edited: one navigation per reply).
    fn edited_step(&mut self, step: u8) {
        self.act(FrontendAction::UpdateCampaignDraft);
        let is_step = |action: &FrontendAction| {
            (1..=4).any(|step| FrontendAction::campaign_draft_step(step) == Some(*action))
        };
        self.actions.retain(|action| !is_step(action));
        if let Some(action) = FrontendAction::campaign_draft_step(step) {
            self.act(action);
        }
    }
}

/// The body of a step, from the model's arguments: its shape, then its rules, as the step's
/// endpoint reads it.
fn step_body<B: DeserializeOwned + Validate>(arguments: Value) -> Result<B, String> {
    let body: B = serde_path_to_error::deserialize(arguments).map_err(|err| {
        let at = err.path().to_string();
        match at.as_str() {
            "." => format!(
                "The arguments do not fit this tool's parameters: {}",
                err.inner()
            ),
            _ => format!("{at}: {}", err.inner()),
        }
    })?;
    match body.validate().into_iter().next() {
        Some(problem) => Err(format!("{}: {}", problem.field, problem.message)),
        None => Ok(body),
    }
}

/// A step's answer for the model, as JSON text: the warnings before the draft, so that they
/// survive when a long answer is cut.
fn saved_step(step: u8, warnings: &[StepWarning], draft: &CampaignDraft) -> String {
    let warnings = serde_json::to_string(warnings).expect("warnings serialize");
    let draft = serde_json::to_string(draft).expect("a draft serializes");
    format!("{{\"saved_step\":{step},\"warnings\":{warnings},\"draft\":{draft}}}")
}

/// The store's answer as a tool's: what the model can act on (the draft or thread is gone, an
/// id that is not the draft's, a conflict) is an error result; anything else fails the message.
fn tool_outcome<T>(answer: Result<T, StoreError>) -> Result<Result<T, String>, AssistantError> {
    match answer {
        Ok(value) => Ok(Ok(value)),
        Err(StoreError::NotFound(message) | StoreError::Conflict(message)) => Ok(Err(message)),
        Err(StoreError::Invalid { loc, message }) => Ok(Err(format!("{}: {message}", path(&loc)))),
        Err(other) => Err(other.into()),
    }
}

/// `["body", "ad_groups", 0, "id"]` as `ad_groups[0].id`.
fn path(loc: &[Value]) -> String {
    let mut path = String::new();
    for part in loc.iter().skip_while(|part| *part == "body") {
        match part {
            Value::Number(index) => path.push_str(&format!("[{index}]")),
            Value::String(name) if path.is_empty() => path.push_str(name),
            Value::String(name) => path.push_str(&format!(".{name}")),
            other => path.push_str(&format!(".{other}")),
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tools' parameters are the step bodies' schemas, whole: no reference left to a
    /// `components` section the model is not sent, and every field of the body described.
    #[test]
    fn tool_parameters_are_the_step_bodies_schemas_inlined() {
        for spec in specs() {
            let text = spec.to_string();
            assert!(!text.contains("$ref") && !text.contains("title"), "{text}");
            assert_eq!(spec["function"]["parameters"]["type"], "object", "{text}");
        }
    }
}
