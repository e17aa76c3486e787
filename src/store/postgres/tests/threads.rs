//! Chat threads on both stores: access, the same pages through the cursor, changes.

use crate::store::{CompanyStore, ThreadStore, UserStore};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::TryStreamExt;

use super::users::new_user;
use super::{at_once, same, Ids, Pair};
use crate::schema::{
    AssistantChatThreadCreate, AssistantChatThreadUpdate, AssistantType, CompanyId, JsonObject,
    Nullable, Patch, ThreadId, UserId,
};
use crate::store::{StoreError, StoreResult, ThreadFilter, ThreadPage, ThreadScope, Viewer};

pub(super) const ACME: CompanyId = CompanyId(1);
const GLOBEX: CompanyId = CompanyId(2);
pub(super) const A: Viewer = Viewer {
    user_id: UserId(1),
    is_admin: false,
};
pub(super) const B: Viewer = Viewer {
    user_id: UserId(2),
    is_admin: false,
};
const ADMIN: Viewer = Viewer {
    user_id: UserId(99),
    is_admin: true,
};

/// Users A and B, A's company Acme with customer 42 and location `locations/1`, B's Globex.
pub(super) async fn two_companies(pair: &Pair) {
    for email in ["a@example.com", "b@example.com"] {
        same!(pair, |store| store.create_user(new_user(email)).await);
    }
    same!(pair, |store| store.create_company(A, "Acme".into()).await);
    same!(pair, |store| store.create_company(B, "Globex".into()).await);
    const CONNECTIONS: &str =
        "INSERT INTO google_ads_customers (company_id, id, descriptive_name, date_added, \
           date_updated) VALUES (1, 42, 'Acme Ads', '2026-12-01T00:00:00.000000Z', \
           '2026-12-01T00:00:00.000000Z'); \
         INSERT INTO google_business_locations (company_id, id, title, storefront_address, \
           date_added, date_updated) VALUES (1, 'locations/1', 'Main street', \
           '{\"address_lines\": [\"1 Main St\"], \"locality\": \"Springfield\"}', \
           '2026-12-01T00:00:00.000000Z', '2026-12-01T00:00:00.000000Z');";
    pair.on_both(CONNECTIONS).await;
}

pub(super) fn scope(customer_id: Option<i64>, location_id: Option<&str>) -> ThreadScope {
    ThreadScope {
        company_id: ACME,
        customer_id,
        location_id: location_id.map(String::from),
        login_customer_id: customer_id.map(|id| id + 1),
    }
}

pub(super) fn named(kind: AssistantType, name: &str) -> AssistantChatThreadCreate {
    AssistantChatThreadCreate {
        assistant_type: kind,
        name: Nullable(Some(name.into())),
        description: Nullable(None),
        extra_data: None,
    }
}

/// Creates the thread on both stores, compares the answers and keeps each store's id.
pub(super) async fn create(
    pair: &Pair,
    ids: &mut Ids<ThreadId>,
    viewer: Viewer,
    scope: ThreadScope,
    new: AssistantChatThreadCreate,
) {
    let made = same!(pair, |store| {
        store
            .create_thread(viewer, scope.clone(), new.clone())
            .await
    })
    .0;
    if let Ok(made) = made {
        let sqlite = pair.sqlite.list_threads(ADMIN, newest(1)).await.unwrap();
        ids.sqlite.extend(thread_ids(&sqlite));
        ids.postgres.push(made.thread_id);
    }
}

/// The ids of the threads of a page, in its order.
fn thread_ids(page: &ThreadPage) -> Vec<ThreadId> {
    let threads: Vec<serde_json::Value> = serde_json::from_slice(&page.json).unwrap();
    threads
        .iter()
        .map(|thread| ThreadId(thread["thread_id"].as_str().unwrap().into()))
        .collect()
}

