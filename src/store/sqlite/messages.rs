//! Chat messages, and what an assistant reads before it answers. An exchange (the user's
//! message, the tool calls and results, the reply, and what the tools changed) is written in
//! one request, so a failed answer leaves no trace.

use rusqlite::{params, Connection};
use serde_json::Value;

use super::access::{visible_company, visible_thread};
use super::companies::company_by_id;
use super::threads::record_chat_effects;
use super::{OptionalRow, SqliteStore, StoreError, StoreResult};
use crate::schema::{
    AssistantChatMessage, BusinessProfile, CompanyId, JsonObject, Nullable, ThreadId, Timestamp,
};
use crate::store::parameters::month_start;
use crate::store::row_readers::{history_message_from_row, listed_message_from_row, ThreadRow};
use crate::store::{ChatContext, Exchange, HistoryMessage, MessageStore, NewMessage, Viewer};

const LISTED: &str = "role IN ('user', 'assistant') AND tool_calls IS NULL";

fn history(conn: &Connection, seq: i64, window: u32) -> StoreResult<Vec<HistoryMessage>> {
    let mut statement = conn.prepare_cached(
        "SELECT role, content, tool_calls, tool_call_id FROM chat_messages \
         WHERE thread_seq = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![seq, window], |row| history_message_from_row(row))?;
    let mut messages = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

fn replies_so_far(conn: &Connection, seq: i64) -> StoreResult<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM chat_messages WHERE thread_seq = ?1 AND role = 'assistant' \
             AND tool_calls IS NULL",
        )?
        .query_row([seq], |row| row.get(0))?)
}

fn profile_of(conn: &Connection, company_id: CompanyId) -> StoreResult<(Value, Option<String>)> {
    let found = conn
        .prepare_cached(
            "SELECT profile, date_updated FROM business_profiles WHERE company_id = ?1",
        )?
        .query_row([company_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        });
    match found {
        Ok((profile, date)) => Ok((
            serde_json::from_str(&profile).unwrap_or_else(|_| Value::Object(Default::default())),
            Some(date),
        )),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok((Value::Object(Default::default()), None)),
        Err(err) => Err(err.into()),
    }
}

/// Sums of (prompt, completion) tokens of the company's replies and background generation
/// dated from `since` on.
fn tokens_since(conn: &Connection, company_id: CompanyId, since: &str) -> StoreResult<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(p), 0), coalesce(sum(c), 0) FROM ( \
             SELECT m.prompt_tokens AS p, m.completion_tokens AS c \
             FROM chat_threads t JOIN chat_messages m ON m.thread_seq = t.seq \
             WHERE t.company_id = ?1 AND m.role = 'assistant' AND m.date_added >= ?2 \
             UNION ALL SELECT prompt_tokens, completion_tokens FROM generation_usage \
             WHERE company_id = ?1 AND date_added >= ?2)",
        )?
        .query_row(params![company_id, since], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?)
}

fn insert(conn: &Connection, seq: i64, message: &NewMessage) -> StoreResult<()> {
    let actions = serde_json::to_string(&message.frontend_actions).expect("actions serialize");
    conn.prepare_cached(
        "INSERT INTO chat_messages (thread_seq, role, content, tool_calls, tool_call_id, \
         frontend_actions, prompt_tokens, completion_tokens, date_added, date_updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        seq,
        message.role,
        message.content,
        message.tool_calls,
        message.tool_call_id,
        actions,
        message.prompt_tokens,
        message.completion_tokens,
        message.date.0
    ])?;
    Ok(())
}

/// Refuses (404) a thread that, since its context was read, was deleted (its `seq` perhaps
/// given to a new thread) or hidden from the viewer (removed from its company): the model took
/// its time in between.
pub(super) fn still_visible(
    conn: &Connection,
    viewer: Viewer,
    seq: i64,
    thread_id: &ThreadId,
    company_id: CompanyId,
) -> StoreResult<()> {
    let not_found = || "Chat thread not found".to_string();
    conn.prepare_cached("SELECT 1 FROM chat_threads WHERE seq = ?1 AND thread_id = ?2")?
        .query_row(params![seq, thread_id], |_| Ok(()))
        .or_not_found(not_found)?;
    match visible_company(conn, viewer, company_id) {
        Err(StoreError::NotFound(_)) => Err(StoreError::NotFound(not_found())),
        checked => checked.map(drop),
    }
}

