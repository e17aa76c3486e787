//! Messages, exchanges and what an assistant reads, on both stores.

use crate::store::{MessageStore, ThreadStore};
use serde_json::{json, Value};

use super::threads::{create, named, scope, two_companies, A, ACME, B};
use super::{at_once, same, shown_as_serialized, Ids, Pair, Shown};
use crate::schema::{AssistantType, ThreadId};
use crate::store::{ChatContext, Exchange, NewMessage};

impl Shown for ChatContext {
    fn shown(&self) -> Value {
        json!({
            "seq": self.seq,
            "thread": self.thread.shown(),
            "company_id": self.company_id,
            "company_name": self.company_name,
            "instructions": self.instructions,
            "business_profile": self.business_profile,
            "history": self.history.iter().map(|message| json!([
                message.role, message.content, message.tool_calls, message.tool_call_id
            ])).collect::<Vec<_>>(),
            "replies_so_far": self.replies_so_far,
        })
    }
}

shown_as_serialized!(
    crate::schema::AssistantChatMessage,
    crate::schema::BusinessProfile,
    (i64, i64, i64)
);

/// A question, one tool call and its result, and a reply that spent tokens.
fn exchange(n: u32, profile_patch: Option<Value>, complete_thread: bool) -> Exchange {
    let call = NewMessage {
        tool_calls: Some(format!(r#"[{{"id":"call_{n}","name":"lookup"}}]"#)),
        ..NewMessage::new("assistant", String::new())
    };
    let result = NewMessage {
        tool_call_id: Some(format!("call_{n}")),
        ..NewMessage::new("tool", format!("result {n}"))
    };
    Exchange {
        user: NewMessage::new("user", format!("question {n}")),
        steps: vec![call, result],
        reply: NewMessage {
            prompt_tokens: 100 + i64::from(n),
            completion_tokens: 10,
            ..NewMessage::new("assistant", format!("answer {n}"))
        },
        profile_patch,
        complete_thread,
    }
}

/// Each store's context of its thread `n`, after checking that both read the same.
pub(super) async fn contexts(pair: &Pair, ids: &Ids<ThreadId>, n: usize) -> Ids<ChatContext> {
    let read = |id: &Vec<ThreadId>| id[n].clone();
    let sqlite = pair.sqlite.chat_context(A, read(&ids.sqlite), 3).await;
    let postgres = pair.postgres.chat_context(A, read(&ids.postgres), 3).await;
    assert_eq!(super::outcome(&sqlite), super::outcome(&postgres));
    Ids {
        sqlite: vec![sqlite.unwrap()],
        postgres: vec![postgres.unwrap()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let mut ids = Ids::default();
    for name in ["first", "second"] {
        let new = named(AssistantType::Onboarding, name);
        create(&pair, &mut ids, A, scope(Some(42), None), new).await;
    }
    let context = contexts(&pair, &ids, 0).await;
    same!(pair, |store| store.business_profile(A, ACME).await);
    let patches = [
        Some(json!({"industry": "bakery", "hours": {"mon": "9-5", "tue": "9-5"}})),
        None,
        Some(json!({"hours": {"tue": null}, "staff": 4})),
    ];
    for (n, patch) in patches.into_iter().enumerate() {
        let n = n as u32;
        same!(pair, context, |store, context| {
            store
                .record_exchange(A, &context[0], exchange(n, patch.clone(), n == 2))
                .await
        });
    }
    for (last_n, offset) in [
        (None, None),
        (Some(1), None),
        (Some(2), Some(1)),
        (None, Some(5)),
    ] {
        same!(pair, ids, |store, id| {
            store.list_messages(A, id[0].clone(), last_n, offset).await
        });
    }
    // The history window starts inside the last exchange; completed by the third.
    contexts(&pair, &ids, 0).await;
    contexts(&pair, &ids, 1).await;
    same!(pair, ids, |store, id| store
        .thread(A, id[0].clone(), None)
        .await);
    same!(pair, |store| store.business_profile(A, ACME).await);
    same!(pair, |store| store.month_tokens(ACME).await);
    same!(pair, |store| store.company_tokens(A, ACME).await);

    // Others see nothing, write nothing.
    same!(pair, ids, |store, id| store
        .chat_context(B, id[0].clone(), 3)
        .await);
    same!(pair, ids, |store, id| store
        .list_messages(B, id[0].clone(), None, None)
        .await);
    same!(pair, |store| store.business_profile(B, ACME).await);
    same!(pair, |store| store.company_tokens(B, ACME).await);
    same!(pair, context, |store, context| {
        store
            .record_exchange(B, &context[0], exchange(9, None, false))
            .await
    });
    // A thread deleted while its assistant was thinking keeps no exchange.
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[0].clone(), None)
        .await);
    same!(pair, context, |store, context| {
        store
            .record_exchange(A, &context[0], exchange(9, None, false))
            .await
    });
    same!(pair, |store| store.company_tokens(A, ACME).await);
}

/// Exchanges in two threads of one company, recorded at once by several processes, each
/// patching its own key of the business profile: no patch is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_patches_recorded_at_once_are_all_kept() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let mut threads = Vec::new();
    for name in ["one", "two"] {
        let new = named(AssistantType::Onboarding, name);
        let thread = pair
            .postgres
            .create_thread(A, scope(None, None), new)
            .await
            .unwrap();
        threads.push(thread.thread_id);
    }
    let threads = std::sync::Arc::new(threads);
    at_once(&pair, 6, |process, n| {
        let threads = threads.clone();
        async move {
            let thread = threads[n % 2].clone();
            for k in 0..5 {
                let context = process.chat_context(A, thread.clone(), 10).await.unwrap();
                let patch = json!({ format!("p{n}k{k}"): true, "last": n });
                process
                    .record_exchange(A, &context, exchange(k, Some(patch), false))
                    .await
                    .unwrap();
            }
        }
    })
    .await;
    let profile = pair.postgres.business_profile(A, ACME).await.unwrap();
    let profile: Value = serde_json::from_str(profile.profile.as_str()).unwrap();
    let keys = profile
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| *key != "last");
    assert_eq!(keys.count(), 30, "{profile}");
    let (prompt, completion, _) = pair.postgres.company_tokens(A, ACME).await.unwrap();
    assert_eq!((prompt, completion), (6 * (5 * 100 + 10), 6 * 5 * 10));
}
