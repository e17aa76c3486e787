//! The assistants: a user's message to a thread is begun as a turn (checks, context, the
//! thread's lock, a place among the model's answers in flight), then answered to its end by the
//! model with its tools, or by the built-in onboarding interview when no model is configured.
//! The model is awaited holding no database connection; the exchange is stored in one write
//! once it has answered. The campaign draft's tools write as they run, each its own write,
//! within the turn (the thread's lock held, the exchange's budgets counting).

mod draft_tools;
mod generated_copy;
mod generation;
mod in_flight;
mod interview;
mod llm;
mod prompts;
mod reply;
mod thread_locks;
mod tools;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::config::LlmConfig;
use crate::schema::rules::FieldProblem;
use crate::schema::rules::Validate;
use crate::schema::{
    AssistantChatMessage, AssistantChatMessageCreate, AssistantType, CompanyId, ThreadId,
};
use crate::store::{ChatContext, Exchange, HistoryMessage, NewMessage, Store, StoreError, Viewer};

pub use generation::GenerationWorker;
use llm::OnDelta;
pub use prompts::default_instructions;

/// What can go wrong while answering, besides the store's own errors.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    /// The message is not one a client may write.
    #[error("{}", .0.message)]
    InvalidMessage(FieldProblem),
    #[error(
        "This thread is completed; reopen it with PATCH {{\"is_completed\": false}} to write to \
         it again"
    )]
    ThreadCompleted,
    /// No model is configured and this assistant needs one.
    #[error("{0}")]
    NoModel(String),
    /// The model's server could not be reached, or answered an error or nonsense, or more
    /// than the caps allow. `public` says what failed on our side; `detail`, for the log only,
    /// may quote the server (never the API key).
    #[error("{public}")]
    Provider { public: String, detail: String },
    #[error("The language model did not answer within {0} seconds")]
    Timeout(u64),
    #[error("This company has used its monthly quota of {quota} tokens")]
    QuotaSpent { quota: u64, retry_after_secs: u64 },
    #[error(
        "This company already has {limit} messages being answered by the language model; try \
         again in a moment"
    )]
    Busy { limit: u32, retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

const NO_MODEL: &str = "This assistant needs a language model. Set ADTHREAD_LLM_BASE_URL (or \
                        llm.base_url in config.toml) to a server speaking OpenAI's \
                        chat-completions protocol, such as http://127.0.0.1:11434/v1 for \
                        Ollama, and ADTHREAD_LLM_MODEL to its model, then restart adthread.";

/// Called with each piece of the reply's text, from the task the turn is answered on.
pub type Deltas = Box<dyn Fn(&str) + Send + Sync>;

pub struct Assistants {
    store: Store,
    model: Option<llm::ModelClient>,
    config: LlmConfig,
    turns: thread_locks::ThreadLocks,
    in_flight: in_flight::InFlight,
}

/// A message being answered: its thread is locked, and its company's place among the model's
/// answers in flight held, until the turn is dropped.
pub struct Turn {
    viewer: Viewer,
    context: ChatContext,
    /// The user's message as it will be stored.
    user: NewMessage,
    _lock: thread_locks::ThreadLock,
    _slot: Option<in_flight::Slot>,
}

impl Turn {
    /// The user's message as clients are shown it.
    pub fn user_message(&self) -> AssistantChatMessage {
        self.user.listed()
    }
}

/// How long a slot among the answers in flight counts when its process dies before giving it
/// back (processes sharing a database): twice the longest an answer can take, each of its model
/// calls taking its full timeout.
fn slot_lifetime(config: &LlmConfig) -> std::time::Duration {
    let calls = u64::from(config.max_tool_rounds) + 1;
    std::time::Duration::from_secs(config.timeout_secs.saturating_mul(calls).saturating_mul(2))
}

/// Seconds a client refused for too many answers in flight is told to wait.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

impl Assistants {
    pub fn new(store: Store, config: &LlmConfig) -> Result<Assistants, String> {
        Ok(Assistants {
            turns: thread_locks::ThreadLocks::new(store.shared_coordination()),
            in_flight: in_flight::InFlight::new(store.shared_coordination(), slot_lifetime(config)),
            store,
            model: llm::ModelClient::from_config(config)?,
            config: config.clone(),
        })
    }

    /// Why this assistant cannot answer now, if it cannot.
    pub fn unavailable_reason(&self, kind: AssistantType) -> Option<&'static str> {
        (self.model.is_none() && kind != AssistantType::Onboarding).then_some(NO_MODEL)
    }

    /// Begins a turn: checks, in this order, that the viewer sees the thread (404; before the
    /// message, as for every other operation on another company's ids), the message (422),
    /// then, once the thread's previous message is answered, that the thread is still there
    /// and not completed (404, 409), that the assistant can answer (503) and the company may
    /// ask the model (429: quota, or too many answers in flight).
    pub async fn begin(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        message: AssistantChatMessageCreate,
    ) -> Result<Turn, AssistantError> {
        // Read before waiting, so a thread the viewer cannot see and a bad message are answered
        // at once, and read again only if a turn ended in between (its exchange is missing).
        let mut lock = self.turns.queue(&thread_id).await?;
        let mut context = self.context(viewer, &thread_id).await?;
        let content = user_content(message)?;
        lock.acquire().await?;
        if lock.others_went_first() {
            context = self.context(viewer, &thread_id).await?;
        }
        if context.thread.is_completed {
            return Err(AssistantError::ThreadCompleted);
        }
        let kind = context.thread.assistant.assistant_type;
        if let Some(reason) = self.unavailable_reason(kind) {
            return Err(AssistantError::NoModel(reason.into()));
        }
        let slot = match self.model {
            Some(_) => Some(self.admit(context.company_id).await?),
            None => None,
        };
        Ok(Turn {
            viewer,
            context,
            user: NewMessage::new("user", content),
            _lock: lock,
            _slot: slot,
        })
    }

    async fn context(
        &self,
        viewer: Viewer,
        thread_id: &ThreadId,
    ) -> Result<ChatContext, StoreError> {
        let window = self.config.history_messages;
        self.store
            .chat_context(viewer, thread_id.clone(), window)
            .await
    }

    /// Takes a place among the company's answers in flight and, with a quota, reserves what
    /// one message may cost at most. The reservation is taken before the month's usage is
    /// read: an answer stored meanwhile is then counted, in the usage or in the reservations
    /// (perhaps both, for a moment, which errs on the safe side). So parallel messages
    /// overshoot the quota by at most one message's cost.
    async fn admit(&self, company_id: CompanyId) -> Result<in_flight::Slot, AssistantError> {
        let limit = self.config.max_concurrent_per_company;
        let busy = AssistantError::Busy {
            limit,
            retry_after_secs: BUSY_RETRY_AFTER_SECS,
        };
        let slot = self
            .in_flight
            .take(company_id, limit, self.quota_reservation())
            .await?
            .ok_or(busy)?;
        self.within_quota(company_id, &slot).await?;
        Ok(slot)
    }

    /// What one model call reserves from the monthly quota: the most it may cost, or nothing
    /// without a quota.
    fn quota_reservation(&self) -> u64 {
        if self.config.monthly_token_quota > 0 {
            self.config.max_tokens_per_message
        } else {
            0
        }
    }

    /// QuotaSpent when the month's usage and the other calls' reservations (`slot` holds this
    /// one's, taken first) reach the quota.
    async fn within_quota(
        &self,
        company_id: CompanyId,
        slot: &in_flight::Slot,
    ) -> Result<(), AssistantError> {
        let quota = self.config.monthly_token_quota;
        if quota == 0 {
            return Ok(());
        }
        let used = u64::try_from(self.store.month_tokens(company_id).await?).unwrap_or(0);
        if used.saturating_add(slot.reserved_by_others()) >= quota {
            return Err(AssistantError::QuotaSpent {
                quota,
                retry_after_secs: seconds_to_next_month(),
            });
        }
        Ok(())
    }

    /// Answers the turn's message on a task of its own, and stores the exchange; answers the
    /// user's message and the reply. A client that goes away cancels only the wait: the model
    /// call still costs, so it runs to its end and its answer is stored. With `deltas`, the
    /// reply's text is passed on as it is produced.
    pub async fn answer_to_end(
        self: &Arc<Self>,
        turn: Turn,
        deltas: Option<Deltas>,
    ) -> Result<Vec<AssistantChatMessage>, AssistantError> {
        let assistants = Arc::clone(self);
        let answering =
            tokio::spawn(async move { assistants.answer(turn, deltas.as_deref()).await });
        match answering.await {
            Ok(answered) => answered,
            // The task's panic, already logged, is this one's: answered 500 like any other. (A
            // task is cancelled only when the runtime stops, which drops this wait first.)
            Err(stopped) => std::panic::resume_unwind(stopped.into_panic()),
        }
    }

    async fn answer(
        &self,
        turn: Turn,
        on_delta: Option<OnDelta<'_>>,
    ) -> Result<Vec<AssistantChatMessage>, AssistantError> {
        let Turn {
            viewer,
            context,
            user,
            _lock,
            _slot,
        } = turn;
        let mut workspace = tools::Workspace::new(&self.store, viewer, &context);
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
            complete_thread: workspace.completes_thread,
        };
        Ok(self
            .store
            .record_exchange(viewer, &context, exchange)
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
        let history = recent_history(&context.history, self.config.history_bytes);
        messages.extend(history.iter().map(protocol_message));
        messages.push(json!({"role": "user", "content": user.content}));
        let tools = tools::tools_for(kind);
        let rounds = self.config.max_tool_rounds;
        let mut steps = Vec::new();
        let mut cost = Cost::default();
        for round in 1..=rounds {
            let offered: &[Value] = if round < rounds { &tools } else { &[] };
            let completion = model.complete(&messages, offered, on_delta).await?;
            cost.add(&completion, self.config.max_tokens_per_message)?;
            if completion.tool_calls.is_empty() || offered.is_empty() {
                let mut reply = NewMessage::new("assistant", completion.content);
                reply.prompt_tokens = cost.prompt_tokens;
                reply.completion_tokens = cost.completion_tokens;
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
                let result = tools::capped(
                    workspace
                        .run(&call.function.name, &call.function.arguments)
                        .await?,
                    self.config.max_tool_result_bytes,
                );
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

/// Tokens one message has cost so far, over its model calls.
#[derive(Default)]
struct Cost {
    prompt_tokens: i64,
    completion_tokens: i64,
}

impl Cost {
    /// Adds a model call's tokens; past `limit` (`llm.max_tokens_per_message`, what the quota
    /// reserves per message) the message fails and, storing nothing, is not charged.
    fn add(&mut self, completion: &llm::Completion, limit: u64) -> Result<(), AssistantError> {
        let prompt = completion.prompt_tokens.min(limit + 1) as i64;
        let answer = completion.completion_tokens.min(limit + 1) as i64;
        self.prompt_tokens += prompt;
        self.completion_tokens += answer;
        let total = (self.prompt_tokens + self.completion_tokens) as u64;
        if total > limit {
            let public = format!(
                "The language model used more than the {limit} tokens one message may cost \
                 (llm.max_tokens_per_message)"
            );
            return Err(AssistantError::Provider {
                detail: format!("{public}: {total} tokens"),
                public,
            });
        }
        Ok(())
    }
}

/// The content of a message a client may write, or what is wrong with it (checked here, after
/// the thread's read, so that another company's thread is 404 before its message is 422).
fn user_content(message: AssistantChatMessageCreate) -> Result<String, AssistantError> {
    match message.validate().into_iter().next() {
        Some(problem) => Err(AssistantError::InvalidMessage(problem)),
        None => Ok(message.content),
    }
}

/// The newest stored messages whose content fits in `budget` bytes, starting at a user
/// message: a window that started inside an exchange would show tool results without their
/// call.
fn recent_history(history: &[HistoryMessage], budget: usize) -> &[HistoryMessage] {
    let mut spent = 0usize;
    let fitting = history
        .iter()
        .rev()
        .take_while(|message| {
            spent = spent.saturating_add(history_bytes(message));
            spent <= budget
        })
        .count();
    let window = &history[history.len() - fitting..];
    let start = window
        .iter()
        .position(|message| message.role == "user")
        .unwrap_or(window.len());
    &window[start..]
}

fn history_bytes(message: &HistoryMessage) -> usize {
    message.content.len() + message.tool_calls.as_ref().map_or(0, String::len)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(role: &str, content: &str) -> HistoryMessage {
        HistoryMessage {
            role: role.into(),
            content: content.into(),
            tool_calls: None,
            tool_call_id: None,
        }
    }

    #[test]
    fn history_is_bounded_in_bytes_and_starts_at_a_user_message() {
        let history = [
            message("user", &"a".repeat(100)),
            message("assistant", "b"),
            message("user", "question"),
            message("assistant", ""),
            message("tool", &"t".repeat(40)),
            message("assistant", "answer"),
        ];
        assert_eq!(recent_history(&history, 10_000).len(), 6);
        let kept = recent_history(&history, 60);
        assert_eq!(kept.len(), 4);
        assert_eq!(kept[0].content, "question");
        // The budget would start the window at the tool result: it starts after it instead.
        assert!(recent_history(&history, 50).is_empty());
    }
}
