//! Editing a campaign draft: the four step PATCHes (always saved, each answering its own
//! warnings), replace semantics, the match-type flag, 422s that store nothing, `validate`, the
//! ad-group and keyword routes, and which edits queue RSA regeneration (read through the
//! generation status: a trigger gives the ad group's RSAs a new task).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::fake_llm::FakeLlm;
use crate::harness::{Answer, Server, CUSTOMER_ID};

const DRAFTS: &str = "/api/v1/campaigns/drafts";

struct World {
    server: Server,
    token: String,
    company: i64,
    draft: i64,
    _llm: Option<FakeLlm>,
}

impl World {
    /// A company with its customer and one empty draft; with a model configured when `model`
    /// (the generation worker then fills queued RSAs from the stand-in: these tests look at
    /// which tasks are queued, not at their progress).
    fn new(model: bool) -> World {
        let llm = model.then(FakeLlm::start);
        let server = match &llm {
            Some(llm) => Server::start_with(&[
                ("ADTHREAD_LLM_BASE_URL", llm.base_url.as_str()),
                ("ADTHREAD_LLM_MODEL", "test-model"),
            ]),
            None => Server::start(),
        };
        let token = server.admin_token();
        let company = server.company_with_connections(&token, "Acme");
        let mut world = World {
            server,
            token,
            company,
            draft: 0,
            _llm: llm,
        };
        world.draft = world.new_draft("Spring");
        world
    }

    fn new_draft(&self, name: &str) -> i64 {
        self.server
            .post(
                &self.token,
                &format!("{DRAFTS}?company_id={}", self.company),
                &json!({"name": name, "google_ads_customer_id": CUSTOMER_ID}),
            )
            .expect(200)
            .body["id"]
            .as_i64()
            .unwrap()
    }

    fn path(&self, rest: &str) -> String {
        format!("{DRAFTS}/{}{rest}", self.draft)
    }

    fn patch(&self, rest: &str, body: Value) -> Answer {
        self.server.patch(&self.token, &self.path(rest), &body)
    }

    fn post(&self, rest: &str, body: Value) -> Answer {
        self.server.post(&self.token, &self.path(rest), &body)
    }

    fn put(&self, rest: &str, body: Value) -> Answer {
        Answer::from(
            self.server
                .client
                .put(self.server.url(&self.path(rest)))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .unwrap(),
        )
    }

    fn delete(&self, rest: &str) -> Answer {
        self.server.delete(&self.token, &self.path(rest))
    }

    fn draft(&self) -> Value {
        self.server
            .get(&self.token, &self.path(""))
            .expect(200)
            .body
    }

    /// The task ids the draft's RSAs name.
    fn rsa_tasks(&self) -> BTreeSet<String> {
        let status = self
            .server
            .get(&self.token, &self.path("/generation-status"))
            .expect(200)
            .body;
        status["rsas"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|rsa| rsa["task_id"].as_str().map(String::from))
            .collect()
    }

    /// Sends `edit` and answers whether it queued a new RSA task.
    fn queues(&self, edit: impl FnOnce(&World) -> Answer) -> bool {
        let before = self.rsa_tasks();
        edit(self).expect(200);
        !self.rsa_tasks().is_subset(&before)
    }

