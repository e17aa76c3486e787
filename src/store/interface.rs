//! The store's interface: what the handlers, accounts and assistants may ask of the database,
//! one trait per table group. Each backend implements every trait (`sqlite/`, `postgres/`); `Store`
//! has a method of the same name for each, which hands the call to the backend that runs, so
//! callers hold a `Store` and never know which one it is.
//!
//! Arguments and answers are the API's shapes (`crate::schema`) and the store's records
//! (`records.rs`): nothing of a database library.

use bytes::Bytes;
use futures_util::stream::BoxStream;

use super::records::{
    AssistantRecord, ChatContext, Credentials, DraftFilter, Exchange, GeneratedExtensions,
    GenerationJob, GenerationUsage, NewThreadDraft, NewUser, QueuedRsas, Resumed, StandingChange,
    ThreadFilter, ThreadPage, ThreadScope, TokenOwner, Viewer,
};
use super::{Backend, Store, StoreResult};
use crate::schema::{
    AdGroupCreate, AdGroupUpdate, AdGroupsPatch, AdText, AdsPatch, AssistantChatMessage,
    AssistantChatThread, AssistantChatThreadCreate, AssistantChatThreadUpdate, BusinessProfile,
    CampaignDraft, CampaignDraftCreate, CampaignSettingsPatch, Company, CompanyId, CompanyMember,
    CompanyRole, CompanyWithConnections, DraftGenerationStatus, DraftId, ExtensionsPatch,
    GenerationStatus, GoogleAdsCustomer, GoogleAdsCustomerCreate, GoogleAdsCustomerUpdate,
    GoogleBusinessLocation, GoogleBusinessLocationUpdate, KeywordCreate, KeywordUpdate,
    ProfileChange, ThreadId, User, UserId,
};

