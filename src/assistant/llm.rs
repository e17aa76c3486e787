//! A client for any server that speaks OpenAI's chat-completions protocol, plain or streamed
//! (server-sent events). Every call is async: waiting for the model holds no thread.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::AssistantError;
use crate::config::LlmConfig;

/// Called with each piece of the reply's text as the model produces it.
pub type OnDelta<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// How much of a provider's error body is repeated in ours.
const ERROR_BODY_CHARS: usize = 300;

pub struct ModelClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeout_secs: u64,
}

// Hand-written so the API key can never reach a log through `{:?}`.
impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// A tool call as the protocol carries it; `arguments` is JSON text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

fn function_kind() -> String {
    "function".into()
}

/// One answer of the model.
#[derive(Debug, Default)]
pub struct Completion {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: i64,
    #[serde(default)]
    completion_tokens: i64,
}

#[derive(Deserialize)]
struct Reply {
    choices: Vec<ReplyChoice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ReplyChoice {
    message: ReplyMessage,
}

#[derive(Deserialize)]
struct ReplyMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: ChunkDelta,
}

#[derive(Default, Deserialize)]
struct ChunkDelta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallPiece>,
}

/// A streamed tool call arrives in pieces, tied together by `index`.
#[derive(Deserialize)]
struct ToolCallPiece {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<FunctionPiece>,
}

#[derive(Deserialize)]
struct FunctionPiece {
    name: Option<String>,
    arguments: Option<String>,
}

impl ModelClient {
    /// None when no model is configured (`llm.base_url` empty).
    pub fn from_config(config: &LlmConfig) -> Result<Option<ModelClient>, String> {
        let base = config.base_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|err| format!("cannot set up the language model client: {err}"))?;
        Ok(Some(ModelClient {
            http,
            url: format!("{base}/chat/completions"),
            model: config.model.clone(),
            api_key: Some(config.api_key.clone()).filter(|key| !key.is_empty()),
            timeout_secs: config.timeout_secs,
        }))
    }

    /// Asks the model once. With `on_delta`, the answer is streamed and each piece of text is
    /// passed on as it arrives.
    pub async fn complete(
        &self,
        messages: &[Value],
        tools: &[Value],
        on_delta: Option<OnDelta<'_>>,
    ) -> Result<Completion, AssistantError> {
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "stream": on_delta.is_some(),
        });
        if !tools.is_empty() {
            body["tools"] = Value::from(tools.to_vec());
        }
        if on_delta.is_some() {
            body["stream_options"] = json!({"include_usage": true});
        }
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|err| self.failure(err))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let text: String = text.chars().take(ERROR_BODY_CHARS).collect();
            return Err(AssistantError::Provider(format!(
                "The language model's server answered {status}: {text}"
            )));
        }
        match on_delta {
            Some(on_delta) => self.read_stream(response, on_delta).await,
            None => {
                let reply: Reply = response.json().await.map_err(|err| self.failure(err))?;
                Ok(completion_of(reply))
            }
        }
    }

    async fn read_stream(
        &self,
        response: reqwest::Response,
        on_delta: OnDelta<'_>,
    ) -> Result<Completion, AssistantError> {
        let mut events = response.bytes_stream().eventsource();
        let mut completion = Completion::default();
        while let Some(event) = events.next().await {
            let event = event.map_err(|err| match err {
                eventsource_stream::EventStreamError::Transport(err) => self.failure(err),
                other => AssistantError::Provider(format!(
                    "The language model's stream could not be read: {other}"
                )),
            })?;
            if event.data.trim() == "[DONE]" {
                break;
            }
            let chunk: Chunk = serde_json::from_str(&event.data).map_err(|err| {
                AssistantError::Provider(format!(
                    "The language model sent a chunk that is not a chat completion chunk: {err}"
                ))
            })?;
            add_chunk(&mut completion, chunk, on_delta);
        }
        Ok(completion)
    }

    fn failure(&self, err: reqwest::Error) -> AssistantError {
        if err.is_timeout() {
            AssistantError::Timeout(self.timeout_secs)
        } else if err.is_decode() {
            AssistantError::Provider(format!(
                "The language model's answer is not a chat completion: {err}"
            ))
        } else {
            AssistantError::Provider(format!("Cannot reach the language model: {err}"))
        }
    }
}

fn completion_of(reply: Reply) -> Completion {
    let (prompt_tokens, completion_tokens) = reply.usage.map_or((0, 0), |usage| {
        (usage.prompt_tokens, usage.completion_tokens)
    });
    let message = reply
        .choices
        .into_iter()
        .next()
        .map(|choice| choice.message);
    Completion {
        content: message
            .as_ref()
            .and_then(|message| message.content.clone())
            .unwrap_or_default(),
        tool_calls: message
            .map(|message| message.tool_calls)
            .unwrap_or_default(),
        prompt_tokens,
        completion_tokens,
    }
}

fn add_chunk(completion: &mut Completion, chunk: Chunk, on_delta: OnDelta<'_>) {
    if let Some(usage) = chunk.usage {
        completion.prompt_tokens = usage.prompt_tokens;
        completion.completion_tokens = usage.completion_tokens;
    }
    for choice in chunk.choices {
        if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
            on_delta(&text);
            completion.content.push_str(&text);
        }
        for piece in choice.delta.tool_calls {
            if completion.tool_calls.len() <= piece.index {
                completion
                    .tool_calls
                    .resize_with(piece.index + 1, || ToolCall {
                        kind: function_kind(),
                        ..ToolCall::default()
                    });
            }
            let call = &mut completion.tool_calls[piece.index];
            if let Some(id) = piece.id {
                call.id = id;
            }
            if let Some(function) = piece.function {
                call.function
                    .name
                    .push_str(&function.name.unwrap_or_default());
                call.function
                    .arguments
                    .push_str(&function.arguments.unwrap_or_default());
            }
        }
    }
}
