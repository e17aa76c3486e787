//! The tools assistants may call. Each runs against a `Workspace`: the thread's context (with
//! its extra_data), and the changes made so far. The business profile and the thread's
//! completion are stored with the reply (or dropped with a failed one); the campaign draft's
//! tools (`draft_tools.rs`) write through the store as they run, each its own write. A tool's
//! result is JSON text for the model; a bad call gets `{"error": ...}` so the model can correct
//! itself.

use serde_json::{json, Map, Value};

use super::{draft_tools, AssistantError};
use crate::schema::{AssistantType, DraftId, FrontendAction};
use crate::store::{ChatContext, Store, Viewer};

/// Business profile answers the onboarding collects.
pub const PROFILE_FIELDS: [(&str, &str); 8] = [
    ("business_description", "What the business does"),
    ("website", "The business's website"),
    ("products_and_services", "Its products and services"),
    ("target_customers", "Who its customers are"),
    ("area_served", "Where it serves customers"),
    ("monthly_budget", "Monthly advertising budget"),
    ("goals", "Main goals of its advertising"),
    ("other", "Anything else worth knowing"),
];

/// The tools an assistant type offers, as the protocol's `tools` array.
pub fn tools_for(kind: AssistantType) -> Vec<Value> {
    let mut tools = vec![get_thread_context_spec()];
    match kind {
        AssistantType::Onboarding => {
            tools.push(save_business_profile_spec());
            tools.push(complete_thread_spec());
        }
        AssistantType::CampaignCreation => {
            tools.extend_from_slice(draft_tools::specs());
            tools.push(complete_thread_spec());
        }
        AssistantType::General | AssistantType::MarketAnalysis => {}
    }
    tools
}

pub(super) fn function(name: &str, description: &str, parameters: Value) -> Value {
    json!({
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters}
    })
}

fn get_thread_context_spec() -> Value {
    function(
        "get_thread_context",
        "The company, its Google Ads customer and Business location, the thread's extra_data \
         and the company's business profile.",
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
    )
}

fn save_business_profile_spec() -> Value {
    let properties: Map<String, Value> = PROFILE_FIELDS
        .iter()
        .map(|(name, description)| {
            (
                name.to_string(),
                json!({"type": "string", "description": description}),
            )
        })
        .collect();
    function(
        "save_business_profile",
        "Saves the client's answers into the company's business profile; fields not given are \
         kept.",
        json!({"type": "object", "properties": properties, "additionalProperties": true}),
    )
}

fn complete_thread_spec() -> Value {
    function(
        "complete_thread",
        "Marks this conversation as finished.",
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
    )
}

/// A tool's result as the model is sent it and as it is stored, to be sent again with every
/// later message of the thread: past `limit` bytes (`llm.max_tool_result_bytes`), a JSON
/// object that says it was cut, with as much of the result's start as fits.
pub fn capped(result: String, limit: usize) -> String {
    if result.len() <= limit {
        return result;
    }
    let mut end = limit;
    loop {
        while !result.is_char_boundary(end) {
            end -= 1;
        }
        let marked = json!({
            "truncated": true,
            "original_bytes": result.len(),
            "start": &result[..end],
        })
        .to_string();
        // Escaping can lengthen the text; cut more until the whole fits.
        if marked.len() <= limit || end == 0 {
            return marked;
        }
        end = end.saturating_sub((marked.len() - limit).max(end / 8).max(1));
    }
}

/// What one answer's tools have done so far.
pub struct Workspace<'a> {
    pub(super) store: &'a Store,
    pub(super) viewer: Viewer,
    pub(super) context: &'a ChatContext,
    pub profile_patch: Option<Map<String, Value>>,
    pub completes_thread: bool,
    pub actions: Vec<FrontendAction>,
    /// The thread's campaign draft, once a tool has found or created it.
    pub(super) draft_id: Option<DraftId>,
}

impl<'a> Workspace<'a> {
    pub fn new(store: &'a Store, viewer: Viewer, context: &'a ChatContext) -> Self {
        Workspace {
            store,
            viewer,
            context,
            profile_patch: None,
            completes_thread: false,
            actions: Vec::new(),
            draft_id: None,
        }
    }