    /// One ad group "Shoes" with keywords "running shoes" and "trail shoes", without
    /// regeneration: the draft's ad group id and keyword ids.
    fn shoes(&self) -> (i64, Vec<i64>) {
        let draft = self
            .post(
                "/ad-groups?regenerate_rsas=false",
                json!({"name": "Shoes", "keywords": [{"text": "running shoes"},
                                                      {"text": "trail shoes"}]}),
            )
            .expect(200)
            .body["draft"]
            .clone();
        let group = draft["ad_groups"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        let keywords = group["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_i64().unwrap())
            .collect();
        (group["id"].as_i64().unwrap(), keywords)
    }
}

fn warnings(answer: &Answer) -> Vec<(String, String)> {
    answer.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert!(w["message"].as_str().is_some_and(|m| !m.is_empty()), "{w}");
            (
                w["path"].as_str().unwrap().to_string(),
                w["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(warnings: &[(String, String)], path: &str, code: &str) -> bool {
    warnings.iter().any(|(p, c)| p == path && c == code)
}

#[test]
fn step_one_saves_only_the_fields_sent_and_answers_its_warnings() {
    let world = World::new(false);
    let before = world.draft();
    let answer = world
        .patch(
            "/campaign-settings",
            json!({"daily_budget_micros": 0, "campaign_name": "Spring - Search",
                   "start_date": "2027-03-01", "end_date": "2027-02-01"}),
        )
        .expect(200);
    let draft = &answer.body["draft"];
    assert_eq!(draft["daily_budget_micros"], 0);
    assert_eq!(draft["campaign_name"], "Spring - Search");
    assert_eq!(draft["name"], "Spring");
    assert_eq!(draft["default_match_type"], "BROAD");
    assert_ne!(draft["date_updated"], before["date_updated"]);
    let found = warnings(&answer);
    assert!(
        has(&found, "daily_budget_micros", "INVALID_RANGE"),
        "{found:?}"
    );
    assert!(has(&found, "website_url", "REQUIRED"), "{found:?}");
    assert!(has(&found, "end_date", "INVALID_RANGE"), "{found:?}");
    // Only step 1's warnings: the draft has no ad group, which step 2 would report.
    assert!(found.iter().all(|(path, _)| !path.starts_with("ad_groups")));

    // `null` clears a nullable field; fields left out keep theirs.
    let answer = world
        .patch("/campaign-settings", json!({"campaign_name": null}))
        .expect(200);
    assert_eq!(answer.body["draft"]["campaign_name"], Value::Null);
    assert_eq!(answer.body["draft"]["daily_budget_micros"], 0);
    assert!(has(&warnings(&answer), "campaign_name", "REQUIRED"));
    assert_eq!(world.draft(), answer.body["draft"]);
}

#[test]
fn wrong_types_unknown_enums_and_missing_fields_are_422_and_store_nothing() {
    let world = World::new(false);
    let (group, keywords) = world.shoes();
    let before = world.draft();
    world
        .patch("/campaign-settings", json!({"daily_budget_micros": "lots"}))
        .expect_invalid("daily_budget_micros", "type_error");
    world
        .patch(
            "/campaign-settings",
            json!({"campaign_name": "ok", "default_match_type": "SOMETIMES"}),
        )
        .expect_invalid("default_match_type", "enum");
    world
        .patch("/campaign-settings", json!({"name": null}))
        .expect_invalid("name", "type_error");
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [{"id": group, "keywords": []}]}),
        )
        .expect(422);
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "ad_groups", 0, "name"])
    );
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [{"id": group, "name": "Shoes", "keywords":
                   [{"id": keywords[0], "text": "x", "match_type": "ALWAYS"}]}]}),
        )
        .expect(422);
    assert_eq!(answer.body["detail"][0]["type"], "enum");
    let answer = world
        .patch(
            "/ads",
            json!({"rsas": [{"ad_group_id": group, "headlines": "Buy shoes",
                             "descriptions": []}]}),
        )
        .expect(422);
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "rsas", 0, "headlines"])
    );
    world
        .patch(
            "/extensions",
            json!({"callouts": [{"text": "Free returns"}]}),
        )
        .expect(422);
    // A list item must be an object, not its fields in an array.
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [[group, "Shoes", null, []]]}),
        )
        .expect(422);
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "ad_groups", 0])
    );
    world
        .put(&format!("/ad-groups/{group}"), json!({"name": 7}))
        .expect_invalid("name", "type_error");
    world
        .post(&format!("/ad-groups/{group}/keywords"), json!({}))
        .expect_invalid("text", "missing");
    assert_eq!(world.draft(), before);
}