/// Acme's newest `limit` threads.
fn newest(limit: u32) -> ThreadFilter {
    ThreadFilter {
        company_id: ACME,
        limit,
        ..ThreadFilter::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let mut ids = Ids::default();
    let with_data = AssistantChatThreadCreate {
        description: Nullable(Some("scoped".into())),
        extra_data: Some(JsonObject::from_stored(r#"{"k": [1, "two"]}"#.into())),
        ..named(AssistantType::Onboarding, "t0")
    };
    create(
        &pair,
        &mut ids,
        A,
        scope(Some(42), Some("locations/1")),
        with_data,
    )
    .await;
    for n in 1..=6 {
        let kind = if n % 2 == 0 {
            AssistantType::General
        } else {
            AssistantType::MarketAnalysis
        };
        create(
            &pair,
            &mut ids,
            A,
            scope(None, None),
            named(kind, &format!("t{n}")),
        )
        .await;
    }
    // An unregistered customer or location, and a company of others, are refused.
    let general = || named(AssistantType::General, "x");
    create(&pair, &mut ids, A, scope(Some(7), None), general()).await;
    create(
        &pair,
        &mut ids,
        A,
        scope(None, Some("locations/9")),
        general(),
    )
    .await;
    create(&pair, &mut ids, B, scope(None, None), general()).await;
    assert_eq!(ids.postgres.len(), 7);

    same!(pair, ids, |store, id| store
        .thread(A, id[0].clone(), None)
        .await);
    same!(pair, ids, |store, id| store
        .thread(A, id[0].clone(), Some(ACME))
        .await);
    same!(pair, ids, |store, id| store
        .thread(ADMIN, id[0].clone(), None)
        .await);
    let hidden = same!(pair, ids, |store, id| store
        .thread(B, id[0].clone(), None)
        .await)
    .0;
    assert!(matches!(hidden, Err(StoreError::NotFound(_))), "{hidden:?}");
    same!(pair, ids, |store, id| store
        .thread(A, id[0].clone(), Some(GLOBEX))
        .await);
    same!(pair, |store| store
        .thread(A, ThreadId("thr_nothing".into()), None)
        .await);

    // Pages of three through the cursor, then filtered lists.
    let mut filter = newest(3);
    loop {
        let page = same!(pair, |store| store.list_threads(A, filter.clone()).await).0;
        let Some(next) = page.unwrap().next_before_seq else {
            break;
        };
        filter.before_seq = Some(next);
    }
    let filters = [
        ThreadFilter {
            assistant_type: Some(AssistantType::MarketAnalysis),
            ..newest(2)
        },
        ThreadFilter {
            customer_id: Some(42),
            ..newest(50)
        },
        ThreadFilter {
            location_id: Some("locations/1".into()),
            ..newest(50)
        },
        ThreadFilter {
            customer_id: Some(7),
            ..newest(50)
        },
        ThreadFilter {
            before_seq: Some(1000),
            ..newest(50)
        },
    ];
    for filter in filters {
        same!(pair, |store| store.list_threads(A, filter.clone()).await);
        same!(pair, |store| store
            .list_threads(ADMIN, filter.clone())
            .await);
    }
    same!(pair, |store| store.list_threads(B, newest(50)).await);
    same!(pair, |store| {
        store
            .list_threads(
                A,
                ThreadFilter {
                    company_id: CompanyId(77),
                    ..newest(5)
                },
            )
            .await
    });

    // Changes: every field, then clearing; another company's viewer changes nothing.
    let change = || AssistantChatThreadUpdate {
        name: Patch::Set("renamed".into()),
        description: Patch::Set("described".into()),
        is_completed: Some(true),
        extra_data: Some(JsonObject::from_stored(r#"{"done": true}"#.into())),
    };
    same!(pair, ids, |store, id| store
        .update_thread(A, id[2].clone(), None, change())
        .await);
    let clear = || AssistantChatThreadUpdate {
        description: Patch::Clear,
        ..AssistantChatThreadUpdate::default()
    };
    same!(pair, ids, |store, id| store
        .update_thread(A, id[2].clone(), Some(ACME), clear())
        .await);
    same!(pair, ids, |store, id| store
        .update_thread(B, id[2].clone(), None, change())
        .await);
    same!(pair, ids, |store, id| store
        .update_thread(A, id[2].clone(), Some(GLOBEX), clear())
        .await);
    let done = ThreadFilter {
        is_completed: Some(true),
        ..newest(50)
    };
    same!(pair, |store| store.list_threads(A, done.clone()).await);
    same!(pair, |store| store
        .list_threads(
            A,
            ThreadFilter {
                is_completed: Some(false),
                ..done.clone()
            }
        )
        .await);

    same!(pair, ids, |store, id| store
        .delete_thread(B, id[3].clone(), None)
        .await);
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[3].clone(), Some(GLOBEX))
        .await);
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[3].clone(), None)
        .await);
    same!(pair, ids, |store, id| store
        .delete_thread(A, id[3].clone(), None)
        .await);
    same!(pair, ids, |store, id| store
        .thread(A, id[3].clone(), None)
        .await);
    same!(pair, |store| store.list_threads(A, newest(50)).await);

    // A whole list, in pieces.
    same!(pair, |store| whole(store.every_thread(A, newest(0)).await)
        .await);
}

/// The pieces of a streamed list, put together.
async fn whole(pieces: StoreResult<BoxStream<'static, StoreResult<Bytes>>>) -> StoreResult<Bytes> {
    let pieces: Vec<Bytes> = pieces?.try_collect().await?;
    Ok(pieces.concat().into())
}

/// Processes creating threads at once: every one is in the list once, pages through the
/// cursor included, and each process sees the others' at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_created_by_processes_at_once_are_listed_once() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let created = at_once(&pair, 4, |process, n| async move {
        let mut made = Vec::new();
        for k in 0..10 {
            let new = named(AssistantType::General, &format!("p{n} t{k}"));
            made.push(
                process
                    .create_thread(A, scope(None, None), new)
                    .await
                    .unwrap()
                    .thread_id,
            );
        }
        made
    })
    .await;
    let mut created: Vec<ThreadId> = created.into_iter().flatten().collect();
    let mut listed = Vec::new();
    let mut filter = newest(7);
    loop {
        let page = pair.postgres.list_threads(A, filter.clone()).await.unwrap();
        listed.extend(thread_ids(&page));
        match page.next_before_seq {
            Some(next) => filter.before_seq = Some(next),
            None => break,
        }
    }
    assert_eq!(listed.len(), 40);
    created.sort_by(|a, b| a.0.cmp(&b.0));
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(listed, created);
}
