//! A thread's campaign draft, made by the assistant's turn, on both stores.

use super::messages::contexts;
use super::threads::{create, named, scope, two_companies, A, B};
use super::{at_once, same, Ids, Pair};
use crate::schema::{AssistantType, DraftId};
use crate::store::NewThreadDraft;
use crate::store::{ThreadDraftStore, ThreadStore};

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
    same!(pair, without, |store, context| store
        .turn_draft(A, &context[0])
        .await);
    same!(pair, ids, |store, id| store
        .thread_draft(A, id[1].clone())
        .await);

    // The draft read whole: its settings, ad groups in their order with keywords and RSAs,
    // extension items and its newest tasks.
    fill_draft(&pair).await;
    let whole = same!(pair, ids, |store, id| store
        .thread_draft(A, id[0].clone())
        .await)
    .0;
    let whole = whole.unwrap();
    assert_eq!(whole.ad_groups.len(), 2);
    assert_eq!(whole.ad_groups[0].name, "Bread");
    assert_eq!(whole.extensions.sitelinks.len(), 2);
    same!(pair, with_customer, |store, context| store
        .turn_draft(A, &context[0])
        .await);
    same!(pair, ids, |store, id| store
        .thread_draft(B, id[0].clone())
        .await);
    same!(pair, with_customer, |store, context| store
        .turn_draft(B, &context[0])
        .await);
    same!(pair, with_customer, |store, context| {
        store.turn_draft_id(B, &context[0], draft("hidden")).await
    });
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[0].clone(), None)
        .await);
    same!(pair, with_customer, |store, context| {
        store.turn_draft_id(A, &context[0], draft("gone")).await
    });
    same!(pair, with_customer, |store, context| store
        .turn_draft(A, &context[0])
        .await);
}

/// Draft 1's settings, two ad groups (given out of order), keywords, RSAs, extension items and
/// generation tasks, the same on both stores.
async fn fill_draft(pair: &Pair) {
    const DRAFT: &str = "\
        UPDATE campaign_drafts SET campaign_name = 'Bakery search', daily_budget_micros = 5000000, \
          language_ids = '[1000, 1003]', start_date = '2027-01-04', \
          phone = '{\"country_code\": \"US\", \"phone_number\": \"+15550100\"}' WHERE id = 1; \
        INSERT INTO draft_ad_groups (id, draft_id, position, name, cpc_bid_micros) VALUES \
          (1, 1, 2, 'Cakes', NULL), (2, 1, 1, 'Bread', 700000); \
        INSERT INTO draft_keywords (ad_group_id, position, text, match_type, final_url) VALUES \
          (2, 2, 'rye bread', 'PHRASE', NULL), (2, 1, 'sourdough', 'EXACT', 'https://x.test/'), \
          (1, 1, 'birthday cake', 'BROAD', NULL); \
        INSERT INTO generation_tasks (id, draft_id, kind, ad_group_id, status, error, date_added, \
          date_updated) VALUES \
          ('task_a', 1, 'ad_groups', NULL, 'failed', 'quota', '2027-01-01T00:00:00.000001Z', 'x'), \
          ('task_b', 1, 'ad_groups', NULL, 'completed', NULL, '2027-01-01T00:00:00.000002Z', 'x'), \
          ('task_r', 1, 'rsas', 2, 'in_progress', NULL, '2027-01-01T00:00:00.000003Z', 'x'); \
        INSERT INTO draft_rsas (ad_group_id, position, headlines, descriptions, path1, status, \
          task_id) VALUES \
          (2, 1, '[{\"text\": \"Fresh bread\", \"pinned_position\": 1}]', \
           '[{\"text\": \"Baked daily\"}]', 'bread', 'completed', NULL), \
          (2, 2, '[]', '[]', NULL, 'in_progress', 'task_r'); \
        INSERT INTO draft_extension_items (draft_id, kind, position, data) VALUES \
          (1, 'sitelink', 2, '{\"link_text\": \"Hours\"}'), \
          (1, 'sitelink', 1, '{\"link_text\": \"Menu\", \"final_url\": \"https://x.test/m\"}'), \
          (1, 'callout', 1, '{\"callout_text\": \"Open Sundays\"}');";
    pair.on_both(DRAFT).await;
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