#[test]
fn the_match_type_flag_rewrites_the_previous_default_or_every_keyword() {
    let world = World::new(false);
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [{"name": "Shoes", "keywords": [
                {"text": "running shoes"}, {"text": "trail shoes", "match_type": "EXACT"}]}]}),
        )
        .expect(200);
    let types = |draft: &Value| -> Vec<Value> {
        draft["ad_groups"][0]["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["match_type"].clone())
            .collect()
    };
    assert_eq!(
        types(&answer.body["draft"]),
        [json!("BROAD"), json!("EXACT")]
    );

    let answer = world
        .patch(
            "/campaign-settings",
            json!({"default_match_type": "PHRASE"}),
        )
        .expect(200);
    assert_eq!(answer.body["draft"]["default_match_type"], "PHRASE");
    assert_eq!(
        types(&answer.body["draft"]),
        [json!("PHRASE"), json!("EXACT")]
    );

    let answer = world
        .patch(
            "/campaign-settings?apply_to_all_keywords=true",
            json!({"default_match_type": "BROAD"}),
        )
        .expect(200);
    assert_eq!(
        types(&answer.body["draft"]),
        [json!("BROAD"), json!("BROAD")]
    );

    // A new keyword takes the default.
    let answer = world
        .patch("/campaign-settings", json!({"default_match_type": "EXACT"}))
        .expect(200);
    let group = answer.body["draft"]["ad_groups"][0]["id"].as_i64().unwrap();
    let answer = world
        .post(
            &format!("/ad-groups/{group}/keywords"),
            json!({"text": "shoes"}),
        )
        .expect(200);
    assert_eq!(
        types(&answer.body["draft"]),
        [json!("EXACT"), json!("EXACT"), json!("EXACT")]
    );
}

#[test]
fn step_two_replaces_ad_groups_and_keywords_by_id() {
    let world = World::new(false);
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [
                {"name": "Shoes", "cpc_bid_micros": 1_500_000, "keywords": [
                    {"text": "running shoes", "cpc_bid_micros": 900_000},
                    {"text": "trail shoes"}]},
                {"name": "Socks", "keywords": []}]}),
        )
        .expect(200);
    let draft = &answer.body["draft"];
    let groups = draft["ad_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["cpc_bid_micros"], 1_500_000);
    assert!(has(&warnings(&answer), "ad_groups[1].keywords", "TOO_FEW"));
    let shoes = groups[0]["id"].as_i64().unwrap();
    let running = groups[0]["keywords"][0]["id"].as_i64().unwrap();

    // Shoes kept (renamed, its bid left out: kept), running kept with a new text and its bid
    // left out (kept), trail left out (deleted), a new keyword; Socks left out (deleted).
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [
                {"name": "Boots", "keywords": [{"text": "hiking boots"}]},
                {"id": shoes, "name": "Running shoes", "keywords": [
                    {"id": running, "text": "running shoes sale"},
                    {"text": "fast shoes", "final_url": "https://acme.example/fast"}]}]}),
        )
        .expect(200);
    let groups = answer.body["draft"]["ad_groups"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Boots", "Running shoes"]);
    assert_eq!(groups[1]["id"], shoes);
    assert_eq!(groups[1]["cpc_bid_micros"], 1_500_000);
    let keywords = groups[1]["keywords"].as_array().unwrap();
    assert_eq!(keywords.len(), 2);
    assert_eq!(keywords[0]["id"], running);
    assert_eq!(keywords[0]["text"], "running shoes sale");
    assert_eq!(keywords[0]["cpc_bid_micros"], 900_000);
    assert_eq!(keywords[1]["final_url"], "https://acme.example/fast");
    assert_eq!(warnings(&answer), vec![]);
    assert_eq!(world.server.count("draft_keywords"), 3);

    // `null` clears a bid; an empty list deletes every ad group.
    let answer = world
        .patch(
            "/ad-groups",
            json!({"ad_groups": [{"id": shoes, "name": "Running shoes", "cpc_bid_micros": null,
                                   "keywords": []}]}),
        )
        .expect(200);
    assert_eq!(
        answer.body["draft"]["ad_groups"][0]["cpc_bid_micros"],
        Value::Null
    );
    let answer = world
        .patch("/ad-groups", json!({"ad_groups": []}))
        .expect(200);
    assert_eq!(answer.body["draft"]["ad_groups"], json!([]));
    assert_eq!(
        warnings(&answer),
        vec![("ad_groups".into(), "TOO_FEW".into())]
    );
    assert_eq!(world.server.count("draft_keywords"), 0);
}