fn merge_profile(conn: &Connection, company_id: CompanyId, patch: &Value) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO business_profiles (company_id, profile, date_updated) \
         VALUES (?1, json_patch('{}', ?2), ?3) \
         ON CONFLICT (company_id) DO UPDATE \
         SET profile = json_patch(profile, ?2), date_updated = ?3",
    )?
    .execute(params![company_id, patch.to_string(), Timestamp::now().0])?;
    Ok(())
}

impl MessageStore for SqliteStore {
    async fn chat_context(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        history_window: u32,
    ) -> StoreResult<ChatContext> {
        self.read(move |conn| {
            let ThreadRow {
                seq,
                company_id,
                thread,
            } = visible_thread(conn, viewer, &thread_id, None)?;
            let instructions: Option<String> = conn
                .prepare_cached(
                    "SELECT a.instructions FROM chat_threads t \
                     JOIN assistants a ON a.id = t.assistant_id WHERE t.seq = ?1",
                )?
                .query_row([seq], |row| row.get(0))?;
            Ok(ChatContext {
                seq,
                company_id,
                company_name: company_by_id(conn, company_id)?.name,
                instructions,
                business_profile: profile_of(conn, company_id)?.0,
                history: history(conn, seq, history_window)?,
                replies_so_far: replies_so_far(conn, seq)?,
                thread,
            })
        })
        .await
    }

    async fn record_exchange(
        &self,
        viewer: Viewer,
        context: &ChatContext,
        exchange: Exchange,
    ) -> StoreResult<Vec<AssistantChatMessage>> {
        let (seq, company_id) = (context.seq, context.company_id);
        let thread_id = context.thread.thread_id.clone();
        self.write(move |conn| {
            still_visible(conn, viewer, seq, &thread_id, company_id)?;
            for message in std::iter::once(&exchange.user)
                .chain(&exchange.steps)
                .chain(std::iter::once(&exchange.reply))
            {
                insert(conn, seq, message)?;
            }
            if let Some(patch) = &exchange.profile_patch {
                merge_profile(conn, company_id, patch)?;
            }
            record_chat_effects(conn, company_id, seq, exchange.complete_thread)?;
            Ok(vec![exchange.user.listed(), exchange.reply.listed()])
        })
        .await
    }

    async fn list_messages(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        last_n: Option<u32>,
        offset: Option<u32>,
    ) -> StoreResult<Vec<AssistantChatMessage>> {
        self.read(move |conn| {
            let seq = visible_thread(conn, viewer, &thread_id, None)?.seq;
            let mut statement = conn.prepare_cached(&format!(
                "SELECT role, content, frontend_actions, date_added, date_updated \
                 FROM chat_messages WHERE thread_seq = ?1 AND {LISTED} \
                 ORDER BY id DESC LIMIT ?2 OFFSET ?3"
            ))?;
            let limit = last_n.map_or(-1, i64::from);
            let rows = statement.query_map(params![seq, limit, offset.unwrap_or(0)], |row| {
                listed_message_from_row(row)
            })?;
            let mut messages = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn business_profile(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<BusinessProfile> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            let (profile, date) = profile_of(conn, company_id)?;
            Ok(BusinessProfile {
                company_id,
                profile: JsonObject::from_value(&profile),
                date_updated: Nullable(date.map(Timestamp)),
            })
        })
        .await
    }

    async fn month_tokens(&self, company_id: CompanyId) -> StoreResult<i64> {
        self.read(move |conn| {
            let (prompt, completion) = tokens_since(conn, company_id, &month_start())?;
            Ok(prompt + completion)
        })
        .await
    }

    async fn company_tokens(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<(i64, i64, i64)> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            let (prompt, completion) = tokens_since(conn, company_id, "")?;
            let (month_prompt, month_completion) = tokens_since(conn, company_id, &month_start())?;
            Ok((prompt, completion, month_prompt + month_completion))
        })
        .await
    }
}