    /// Adds a frontend action unless the reply already has it.
    pub fn act(&mut self, action: FrontendAction) {
        if !self.actions.contains(&action) {
            self.actions.push(action);
        }
    }

    /// The business profile with this answer's changes merged in.
    pub fn business_profile(&self) -> Value {
        let mut profile = self.context.business_profile.clone();
        if let (Some(patch), Value::Object(fields)) = (&self.profile_patch, &mut profile) {
            for (key, value) in patch {
                fields.insert(key.clone(), value.clone());
            }
        }
        profile
    }

    /// Merges answers into the profile this answer will store.
    pub fn save_profile_fields(&mut self, fields: Map<String, Value>) {
        self.profile_patch
            .get_or_insert_with(Map::new)
            .extend(fields);
    }

    fn kind(&self) -> AssistantType {
        self.context.thread.assistant.assistant_type
    }

    /// Runs a tool the model called (only those its assistant offers), returning its result.
    /// Fails only when the store does (the draft's tools write as they run).
    pub async fn run(&mut self, name: &str, arguments: &str) -> Result<String, AssistantError> {
        let offered = tools_for(self.kind())
            .iter()
            .any(|tool| tool["function"]["name"] == name);
        let arguments = if arguments.trim().is_empty() {
            Ok(Value::Object(Map::new()))
        } else {
            serde_json::from_str::<Value>(arguments)
        };
        let result = match (offered, arguments) {
            (false, _) => Err(format!("There is no tool named {name} here")),
            (true, Err(err)) => Err(format!("The arguments are not valid JSON: {err}")),
            (true, Ok(arguments)) => match name {
                "get_thread_context" => Ok(self.thread_context().to_string()),
                "save_business_profile" => self
                    .save_business_profile(arguments)
                    .map(|saved| saved.to_string()),
                "complete_thread" => {
                    self.complete_thread();
                    Ok(json!({"completed": true}).to_string())
                }
                _ => self.run_draft_tool(name, arguments).await?,
            },
        };
        Ok(result.unwrap_or_else(|message| json!({ "error": message }).to_string()))
    }

    fn thread_context(&self) -> Value {
        let thread = &self.context.thread;
        json!({
            "company": {"id": self.context.company_id, "name": self.context.company_name},
            "google_ads_customer": thread.google_ads_customer,
            "google_ads_login_customer_id": thread.google_ads_login_customer_id,
            "google_business_location": thread.google_business_location,
            "extra_data": thread.extra_data.to_value(),
            "business_profile": self.business_profile(),
        })
    }

    fn save_business_profile(&mut self, arguments: Value) -> Result<Value, String> {
        let Value::Object(fields) = arguments else {
            return Err("The arguments must be an object of profile fields".into());
        };
        let saved: Vec<String> = fields.keys().cloned().collect();
        self.save_profile_fields(fields);
        Ok(json!({"saved": saved, "business_profile": self.business_profile()}))
    }

    /// The thread will be completed with this reply; an onboarding client may then submit
    /// (the submit button's actions are the onboarding's only).
    pub fn complete_thread(&mut self) {
        self.completes_thread = true;
        if self.kind() == AssistantType::Onboarding {
            self.act(FrontendAction::EnableSubmitButton);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tool_results_are_cut_into_marked_valid_json() {
        assert_eq!(capped("{\"a\":1}".into(), 256), "{\"a\":1}");
        let long = json!({"extra_data": {"notes": "\"é\n".repeat(5000)}}).to_string();
        for limit in [256, 1000, 4096] {
            let cut = capped(long.clone(), limit);
            assert!(cut.len() <= limit, "{} > {limit}", cut.len());
            let parsed: Value = serde_json::from_str(&cut).unwrap();
            assert_eq!(parsed["truncated"], true);
            assert_eq!(parsed["original_bytes"], long.len());
            assert!(long.starts_with(parsed["start"].as_str().unwrap()));
        }
    }
}
