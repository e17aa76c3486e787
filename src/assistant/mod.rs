//! The assistants: a thread's turn is begun (lock, context, checks), then answered by the
//! model with its tools, or by the built-in onboarding interview when no model is configured.
//! The model is awaited holding no database connection; the exchange is stored in one write
//! once it has answered.

mod interview;
mod llm;
mod prompts;
mod tools;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::sync::OwnedMutexGuard;

use crate::config::LlmConfig;
use crate::model::{AssistantChatMessage, AssistantType};
use crate::store::{ChatContext, Exchange, HistoryMessage, NewMessage, Store, StoreError, Viewer};

pub use llm::OnDelta;
pub use prompts::default_instructions;
pub use tools::campaign_draft;

/// What can go wrong while answering, besides the store's own errors.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    /// No model is configured and this assistant needs one.
    #[error("{0}")]
    NoModel(String),
    /// The model's server could not be reached, or answered an error or nonsense.
    #[error("{0}")]
    Provider(String),
    #[error("The language model did not answer within {0} seconds")]
    Timeout(u64),
    #[error("This company has used its monthly quota of {quota} tokens")]
    QuotaSpent { quota: u64, retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

const NO_MODEL: &str = "This assistant needs a language model. Set ADTHREAD_LLM_BASE_URL (or \
                        llm.base_url in config.toml) to a server speaking OpenAI's \
                        chat-completions protocol, such as http://127.0.0.1:11434/v1 for \
                        Ollama, and ADTHREAD_LLM_MODEL to its model, then restart adthread.";

pub struct Assistants {
    store: Store,
    model: Option<llm::ModelClient>,
    config: LlmConfig,
    turns: ThreadLocks,
}

/// A message being answered: its thread is locked until the turn is dropped.
pub struct Turn {
    viewer: Viewer,
    context: ChatContext,
    /// The user's message as it will be stored.
    pub user: NewMessage,
    _lock: ThreadLock,
}

impl Assistants {
    pub fn new(store: Store, config: &LlmConfig) -> Result<Assistants, String> {
        Ok(Assistants {
            store,
            model: llm::ModelClient::from_config(config)?,
            config: config.clone(),
            turns: ThreadLocks::default(),
        })
    }

    /// Why this assistant cannot answer now, if it cannot.
    pub fn unavailable_reason(&self, kind: AssistantType) -> Option<&'static str> {
        (self.model.is_none() && kind != AssistantType::Onboarding).then_some(NO_MODEL)
    }

    /// Waits for the thread's previous message to be answered, then reads what answering
    /// needs and checks that it may be answered (404, 409, 503, 429).
    pub async fn begin(
        &self,
        viewer: Viewer,
        thread_id: String,
        content: String,
    ) -> Result<Turn, AssistantError> {
        let lock = self.turns.lock(&thread_id).await;
        let context = self
            .store
            .chat_context(viewer, thread_id, self.config.history_messages)
            .await?;
        let kind = context.thread.assistant.assistant_type;
        if let Some(reason) = self.unavailable_reason(kind) {
            return Err(AssistantError::NoModel(reason.into()));
        }
        let quota = self.config.monthly_token_quota;
        if self.model.is_some() && quota > 0 && context.month_tokens >= quota as i64 {
            return Err(AssistantError::QuotaSpent {
                quota,
                retry_after_secs: seconds_to_next_month(),
            });
        }
        Ok(Turn {
            viewer,
            context,
            user: NewMessage::new("user", content),
            _lock: lock,
        })
    }

    /// Answers the turn's message and stores the exchange; answers the user's message and the
    /// reply. With `on_delta`, the reply's text is passed on as it is produced.
    pub async fn answer(
        &self,
        turn: Turn,
        on_delta: Option<OnDelta<'_>>,
    ) -> Result<Vec<AssistantChatMessage>, AssistantError> {
        let Turn {
            viewer,
            context,
            user,
            _lock,
        } = turn;
        let mut workspace = tools::Workspace::new(&context);
        let (steps, mut reply) = match &self.model {
            Some(model) => {
                self.converse(model, &context, &user, &mut workspace, on_delta)
                    .await?
            }
            None => {
                let text = interview::reply(context.replies_so_far, &user.content, &mut workspace);
                if let Some(on_delta) = on_delta {
                    on_delta(&text);
                }
                (Vec::new(), NewMessage::new("assistant", text))
            }
        };
        reply.frontend_actions = workspace.actions;
        let exchange = Exchange {
            user,
            steps,
            reply,
            profile_patch: workspace.profile_patch.map(Value::Object),
            campaign_draft: workspace.campaign_draft,
            complete_thread: workspace.completes_thread,
        };
        let thread_id = context.thread.thread_id.clone();
        Ok(self
            .store
            .record_exchange(viewer, thread_id, exchange)
            .await?)
    }

    /// The tool loop: at most `max_tool_rounds` model calls; the last is offered no tools, so
    /// it has to answer in words. Returns the tool steps and the reply, tokens summed.
    async fn converse(
        &self,
        model: &llm::ModelClient,
        context: &ChatContext,
        user: &NewMessage,
        workspace: &mut tools::Workspace<'_>,
        on_delta: Option<OnDelta<'_>>,
    ) -> Result<(Vec<NewMessage>, NewMessage), AssistantError> {
        let kind = context.thread.assistant.assistant_type;
        let instructions = context
            .instructions
            .as_deref()
            .unwrap_or_else(|| default_instructions(kind));
        let mut messages = vec![json!({
            "role": "system",
            "content": prompts::system_message(instructions, context),
        })];
        messages.extend(context.history.iter().map(protocol_message));
        messages.push(json!({"role": "user", "content": user.content}));
        let tools = tools::tools_for(kind);
        let rounds = self.config.max_tool_rounds;
        let mut steps = Vec::new();
        let (mut prompt_tokens, mut completion_tokens) = (0, 0);
        for round in 1..=rounds {
            let offered: &[Value] = if round < rounds { &tools } else { &[] };
            let completion = model.complete(&messages, offered, on_delta).await?;
            prompt_tokens += completion.prompt_tokens;
            completion_tokens += completion.completion_tokens;
            if completion.tool_calls.is_empty() || offered.is_empty() {
                let mut reply = NewMessage::new("assistant", completion.content);
                reply.prompt_tokens = prompt_tokens;
                reply.completion_tokens = completion_tokens;
                return Ok((steps, reply));
            }
            let calls = serde_json::to_value(&completion.tool_calls).expect("calls serialize");
            messages.push(json!({
                "role": "assistant",
                "content": completion.content,
                "tool_calls": calls,
            }));
            let mut call_step = NewMessage::new("assistant", completion.content);
            call_step.tool_calls = Some(calls.to_string());
            steps.push(call_step);
            for call in &completion.tool_calls {
                let result = workspace.run(&call.function.name, &call.function.arguments);
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": result,
                }));
                let mut result_step = NewMessage::new("tool", result);
                result_step.tool_call_id = Some(call.id.clone());
                steps.push(result_step);
            }
        }
        unreachable!("the last round offers no tools and so always returns")
    }
}

