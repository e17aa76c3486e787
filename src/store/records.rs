//! What the store takes and answers beside the API's own shapes: the records every backend
//! reads and writes alike. Nothing here knows a database.

use bytes::Bytes;
use serde_json::Value;

use crate::schema::{
    Assistant, AssistantChatMessage, AssistantChatThread, AssistantType, Callout, CompanyId,
    DraftId, FrontendAction, Sitelink, StructuredSnippet, Timestamp, UserId, UserProfile,
};

pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub profile: UserProfile,
}

/// What sign-in needs to check a password.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
    pub is_active: bool,
}

/// A change to a user's standing; None leaves that flag as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandingChange {
    pub is_admin: Option<bool>,
    pub is_active: Option<bool>,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, Copy)]
pub struct TokenOwner {
    pub user_id: UserId,
    pub is_admin: bool,
}

/// The signed-in user on whose behalf the store reads and writes.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: UserId,
    pub is_admin: bool,
}

/// An assistant and its own instructions (None: the built-in default).
pub type AssistantRecord = (Assistant, Option<String>);

/// Which threads a list shows (and the key of a cached page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ThreadFilter {
    pub company_id: CompanyId,
    pub assistant_type: Option<AssistantType>,
    pub customer_id: Option<i64>,
    pub location_id: Option<String>,
    pub is_completed: Option<bool>,
    /// Only threads older than this `seq` (the cursor of the page before).
    pub before_seq: Option<i64>,
    pub limit: u32,
    /// The page also ends once its JSON holds this many bytes (the pages of a whole list).
    pub max_bytes: Option<usize>,
}

/// A page of the list, as the JSON array of its threads: pages are cached serialized, since
/// writing the JSON of 50 threads costs more than reading them.
#[derive(Clone)]
pub struct ThreadPage {
    pub json: Bytes,
    /// The `seq` to continue after, when more threads exist.
    pub next_before_seq: Option<i64>,
}

/// Scope of a new thread: the company and, optionally, its customer and location.
#[derive(Debug, Clone)]
pub struct ThreadScope {
    pub company_id: CompanyId,
    pub customer_id: Option<i64>,
    pub location_id: Option<String>,
    pub login_customer_id: Option<i64>,
}

/// A stored message as the model is shown it, tool rows included.
#[derive(Debug, Clone)]
pub struct HistoryMessage {
    pub role: String,
    pub content: String,
    /// The assistant's tool calls, as the JSON array the provider sent.
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
}

/// Everything an assistant needs to answer in a thread, read at once.
#[derive(Debug, Clone)]
pub struct ChatContext {
    /// The thread's key in the database, where its exchange is stored.
    pub(in crate::store) seq: i64,
    pub thread: AssistantChatThread,
    pub company_id: CompanyId,
    pub company_name: String,
    /// The assistant's own instructions; None: the built-in default for its type.
    pub instructions: Option<String>,
    pub business_profile: Value,
    /// The last messages of the thread, oldest first (the window may start inside an
    /// exchange: the assistant chooses where the model's view starts).
    pub history: Vec<HistoryMessage>,
    /// Replies (not tool calls) the assistant has given in this thread so far.
    pub replies_so_far: u32,
}

/// One message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub role: &'static str,
    pub content: String,
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub frontend_actions: Vec<FrontendAction>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub date: Timestamp,
}

impl NewMessage {
    pub fn new(role: &'static str, content: String) -> Self {
        NewMessage {
            role,
            content,
            tool_calls: None,
            tool_call_id: None,
            frontend_actions: Vec::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            date: Timestamp::now(),
        }
    }

    /// The message as clients are shown it.
    pub fn listed(&self) -> AssistantChatMessage {
        AssistantChatMessage {
            role: self.role.to_string(),
            content: self.content.clone(),
            date_added: self.date.clone(),
            date_updated: self.date.clone(),
            frontend_actions: self.frontend_actions.clone(),
        }
    }
}

/// A whole exchange: stored in one write or not at all.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub user: NewMessage,
    /// Tool calls and their results, in order.
    pub steps: Vec<NewMessage>,
    pub reply: NewMessage,
    /// Merged into the company's business profile (RFC 7396).
    pub profile_patch: Option<Value>,
    pub complete_thread: bool,
}

/// Which drafts a list shows.
#[derive(Debug, Clone, Default)]
pub struct DraftFilter {
    pub company_id: Option<CompanyId>,
    pub google_ads_customer_id: Option<i64>,
}

/// What a thread's draft is created with; the customer and company are the thread's.
#[derive(Debug, Clone)]
pub struct NewThreadDraft {
    pub name: String,
    pub market_analysis_id: Option<i64>,
}

/// What was queued: the task and the RSAs it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRsas {
    pub task_id: String,
    pub rsa_ids: Vec<i64>,
}

/// What a task is to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobWork {
    /// These RSAs, one model call each (those the task still names, not edited by a person).
    Rsas {
        ad_group_id: i64,
        rsa_ids: Vec<i64>,
    },
    Extensions,
}

/// What the model is told about the draft: the company, the campaign's settings and, for
/// RSAs, the ad group. Everything is as stored; the assistant decides what to send.
#[derive(Debug, Clone, Default)]
pub struct GenerationBrief {
    pub company_name: String,
    /// The company's business profile (a JSON object; empty when none).
    pub profile: Value,
    pub draft_name: String,
    pub campaign_name: Option<String>,
    pub website_url: Option<String>,
    pub ad_group_name: Option<String>,
    pub keywords: Vec<String>,
}

/// A task the worker has claimed (now `in_progress`).
#[derive(Debug, Clone)]
pub struct GenerationJob {
    pub task_id: String,
    pub draft_id: DraftId,
    pub company_id: CompanyId,
    /// This claim's number, from 1.
    pub attempt: u32,
    pub work: JobWork,
    pub brief: GenerationBrief,
}

/// Tokens one model call cost, charged to the company with what it produced.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerationUsage {
    pub company_id: CompanyId,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// Generated extension items, already checked against Google's limits.
#[derive(Debug, Clone, Default)]
pub struct GeneratedExtensions {
    pub sitelinks: Vec<Sitelink>,
    pub callouts: Vec<Callout>,
    pub structured_snippets: Vec<StructuredSnippet>,
}

/// What start-up found of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Tasks cut off by a stop, back to pending.
    pub resumed: usize,
    /// Tasks cut off too often, now failed.
    pub failed: usize,
}
