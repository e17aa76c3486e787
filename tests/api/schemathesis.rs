//! schemathesis (property-based testing from the OpenAPI document, pinned in
//! tests/setup/schemathesis.sh) against the real binary, signed in, over every operation:
//! no 5xx, every answer's status, content type, headers and body as documented, invalid input
//! refused, valid input accepted, authentication not ignored.
//!
//! Phases: examples, coverage and fuzzing. Not stateful: the document has no OpenAPI links, and
//! the links schemathesis infers feed an assistant id ("asst_general") into the integer
//! `company_id` and then report our 422 as a rejected valid request.
//!
//! Bounded for CI: ADTHREAD_SCHEMATHESIS_MAX_EXAMPLES cases per operation and phase (default 25),
//! seed ADTHREAD_SCHEMATHESIS_SEED (default 1; printed, so a failure can be replayed).

use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

use crate::harness::{Server, CUSTOMER_ID, LOCATION_ID};

const SCHEMATHESIS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/schemathesis/bin/st");

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Values schemathesis mixes into what it generates, so that it also reaches past the
/// "not found" of random ids into each operation's own logic. An `email` in a body names a
/// user (a new member): no schema can say "an existing user's", so valid cases always use one.
fn config(company: i64, thread: &str, draft: &Value, email: &str) -> String {
    let ad_group = &draft["ad_groups"][0];
    let (draft, keyword) = (&draft["id"], &ad_group["keywords"][0]["id"]);
    let ad_group = &ad_group["id"];
    format!(
        r#"
[dictionaries.companies]
values = [{company}]
[dictionaries.threads]
values = ["{thread}"]
[dictionaries.customers]
values = [{CUSTOMER_ID}]
[dictionaries.locations]
values = ["{LOCATION_ID}"]
[dictionaries.drafts]
values = [{draft}]
[dictionaries.ad_groups]
values = [{ad_group}]
[dictionaries.keywords]
values = [{keyword}]
[dictionaries.market_analyses]
values = [{company}]
[dictionaries.emails]
values = ["{email}"]

[parameters]
company_id = {{ dictionary = "companies", probability = 0.6 }}
thread_id = {{ dictionary = "threads", probability = 0.6 }}
customer_id = {{ dictionary = "customers", probability = 0.5 }}
location_id = {{ dictionary = "locations", probability = 0.5 }}
draft_id = {{ dictionary = "drafts", probability = 0.6 }}
ad_group_id = {{ dictionary = "ad_groups", probability = 0.6 }}
keyword_id = {{ dictionary = "keywords", probability = 0.6 }}
"body.ad_group_id" = {{ dictionary = "ad_groups", probability = 0.6 }}
market_analysis_id = {{ dictionary = "market_analyses", probability = 0.6 }}
google_ads_customer_id = {{ dictionary = "customers", probability = 0.5 }}
"body.google_ads_customer_id" = {{ dictionary = "customers", probability = 0.6 }}
"body.email" = {{ dictionary = "emails", probability = 1.0 }}

# Steps 2 and 3 name the draft's ad groups, keywords and RSAs by id inside their lists, and an id
# that is not the draft's is 422 (docs/api.md): no schema can say "an id of this draft", so a
# valid-looking body may be refused there.
[[operations]]
include-path-regex = "^/api/v1/campaigns/drafts/\\{{draft_id\\}}/(ad-groups|ads)$"
include-method = "PATCH"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429", "5xx"]
"#
    )
}

/// Runs schemathesis over the operations `filter` selects; returns how many cases it ran.
fn run(server: &Server, token: &str, filter: &[&str]) -> u64 {
    let max_examples = setting("ADTHREAD_SCHEMATHESIS_MAX_EXAMPLES", 25);
    let seed = setting("ADTHREAD_SCHEMATHESIS_SEED", 1);
    let config = server.dir.path().join("schemathesis.toml");
    let started = Instant::now();
    let output = Command::new(SCHEMATHESIS)
        .current_dir(server.dir.path())
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(server.url("/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &max_examples.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--workers", "1", "--no-color"])
        .args(filter)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {SCHEMATHESIS} ({err}); run tests/setup/schemathesis.sh first")
        });
    let report = String::from_utf8_lossy(&output.stdout);
    // The summary's "1197 generated, 1197 passed".
    let cases = report
        .lines()
        .filter_map(|line| line.trim().split_once(" generated, "))
        .find_map(|(count, _)| count.parse().ok())
        .unwrap_or(0);
    eprintln!(
        "schemathesis {filter:?}: {cases} cases, {max_examples} per operation, seed {seed}, {:.0?}",
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "schemathesis found problems (seed {seed}):\n{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    cases
}