#[test]
fn ids_of_another_draft_or_ad_group_are_422_and_change_nothing() {
    let world = World::new(false);
    let (group, keywords) = world.shoes();
    let (other_group, other_keywords) = world.shoes();
    // A draft of the same company, with its own ad group.
    let second = world.new_draft("Second");
    let theirs = world
        .server
        .post(
            &world.token,
            &format!("{DRAFTS}/{second}/ad-groups?regenerate_rsas=false"),
            &json!({"name": "Theirs", "keywords": [{"text": "their keyword"}]}),
        )
        .expect(200)
        .body["draft"]["ad_groups"][0]
        .clone();
    let their_group = theirs["id"].as_i64().unwrap();
    let their_keyword = theirs["keywords"][0]["id"].as_i64().unwrap();
    let before = world.draft();

    let cases = [
        (
            "/ad-groups",
            json!({"ad_groups": [{"id": their_group, "name": "x", "keywords": []}]}),
            json!(["body", "ad_groups", 0, "id"]),
        ),
        (
            "/ad-groups",
            json!({"ad_groups": [
                {"id": group, "name": "Shoes", "keywords": [{"id": their_keyword, "text": "x"}]}]}),
            json!(["body", "ad_groups", 0, "keywords", 0, "id"]),
        ),
        (
            // A keyword of the draft's other ad group.
            "/ad-groups",
            json!({"ad_groups": [
                {"id": group, "name": "Shoes", "keywords": [{"id": other_keywords[0], "text": "x"}]},
                {"id": other_group, "name": "Shoes", "keywords": []}]}),
            json!(["body", "ad_groups", 0, "keywords", 0, "id"]),
        ),
        (
            "/ad-groups",
            json!({"ad_groups": [
                {"id": group, "name": "a", "keywords": [{"id": keywords[0], "text": "x"}]},
                {"id": group, "name": "b", "keywords": []}]}),
            json!(["body", "ad_groups", 1, "id"]),
        ),
        (
            "/ads",
            json!({"rsas": [{"ad_group_id": their_group, "headlines": [], "descriptions": []}]}),
            json!(["body", "rsas", 0, "ad_group_id"]),
        ),
    ];
    for (step, body, loc) in cases {
        let answer = world.patch(step, body.clone()).expect(422);
        assert_eq!(answer.body["detail"][0]["loc"], loc, "{body}");
        assert_eq!(answer.body["detail"][0]["type"], "value_error");
    }
    assert_eq!(world.draft(), before);
    // An RSA of another ad group.
    let with_rsa = world
        .patch(
            "/ads",
            json!({"rsas": [{"ad_group_id": other_group, "headlines": [{"text": "Hi"}],
                             "descriptions": []}]}),
        )
        .expect(200);
    let rsa = with_rsa.body["draft"]["ad_groups"][1]["rsas"][0]["id"].clone();
    let before_rsa = world.draft();
    let answer = world
        .patch(
            "/ads",
            json!({"rsas": [{"id": rsa, "ad_group_id": group, "headlines": [],
                             "descriptions": []}]}),
        )
        .expect(422);
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "rsas", 0, "id"])
    );
    assert_eq!(world.draft(), before_rsa);

    // In a path, an ad group or keyword that is not the draft's is 404.
    world
        .put(&format!("/ad-groups/{their_group}"), json!({"name": "x"}))
        .expect_detail(404, "Ad group not found");
    world
        .post(
            &format!("/ad-groups/{their_group}/keywords"),
            json!({"text": "x"}),
        )
        .expect(404);
    world
        .delete(&format!(
            "/ad-groups/{group}/keywords/{}",
            other_keywords[0]
        ))
        .expect_detail(404, "Keyword not found");
    world
        .put(
            &format!("/ad-groups/{group}/keywords/{their_keyword}"),
            json!({"text": "x"}),
        )
        .expect(404);
    assert_eq!(world.draft(), before_rsa);
}

