//! A campaign draft's step edits and its ad-group and keyword routes on both stores, the RSA
//! refreshes they queue, their 404s and 422s; and edits of one draft from several processes
//! at once, none lost.

use serde_json::json;

use super::drafts::{from_json, full_draft};
use super::threads::{two_companies, A, ACME, B};
use super::{at_once, same, Pair};
use crate::schema::{AdGroupCreate, CampaignDraft, DraftId, KeywordCreate};
use crate::store::{DraftEditStore, DraftStore};

const DRAFT: DraftId = DraftId(1);

/// The draft's RSAs, in order, as (id, ad group, status).
fn rsas(draft: &CampaignDraft) -> Vec<(i64, i64, String)> {
    draft
        .ad_groups
        .iter()
        .flat_map(|group| &group.rsas)
        .map(|rsa| (rsa.id, rsa.ad_group_id, rsa.status.as_str().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_edits_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    same!(pair, |store| store
        .create_draft(A, ACME, full_draft("Spring bread", 5))
        .await);

    // Step 2: two ad groups; the one with keywords gets three RSAs to generate.
    let groups = json!({"ad_groups": [
        {"name": "Bread", "cpc_bid_micros": 700000, "keywords": [
            {"text": "sourdough"},
            {"text": "rye bread", "match_type": "EXACT", "final_url": "https://x.test/"}]},
        {"name": "Cakes", "keywords": []}]});
    let step2 = same!(pair, |store| store
        .patch_ad_groups(A, DRAFT, from_json(groups.clone()), true)
        .await)
    .0
    .unwrap();
    let pending = |id| (id, 1, "pending".to_string());
    assert_eq!(rsas(&step2), [pending(1), pending(2), pending(3)]);
    same!(pair, |store| store
        .patch_ad_groups(B, DRAFT, from_json(groups.clone()), true)
        .await);
    for wrong in [
        json!({"ad_groups": [{"id": 9, "name": "X", "keywords": []}]}),
        json!({"ad_groups": [{"id": 1, "name": "A", "keywords": []},
                             {"id": 1, "name": "B", "keywords": []}]}),
        json!({"ad_groups": [{"id": 1, "name": "Bread", "keywords": [{"id": 1, "text": "a"}]},
                             {"id": 2, "name": "Cakes", "keywords": [{"id": 2, "text": "b"}]}]}),
        json!({"ad_groups": [{"id": 1, "name": "Bread", "keywords": [
            {"id": 1, "text": "a"}, {"id": 1, "text": "b"}]}]}),
    ] {
        same!(pair, |store| store
            .patch_ad_groups(A, DRAFT, from_json(wrong.clone()), true)
            .await);
    }
    // Reordered; Bread's keywords rewritten (its RSAs refilled), Cakes renamed with a first
    // keyword (three new RSAs).
    let groups = json!({"ad_groups": [
        {"id": 2, "name": "Cakes & pies", "keywords": [{"text": "birthday cake"}]},
        {"id": 1, "name": "Bread", "cpc_bid_micros": null, "keywords": [
            {"id": 2, "text": "rye bread", "cpc_bid_micros": 5},
            {"id": 1, "text": "sourdough loaf", "match_type": "BROAD"},
            {"text": "baguette"}]}]});
    let step2 = same!(pair, |store| store
        .patch_ad_groups(A, DRAFT, from_json(groups.clone()), true)
        .await)
    .0
    .unwrap();
    assert_eq!(rsas(&step2).len(), 6);
    // Step 1: only what is sent; the old default's keywords take the new one.
    let settings = json!({"name": "Renamed", "campaign_name": null, "daily_budget_micros": 1000,
        "bidding_strategy": null, "default_match_type": "EXACT", "start_date": null,
        "language_ids": [1003], "ad_schedule": {"mode": "ALL_TIME", "schedule_entries": []}});
    same!(pair, |store| store
        .patch_campaign_settings(A, DRAFT, from_json(settings.clone()), false)
        .await);
    let settings = json!({"default_match_type": "BROAD", "website_url": "https://b.example"});
    same!(pair, |store| store
        .patch_campaign_settings(A, DRAFT, from_json(settings.clone()), true)
        .await);
    same!(pair, |store| store
        .patch_campaign_settings(B, DRAFT, from_json(settings.clone()), true)
        .await);

    // Step 3: RSA 1 written by a person, 2 sent back blank while waiting (kept as it is),
    // 3 left out (deleted), one new.
    let ads = json!({"rsas": [
        {"id": 2, "ad_group_id": 1, "headlines": [], "descriptions": []},
        {"id": 1, "ad_group_id": 1, "headlines": [{"text": "Fresh bread"}],
         "descriptions": [{"text": "Baked daily"}], "path1": "bread"},
        {"ad_group_id": 1, "headlines": [{"text": "New"}], "descriptions": []}]});
    let step3 = same!(pair, |store| store
        .patch_ads(A, DRAFT, from_json(ads.clone()),)
        .await)
    .0
    .unwrap();
    let bread: Vec<_> = rsas(&step3).into_iter().filter(|rsa| rsa.1 == 1).collect();
    assert_eq!(
        bread,
        [
            pending(2),
            (1, 1, "not_started".to_string()),
            (7, 1, "not_started".to_string())
        ]
    );
    for wrong in [
        json!({"rsas": [{"ad_group_id": 9, "headlines": [], "descriptions": []}]}),
        json!({"rsas": [{"id": 4, "ad_group_id": 1, "headlines": [], "descriptions": []}]}),
        json!({"rsas": [{"id": 1, "ad_group_id": 1, "headlines": [], "descriptions": []},
                        {"id": 1, "ad_group_id": 1, "headlines": [], "descriptions": []}]}),
    ] {
        same!(pair, |store| store
            .patch_ads(A, DRAFT, from_json(wrong.clone()))
            .await);
    }
    same!(pair, |store| store
        .patch_ads(B, DRAFT, from_json(ads.clone()))
        .await);

    // Step 4: lists replaced in their order, the phone set, then removed.
    let extensions = json!({
        "sitelinks": [{"link_text": "Menu", "final_url": "https://x.test/m"},
                      {"link_text": "Hours"}],
        "callouts": [{"callout_text": "Open Sundays"}],
        "phone": {"country_code": "US", "phone_number": "+15550100"},
        "structured_snippets": [{"header": "Brands", "values": ["A", "B", "C"]}]});
    same!(pair, |store| store
        .patch_extensions(A, DRAFT, from_json(extensions.clone()))
        .await);
    let extensions = json!({"callouts": [], "phone": null});
    same!(pair, |store| store
        .patch_extensions(A, DRAFT, from_json(extensions.clone()))
        .await);
    same!(pair, |store| store
        .patch_extensions(B, DRAFT, from_json(extensions.clone()))
        .await);

    // The ad-group and keyword routes.
    let pies = json!({"name": "Pies", "cpc_bid_micros": 1,
        "keywords": [{"text": "apple pie"}, {"text": "cherry pie", "match_type": "EXACT"}]});
    same!(pair, |store| store
        .create_ad_group(A, DRAFT, from_json(pies.clone()), true)
        .await);
    same!(pair, |store| store
        .create_ad_group(B, DRAFT, from_json(pies.clone()), true)
        .await);
    for (group, change) in [
        (3, json!({"name": "Tarts"})),
        (3, json!({"name": "Tarts", "cpc_bid_micros": null})),
        (9, json!({"name": "Nowhere"})),
    ] {
        same!(pair, |store| store
            .update_ad_group(A, DRAFT, group, from_json(change.clone()), true)
            .await);
    }
    let lemon = json!({"text": "lemon tart", "final_url": "https://x.test/t"});
    for group in [3, 9] {
        same!(pair, |store| store
            .create_keyword(A, DRAFT, group, from_json(lemon.clone()), false)
            .await);
    }
    for (group, keyword, change) in [
        (
            3,
            7,
            json!({"text": "plum tart", "cpc_bid_micros": 9, "final_url": null}),
        ),
        (3, 7, json!({"match_type": "PHRASE"})),
        (1, 7, json!({"text": "elsewhere"})),
        (3, 1, json!({"text": "not of this group"})),
    ] {
        same!(pair, |store| store
            .update_keyword(A, DRAFT, group, keyword, from_json(change.clone()), true)
            .await);
    }
    same!(pair, |store| store
        .delete_keyword(A, DRAFT, 3, 6, true)
        .await);
    same!(pair, |store| store
        .delete_keyword(A, DRAFT, 3, 6, true)
        .await);
    same!(pair, |store| store
        .delete_keyword(B, DRAFT, 3, 7, true)
        .await);
    same!(pair, |store| store.draft_generation_status(A, DRAFT).await);
    let last = same!(pair, |store| store.draft(A, DRAFT).await).0.unwrap();
    assert_eq!(last.ad_groups.len(), 3);
    assert_eq!(last.ad_groups[2].name, "Tarts");
}

/// Processes adding keywords to one ad group and ad groups to the draft at once, several
/// rounds: every one is kept, each answer shows its own, and positions are not given twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_of_one_draft_from_several_processes_are_all_kept() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    let base: AdGroupCreate = from_json(json!({"name": "Base", "keywords": [{"text": "k"}]}));
    pair.postgres
        .create_draft(A, ACME, full_draft("Busy", 5))
        .await
        .unwrap();
    pair.postgres
        .create_ad_group(A, DRAFT, base, true)
        .await
        .unwrap();
    const PROCESSES: usize = 6;
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        at_once(&pair, PROCESSES, move |process, n| async move {
            let name = format!("round {round} process {n}");
            let draft = if n % 2 == 0 {
                let new: KeywordCreate = from_json(json!({ "text": name }));
                process.create_keyword(A, DRAFT, 1, new, true).await
            } else {
                let new: AdGroupCreate =
                    from_json(json!({"name": name, "keywords": [{"text": "k"}]}));
                process.create_ad_group(A, DRAFT, new, true).await
            }
            .unwrap();
            let mut texts = draft.ad_groups.iter().flat_map(|group| {
                std::iter::once(&group.name).chain(group.keywords.iter().map(|k| &k.text))
            });
            assert!(texts.any(|text| *text == name), "{name} not in its answer");
        })
        .await;
    }
    let draft = pair.postgres.draft(A, DRAFT).await.unwrap();
    let added = PROCESSES / 2 * ROUNDS;
    assert_eq!(draft.ad_groups.len(), 1 + added);
    assert_eq!(draft.ad_groups[0].keywords.len(), 1 + added);
    let client = pair.postgres.connection().await.unwrap();
    for (table, parent, id) in [
        ("draft_ad_groups", "draft_id", DRAFT.0),
        ("draft_keywords", "ad_group_id", 1),
    ] {
        let sql = format!("SELECT position FROM {table} WHERE {parent} = $1 ORDER BY position");
        let positions: Vec<i64> = client
            .query(&sql, &[&id])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(positions, (0..=added as i64).collect::<Vec<_>>(), "{table}");
    }
    // Every refresh queued its task, in the transaction of its edit.
    let tasks: i64 = client
        .query_one("SELECT count(*) FROM generation_tasks", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tasks as usize, 1 + PROCESSES * ROUNDS);
}

