//! Campaign drafts: create, read, list and its filters, the active draft of a market analysis,
//! delete and the generation status, with their 404s and 422s.

use serde_json::{json, Value};

use crate::harness::{is_rfc3339_utc, Server, CUSTOMER_ID};

const DRAFTS: &str = "/api/v1/campaigns/drafts";

fn create(server: &Server, token: &str, company: i64, body: Value) -> Value {
    server
        .post(token, &format!("{DRAFTS}?company_id={company}"), &body)
        .expect(200)
        .body
}

/// A server with a company (its customer and location registered): the server, the admin's
/// token and the company's id.
fn acme() -> (Server, String, i64) {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    (server, token, company)
}

/// A server with a company (its customer and location registered) and one draft named `name`:
/// the server, the admin's token, the company's id and the draft's.
fn one_draft(name: &str) -> (Server, String, i64, i64) {
    let (server, token, company) = acme();
    let draft = create(
        &server,
        &token,
        company,
        json!({"name": name, "google_ads_customer_id": CUSTOMER_ID}),
    );
    let id = draft["id"].as_i64().unwrap();
    (server, token, company, id)
}

fn draft_ids(answer: &Value) -> Vec<i64> {
    answer["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|draft| draft["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_draft_is_created_with_its_step_one_fields_and_read_back_whole() {
    let (server, token, company) = acme();
    let settings = json!({
        "name": "Spring bread",
        "google_ads_customer_id": CUSTOMER_ID,
        "market_analysis_id": 7,
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
    });
    let draft = create(&server, &token, company, settings.clone());
    for (field, value) in settings.as_object().unwrap() {
        assert_eq!(&draft[field], value, "{field}");
    }
    assert!(draft["id"].as_i64().unwrap() > 0);
    assert!(is_rfc3339_utc(&draft["date_added"]));
    assert_eq!(draft["date_added"], draft["date_updated"]);
    assert_eq!(
        draft["extensions"],
        json!({"sitelinks": [], "callouts": [], "phone": null, "structured_snippets": []})
    );
    assert_eq!(draft["ad_groups"], json!([]));
    for kind in ["ad_groups", "extensions"] {
        assert_eq!(draft[format!("{kind}_task_id")], Value::Null);
        assert_eq!(draft[format!("{kind}_generation_status")], "not_started");
        assert_eq!(draft[format!("{kind}_generation_error")], Value::Null);
    }
    assert_eq!(draft["is_published"], false);
    assert_eq!(draft["published_at"], Value::Null);
    assert_eq!(draft["published_campaign_id"], Value::Null);
    assert_eq!(draft["all_rsas_generated"], false);

    let read = server
        .get(&token, &format!("{DRAFTS}/{}", draft["id"]))
        .expect(200);
    assert_eq!(read.body, draft);

    // Only the name and the customer are needed; the default match type is BROAD.
    let bare = create(
        &server,
        &token,
        company,
        json!({"name": "Bare", "google_ads_customer_id": CUSTOMER_ID}),
    );
    assert_eq!(bare["default_match_type"], "BROAD");
    assert_eq!(bare["market_analysis_id"], Value::Null);
    assert_eq!(bare["daily_budget_micros"], Value::Null);
    assert_eq!(bare["language_ids"], json!([]));
    assert_eq!(bare["bidding_strategy"], Value::Null);
    assert_eq!(bare["start_date"], Value::Null);
}

#[test]
fn values_that_break_only_googles_rules_are_kept() {
    let (server, token, company) = acme();
    let draft = create(
        &server,
        &token,
        company,
        json!({"name": "Zero", "google_ads_customer_id": CUSTOMER_ID,
               "daily_budget_micros": 0, "end_date": "2020-01-01", "start_date": "2030-01-01"}),
    );
    assert_eq!(draft["daily_budget_micros"], 0);
    assert_eq!(draft["end_date"], "2020-01-01");
}

#[test]
fn the_list_filters_by_company_and_customer_and_shows_only_the_callers_companies() {
    let server = Server::start();
    let admin = server.admin_token();
    let planner = server.user("planner@example.com", false);
    let mine = server.company_with_connections(&planner, "Mine");
    let other = server.company_with_connections(&planner, "Other");
    let theirs = server.company_with_connections(&admin, "Theirs");
    server
        .post(
            &planner,
            &format!("/api/v1/companies/{mine}/google-ads-customers"),
            &json!({"id": 42, "descriptive_name": "Second"}),
        )
        .expect(200);
    let body =
        |name: &str, customer: i64| json!({"name": name, "google_ads_customer_id": customer});
    let a = create(&server, &planner, mine, body("a", CUSTOMER_ID))["id"].clone();
    let b = create(&server, &planner, mine, body("b", 42))["id"].clone();
    let c = create(&server, &planner, other, body("c", CUSTOMER_ID))["id"].clone();
    let hidden = create(&server, &admin, theirs, body("hidden", CUSTOMER_ID))["id"].clone();
    let ids = |values: &[&Value]| -> Vec<i64> {
        values.iter().map(|value| value.as_i64().unwrap()).collect()
    };

    let all = server.get(&planner, DRAFTS).expect(200).body;
    assert_eq!(
        all.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["drafts"]
    );
    assert_eq!(
        draft_ids(&all),
        ids(&[&c, &b, &a]),
        "newest first, theirs left out"
    );
    let listed = |query: String| {
        draft_ids(
            &server
                .get(&planner, &format!("{DRAFTS}?{query}"))
                .expect(200)
                .body,
        )
    };
    assert_eq!(listed(format!("company_id={mine}")), ids(&[&b, &a]));
    assert_eq!(
        listed(format!("google_ads_customer_id={CUSTOMER_ID}")),
        ids(&[&c, &a])
    );
    assert_eq!(
        listed(format!("company_id={mine}&google_ads_customer_id=42")),
        ids(&[&b])
    );
    // Another company named in the filter does not exist for the caller.
    server
        .get(&planner, &format!("{DRAFTS}?company_id={theirs}"))
        .expect_detail(404, "Company not found");
    // An admin sees every company's drafts.
    let everything = server.get(&admin, DRAFTS).expect(200);
    assert_eq!(draft_ids(&everything.body), ids(&[&hidden, &c, &b, &a]));
    server
        .get(&planner, &format!("{DRAFTS}?company_id=abc"))
        .expect(422);
}

#[test]
fn the_active_draft_is_the_newest_unpublished_one_of_the_market_analysis() {
    let (server, token, company) = acme();
    server
        .get(&token, &format!("{DRAFTS}/active?market_analysis_id=5"))
        .expect_detail(404, "No active campaign draft");
    let body = |name: &str, analysis: Option<i64>| json!({"name": name, "google_ads_customer_id": CUSTOMER_ID, "market_analysis_id": analysis});
    let older = create(&server, &token, company, body("older", Some(5)));
    let newer = create(&server, &token, company, body("newer", Some(5)));
    create(&server, &token, company, body("elsewhere", Some(6)));
    let active = server
        .get(&token, &format!("{DRAFTS}/active?market_analysis_id=5"))
        .expect(200);
    assert_eq!(active.body, newer);
    server.sql(&format!(
        "UPDATE campaign_drafts SET is_published = true WHERE id = {}",
        newer["id"]
    ));
    let active = server
        .get(&token, &format!("{DRAFTS}/active?market_analysis_id=5"))
        .expect(200);
    assert_eq!(
        active.body["id"], older["id"],
        "a published draft is not active"
    );
    server.get(&token, &format!("{DRAFTS}/active")).expect(422);
}

#[test]
fn a_deleted_draft_is_gone_with_everything_under_it() {
    let (server, token, company, id) = one_draft("Doomed");
    seed_generation(&server, id);
    // While a draft is made for it, the customer cannot be removed.
    server
        .delete(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}"),
        )
        .expect_detail(409, "campaign draft");
    let answer = server.delete(&token, &format!("{DRAFTS}/{id}")).expect(204);
    assert_eq!(answer.body, Value::Null);
    server
        .get(&token, &format!("{DRAFTS}/{id}"))
        .expect_detail(404, "Campaign draft not found");
    server.delete(&token, &format!("{DRAFTS}/{id}")).expect(404);
    for table in [
        "campaign_drafts",
        "draft_ad_groups",
        "draft_keywords",
        "draft_rsas",
        "draft_extension_items",
        "generation_tasks",
    ] {
        assert_eq!(server.count(table), 0, "{table}");
    }
    server
        .delete(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}"),
        )
        .expect(204);
}

