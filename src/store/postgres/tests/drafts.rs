//! Campaign drafts on both stores: created, listed, read, deleted, and their generation status.

use serde_json::{json, Value};

use super::threads::{two_companies, A, ACME, B};
use super::{same, Pair};
use crate::schema::{CampaignDraftCreate, CompanyId, DraftId};
use crate::store::{DraftFilter, DraftStore, Viewer};

/// A draft of Acme's customer 42 with every step-1 field.
pub(super) fn full_draft(name: &str, market_analysis_id: i64) -> CampaignDraftCreate {
    from_json(json!({
        "name": name,
        "google_ads_customer_id": 42,
        "market_analysis_id": market_analysis_id,
        "campaign_name": "Spring bread - Search",
        "website_url": "https://acme.example",
        "daily_budget_micros": 25_000_000,
        "bidding_strategy": {"type": "MAXIMIZE_CONVERSIONS", "target_cpa_micros": 123,
                             "target_roas": 1.5, "max_cpc_bid_ceiling_micros": 456},
        "default_match_type": "PHRASE",
        "language_ids": [1000, 1002],
        "location_targets": [{"geo_target_constant_id": 2250, "target_type": "INCLUDE"}],
        "network_settings": {"target_google_search": true, "target_search_network": false,
                             "target_content_network": false},
        "ad_schedule": {"mode": "ALL_TIME", "schedule_entries": [{"day_of_week": "MONDAY",
                        "start_hour": 11, "end_hour": 12, "start_minute": 0, "end_minute": 0}]},
        "start_date": "2027-03-01",
        "end_date": "2027-05-31",
        "conversion_goals": [{"goal_type": "CAMPAIGN_SPECIFIC", "conversion_action_id": 1,
                              "category": "PURCHASE"}]
    }))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn bare(name: &str, customer: i64) -> CampaignDraftCreate {
    from_json(json!({"name": name, "google_ads_customer_id": customer}))
}

fn filter(company_id: Option<CompanyId>, customer: Option<i64>) -> DraftFilter {
    DraftFilter {
        company_id,
        google_ads_customer_id: customer,
    }
}

const ADMIN: Viewer = Viewer {
    user_id: crate::schema::UserId(99),
    is_admin: true,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let full = same!(pair, |store| store
        .create_draft(A, ACME, full_draft("Spring bread", 5))
        .await)
    .0
    .unwrap();
    assert_eq!(full.id, DraftId(1));
    assert_eq!(full.language_ids, vec![1000, 1002]);
    same!(pair, |store| store
        .create_draft(A, ACME, bare("Plain", 42))
        .await);
    // Another company's member, a customer the company does not have, a company not there.
    same!(pair, |store| store
        .create_draft(B, ACME, bare("Hidden", 42))
        .await);
    same!(pair, |store| store
        .create_draft(A, ACME, bare("Unknown customer", 7))
        .await);
    same!(pair, |store| store
        .create_draft(ADMIN, CompanyId(9), bare("Nowhere", 42))
        .await);

    let listed = same!(pair, |store| store.list_drafts(A, filter(None, None)).await).0;
    let names: Vec<String> = listed.unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(names, ["Plain", "Spring bread"]);
    same!(pair, |store| store
        .list_drafts(A, filter(Some(ACME), Some(42)))
        .await);
    same!(pair, |store| store
        .list_drafts(A, filter(Some(ACME), Some(43)))
        .await);
    same!(pair, |store| store.list_drafts(B, filter(None, None)).await);
    same!(pair, |store| store
        .list_drafts(B, filter(Some(ACME), None))
        .await);
    same!(pair, |store| store
        .list_drafts(ADMIN, filter(None, None))
        .await);

    same!(pair, |store| store.draft(A, DraftId(1)).await);
    same!(pair, |store| store.draft(B, DraftId(1)).await);
    same!(pair, |store| store.draft(A, DraftId(9)).await);
    let active = same!(pair, |store| store.active_draft(A, 5).await).0;
    assert_eq!(active.unwrap().id, DraftId(1));
    same!(pair, |store| store.active_draft(B, 5).await);
    same!(pair, |store| store.active_draft(A, 6).await);
    same!(pair, |store| store
        .draft_generation_status(A, DraftId(1))
        .await);
    same!(pair, |store| store
        .draft_generation_status(B, DraftId(1))
        .await);

    same!(pair, |store| store.delete_draft(B, DraftId(2)).await);
    same!(pair, |store| store.delete_draft(A, DraftId(2)).await);
    same!(pair, |store| store.draft(A, DraftId(2)).await);
    same!(pair, |store| store.delete_draft(A, DraftId(2)).await);
    let left = same!(pair, |store| store.list_drafts(A, filter(None, None)).await).0;
    assert_eq!(left.unwrap().len(), 1);
}