#[test]
fn schemathesis_finds_nothing_over_every_operation() {
    // Messages to assistants other than onboarding need a model: the stand-in answers them.
    let llm = crate::fake_llm::FakeLlm::start();
    let server = Server::start_with(&[("ADTHREAD_LLM_BASE_URL", &llm.base_url)]);
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Fuzzed");
    let thread = server
        .post(
            &admin,
            &format!("/api/v1/chat/threads?company_id={company}"),
            &json!({"assistant_type": "general"}),
        )
        .expect(200);
    let draft = server
        .post(
            &admin,
            &format!("/api/v1/campaigns/drafts?company_id={company}"),
            &json!({"name": "Fuzzed draft", "google_ads_customer_id": CUSTOMER_ID,
                    "market_analysis_id": company}),
        )
        .expect(200);
    server.link_draft_to_thread(&draft.body["id"], &thread.body["thread_id"]);
    let draft = server
        .post(
            &admin,
            &format!(
                "/api/v1/campaigns/drafts/{}/ad-groups?regenerate_rsas=false",
                draft.body["id"]
            ),
            &json!({"name": "Fuzzed ad group", "keywords": [{"text": "fuzzed keyword"}]}),
        )
        .expect(200);
    server.user("member@example.com", false);
    std::fs::write(
        server.dir.path().join("schemathesis.toml"),
        config(
            company,
            thread.body["thread_id"].as_str().unwrap(),
            &draft.body["draft"],
            "member@example.com",
        ),
    )
    .unwrap();

    // Signing out, and an administrator changing or deactivating a user (possibly itself),
    // revoke the token the other cases use: each runs on its own, last, with its own token,
    // signed in before any of them could change the password.
    let sign_out_token = server.admin_token();
    let user_admin_token = server.admin_token();
    let (sign_out, user_admin) = ("/api/v1/auth/logout", "^/api/v1/users/\\{user_id\\}$");
    let mut cases = run(
        &server,
        &admin,
        &[
            "--exclude-path",
            sign_out,
            "--exclude-path-regex",
            user_admin,
        ],
    );
    cases += run(&server, &sign_out_token, &["--include-path", sign_out]);
    cases += run(
        &server,
        &user_admin_token,
        &["--include-path-regex", user_admin],
    );
    assert!(cases > 500, "only {cases} cases ran");
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn what_schemathesis_found_stays_fixed() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company(&token, "Fixed");

    // A 405 says which methods the path has.
    let trace = server
        .client
        .request(reqwest::Method::TRACE, server.url("/api/v1/companies"))
        .send()
        .unwrap();
    assert_eq!(trace.status(), 405);
    assert_eq!(trace.headers()["allow"], "GET, HEAD, POST");

    // `null` for a field the document does not mark nullable is refused, not taken as absent.
    let customers = format!("/api/v1/companies/{company}/google-ads-customers");
    for field in ["manager", "is_active", "is_deleted"] {
        let answer = server
            .post(&token, &customers, &json!({"id": 5, field: null}))
            .expect(422);
        assert_eq!(answer.body["detail"][0]["loc"], json!(["body", field]));
    }
    let threads = format!("/api/v1/chat/threads?company_id={company}");
    server
        .post(
            &token,
            &threads,
            &json!({"assistant_type": "general", "extra_data": null}),
        )
        .expect(422);
    let thread = server
        .post(&token, &threads, &json!({"assistant_type": "general"}))
        .expect(200);
    let path = format!(
        "/api/v1/chat/threads/{}",
        thread.body["thread_id"].as_str().unwrap()
    );
    for field in ["is_completed", "extra_data"] {
        server
            .patch(&token, &path, &json!({ field: null }))
            .expect(422);
    }

    // A name is 1 to 200 characters as sent, whitespace included.
    let long = format!("\u{c}{}", "n".repeat(200));
    server
        .post(&token, "/api/v1/companies", &json!({ "name": long }))
        .expect(422);
    let kept = server
        .post(&token, "/api/v1/companies", &json!({"name": " "}))
        .expect(200);
    assert_eq!(kept.body["name"], " ");

    // A body the document describes as an object is one: serde would fill a struct from an
    // array, field by field.
    let refused = server
        .patch(&token, "/api/v1/users/me", &json!([null, null]))
        .expect(422);
    assert_eq!(refused.body["detail"][0]["loc"], json!(["body"]));
    // `is_admin` is optional, as documented; `is_active` is not nullable.
    let created = server
        .post(
            &token,
            "/api/v1/users",
            &json!({"email": "new@example.com", "password": "long enough"}),
        )
        .expect(200);
    assert_eq!(created.body["is_admin"], false);
    let user = format!("/api/v1/users/{}", created.body["id"]);
    server
        .patch(&token, &user, &json!({"is_active": null}))
        .expect(422);

    // `address_lines` is required, as documented.
    let answer = server
        .post(
            &token,
            &format!("/api/v1/companies/{company}/google-business-locations"),
            &json!({"id": "locations/1", "storefront_address": {}}),
        )
        .expect(422);
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "storefront_address", "address_lines"])
    );

    // Any cursor of the documented shape is a position; anything else is refused.
    server
        .get(&token, &format!("{threads}&cursor=00000000000000ff"))
        .expect(200);
    server
        .get(&token, &format!("{threads}&cursor=ffffffffffffffff"))
        .expect(200);
    server
        .get(&token, &format!("{threads}&cursor="))
        .expect(422);
}
