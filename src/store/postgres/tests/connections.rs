//! A company's Google Ads customers and Business Profile locations on both stores.

use crate::store::{ConnectionStore, ThreadDraftStore, ThreadStore};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::messages::contexts;
use super::threads::{create, named, scope, two_companies, A, ACME, B};
use super::{at_once, same, Ids, Pair};
use crate::schema::{
    AssistantType, CompanyId, GoogleAdsCustomerCreate, GoogleAdsCustomerUpdate,
    GoogleBusinessLocation, GoogleBusinessLocationUpdate,
};
use crate::store::{NewThreadDraft, StoreError};

const GLOBEX: CompanyId = CompanyId(2);

/// A request body, read as the API reads it.
fn body<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn new_customer(id: i64, name: &str) -> GoogleAdsCustomerCreate {
    body(json!({ "id": id, "descriptive_name": name, "currency_code": "EUR" }))
}

fn new_location(id: &str) -> GoogleBusinessLocation {
    body(json!({
        "id": id,
        "title": format!("Shop {id}"),
        "maps_uri": "https://maps.example.com/shop",
        "storefront_address": { "address_lines": ["2 High St"], "locality": "Shelbyville" }
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    // Acme has customer 42 and `locations/1`; Globex is B's.
    two_companies(&pair).await;
    for id in [7, 1000, 5] {
        same!(pair, |store| store
            .add_customer(A, ACME, new_customer(id, "Shop ads"))
            .await);
    }
    let twice = same!(pair, |store| store
        .add_customer(A, ACME, new_customer(7, "again"))
        .await)
    .0;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    // The same id in another company is another customer; a company of others is not found.
    same!(pair, |store| store
        .add_customer(B, GLOBEX, new_customer(7, "Globex ads"))
        .await);
    let others = same!(pair, |store| store
        .add_customer(A, GLOBEX, new_customer(8, "no"))
        .await)
    .0;
    assert!(matches!(others, Err(StoreError::NotFound(_))), "{others:?}");
    // Ids that order differently byte by byte and in a natural language's collation, which
    // PostgreSQL's column has here as a cluster made in such a locale would (this one is C).
    pair.postgres
        .connection()
        .await
        .unwrap()
        .batch_execute(
            "ALTER TABLE google_business_locations ALTER COLUMN id TYPE TEXT COLLATE \"en-x-icu\"",
        )
        .await
        .unwrap();
    for id in ["locations/b", "locations/B", "locations/_a", "locations/10"] {
        same!(pair, |store| store
            .add_location(A, ACME, new_location(id))
            .await);
    }
    let twice = same!(pair, |store| store
        .add_location(A, ACME, new_location("locations/b"))
        .await)
    .0;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    same!(pair, |store| store
        .add_location(B, ACME, new_location("locations/x"))
        .await);
    let customers = same!(pair, |store| store.customers(A, ACME).await).0;
    let ids: Vec<i64> = customers.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(ids, [5, 7, 42, 1000]);
    let locations = same!(pair, |store| store.locations(A, ACME).await).0;
    assert_eq!(locations.unwrap().len(), 5);
    same!(pair, |store| store.customers(B, ACME).await);
    same!(pair, |store| store.locations(A, GLOBEX).await);
    same!(pair, |store| store.customers(A, CompanyId(77)).await);

    // Changes: only what is sent; another company's customer is not found.
    let change = || -> GoogleAdsCustomerUpdate {
        body(json!({ "descriptive_name": null, "status": "CANCELED", "manager": true }))
    };
    same!(pair, |store| store
        .update_customer(A, ACME, 7, change())
        .await);
    same!(pair, |store| store
        .update_customer(A, ACME, 8, change())
        .await);
    same!(pair, |store| store
        .update_customer(A, GLOBEX, 7, change())
        .await);
    same!(pair, |store| {
        store
            .update_customer(A, ACME, 5, body(json!({ "is_deleted": true })))
            .await
    });
    let moved = || -> GoogleBusinessLocationUpdate {
        body(json!({
            "title": "Moved",
            "maps_uri": null,
            "storefront_address": { "address_lines": ["3 Low St"] }
        }))
    };
    same!(pair, |store| store
        .update_location(A, ACME, "locations/B".into(), moved())
        .await);
    same!(pair, |store| store
        .update_location(A, ACME, "locations/none".into(), moved())
        .await);
    same!(pair, |store| store
        .update_location(B, ACME, "locations/B".into(), moved())
        .await);
    same!(pair, |store| store
        .update_location(A, ACME, "locations/b".into(), body(json!({})))
        .await);

    // Members' views: only connected customers (7 is canceled, 5 deleted), membership only.
    same!(pair, |store| store.member_connections(A.user_id).await);
    same!(pair, |store| store.member_connections(B.user_id).await);
    same!(pair, |store| store
        .member_company_connections(A.user_id, ACME)
        .await);
    same!(pair, |store| store
        .member_company_connections(A.user_id, GLOBEX)
        .await);
    same!(pair, |store| store
        .member_company_connections(B.user_id, GLOBEX)
        .await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_used_is_not_deleted_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    same!(pair, |store| store
        .add_customer(A, ACME, new_customer(7, "Spare"))
        .await);
    let mut ids = Ids::default();
    let new = || named(AssistantType::CampaignCreation, "campaign");
    create(&pair, &mut ids, A, scope(Some(42), None), new()).await;
    create(
        &pair,
        &mut ids,
        A,
        scope(Some(42), Some("locations/1")),
        new(),
    )
    .await;

    // Scoped threads keep their customer and location.
    let used = same!(pair, |store| store.delete_customer(A, ACME, 42).await).0;
    assert!(matches!(used, Err(StoreError::Conflict(_))), "{used:?}");
    same!(pair, |store| store
        .delete_location(A, ACME, "locations/1".into())
        .await);
    // Not there, not the viewer's, or another company's: not found, nothing deleted.
    same!(pair, |store| store.delete_customer(A, ACME, 8).await);
    same!(pair, |store| store.delete_customer(B, ACME, 7).await);
    same!(pair, |store| store.delete_customer(B, GLOBEX, 7).await);
    same!(pair, |store| store
        .delete_location(A, ACME, "locations/none".into())
        .await);
    same!(pair, |store| store.delete_customer(A, ACME, 7).await);
    same!(pair, |store| store.customers(A, ACME).await);

    // A campaign draft made for customer 42 keeps it once the threads are gone.
    let context = contexts(&pair, &ids, 0).await;
    same!(pair, context, |store, context| {
        let draft = NewThreadDraft {
            name: "draft".into(),
            market_analysis_id: None,
        };
        store.turn_draft_id(A, &context[0], draft).await
    });
    for n in 0..2 {
        same!(pair, ids, |store, id| store
            .delete_thread(A, id[n].clone(), None)
            .await);
    }
    let drafted = same!(pair, |store| store.delete_customer(A, ACME, 42).await).0;
    assert!(
        matches!(drafted, Err(StoreError::Conflict(_))),
        "{drafted:?}"
    );
    same!(pair, |store| store
        .delete_location(A, ACME, "locations/1".into())
        .await);
    same!(pair, |store| store.locations(A, ACME).await);
}

/// Two processes adding the same customer at once, again and again: one row, one Conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_customer_added_at_once_is_one_row() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    for round in 0..10 {
        let answers = at_once(&pair, 2, |process, n| async move {
            let name = format!("process {n}");
            process
                .add_customer(A, ACME, new_customer(100 + round, &name))
                .await
        })
        .await;
        let added: Vec<_> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
        assert_eq!(added.len(), 1, "round {round}: {answers:?}");
        let refused = answers
            .iter()
            .filter(|a| matches!(a, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!(refused, 1, "round {round}: {answers:?}");
        let customers = pair.postgres.customers(A, ACME).await.unwrap();
        let stored: Vec<_> = customers.iter().filter(|c| c.id == 100 + round).collect();
        assert_eq!(stored, [added[0]], "round {round}");
    }
}

/// Two processes changing different fields of one customer at once: both changes are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_at_once_to_one_customer_are_both_kept() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    for round in 0..10 {
        let (name, status) = (format!("name {round}"), format!("status {round}"));
        let (name_sent, status_sent) = (name.clone(), status.clone());
        at_once(&pair, 2, move |process, n| {
            let change: GoogleAdsCustomerUpdate = if n == 0 {
                body(json!({ "descriptive_name": name_sent }))
            } else {
                body(json!({ "status": status_sent }))
            };
            async move { process.update_customer(A, ACME, 42, change).await.unwrap() }
        })
        .await;
        let customers = pair.postgres.customers(A, ACME).await.unwrap();
        assert_eq!(customers[0].descriptive_name.0.as_ref(), Some(&name));
        assert_eq!(customers[0].status.0.as_ref(), Some(&status));
    }
}

/// A customer deleted while a thread is created on it, at once, again and again: either the
/// thread is made and the delete refused, or the customer goes and the thread is not made
/// (NotFound, as on SQLite, even when the customer went between the create's check and insert).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_deleted_while_a_thread_is_scoped_to_it() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    for round in 0..10 {
        let id = 200 + round;
        pair.postgres
            .add_customer(A, ACME, new_customer(id, "contested"))
            .await
            .unwrap();
        let answers = at_once(&pair, 2, move |process, n| async move {
            if n == 0 {
                process.delete_customer(A, ACME, id).await
            } else {
                let new = named(AssistantType::General, "contested");
                let made = process.create_thread(A, scope(Some(id), None), new).await;
                made.map(|_| ())
            }
        })
        .await;
        let (deleted, created) = (answers[0].is_ok(), answers[1].is_ok());
        assert!(deleted != created, "round {round}: {answers:?}");
        // Refused because the other came first, never by a foreign key failing underneath: the
        // delete says the thread uses it, the create that the customer is not there.
        let refused = &answers[usize::from(!created)];
        let expected = if created { "Conflict" } else { "NotFound" };
        assert!(
            matches!(
                (created, refused),
                (true, Err(StoreError::Conflict(_))) | (false, Err(StoreError::NotFound(_)))
            ),
            "round {round}: expected {expected}, got {refused:?}"
        );
        let left = pair.postgres.customers(A, ACME).await.unwrap();
        assert_eq!(left.iter().any(|c| c.id == id), created, "round {round}");
    }
}
