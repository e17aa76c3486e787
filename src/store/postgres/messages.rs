//! Chat messages on PostgreSQL, and what an assistant reads before it answers. An exchange is
//! one transaction; the thread's row stays locked from the check that it is still there to the
//! commit, so a thread deleted meanwhile is a 404, never half an exchange.

use deadpool_postgres::GenericClient;
use serde_json::{Map, Value};

use super::access::{visible_company, visible_thread, Members};
use super::companies::company_by_id;
use super::statements::{execute, optional_row, row, rows, snapshot};
use super::PostgresDatabase;
use crate::schema::{
    AssistantChatMessage, BusinessProfile, CompanyId, JsonObject, Nullable, ThreadId, Timestamp,
};
use crate::store::parameters::month_start;
use crate::store::row_readers::{history_message_from_row, listed_message_from_row};
use crate::store::MessageStore;
use crate::store::{
    ChatContext, Exchange, HistoryMessage, NewMessage, StoreError, StoreResult, Viewer,
};

const LISTED: &str = "role IN ('user', 'assistant') AND tool_calls IS NULL";

async fn history(
    client: &impl GenericClient,
    seq: i64,
    window: u32,
) -> StoreResult<Vec<HistoryMessage>> {
    let mut messages = rows(
        client,
        "SELECT role, content, tool_calls, tool_call_id FROM chat_messages \
         WHERE thread_seq = $1 ORDER BY id DESC LIMIT $2",
        &[&seq, &i64::from(window)],
    )
    .await?
    .iter()
    .map(|row| Ok(history_message_from_row(row)?))
    .collect::<StoreResult<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

async fn replies_so_far(client: &impl GenericClient, seq: i64) -> StoreResult<u32> {
    let count: i64 = row(
        client,
        "SELECT count(*) FROM chat_messages WHERE thread_seq = $1 AND role = 'assistant' \
         AND tool_calls IS NULL",
        &[&seq],
    )
    .await?
    .try_get(0)?;
    Ok(count as u32)
}

async fn profile_of(
    client: &impl GenericClient,
    company_id: CompanyId,
    lock: &str,
) -> StoreResult<(Value, Option<String>)> {
    let found = optional_row(
        client,
        &format!("SELECT profile, date_updated FROM business_profiles WHERE company_id = $1{lock}"),
        &[&company_id.0],
    )
    .await?;
    let Some(found) = found else {
        return Ok((Value::Object(Map::new()), None));
    };
    let profile: String = found.try_get(0)?;
    Ok((
        serde_json::from_str(&profile).unwrap_or_else(|_| Value::Object(Map::new())),
        Some(found.try_get(1)?),
    ))
}

/// Sums of (prompt, completion) tokens of the company's replies and background generation
/// dated from `since` on.
async fn tokens_since(
    client: &impl GenericClient,
    company_id: CompanyId,
    since: &str,
) -> StoreResult<(i64, i64)> {
    let sums = row(
        client,
        "SELECT coalesce(sum(p), 0)::BIGINT, coalesce(sum(c), 0)::BIGINT FROM ( \
         SELECT m.prompt_tokens AS p, m.completion_tokens AS c \
         FROM chat_threads t JOIN chat_messages m ON m.thread_seq = t.seq \
         WHERE t.company_id = $1 AND m.role = 'assistant' AND m.date_added >= $2 \
         UNION ALL SELECT prompt_tokens, completion_tokens FROM generation_usage \
         WHERE company_id = $1 AND date_added >= $2) AS spent",
        &[&company_id.0, &since],
    )
    .await?;
    Ok((sums.try_get(0)?, sums.try_get(1)?))
}

async fn insert(client: &impl GenericClient, seq: i64, message: &NewMessage) -> StoreResult<()> {
    let actions = serde_json::to_string(&message.frontend_actions)?;
    execute(
        client,
        "INSERT INTO chat_messages (thread_seq, role, content, tool_calls, tool_call_id, \
         frontend_actions, prompt_tokens, completion_tokens, date_added, date_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        &[
            &seq,
            &message.role,
            &message.content,
            &message.tool_calls,
            &message.tool_call_id,
            &actions,
            &message.prompt_tokens,
            &message.completion_tokens,
            &message.date.0,
        ],
    )
    .await?;
    Ok(())
}