#[test]
fn deleting_the_thread_a_draft_was_made_from_keeps_the_draft() {
    let (server, token, company, id) = one_draft("From a thread");
    let thread = server
        .post(
            &token,
            &format!("/api/v1/chat/threads?company_id={company}&customer_id={CUSTOMER_ID}"),
            &json!({"assistant_type": "campaign_creation"}),
        )
        .expect(200);
    let thread_id = thread.body["thread_id"].as_str().unwrap().to_string();
    server.link_draft_to_thread(&json!(id), &thread.body["thread_id"]);
    server
        .delete(&token, &format!("/api/v1/chat/threads/{thread_id}"))
        .expect(204);
    server.get(&token, &format!("{DRAFTS}/{id}")).expect(200);
    let thread_seq = server.sql(&format!(
        "SELECT thread_seq FROM campaign_drafts WHERE id = {id}"
    ));
    assert_eq!(thread_seq, "", "NULL");
}

/// An ad group with a keyword, three RSAs (generated, being generated, written by hand), an
/// extension item and the draft's tasks, as the generation of a later step leaves them.
fn seed_generation(server: &Server, draft: i64) {
    server.sql_batch(&format!(
        "INSERT INTO draft_ad_groups (id, draft_id, position, name) VALUES (901, {draft}, 0, 'Bread');
         INSERT INTO draft_keywords (ad_group_id, position, text, match_type)
             VALUES (901, 0, 'sourdough', 'PHRASE');
         INSERT INTO generation_tasks (id, draft_id, kind, ad_group_id, status, date_added, date_updated)
             VALUES ('task_rsa', {draft}, 'rsas', 901, 'in_progress', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                    ('task_ext', {draft}, 'extensions', NULL, 'failed', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO draft_rsas (id, ad_group_id, position, headlines, status, task_id)
             VALUES (11, 901, 0, '[{{\"text\": \"Fresh bread\", \"pinned_position\": 1}}]', 'completed', 'task_rsa'),
                    (12, 901, 1, '[]', 'in_progress', 'task_rsa'),
                    (13, 901, 2, '[]', 'not_started', NULL);
         INSERT INTO draft_extension_items (draft_id, kind, position, data)
             VALUES ({draft}, 'callout', 0, '{{\"callout_text\": \"Free delivery\"}}');
         UPDATE generation_tasks SET error = 'The model answered no JSON' WHERE id = 'task_ext';"
    ));
}

#[test]
fn the_generation_status_waits_only_for_tasks_pending_or_in_progress() {
    let (server, token, _, id) = one_draft("Gen");
    let status = server
        .get(&token, &format!("{DRAFTS}/{id}/generation-status"))
        .expect(200);
    let idle = json!({"task_id": null, "status": "not_started", "error": null});
    assert_eq!(
        status.body,
        json!({"ad_groups": idle, "rsas": [], "extensions": idle, "all_complete": true})
    );

    seed_generation(&server, id);
    let status = server
        .get(&token, &format!("{DRAFTS}/{id}/generation-status"))
        .expect(200);
    assert_eq!(status.body["all_complete"], false, "{}", status.body);
    assert_eq!(
        status.body["rsas"],
        json!([
            {"rsa_id": 11, "ad_group_id": 901, "task_id": "task_rsa", "status": "completed", "error": null},
            {"rsa_id": 12, "ad_group_id": 901, "task_id": "task_rsa", "status": "in_progress", "error": null},
            {"rsa_id": 13, "ad_group_id": 901, "task_id": null, "status": "not_started", "error": null},
        ])
    );
    assert_eq!(
        status.body["extensions"],
        json!({"task_id": "task_ext", "status": "failed", "error": "The model answered no JSON"})
    );
    let read = server
        .get(&token, &format!("{DRAFTS}/{id}"))
        .expect(200)
        .body;
    assert_eq!(read["extensions_task_id"], "task_ext");
    assert_eq!(read["extensions_generation_status"], "failed");
    assert_eq!(read["all_rsas_generated"], false);
    assert_eq!(
        read["ad_groups"],
        json!([{"id": 901, "name": "Bread", "cpc_bid_micros": null,
                "keywords": [{"id": read["ad_groups"][0]["keywords"][0]["id"], "text": "sourdough",
                              "match_type": "PHRASE", "cpc_bid_micros": null, "final_url": null}],
                "rsas": [
                    {"id": 11, "ad_group_id": 901, "headlines": [{"text": "Fresh bread", "pinned_position": 1}],
                     "descriptions": [], "path1": null, "path2": null, "final_url": null,
                     "status": "completed", "error": null},
                    {"id": 12, "ad_group_id": 901, "headlines": [], "descriptions": [], "path1": null,
                     "path2": null, "final_url": null, "status": "in_progress", "error": null},
                    {"id": 13, "ad_group_id": 901, "headlines": [], "descriptions": [], "path1": null,
                     "path2": null, "final_url": null, "status": "not_started", "error": null}]}])
    );
    assert_eq!(
        read["extensions"]["callouts"],
        json!([{"callout_text": "Free delivery"}])
    );

    // The RSA in progress finishes: a task never started does not hold `all_complete` back.
    server.sql_batch(
        "UPDATE draft_rsas SET status = 'completed' WHERE id = 12;
         UPDATE generation_tasks SET status = 'completed' WHERE id = 'task_rsa';",
    );
    let status = server
        .get(&token, &format!("{DRAFTS}/{id}/generation-status"))
        .expect(200);
    assert_eq!(status.body["all_complete"], true, "{}", status.body);
    // An extensions task pending holds it back again.
    server.sql("UPDATE generation_tasks SET status = 'pending' WHERE id = 'task_ext'");
    let status = server
        .get(&token, &format!("{DRAFTS}/{id}/generation-status"))
        .expect(200);
    assert_eq!(status.body["all_complete"], false);
    // Every RSA generated: the draft says so.
    server.sql("UPDATE draft_rsas SET status = 'completed'");
    let read = server
        .get(&token, &format!("{DRAFTS}/{id}"))
        .expect(200)
        .body;
    assert_eq!(read["all_rsas_generated"], true);
}

#[test]
fn another_companys_draft_is_404_everywhere() {
    let server = Server::start();
    let owner = server.user("owner@example.com", false);
    let outsider = server.user("outsider@example.com", false);
    let company = server.company_with_connections(&owner, "Secret company");
    let draft = create(
        &server,
        &owner,
        company,
        json!({"name": "Secret draft", "google_ads_customer_id": CUSTOMER_ID,
               "market_analysis_id": 3}),
    );
    let id = draft["id"].as_i64().unwrap();
    for path in [
        format!("{DRAFTS}/{id}"),
        format!("{DRAFTS}/{id}/generation-status"),
    ] {
        server
            .get(&outsider, &path)
            .expect_detail(404, "Campaign draft not found");
    }
    server
        .get(&outsider, &format!("{DRAFTS}/active?market_analysis_id=3"))
        .expect(404);
    server
        .delete(&outsider, &format!("{DRAFTS}/{id}"))
        .expect_detail(404, "Campaign draft not found");
    server
        .post(
            &outsider,
            &format!("{DRAFTS}?company_id={company}"),
            &json!({"name": "Intruder", "google_ads_customer_id": CUSTOMER_ID}),
        )
        .expect_detail(404, "Company not found");
    let listed = server.get(&outsider, DRAFTS).expect(200);
    assert_eq!(listed.body, json!({"drafts": []}));
    // Nothing changed: the owner still has exactly the one draft.
    let listed = server.get(&owner, DRAFTS).expect(200);
    assert_eq!(draft_ids(&listed.body), vec![id]);
    // A member of the company sees it.
    server
        .post(
            &owner,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": "outsider@example.com", "role": "member"}),
        )
        .expect(200);
    server.get(&outsider, &format!("{DRAFTS}/{id}")).expect(200);
}

#[test]
fn a_customer_not_registered_in_the_company_is_404_and_nothing_is_stored() {
    let (server, token, company) = acme();
    let other = server.company_with_connections(&token, "Other");
    server
        .post(
            &token,
            &format!("/api/v1/companies/{other}/google-ads-customers"),
            &json!({"id": 77}),
        )
        .expect(200);
    for customer in [77, 999] {
        server
            .post(
                &token,
                &format!("{DRAFTS}?company_id={company}"),
                &json!({"name": "Lost", "google_ads_customer_id": customer}),
            )
            .expect_detail(
                404,
                &format!("Google Ads customer {customer} is not registered"),
            );
    }
    server
        .post(
            &token,
            &format!("{DRAFTS}?company_id=999999"),
            &json!({"name": "Lost", "google_ads_customer_id": CUSTOMER_ID}),
        )
        .expect_detail(404, "Company not found");
    assert_eq!(server.count("campaign_drafts"), 0);
}

#[test]
fn wrong_types_and_unknown_enum_values_are_422_and_store_nothing() {
    let (server, token, company) = acme();
    let path = format!("{DRAFTS}?company_id={company}");
    let with = |field: &str, value: Value| {
        let mut body = json!({"name": "Draft", "google_ads_customer_id": CUSTOMER_ID});
        body[field] = value;
        body
    };
    // (body, where the problem is, its kind); a field alone is the body's field of that name.
    let missing = |body: Value, field: &str| (body, json!(["body", field]), "missing");
    let wrong = |field: &str, value: Value, kind: &'static str| {
        (with(field, value), json!(["body", field]), kind)
    };
    let cases: Vec<(Value, Value, &str)> = vec![
        missing(json!({"google_ads_customer_id": CUSTOMER_ID}), "name"),
        missing(json!({"name": "Draft"}), "google_ads_customer_id"),
        wrong("name", json!(5), "type_error"),
        wrong("name", json!(""), "string_too_short"),
        wrong("name", json!("n".repeat(257)), "string_too_long"),
        wrong("campaign_name", json!("c".repeat(257)), "string_too_long"),
        wrong("website_url", json!(""), "string_too_short"),
        wrong("google_ads_customer_id", json!("x"), "type_error"),
        wrong("default_match_type", json!("FUZZY"), "enum"),
        wrong("default_match_type", json!("exact"), "enum"),
        wrong("default_match_type", json!(null), "type_error"),
        wrong("daily_budget_micros", json!("100"), "type_error"),
        wrong("start_date", json!("2027-13-01"), "value_error"),
        wrong("end_date", json!("2027-1-1"), "value_error"),
        (
            with("language_ids", json!(["en"])),
            json!(["body", "language_ids", 0]),
            "type_error",
        ),
        (
            with(
                "location_targets",
                json!([{"geo_target_constant_id": "Paris"}]),
            ),
            json!(["body", "location_targets", 0, "geo_target_constant_id"]),
            "type_error",
        ),
        (
            with("network_settings", json!({"target_google_search": "yes"})),
            json!(["body", "network_settings", "target_google_search"]),
            "type_error",
        ),
    ];
    for (body, loc, kind) in cases {
        let answer = server.post(&token, &path, &body).expect(422);
        let problem = &answer.body["detail"][0];
        assert_eq!(problem["loc"], loc, "{body}: {}", answer.body);
        assert_eq!(problem["type"], kind, "{body}: {}", answer.body);
        assert!(problem["msg"].as_str().is_some_and(|msg| !msg.is_empty()));
    }
    server
        .post(
            &token,
            &format!("{DRAFTS}?company_id=x"),
            &with("name", json!("a")),
        )
        .expect(422);
    server.get(&token, &format!("{DRAFTS}/abc")).expect(422);
    assert_eq!(server.count("campaign_drafts"), 0);
}
