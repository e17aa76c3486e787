//! A client for any server that speaks OpenAI's chat-completions protocol, plain or streamed
//! (server-sent events). Every call is async: waiting for the model holds no thread.
//!
//! The server at `llm.base_url` is not trusted: its reply is read within the `[llm]` caps
//! (see `reply.rs`), the whole call is bounded by `llm.timeout_secs`, and what it says never
//! reaches a client. Errors carry a public message naming what failed on our side, and a
//! detail for the log with the API key taken out.

use std::time::Duration;

use serde_json::{json, Value};

use super::reply::{parse_whole, ReplyError, ReplyLimits, StreamParser};
use super::AssistantError;
use crate::config::LlmConfig;

pub use super::reply::Completion;

/// Called with each piece of the reply's text as the model produces it.
pub type OnDelta<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// How much of an error body is read, for the log only.
const ERROR_BODY_BYTES: usize = 1024;

pub struct ModelClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeout_secs: u64,
    limits: ReplyLimits,
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

impl ModelClient {
    /// None when no model is configured (`llm.base_url` empty).
    pub fn from_config(config: &LlmConfig) -> Result<Option<ModelClient>, String> {
        let base = config.base_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|err| format!("cannot set up the language model client: {err}"))?;
        Ok(Some(ModelClient {
            http,
            url: format!("{base}/chat/completions"),
            model: config.model.clone(),
            api_key: Some(config.api_key.clone()).filter(|key| !key.is_empty()),
            timeout_secs: config.timeout_secs,
            limits: ReplyLimits {
                reply_bytes: config.max_reply_bytes,
                text_bytes: config.max_reply_text_bytes,
                tool_calls: config.max_tool_calls,
                tool_call_bytes: config.max_tool_argument_bytes,
            },
        }))
    }

    /// Asks the model once. With `on_delta`, the answer is streamed and each piece of text is
    /// passed on as it arrives. `llm.timeout_secs` bounds the whole call, from connecting to
    /// the reply's last byte, so a server that drips its answer is cut off too.
    pub async fn complete(
        &self,
        messages: &[Value],
        tools: &[Value],
        on_delta: Option<OnDelta<'_>>,
    ) -> Result<Completion, AssistantError> {
        let deadline = Duration::from_secs(self.timeout_secs);
        tokio::time::timeout(deadline, self.call(messages, tools, on_delta))
            .await
            .unwrap_or(Err(AssistantError::Timeout(self.timeout_secs)))
    }

    async fn call(
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
        let mut response = request.send().await.map_err(|err| {
            self.failure("Cannot reach the language model's server", &causes(err))
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.refusal(status, &mut response).await);
        }
        match on_delta {
            Some(on_delta) => self.read_stream(response, on_delta).await,
            None => self.read_whole(response).await,
        }
    }

    async fn read_whole(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Completion, AssistantError> {
        let mut body = Vec::new();
        while let Some(bytes) = self.next_chunk(&mut response).await? {
            if body.len() + bytes.len() > self.limits.reply_bytes {
                return Err(self.rejected(ReplyError::TooLarge {
                    what: "bytes",
                    limit: self.limits.reply_bytes,
                }));
            }
            body.extend_from_slice(&bytes);
        }
        parse_whole(&body, self.limits).map_err(|err| self.rejected(err))
    }

    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        on_delta: OnDelta<'_>,
    ) -> Result<Completion, AssistantError> {
        let mut parser = StreamParser::new(self.limits);
        while let Some(bytes) = self.next_chunk(&mut response).await? {
            for text in parser.feed(&bytes).map_err(|err| self.rejected(err))? {
                on_delta(&text);
            }
        }
        parser.finish().map_err(|err| self.rejected(err))
    }

    async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<Option<bytes::Bytes>, AssistantError> {
        response.chunk().await.map_err(|err| {
            self.failure(
                "The language model's server broke off its answer",
                &causes(err),
            )
        })
    }

    /// An error status: the client learns the status, the log also the start of the body.
    async fn refusal(
        &self,
        status: reqwest::StatusCode,
        response: &mut reqwest::Response,
    ) -> AssistantError {
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(bytes)) => body.extend_from_slice(&bytes),
                _ => break,
            }
        }
        body.truncate(ERROR_BODY_BYTES);
        let verb = if status.is_client_error() {
            "refused the request"
        } else {
            "failed"
        };
        self.failure(
            &format!("The language model's server {verb} ({})", status.as_u16()),
            &format!("{status}: {:?}", String::from_utf8_lossy(&body)),
        )
    }

    fn rejected(&self, err: ReplyError) -> AssistantError {
        let public = match &err {
            ReplyError::TooLarge { what, limit } => format!(
                "The language model's answer was larger than adthread accepts (more than \
                 {limit} {what}; see the [llm] limits)"
            ),
            ReplyError::Malformed(_) => {
                "The language model's answer is not a chat completion".into()
            }
        };
        self.failure(&public, &err)
    }

    /// What the client is told, and what only the log is told, without the API key.
    fn failure(&self, public: &str, detail: &dyn std::fmt::Display) -> AssistantError {
        let mut detail = format!("{public}: {detail}");
        if let Some(key) = &self.api_key {
            detail = detail.replace(key.as_str(), "[api key]");
        }
        AssistantError::Provider {
            public: public.to_string(),
            detail,
        }
    }
}

/// A transport error and its causes (reqwest's own text stops at "error sending request"),
/// for the log; without the URL, which the configuration already names.
fn causes(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
