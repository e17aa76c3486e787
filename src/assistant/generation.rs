//! The generation worker: fills the draft copy queued as `generation_tasks` rows (RSAs, one model
//! call each; a draft's extensions, one call), in the background, a bounded number of tasks at
//! a time (`llm.generation_concurrency`). It looks at the queue at start-up (after putting back
//! what a stop cut off), whenever a write rings `Store::generation_bell`, and every few seconds
//! as a safety net. A clean stop gives back the tasks it holds; a crash leaves them
//! `in_progress`, and the next start-up resumes them (up to `llm.generation_attempts` claims);
//! on PostgreSQL another process's worker takes them over without waiting for a restart.
//!
//! The model is called with the chat's client and caps (`llm.rs`, `reply.rs`), its tokens
//! charged to the company's monthly quota; its words are parsed by `generated_copy.rs` and an
//! error recorded is always ours, never the server's text.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::generated_copy::{
    extension_copy, rsa_copy, CALLOUT_CHARS, DESCRIPTIONS, DESCRIPTION_CHARS, HEADLINES,
    HEADLINE_CHARS, SITELINK_DESCRIPTION_CHARS, SITELINK_TEXT_CHARS, SNIPPET_HEADERS,
    SNIPPET_VALUES, SNIPPET_VALUE_CHARS,
};
use super::{AssistantError, Assistants};
use crate::store::{GenerationBrief, GenerationJob, GenerationUsage, JobWork};

/// How often the queue is looked at when no bell rings.
const SAFETY_NET: Duration = Duration::from_secs(5);
/// Bytes of the company's business profile the model is shown at most.
const PROFILE_BYTES: usize = 4096;
/// Bytes of each name, URL and keyword the model is shown at most.
const NAME_BYTES: usize = 512;

const NO_MODEL: &str = "Generating copy needs a language model. Set ADTHREAD_LLM_BASE_URL (or \
                        llm.base_url in config.toml) to a server speaking OpenAI's \
                        chat-completions protocol, then restart adthread. Drafts can still be \
                        edited by hand.";
const NO_MODEL_TASK: &str = "No language model is configured (llm.base_url); generate again \
                             once one is";

/// The running worker; `stop` ends it cleanly.
pub struct GenerationWorker {
    stop: Arc<Notify>,
    done: tokio::task::JoinHandle<()>,
}

impl GenerationWorker {
    /// Stops claiming, abandons the model calls under way and gives their tasks back (pending,
    /// the attempt not counted), then returns.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.done.await;
    }
}