/// What `still_visible` appends to hold the thread's row until the transaction ends, so that
/// it cannot go before the commit.
pub(super) const HOLD_THREAD: &str = " FOR NO KEY UPDATE";

/// Refuses (404) a thread that, since its context was read, was deleted or hidden from the
/// viewer; `lock` is appended to the look for it (`HOLD_THREAD` or nothing).
pub(super) async fn still_visible(
    client: &impl GenericClient,
    viewer: Viewer,
    seq: i64,
    thread_id: &ThreadId,
    company_id: CompanyId,
    lock: &str,
) -> StoreResult<()> {
    let not_found = || StoreError::NotFound("Chat thread not found".into());
    optional_row(
        client,
        &format!("SELECT 1 FROM chat_threads WHERE seq = $1 AND thread_id = $2{lock}"),
        &[&seq, &thread_id.0],
    )
    .await?
    .ok_or_else(not_found)?;
    match visible_company(client, viewer, company_id, Members::Read).await {
        Err(StoreError::NotFound(_)) => Err(not_found()),
        checked => checked.map(drop),
    }
}

/// RFC 7396, as SQLite's json_patch() merges: null removes a key, an object merges into an
/// object, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(fields) = target else {
        unreachable!("made an object above")
    };
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(key);
        } else {
            merge_patch(fields.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Merges `patch` into the company's profile: the row is made if missing, then locked while
/// it is read and written, so that two exchanges patching at once both count.
async fn merge_profile(
    client: &impl GenericClient,
    company_id: CompanyId,
    patch: &Value,
) -> StoreResult<()> {
    let now = Timestamp::now();
    execute(
        client,
        "INSERT INTO business_profiles (company_id, profile, date_updated) \
         VALUES ($1, '{}', $2) ON CONFLICT (company_id) DO NOTHING",
        &[&company_id.0, &now.0],
    )
    .await?;
    let (mut profile, _) = profile_of(client, company_id, " FOR UPDATE").await?;
    merge_patch(&mut profile, patch);
    execute(
        client,
        "UPDATE business_profiles SET profile = $2, date_updated = $3 WHERE company_id = $1",
        &[&company_id.0, &profile.to_string(), &now.0],
    )
    .await?;
    Ok(())
}

impl MessageStore for PostgresDatabase {
    /// The thread's context for its assistant, if the viewer may see the thread (completed or
    /// not: whether to answer is the assistant's call). Read in one snapshot.
    async fn chat_context(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        history_window: u32,
    ) -> StoreResult<ChatContext> {
        let mut client = self.connection().await?;
        let tx = snapshot(&mut client).await?;
        let thread = visible_thread(&tx, viewer, &thread_id, None, "").await?;
        let (seq, company_id) = (thread.seq, thread.company_id);
        let instructions = async {
            let found = row(
                &tx,
                "SELECT a.instructions FROM chat_threads t \
                 JOIN assistants a ON a.id = t.assistant_id WHERE t.seq = $1",
                &[&seq],
            )
            .await?;
            Ok(found.try_get::<_, Option<String>>(0)?)
        };
        // Sent together, answered in one round trip's time: tokio-postgres pipelines the
        // queries of one connection.
        let (instructions, company, (business_profile, _), history, replies_so_far) = tokio::try_join!(
            instructions,
            company_by_id(&tx, company_id),
            profile_of(&tx, company_id, ""),
            history(&tx, seq, history_window),
            replies_so_far(&tx, seq),
        )?;
        let context = ChatContext {
            seq,
            company_id,
            company_name: company.name,
            instructions,
            business_profile,
            history,
            replies_so_far,
            thread: thread.thread,
        };
        tx.commit().await?;
        Ok(context)
    }

    /// Stores an exchange in the thread its context was read from, and what its tools changed;
    /// answers the listed messages it created.
    async fn record_exchange(
        &self,
        viewer: Viewer,
        context: &ChatContext,
        exchange: Exchange,
    ) -> StoreResult<Vec<AssistantChatMessage>> {
        let (seq, company_id) = (context.seq, context.company_id);
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        still_visible(
            &tx,
            viewer,
            seq,
            &context.thread.thread_id,
            company_id,
            HOLD_THREAD,
        )
        .await?;
        for message in std::iter::once(&exchange.user)
            .chain(&exchange.steps)
            .chain(std::iter::once(&exchange.reply))
        {
            insert(&tx, seq, message).await?;
        }
        if let Some(patch) = &exchange.profile_patch {
            merge_profile(&tx, company_id, patch).await?;
        }
        execute(
            &tx,
            "UPDATE chat_threads SET is_completed = is_completed OR $2, date_updated = $3 \
             WHERE seq = $1",
            &[&seq, &exchange.complete_thread, &Timestamp::now().0],
        )
        .await?;
        tx.commit().await?;
        Ok(vec![exchange.user.listed(), exchange.reply.listed()])
    }

    /// User messages and replies, oldest first: `offset` newest ones skipped, then the last
    /// `last_n` of the rest (all when None).
    async fn list_messages(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        last_n: Option<u32>,
        offset: Option<u32>,
    ) -> StoreResult<Vec<AssistantChatMessage>> {
        let client = self.connection().await?;
        let seq = visible_thread(&client, viewer, &thread_id, None, "")
            .await?
            .seq;
        let mut messages = rows(
            &client,
            &format!(
                "SELECT role, content, frontend_actions, date_added, date_updated \
                 FROM chat_messages WHERE thread_seq = $1 AND {LISTED} \
                 ORDER BY id DESC LIMIT $2 OFFSET $3"
            ),
            &[
                &seq,
                &last_n.map(i64::from),
                &i64::from(offset.unwrap_or(0)),
            ],
        )
        .await?
        .iter()
        .map(|row| Ok(listed_message_from_row(row)?))
        .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn business_profile(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<BusinessProfile> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let (profile, date) = profile_of(&client, company_id, "").await?;
        Ok(BusinessProfile {
            company_id,
            profile: JsonObject::from_value(&profile),
            date_updated: Nullable(date.map(Timestamp)),
        })
    }

    /// Tokens a company has used this calendar month, for its quota (the company comes from a
    /// thread the caller could see).
    async fn month_tokens(&self, company_id: CompanyId) -> StoreResult<i64> {
        let client = self.connection().await?;
        let (prompt, completion) = tokens_since(&client, company_id, &month_start()).await?;
        Ok(prompt + completion)
    }

    /// (all-time prompt, all-time completion, this month's total) tokens of a company.
    async fn company_tokens(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<(i64, i64, i64)> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let (prompt, completion) = tokens_since(&client, company_id, "").await?;
        let (month_prompt, month_completion) =
            tokens_since(&client, company_id, &month_start()).await?;
        Ok((prompt, completion, month_prompt + month_completion))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_patch;

    #[test]
    fn a_patch_merges_as_rfc_7396_says() {
        let mut profile = json!({"a": "b", "c": {"d": "e", "f": "g"}, "keep": 1});
        merge_patch(
            &mut profile,
            &json!({"a": "z", "c": {"f": null}, "new": [1]}),
        );
        assert_eq!(
            profile,
            json!({"a": "z", "c": {"d": "e"}, "keep": 1, "new": [1]})
        );
        merge_patch(&mut profile, &json!({"keep": {"x": null, "y": 2}}));
        assert_eq!(profile["keep"], json!({"y": 2}));
        merge_patch(&mut profile, &json!([1, 2]));
        assert_eq!(profile, json!([1, 2]));
    }
}