#[test]
fn step_three_saves_rsas_under_their_ad_group_and_replaces_them_per_ad_group() {
    let world = World::new(false);
    let (shoes, _) = world.shoes();
    let (socks, _) = world.shoes();
    let long = "é".repeat(31);
    let answer = world
        .patch(
            "/ads",
            json!({"rsas": [
                {"ad_group_id": shoes, "headlines": [{"text": "Buy shoes"},
                    {"text": long, "pinned_position": 1}],
                 "descriptions": [{"text": "Great shoes."}, {"text": "Free returns."}],
                 "path1": "shoes", "final_url": "https://acme.example/shoes"},
                {"ad_group_id": socks, "headlines": [{"text": "a"}, {"text": "b"}, {"text": "c"}],
                 "descriptions": [{"text": "d"}, {"text": "e"}]}]}),
        )
        .expect(200);
    let groups = answer.body["draft"]["ad_groups"]
        .as_array()
        .unwrap()
        .clone();
    let rsa = &groups[0]["rsas"][0];
    assert_eq!(rsa["ad_group_id"], shoes);
    assert_eq!(
        rsa["headlines"][1],
        json!({"text": long, "pinned_position": 1})
    );
    assert_eq!(rsa["path1"], "shoes");
    assert_eq!(rsa["status"], "not_started");
    let found = warnings(&answer);
    assert_eq!(
        found,
        vec![
            ("ad_groups[0].rsas[0].headlines".into(), "TOO_FEW".into()),
            (
                "ad_groups[0].rsas[0].headlines[1].text".into(),
                "TOO_LONG".into()
            ),
        ]
    );
    // 30 characters of two bytes each are not too long.
    let thirty = "é".repeat(30);
    let first = rsa["id"].clone();
    let answer = world
        .patch(
            "/ads",
            json!({"rsas": [
                {"ad_group_id": shoes, "headlines": [{"text": "a"}, {"text": "b"}, {"text": thirty}],
                 "descriptions": [{"text": "d"}, {"text": "e"}]},
                {"id": first, "ad_group_id": shoes, "headlines": [{"text": "a"}, {"text": "b"},
                    {"text": "c"}], "descriptions": [{"text": "d"}, {"text": "e"}]}]}),
        )
        .expect(200);
    assert_eq!(warnings(&answer), vec![]);
    let groups = answer.body["draft"]["ad_groups"]
        .as_array()
        .unwrap()
        .clone();
    let rsas = groups[0]["rsas"].as_array().unwrap();
    assert_eq!(rsas.len(), 2);
    assert_eq!(rsas[1]["id"], first, "in the order sent");
    // Socks was not named: its RSA stays.
    assert_eq!(groups[1]["rsas"].as_array().unwrap().len(), 1);
    // Naming shoes with only the new one deletes the other.
    let second = rsas[0].clone();
    let answer = world.patch("/ads", json!({"rsas": [second]})).expect(200);
    assert_eq!(
        answer.body["draft"]["ad_groups"][0]["rsas"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn step_four_replaces_each_list_sent() {
    let world = World::new(false);
    let answer = world
        .patch(
            "/extensions",
            json!({"sitelinks": [{"link_text": "Returns", "final_url": "https://acme.example/r",
                                  "description_1": "Free", "description_2": "30 days"}],
                   "callouts": [{"callout_text": "Free shipping"},
                                {"callout_text": "Thirty-day free returns policy"}],
                   "phone": {"phone_number": "+33123456789", "country_code": "FR"},
                   "structured_snippets": [{"header": "Brands", "values": ["A", "B", "C"]}]}),
        )
        .expect(200);
    let extensions = &answer.body["draft"]["extensions"];
    assert_eq!(extensions["sitelinks"][0]["link_text"], "Returns");
    assert_eq!(extensions["sitelinks"][0]["final_mobile_url"], Value::Null);
    assert_eq!(extensions["callouts"].as_array().unwrap().len(), 2);
    assert_eq!(extensions["phone"]["country_code"], "FR");
    assert_eq!(
        warnings(&answer),
        vec![(
            "extensions.callouts[1].callout_text".into(),
            "TOO_LONG".into()
        )]
    );

    let answer = world
        .patch("/extensions", json!({"callouts": []}))
        .expect(200);
    let extensions = &answer.body["draft"]["extensions"];
    assert_eq!(extensions["callouts"], json!([]));
    assert_eq!(extensions["sitelinks"].as_array().unwrap().len(), 1);
    assert_eq!(extensions["phone"]["phone_number"], "+33123456789");
    assert_eq!(warnings(&answer), vec![]);

    let answer = world
        .patch("/extensions", json!({"phone": null}))
        .expect(200);
    assert_eq!(answer.body["draft"]["extensions"]["phone"], Value::Null);
    assert_eq!(
        answer.body["draft"]["extensions"]["structured_snippets"][0]["values"],
        json!(["A", "B", "C"])
    );
}

#[test]
fn validate_reports_google_limits_as_errors_and_always_answers_200() {
    let world = World::new(false);
    let answer = world.post("/validate", json!({})).expect(200);
    assert_eq!(answer.body["valid"], false);
    let fields: Vec<(&str, &str)> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(
        fields.contains(&("daily_budget_micros", "REQUIRED")),
        "{fields:?}"
    );
    assert!(fields.contains(&("ad_groups", "TOO_FEW")), "{fields:?}");
    assert_eq!(answer.body["draft"], world.draft());

    world
        .patch(
            "/campaign-settings",
            json!({"campaign_name": "Spring", "website_url": "https://acme.example",
                   "daily_budget_micros": 20_000_000}),
        )
        .expect(200);
    let (group, _) = world.shoes();
    let rsa = json!({"ad_group_id": group,
        "headlines": [{"text": "Buy shoes"}, {"text": "Shoes on sale"}, {"text": "Acme shoes"}],
        "descriptions": [{"text": "Great shoes."}, {"text": "Free returns."}]});
    world.patch("/ads", json!({"rsas": [rsa]})).expect(200);
    let answer = world.post("/validate", json!({})).expect(200);
    assert_eq!(answer.body["errors"], json!([]));
    assert_eq!(answer.body["valid"], true);
    assert!(answer.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));

    // One headline too long is an error; the draft keeps it.
    let mut long = rsa.clone();
    long["headlines"][0]["text"] = json!("x".repeat(31));
    world.patch("/ads", json!({"rsas": [long]})).expect(200);
    let answer = world.post("/validate", json!({})).expect(200);
    assert_eq!(answer.body["valid"], false);
    assert_eq!(
        answer.body["errors"][0]["field"],
        "ad_groups[0].rsas[0].headlines[0].text"
    );
    assert_eq!(answer.body["errors"][0]["code"], "TOO_LONG");
}

#[test]
fn another_companys_draft_is_404_and_unchanged() {
    let world = World::new(false);
    let (group, keywords) = world.shoes();
    let outsider = world.server.user("outsider@example.com", false);
    let before = world.draft();
    let path = |rest: &str| world.path(rest);
    let server = &world.server;
    for (step, body) in [
        ("/campaign-settings", json!({"name": "Mine"})),
        ("/ad-groups", json!({"ad_groups": []})),
        ("/ads", json!({"rsas": []})),
        ("/extensions", json!({"callouts": []})),
    ] {
        server
            .patch(&outsider, &path(step), &body)
            .expect_detail(404, "Campaign draft not found");
    }
    server
        .post(&outsider, &path("/validate"), &json!({}))
        .expect(404);
    server
        .post(&outsider, &path("/ad-groups"), &json!({"name": "x"}))
        .expect(404);
    server
        .post(
            &outsider,
            &path(&format!("/ad-groups/{group}/keywords")),
            &json!({"text": "x"}),
        )
        .expect(404);
    server
        .delete(
            &outsider,
            &path(&format!("/ad-groups/{group}/keywords/{}", keywords[0])),
        )
        .expect(404);
    assert_eq!(world.draft(), before);
}

#[test]
fn step_two_regenerates_only_for_names_and_keyword_texts() {
    let world = World::new(true);
    // A new ad group without keywords: nothing to write ads about.
    assert!(!world.queues(|w| w.patch(
        "/ad-groups",
        json!({"ad_groups": [{"name": "Shoes", "keywords": []}]})
    )));
    let group = world.draft()["ad_groups"][0]["id"].as_i64().unwrap();
    let body = |name: &str, keywords: Value| json!({"ad_groups": [{"id": group, "name": name, "keywords": keywords}]});
    assert!(world.queues(|w| w.patch(
        "/ad-groups",
        body("Shoes", json!([{"text": "running shoes"}]))
    )));
    let draft = world.draft();
    assert_eq!(draft["ad_groups"][0]["rsas"].as_array().unwrap().len(), 3);
    let keyword = draft["ad_groups"][0]["keywords"][0]["id"].clone();
    // Bids, match types and final URLs do not.
    assert!(!world.queues(|w| {
        let mut body = body(
            "Shoes",
            json!([{"id": keyword, "text": "running shoes", "match_type": "EXACT",
                    "cpc_bid_micros": 5, "final_url": "https://acme.example"}]),
        );
        body["ad_groups"][0]["cpc_bid_micros"] = json!(7);
        w.patch("/ad-groups", body)
    }));
    // A keyword's text, a keyword added or removed, and a new name do.
    assert!(world.queues(|w| w.patch(
        "/ad-groups",
        body("Shoes", json!([{"id": keyword, "text": "fast shoes"}]))
    )));
    assert!(world.queues(|w| w.patch(
        "/ad-groups",
        body(
            "Shoes",
            json!([{"id": keyword, "text": "fast shoes"}, {"text": "new"}])
        )
    )));
    assert!(world.queues(|w| w.patch(
        "/ad-groups",
        body("Shoes", json!([{"id": keyword, "text": "fast shoes"}]))
    )));
    assert!(world.queues(|w| w.patch(
        "/ad-groups",
        body("Boots", json!([{"id": keyword, "text": "fast shoes"}]))
    )));
    // Not with regenerate_rsas=false.
    assert!(!world.queues(|w| w.patch(
        "/ad-groups?regenerate_rsas=false",
        body("Sandals", json!([{"text": "other"}]))
    )));
    // Still three RSAs: a refresh fills the same ones again.
    assert_eq!(
        world.draft()["ad_groups"][0]["rsas"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn ad_group_and_keyword_routes_regenerate_as_the_guide_lists() {
    let world = World::new(true);
    assert!(!world.queues(|w| w.post("/ad-groups", json!({"name": "Empty"}))));
    assert!(world.queues(|w| w.post(
        "/ad-groups",
        json!({"name": "Shoes", "keywords": [{"text": "running shoes"}]})
    )));
    let draft = world.draft();
    let group = draft["ad_groups"][1]["id"].as_i64().unwrap();
    let keyword = draft["ad_groups"][1]["keywords"][0]["id"].as_i64().unwrap();
    let group_path = format!("/ad-groups/{group}");
    let keyword_path = format!("/ad-groups/{group}/keywords/{keyword}");

    assert!(!world.queues(|w| w.put(&group_path, json!({"cpc_bid_micros": 1_000_000}))));
    assert!(!world.queues(|w| w.put(&group_path, json!({"name": "Shoes"}))));
    assert!(world.queues(|w| w.put(&group_path, json!({"name": "Running shoes"}))));
    assert!(!world.queues(|w| w.put(
        &format!("{group_path}?regenerate_rsas=false"),
        json!({"name": "Shoes"})
    )));

    assert!(world.queues(|w| w.post(
        &format!("{group_path}/keywords"),
        json!({"text": "trail shoes"})
    )));
    assert!(!world.queues(|w| w.post(
        &format!("{group_path}/keywords?regenerate_rsas=false"),
        json!({"text": "hiking shoes"})
    )));
    assert!(!world.queues(|w| w.put(
        &keyword_path,
        json!({"match_type": "PHRASE", "cpc_bid_micros": 3, "final_url": "https://a.example"})
    )));
    assert!(!world.queues(|w| w.put(&keyword_path, json!({"text": "running shoes"}))));
    assert!(world.queues(|w| w.put(&keyword_path, json!({"text": "sprint shoes"}))));
    let answer = world
        .put(&keyword_path, json!({"cpc_bid_micros": null}))
        .expect(200);
    let saved = &answer.body["draft"]["ad_groups"][1]["keywords"][0];
    assert_eq!(
        (
            &saved["text"],
            &saved["match_type"],
            &saved["cpc_bid_micros"]
        ),
        (&json!("sprint shoes"), &json!("PHRASE"), &Value::Null)
    );
    assert!(world.queues(|w| w.delete(&keyword_path)));
    let draft = world.draft();
    let texts: Vec<&str> = draft["ad_groups"][1]["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["trail shoes", "hiking shoes"]);
    let other = draft["ad_groups"][1]["keywords"][0]["id"].as_i64().unwrap();
    assert!(!world.queues(|w| w.delete(&format!(
        "{group_path}/keywords/{other}?regenerate_rsas=false"
    ))));
}

#[test]
fn without_a_model_edits_save_and_queue_nothing() {
    let world = World::new(false);
    let answer = world
        .post(
            "/ad-groups",
            json!({"name": "Shoes", "keywords": [{"text": "running shoes"}]}),
        )
        .expect(200);
    assert_eq!(answer.body["draft"]["ad_groups"][0]["rsas"], json!([]));
    assert!(world.rsa_tasks().is_empty());
    assert_eq!(world.server.count("generation_tasks"), 0);
}

#[test]
fn a_persons_rsa_edit_is_not_taken_by_a_refresh() {
    let world = World::new(true);
    // The generation worker would otherwise fill the RSAs before the person's edit below when
    // the machine is busy: the stand-in's answers come too late for that.
    let late = crate::fake_llm::Answer::text("{}").after(std::time::Duration::from_secs(60));
    if let Some(llm) = &world._llm {
        llm.script(std::iter::repeat_n(late, 6));
    }
    world
        .post(
            "/ad-groups",
            json!({"name": "Shoes", "keywords": [{"text": "running shoes"}]}),
        )
        .expect(200);
    let draft = world.draft();
    let group = draft["ad_groups"][0]["id"].as_i64().unwrap();
    let rsas = draft["ad_groups"][0]["rsas"].as_array().unwrap().clone();
    assert_eq!(rsas.len(), 3);
    // The person rewrites the first RSA and sends the other two unchanged.
    let mut sent: Vec<Value> = rsas
        .iter()
        .map(|rsa| {
            json!({"id": rsa["id"], "ad_group_id": group, "headlines": rsa["headlines"],
                   "descriptions": rsa["descriptions"], "path1": rsa["path1"],
                   "path2": rsa["path2"], "final_url": rsa["final_url"]})
        })
        .collect();
    sent[0]["headlines"] = json!([{"text": "Mine"}, {"text": "All mine"}, {"text": "Hands off"}]);
    let answer = world.patch("/ads", json!({"rsas": sent})).expect(200);
    let saved = answer.body["draft"]["ad_groups"][0]["rsas"].clone();
    assert_eq!(saved[0]["status"], "not_started");
    // Sent unchanged, it still waits for its generation (the worker may have claimed it meanwhile).
    let waiting = saved[1]["status"].as_str().unwrap();
    assert!(
        ["pending", "in_progress"].contains(&waiting),
        "unchanged: untouched, {waiting}"
    );
    let status = world
        .server
        .get(&world.token, &world.path("/generation-status"))
        .expect(200)
        .body;
    assert_eq!(status["rsas"][0]["task_id"], Value::Null);
    let untouched = status["rsas"][1]["task_id"].clone();
    assert!(untouched.is_string());

    // A rename refreshes the other two, not the person's.
    assert!(world.queues(|w| w.put(&format!("/ad-groups/{group}"), json!({"name": "Boots"}))));
    let status = world
        .server
        .get(&world.token, &world.path("/generation-status"))
        .expect(200)
        .body;
    assert_eq!(status["rsas"][0]["task_id"], Value::Null);
    assert_ne!(status["rsas"][1]["task_id"], untouched);
    assert_eq!(status["rsas"][1]["task_id"], status["rsas"][2]["task_id"]);
    assert_eq!(
        world.draft()["ad_groups"][0]["rsas"][0]["headlines"],
        json!([{"text": "Mine", "pinned_position": null}, {"text": "All mine", "pinned_position": null},
               {"text": "Hands off", "pinned_position": null}])
    );
}

#[test]
fn the_document_names_the_step_answers_as_published() {
    let server = Server::start();
    let document = server.openapi_document();
    let answer = |path: &str, method: &str| {
        document["paths"][format!("{DRAFTS}{path}")][method]["responses"]["200"]["content"]
            ["application/json; charset=utf-8"]["schema"]["$ref"]
            .clone()
    };
    for step in ["campaign-settings", "ad-groups", "ads", "extensions"] {
        assert_eq!(
            answer(&format!("/{{draft_id}}/{step}"), "patch"),
            "#/components/schemas/DraftStepResponseSchema",
            "{step}"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["DraftStepResponseSchema"]["properties"]["warnings"]["items"]["$ref"],
        "#/components/schemas/ValidationErrorSchema"
    );
    let validation = answer("/{draft_id}/validate", "post");
    let name = validation.as_str().unwrap().rsplit('/').next().unwrap();
    let mut fields: Vec<&String> = schemas[name]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    fields.sort();
    assert_eq!(fields, ["draft", "errors", "valid", "warnings"]);
    let flag = &document["paths"][format!("{DRAFTS}/{{draft_id}}/campaign-settings")]["patch"]
        ["parameters"];
    assert!(flag.to_string().contains("apply_to_all_keywords"), "{flag}");
}