impl Assistants {
    /// Why the generate endpoints cannot queue work now (503), if they cannot.
    pub fn generation_unavailable(&self) -> Option<&'static str> {
        self.model.is_none().then_some(NO_MODEL)
    }

    /// Starts the worker on the runtime. Without a model it still runs, failing what is queued
    /// (edits that regenerate RSAs queue work even then), so that nothing waits for ever.
    pub fn start_generation(self: &Arc<Self>) -> GenerationWorker {
        let stop = Arc::new(Notify::new());
        let done = tokio::spawn(Arc::clone(self).work(Arc::clone(&stop)));
        GenerationWorker { stop, done }
    }

    async fn work(self: Arc<Self>, stop: Arc<Notify>) {
        match self
            .store
            .resume_generation(self.config.generation_attempts)
            .await
        {
            Ok(found) if found.resumed + found.failed > 0 => tracing::info!(
                resumed = found.resumed,
                failed = found.failed,
                "generation tasks cut off by a stop"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "cannot resume generation tasks"),
        }
        let bell = self.store.generation_bell();
        let concurrency = self.config.generation_concurrency as usize;
        let mut running = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, String> = HashMap::new();
        let stopping = stop.notified();
        tokio::pin!(stopping);
        loop {
            while running.len() < concurrency {
                match self.store.claim_generation_task().await {
                    Ok(Some(job)) => {
                        let task_id = job.task_id.clone();
                        let worker = Arc::clone(&self);
                        let handle = running.spawn(async move { worker.generate(job).await });
                        held.insert(handle.id(), task_id);
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot claim a generation task");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut stopping => break,
                _ = bell.notified() => {}
                _ = tokio::time::sleep(SAFETY_NET) => {}
                Some(finished) = running.join_next_with_id(), if !running.is_empty() => {
                    let id = match &finished {
                        Ok((id, ())) => *id,
                        Err(err) => err.id(),
                    };
                    let task_id = held.remove(&id);
                    if let (Err(_), Some(task_id)) = (finished, task_id) {
                        // The panic was logged by the hook; the task must not stay in progress.
                        let error = "Generation failed unexpectedly; generate again to retry";
                        let _ = self
                            .store
                            .finish_generation_task(task_id, Some(error.into()), Default::default())
                            .await;
                    }
                }
            }
        }
        running.abort_all();
        while running.join_next().await.is_some() {}
        let abandoned: Vec<String> = held.into_values().collect();
        if !abandoned.is_empty() {
            if let Err(err) = self.store.release_generation_tasks(abandoned).await {
                tracing::warn!(error = %err, "cannot give back generation tasks at stop");
            }
        }
    }

    async fn generate(&self, job: GenerationJob) {
        let task_id = job.task_id.clone();
        let finished = match &job.work {
            JobWork::Rsas { rsa_ids, .. } => {
                let mut failures = Vec::new();
                for (at, rsa_id) in rsa_ids.iter().enumerate() {
                    match self.store.rsa_awaits(task_id.clone(), *rsa_id).await {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(err) => tracing::warn!(error = %err, "cannot read a queued RSA"),
                    }
                    let messages = rsa_prompt(&job.brief, at + 1, rsa_ids.len());
                    let (answer, usage) = self.ask(&job, &messages).await;
                    let outcome = answer.and_then(|content| rsa_copy(&content));
                    if let Err(error) = &outcome {
                        failures.push(error.clone());
                    }
                    if let Err(err) = self
                        .store
                        .finish_generated_rsa(task_id.clone(), *rsa_id, outcome, usage)
                        .await
                    {
                        tracing::warn!(error = %err, "cannot store a generated RSA");
                    }
                }
                let error = failures.first().map(|first| match rsa_ids.len() {
                    1 => first.clone(),
                    all => format!(
                        "{} of {all} RSAs could not be generated: {first}",
                        failures.len()
                    ),
                });
                self.store
                    .finish_generation_task(task_id, error, GenerationUsage::default())
                    .await
            }
            JobWork::Extensions => {
                let messages = extensions_prompt(&job.brief);
                let (answer, usage) = self.ask(&job, &messages).await;
                let website = job.brief.website_url.as_deref();
                match answer.and_then(|content| extension_copy(&content, website)) {
                    Ok(items) => {
                        self.store
                            .finish_generated_extensions(task_id, job.draft_id, items, usage)
                            .await
                    }
                    Err(error) => {
                        self.store
                            .finish_generation_task(task_id, Some(error), usage)
                            .await
                    }
                }
            }
        };
        if let Err(err) = finished {
            tracing::warn!(error = %err, "cannot finish a generation task");
        }
    }

    /// One model call for the job's company, within its quota: the reply's text, or why there
    /// is none (in our words), and the tokens to charge.
    async fn ask(
        &self,
        job: &GenerationJob,
        messages: &[Value],
    ) -> (Result<String, String>, GenerationUsage) {
        let mut usage = GenerationUsage {
            company_id: job.company_id,
            ..Default::default()
        };
        let Some(model) = &self.model else {
            return (Err(NO_MODEL_TASK.into()), usage);
        };
        let limit = self.config.max_tokens_per_message;
        let reserving = self
            .in_flight
            .reserve(job.company_id, self.quota_reservation());
        let slot = match reserving.await {
            Ok(slot) => slot,
            Err(err) => return (Err(public_error(AssistantError::Store(err))), usage),
        };
        if let Err(refused) = self.within_quota(job.company_id, &slot).await {
            return (Err(public_error(refused)), usage);
        }
        match model.complete(messages, &[], None).await {
            Ok(completion) => {
                usage.prompt_tokens = completion.prompt_tokens.min(limit) as i64;
                usage.completion_tokens = completion.completion_tokens.min(limit) as i64;
                (Ok(completion.content), usage)
            }
            Err(err) => (Err(public_error(err)), usage),
        }
    }
}

/// What a task's `error` says: our words only; the server's, if any, go to the log.
fn public_error(err: AssistantError) -> String {
    match err {
        AssistantError::Provider { public, detail } => {
            tracing::warn!(error = %detail, "language model failed during generation");
            public
        }
        AssistantError::Store(err) => {
            tracing::warn!(error = %err, "generation could not read the store");
            "The server could not read what generation needs; generate again to retry".into()
        }
        other => other.to_string(),
    }
}

/// `text` cut to at most `bytes` (on a character boundary), marked when cut.
fn cut(text: &str, bytes: usize) -> String {
    if text.len() <= bytes {
        return text.to_string();
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [cut]", &text[..end])
}

/// The company, campaign and ad group as the model is shown them, each part cut to its cap
/// (drafts always save, so a name may be far longer than Google allows).
fn brief_text(brief: &GenerationBrief) -> String {
    let profile = cut(&brief.profile.to_string(), PROFILE_BYTES);
    let keywords: Vec<String> = brief
        .keywords
        .iter()
        .map(|keyword| cut(keyword, NAME_BYTES))
        .collect();
    let mut facts = json!({
        "company": {"name": cut(&brief.company_name, NAME_BYTES), "business_profile": profile},
        "campaign": {
            "draft_name": cut(&brief.draft_name, NAME_BYTES),
            "campaign_name": brief.campaign_name.as_deref().map(|name| cut(name, NAME_BYTES)),
            "website_url": brief.website_url.as_deref().map(|url| cut(url, NAME_BYTES)),
        },
    });
    if let Some(name) = &brief.ad_group_name {
        facts["ad_group"] = json!({"name": cut(name, NAME_BYTES), "keywords": keywords});
    }
    facts.to_string()
}

fn rsa_prompt(brief: &GenerationBrief, number: usize, of: usize) -> Vec<Value> {
    let system = format!(
        "You write responsive search ads for Google Ads Search campaigns. Answer with one JSON \
         object and nothing else: {{\"headlines\": [\"...\"], \"descriptions\": [\"...\"]}}. \
         Give {} to {} headlines of at most {HEADLINE_CHARS} characters and {} to {} \
         descriptions of at most {DESCRIPTION_CHARS} characters, as plain strings, in the \
         language of the business, true to the facts given. This is ad {number} of {of} for \
         this ad group: give it its own angle.",
        HEADLINES.start() + 5,
        HEADLINES.end(),
        DESCRIPTIONS.start(),
        DESCRIPTIONS.end(),
    );
    vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": brief_text(brief)}),
    ]
}

fn extensions_prompt(brief: &GenerationBrief) -> Vec<Value> {
    let system = format!(
        "You write ad extensions for a Google Ads Search campaign. Answer with one JSON object \
         and nothing else: {{\"sitelinks\": [{{\"link_text\", \"description_1\", \
         \"description_2\", \"final_url\"}}], \"callouts\": [\"...\"], \
         \"structured_snippets\": [{{\"header\", \"values\": [\"...\"]}}]}}. Give 4 to 8 \
         sitelinks (link text of at most {SITELINK_TEXT_CHARS} characters, descriptions of at \
         most {SITELINK_DESCRIPTION_CHARS}, final URLs on the campaign's website), 4 to 10 \
         callouts of at most {CALLOUT_CHARS} characters, and 1 to 3 structured snippets whose \
         header is one of {} with {} to {} values of at most {SNIPPET_VALUE_CHARS} characters.",
        SNIPPET_HEADERS.join(", "),
        SNIPPET_VALUES.start(),
        SNIPPET_VALUES.end(),
    );
    vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": brief_text(brief)}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brief_is_capped_whatever_the_draft_holds() {
        let brief = GenerationBrief {
            company_name: "Acme".into(),
            profile: json!({"about": "é".repeat(10_000)}),
            draft_name: "d".repeat(100_000),
            ad_group_name: Some("g".repeat(100_000)),
            keywords: vec!["k".repeat(100_000); 200],
            ..Default::default()
        };
        let text = brief_text(&brief);
        assert!(
            text.len() < PROFILE_BYTES + 202 * (NAME_BYTES + 16) + 1024,
            "{}",
            text.len()
        );
        assert!(serde_json::from_str::<Value>(&text).is_ok());
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("ééé", 3), "é [cut]");
    }
}