/// Declares one of the store's traits once, and from it makes both the trait and `Store`'s
/// methods that dispatch to the backend. Each method is written once, with what it answers
/// when it succeeds, `fn name(&self, arg: Type, ...) -> Answer;`, and becomes:
/// - in the trait, `fn name(&self, ...) -> impl Future<Output = StoreResult<Answer>> + Send`:
///   a backend implements it with a plain `async fn`, and the future must be `Send` so that
///   handlers can hold it across an await on poem's multi-threaded runtime;
/// - on `Store`, `pub async fn name(&self, ...) -> StoreResult<Answer>`, a `match` on the
///   backend that awaits its future in place: no `dyn`, no boxed future.
macro_rules! store_trait {
    (
        $(#[$trait_attr:meta])*
        pub trait $trait:ident {
            $(
                $(#[$attr:meta])*
                fn $method:ident(&self $(, $arg:ident: $type:ty)* $(,)?) -> $answer:ty;
            )*
        }
    ) => {
        $(#[$trait_attr])*
        pub trait $trait {
            $(
                $(#[$attr])*
                fn $method(
                    &self
                    $(, $arg: $type)*
                ) -> impl std::future::Future<Output = StoreResult<$answer>> + Send;
            )*
        }

        impl Store {
            $(
                $(#[$attr])*
                pub async fn $method(&self $(, $arg: $type)*) -> StoreResult<$answer> {
                    match &self.backend {
                        Backend::Sqlite(db) => $trait::$method(db $(, $arg)*).await,
                        Backend::Postgres(db) => $trait::$method(db $(, $arg)*).await,
                    }
                }
            )*
        }
    };
}

store_trait! {
    /// Accounts, their standing and passwords, and their access tokens.
    pub trait UserStore {
        fn count_users(&self) -> i64;

        fn create_user(&self, user: NewUser) -> User;

        /// Creates `user` only when there are no users at all; None when there already were.
        fn create_first_user(&self, user: NewUser) -> Option<User>;

        /// The user `create_first_user` made (users are never deleted, so the oldest one).
        fn first_user_id(&self) -> Option<UserId>;

        /// Creates `user` with a token already issued to it, in one transaction.
        fn create_user_with_token(
            &self,
            user: NewUser,
            token_hash: [u8; 32],
            expires_at: i64,
        ) -> User;

        fn update_profile(&self, user_id: UserId, change: ProfileChange) -> User;

        /// Sets the user's password hash and revokes every token of theirs but `keep_token`.
        fn set_password(
            &self,
            user_id: UserId,
            password_hash: String,
            keep_token: Option<[u8; 32]>,
        ) -> ();

        fn password_hash(&self, user_id: UserId) -> String;

        fn user(&self, user_id: UserId) -> User;

        fn users(&self) -> Vec<User>;

        /// Makes or unmakes an admin, deactivates or reactivates. Deactivating revokes every token
        /// of the user, so reactivating does not bring old sessions back.
        fn change_standing(&self, user_id: UserId, change: StandingChange) -> User;

        fn credentials(&self, email: String) -> Option<Credentials>;

        fn insert_token(&self, token_hash: [u8; 32], user_id: UserId, expires_at: i64) -> ();

        /// The active user a token that has not expired belongs to.
        fn token_owner(&self, token_hash: [u8; 32], now: i64) -> Option<TokenOwner>;

        /// Deletes every token that expired at `now` or before, a batch per write, so that other
        /// writes go between batches. Answers how many were deleted.
        fn purge_expired_tokens(&self, now: i64) -> usize;

        fn revoke_token(&self, token_hash: [u8; 32]) -> ();
    }
}

store_trait! {
    /// Companies and who belongs to them, with which role.
    pub trait CompanyStore {
        /// Creates a company with the viewer as its owner.
        fn create_company(&self, viewer: Viewer, name: String) -> Company;

        /// The companies the viewer belongs to; for an admin, every company.
        fn companies(&self, viewer: Viewer) -> Vec<Company>;

        fn company(&self, viewer: Viewer, company_id: CompanyId) -> Company;

        /// Adds a member by email; only owners (and admins) may.
        fn add_member(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            email: String,
            role: CompanyRole,
        ) -> CompanyMember;

        /// The company's members, owners first.
        fn members(&self, viewer: Viewer, company_id: CompanyId) -> Vec<CompanyMember>;

        /// Removes a member. Owners (and admins) remove anyone; a member may remove only themself.
        /// The last owner stays, so that someone can still manage the company.
        fn remove_member(&self, viewer: Viewer, company_id: CompanyId, user_id: UserId) -> ();
    }
}

store_trait! {
    /// A company's Google Ads customers and Google Business Profile locations,
    /// and each member's view of them.
    pub trait ConnectionStore {
        fn add_customer(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            new: GoogleAdsCustomerCreate,
        ) -> GoogleAdsCustomer;

        fn customers(&self, viewer: Viewer, company_id: CompanyId) -> Vec<GoogleAdsCustomer>;

        fn add_location(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            new: GoogleBusinessLocation,
        ) -> GoogleBusinessLocation;

        fn locations(&self, viewer: Viewer, company_id: CompanyId) -> Vec<GoogleBusinessLocation>;

        /// Every company the user is a member of, with its connections. Membership only: an
        /// administrator sees here the companies they belong to, not every company.
        fn member_connections(&self, user_id: UserId) -> Vec<CompanyWithConnections>;

        /// One company the user is a member of, with its connections; NotFound for any other.
        fn member_company_connections(
            &self,
            user_id: UserId,
            company_id: CompanyId,
        ) -> CompanyWithConnections;

        fn update_customer(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            customer_id: i64,
            change: GoogleAdsCustomerUpdate,
        ) -> GoogleAdsCustomer;

        /// Removes a customer no thread is scoped to.
        fn delete_customer(&self, viewer: Viewer, company_id: CompanyId, customer_id: i64) -> ();

        fn update_location(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            location_id: String,
            change: GoogleBusinessLocationUpdate,
        ) -> GoogleBusinessLocation;

        /// Removes a location no thread is scoped to.
        fn delete_location(&self, viewer: Viewer, company_id: CompanyId, location_id: String) -> ();
    }
}

store_trait! {
    /// The four assistants and their instructions.
    pub trait AssistantStore {
        fn assistants(&self) -> Vec<AssistantRecord>;

        /// None restores the built-in instructions.
        fn set_instructions(
            &self,
            assistant_id: String,
            instructions: Option<String>,
        ) -> AssistantRecord;
    }
}

store_trait! {
    /// Chat threads; lists page newest first by a cursor, never by offset.
    pub trait ThreadStore {
        fn create_thread(
            &self,
            viewer: Viewer,
            scope: ThreadScope,
            new: AssistantChatThreadCreate,
        ) -> AssistantChatThread;

        /// The thread as its JSON, if the viewer may see it (and it is in `company_id` when
        /// given). Like a list page, a thread read once is answered from memory while its company's
        /// threads and members stay unchanged: its company (which never changes), the viewer's
        /// access to it and its JSON are all remembered, each kept exact as `cache.rs` says.
        fn thread(
            &self,
            viewer: Viewer,
            thread_id: ThreadId,
            company_id: Option<CompanyId>,
        ) -> Bytes;

        fn list_threads(&self, viewer: Viewer, filter: ThreadFilter) -> ThreadPage;

        /// Every thread the filter selects (after its cursor, if any), as the pieces of one JSON
        /// array, read page by page. Access is checked before the first page (so a 404 is an
        /// ordinary answer) and again for each page. Each page is its own short read, keyset on
        /// `seq`: a thread shows once at most, and every thread that existed when the request began
        /// shows unless it was deleted before its page was read. Only the first page is
        /// remembered (the whole answer of most companies); the deeper ones are read and forgotten,
        /// so that one large company's list does not push every other page out of the cache.
        fn every_thread(
            &self,
            viewer: Viewer,
            filter: ThreadFilter,
        ) -> BoxStream<'static, StoreResult<Bytes>>;

        fn update_thread(
            &self,
            viewer: Viewer,
            thread_id: ThreadId,
            company_id: Option<CompanyId>,
            change: AssistantChatThreadUpdate,
        ) -> AssistantChatThread;

        fn delete_thread(
            &self,
            viewer: Viewer,
            thread_id: ThreadId,
            company_id: Option<CompanyId>,
        ) -> ();
    }
}

store_trait! {
    /// Chat messages, what an assistant reads before it answers, and the tokens
    /// a company has used.
    pub trait MessageStore {
        /// The thread's context for its assistant, if the viewer may see the thread (completed or
        /// not: whether to answer is the assistant's call).
        fn chat_context(
            &self,
            viewer: Viewer,
            thread_id: ThreadId,
            history_window: u32,
        ) -> ChatContext;

        /// Stores an exchange in the thread its context was read from, and what its tools changed;
        /// answers the listed messages it created.
        fn record_exchange(
            &self,
            viewer: Viewer,
            context: &ChatContext,
            exchange: Exchange,
        ) -> Vec<AssistantChatMessage>;

        /// User messages and replies, oldest first: `offset` newest ones skipped, then the last
        /// `last_n` of the rest (all when None).
        fn list_messages(
            &self,
            viewer: Viewer,
            thread_id: ThreadId,
            last_n: Option<u32>,
            offset: Option<u32>,
        ) -> Vec<AssistantChatMessage>;

        fn business_profile(&self, viewer: Viewer, company_id: CompanyId) -> BusinessProfile;

        /// Tokens a company has used this calendar month, for its quota (the company comes from a
        /// thread the caller could see).
        fn month_tokens(&self, company_id: CompanyId) -> i64;

        /// (all-time prompt, all-time completion, this month's total) tokens of a company.
        fn company_tokens(&self, viewer: Viewer, company_id: CompanyId) -> (i64, i64, i64);
    }
}

store_trait! {
    /// Campaign drafts, read whole as the API answers them.
    pub trait DraftStore {
        /// A new draft of `company_id` for one of its Google Ads customers (NotFound otherwise).
        fn create_draft(
            &self,
            viewer: Viewer,
            company_id: CompanyId,
            new: CampaignDraftCreate,
        ) -> CampaignDraft;

        /// The drafts the viewer may see, newest first. A `company_id` the viewer cannot see is
        /// NotFound, as everywhere.
        fn list_drafts(&self, viewer: Viewer, filter: DraftFilter) -> Vec<CampaignDraft>;

        fn draft(&self, viewer: Viewer, draft_id: DraftId) -> CampaignDraft;

        /// The newest unpublished draft the viewer may see with that market analysis.
        fn active_draft(&self, viewer: Viewer, market_analysis_id: i64) -> CampaignDraft;

        /// Deletes the draft with everything under it (ad groups, keywords, RSAs, extensions,
        /// generation tasks).
        fn delete_draft(&self, viewer: Viewer, draft_id: DraftId) -> ();

        fn draft_generation_status(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
        ) -> DraftGenerationStatus;
    }
}

store_trait! {
    /// The campaign drafts' step edits: each one write, answered with the draft
    /// whole.
    pub trait DraftEditStore {
        /// Step 1: only the fields sent change. A new `default_match_type` is given to every
        /// keyword when `apply_to_all_keywords`, else only to those that had the previous default.
        fn patch_campaign_settings(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            patch: CampaignSettingsPatch,
            apply_to_all_keywords: bool,
        ) -> CampaignDraft;

        /// Step 2: the list replaces the draft's ad groups and each one's keywords (by `id`;
        /// without one, created; left out, deleted). An ad group whose name changed, or whose
        /// keywords' texts changed or were added or removed, has its RSAs refreshed when
        /// `regenerate` (a new one only when it has keywords).
        fn patch_ad_groups(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            patch: AdGroupsPatch,
            regenerate: bool,
        ) -> CampaignDraft;

        /// Step 3: for each ad group an item names, the list replaces its RSAs (by `id`; without
        /// one, created; left out, deleted). An RSA whose content a person changed (or wrote) is
        /// marked edited: generation leaves it alone from then on.
        fn patch_ads(&self, viewer: Viewer, draft_id: DraftId, patch: AdsPatch) -> CampaignDraft;

        /// Step 4: each list sent replaces that list; `phone` is set or (`null`) removed.
        fn patch_extensions(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            patch: ExtensionsPatch,
        ) -> CampaignDraft;

        /// A new ad group, last of the draft's, with its keywords; its RSAs are queued when
        /// `regenerate` and it has a keyword.
        fn create_ad_group(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            new: AdGroupCreate,
            regenerate: bool,
        ) -> CampaignDraft;

        /// Changes an ad group (NotFound when it is not the draft's); a new name refreshes its
        /// RSAs when `regenerate`.
        fn update_ad_group(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            ad_group_id: i64,
            change: AdGroupUpdate,
            regenerate: bool,
        ) -> CampaignDraft;

        /// A new keyword, last of the ad group's (NotFound when the ad group is not the draft's);
        /// refreshes its RSAs when `regenerate`.
        fn create_keyword(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            ad_group_id: i64,
            new: KeywordCreate,
            regenerate: bool,
        ) -> CampaignDraft;

        /// Changes a keyword (NotFound unless it is of that ad group of the draft); a new text
        /// refreshes the ad group's RSAs when `regenerate`.
        fn update_keyword(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            ad_group_id: i64,
            keyword_id: i64,
            change: KeywordUpdate,
            regenerate: bool,
        ) -> CampaignDraft;

        /// Deletes a keyword (NotFound unless it is of that ad group of the draft); refreshes the
        /// ad group's RSAs when `regenerate`.
        fn delete_keyword(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            ad_group_id: i64,
            keyword_id: i64,
            regenerate: bool,
        ) -> CampaignDraft;
    }
}

store_trait! {
    /// A chat thread's campaign draft.
    pub trait ThreadDraftStore {
        /// The draft of a thread the viewer may see; NotFound when it has none.
        fn thread_draft(&self, viewer: Viewer, thread_id: ThreadId) -> CampaignDraft;

        /// The draft of the turn's thread as it is now (None when it has none), if the thread is
        /// still there and visible to the viewer.
        fn turn_draft(&self, viewer: Viewer, context: &ChatContext) -> Option<CampaignDraft>;

        /// The id of the turn's thread's draft, created with `new` (for the thread's company and
        /// Google Ads customer) when there is none. NotFound when the thread is gone or hidden
        /// from the viewer; Conflict when it has no Google Ads customer.
        fn turn_draft_id(
            &self,
            viewer: Viewer,
            context: &ChatContext,
            new: NewThreadDraft,
        ) -> DraftId;
    }
}

store_trait! {
    /// Background generation of draft copy: queued by the generate endpoints
    /// and by edits, claimed and finished by the generation worker. On a database several
    /// processes share (PostgreSQL), a task is held by the process that claimed it; one whose
    /// process died counts as cut off by a stop, as a restart finds it on SQLite, and what a
    /// process writes about a task it no longer holds is left out.
    pub trait GenerationQueue {
        /// Three new RSAs for one of the draft's ad groups, queued for generation.
        fn generate_rsas(&self, viewer: Viewer, draft_id: DraftId, ad_group_id: i64) -> QueuedRsas;

        /// The draft's extensions, queued for generation; while a task of the draft's extensions
        /// is still pending or in progress, that task (no second one is queued).
        fn generate_extensions(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
        ) -> (String, GenerationStatus);

        /// NotFound unless the viewer sees the draft (and it has that ad group): what a generate
        /// call checks before saying it cannot generate without a model.
        fn generation_target(
            &self,
            viewer: Viewer,
            draft_id: DraftId,
            ad_group_id: Option<i64>,
        ) -> ();

        /// At start-up, before any claim: a task found `in_progress` (held by no live process)
        /// was cut off by a stop. It is pending again, unless it has been claimed `max_attempts`
        /// times: then it fails, saying so. RSAs left pending or in progress by a task that is over (or gone) fail
        /// too, so nothing waits for ever.
        fn resume_generation(&self, max_attempts: u32) -> Resumed;

        /// Claims the oldest pending task: it is `in_progress` (one more attempt), and so are the
        /// RSAs it fills. None when nothing is pending. Where several processes share the
        /// queue, a task cut off by the death of its process counts as pending here, under
        /// `resume_generation`'s rule and its last `max_attempts`.
        fn claim_generation_task(&self) -> Option<GenerationJob>;

        /// Whether the RSA still waits for this task (it names it, no person edited it, it is not
        /// done, and the task is still this process's where several share the queue): asked before each model call, so that nothing is spent on an RSA that was edited,
        /// taken over by a newer task, or deleted with its ad group meanwhile.
        fn rsa_awaits(&self, task_id: String, rsa_id: i64) -> bool;

        /// Stores one RSA's generated copy (or why there is none) and charges the call's tokens.
        /// Written only while the RSA still names this task and no person has edited it: false
        /// when it was left alone for that reason.
        fn finish_generated_rsa(
            &self,
            task_id: String,
            rsa_id: i64,
            outcome: Result<(Vec<AdText>, Vec<AdText>), String>,
            usage: GenerationUsage,
        ) -> bool;

        /// Adds generated extension items to the draft's, after those already there, leaving out
        /// any whose text the draft already has; charges the call's tokens and completes the task.
        /// Nothing is added when the task is no longer in progress (the draft was deleted, or a
        /// stop was handled meanwhile).
        fn finish_generated_extensions(
            &self,
            task_id: String,
            draft_id: DraftId,
            items: GeneratedExtensions,
            usage: GenerationUsage,
        ) -> ();

        /// Marks a claimed task over: completed, or failed with `error` (its RSAs still waiting
        /// fail with it).
        fn finish_generation_task(
            &self,
            task_id: String,
            error: Option<String>,
            usage: GenerationUsage,
        ) -> ();

        /// At a clean stop: tasks the worker had claimed are pending again, the attempt not
        /// counted (they were not cut off by a crash).
        fn release_generation_tasks(&self, task_ids: Vec<String>) -> ();
    }
}