fn protocol_message(message: &HistoryMessage) -> Value {
    let mut value = json!({"role": message.role, "content": message.content});
    if let Some(calls) = &message.tool_calls {
        value["tool_calls"] = serde_json::from_str(calls).unwrap_or_else(|_| json!([]));
    }
    if let Some(id) = &message.tool_call_id {
        value["tool_call_id"] = Value::from(id.as_str());
    }
    value
}

fn seconds_to_next_month() -> u64 {
    use chrono::{Datelike, TimeZone, Utc};
    let now = Utc::now();
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let next = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    (next - now).num_seconds().max(1) as u64
}

/// One async lock per thread, so two messages to a thread are answered one after the other.
/// A thread's entry lives only while someone holds or waits for its lock.
#[derive(Default, Clone)]
struct ThreadLocks {
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

struct ThreadLock {
    guard: Option<OwnedMutexGuard<()>>,
    thread_id: String,
    locks: ThreadLocks,
}

impl ThreadLocks {
    async fn lock(&self, thread_id: &str) -> ThreadLock {
        let lock = self
            .locks
            .lock()
            .expect("thread locks")
            .entry(thread_id.to_string())
            .or_default()
            .clone();
        ThreadLock {
            guard: Some(lock.lock_owned().await),
            thread_id: thread_id.to_string(),
            locks: self.clone(),
        }
    }
}

impl Drop for ThreadLock {
    fn drop(&mut self) {
        self.guard.take();
        let mut locks = self.locks.locks.lock().expect("thread locks");
        if locks
            .get(&self.thread_id)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.thread_id);
        }
    }
}
