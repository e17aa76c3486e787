//! A thread's campaign draft, made by the assistant's turn, on both stores.

use super::messages::contexts;
use super::threads::{create, named, scope, two_companies, A, B};
use super::{at_once, same, Ids, Pair};
use crate::schema::{AssistantType, DraftId};
use crate::store::NewThreadDraft;

fn draft(name: &str) -> NewThreadDraft {
    NewThreadDraft {
        name: name.into(),
        market_analysis_id: Some(5),
    }
}

/// Acme's threads: 0 with Google Ads customer 42, 1 without.
async fn two_threads(pair: &Pair) -> Ids<crate::schema::ThreadId> {
    two_companies(pair).await;
    let mut ids = Ids::default();
    for customer in [Some(42), None] {
        let new = named(AssistantType::CampaignCreation, "campaign");
        create(pair, &mut ids, A, scope(customer, None), new).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_makes_one_draft_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let ids = two_threads(&pair).await;
    let with_customer = contexts(&pair, &ids, 0).await;
    let without = contexts(&pair, &ids, 1).await;
    let made = same!(pair, with_customer, |store, context| {
        store.turn_draft_id(A, &context[0], draft("first")).await
    })
    .0;
    assert_eq!(made.unwrap(), DraftId(1));
    // The thread has its draft now: the same one, whatever `new` says.
    same!(pair, with_customer, |store, context| {
        store.turn_draft_id(A, &context[0], draft("second")).await
    });
    same!(pair, without, |store, context| {
        store.turn_draft_id(A, &context[0], draft("none")).await
    });
    same!(pair, with_customer, |store, context| {
        store.turn_draft_id(B, &context[0], draft("hidden")).await
    });
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[0].clone(), None)
        .await);
    same!(pair, with_customer, |store, context| {
        store.turn_draft_id(A, &context[0], draft("gone")).await
    });
}

/// Turns of several processes in one thread at once: one draft, every turn answered its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_at_once_make_one_draft() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let ids = two_threads(&pair).await;
    let context = std::sync::Arc::new(contexts(&pair, &ids, 0).await.postgres.remove(0));
    let answers = at_once(&pair, 6, |process, n| {
        let context = context.clone();
        async move {
            process
                .turn_draft_id(A, &context, draft(&format!("turn {n}")))
                .await
                .unwrap()
        }
    })
    .await;
    assert!(answers.iter().all(|id| *id == answers[0]), "{answers:?}");
    let drafts: i64 = pair
        .postgres
        .connection()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM campaign_drafts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(drafts, 1);
}