/// What another process's LISTEN connection hears on the generation channel while `edit` runs
/// (and for half a second after).
async fn heard_while<F: std::future::Future>(pair: &Pair, edit: F) -> Vec<String> {
    use futures_util::StreamExt;
    let (settings, tls) = super::tls::connector(&pair.url).unwrap();
    let (client, mut connection) = settings.connect(tls).await.unwrap();
    let (heard, mut hearing) = tokio::sync::mpsc::unbounded_channel();
    let listening = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(note) = message {
                heard.send(note.channel().to_string()).unwrap();
            }
        }
    });
    client
        .batch_execute("LISTEN adthread_generation")
        .await
        .unwrap();
    edit.await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    drop(client);
    listening.await.unwrap();
    let mut channels = Vec::new();
    while let Ok(channel) = hearing.try_recv() {
        channels.push(channel);
    }
    channels
}

/// An edit that queues generation wakes every process's workers once it commits; one that
/// queues nothing, or fails, does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_queues_generation_rings_every_process() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    two_companies(&pair).await;
    pair.postgres
        .create_draft(A, ACME, full_draft("Bell", 5))
        .await
        .unwrap();
    let group = || from_json(json!({"name": "Bread", "keywords": [{"text": "rye"}]}));
    let quiet = heard_while(&pair, async {
        pair.postgres
            .create_ad_group(A, DRAFT, group(), false)
            .await
            .unwrap();
        let hidden = pair.postgres.create_ad_group(B, DRAFT, group(), true).await;
        assert!(hidden.is_err());
    })
    .await;
    assert_eq!(quiet, Vec::<String>::new());
    let rung = heard_while(&pair, async {
        pair.postgres
            .create_ad_group(A, DRAFT, group(), true)
            .await
            .unwrap();
    })
    .await;
    assert_eq!(rung, ["adthread_generation"]);
}
