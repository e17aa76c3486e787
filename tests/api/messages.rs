//! Chat messages without a model: the built-in onboarding interview, paging, and the checks
//! every message goes through.

use serde_json::{json, Value};

use crate::harness::Server;

fn messages_path(thread: &str) -> String {
    format!("/api/v1/chat/{thread}/messages")
}

fn say(server: &Server, token: &str, thread: &str, content: &str) -> Value {
    server
        .post(
            token,
            &messages_path(thread),
            &json!({"role": "user", "content": content}),
        )
        .expect(200)
        .body
}

fn contents(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

const ANSWERS: [&str; 7] = [
    "We bake bread and cakes",
    "https://acme.example",
    "Sourdough, croissants, wedding cakes",
    "Families and cafés nearby",
    "Paris 1er and 2e",
    "800 EUR",
    "More visits to the shop",
];

#[test]
fn the_offline_onboarding_interview_fills_the_profile_and_completes_the_thread() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme Bakery");
    let thread = server.thread(&token, company, "onboarding", json!({}));
    let list = format!("/api/v1/chat/threads?company_id={company}");
    assert_eq!(
        server.get(&token, &list).expect(200).body[0]["is_completed"],
        false
    );

    let first = say(&server, &token, &thread, "Hello");
    let first = first.as_array().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["role"], "user");
    assert_eq!(first[0]["content"], "Hello");
    assert_eq!(first[0]["frontend_actions"], json!([]));
    assert_eq!(first[1]["role"], "assistant");
    assert!(first[1]["content"]
        .as_str()
        .unwrap()
        .contains("What does your business do?"));
    assert_eq!(
        first[1]["frontend_actions"],
        json!(["disable_submit_button"])
    );

    for (n, answer) in ANSWERS.iter().enumerate() {
        let reply = say(&server, &token, &thread, answer)[1].clone();
        if n + 1 < ANSWERS.len() {
            assert_eq!(reply["frontend_actions"], json!(["disable_submit_button"]));
            assert!(
                reply["content"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{}/7.", n + 2)),
                "{reply}"
            );
        } else {
            assert_eq!(reply["frontend_actions"], json!(["enable_submit_button"]));
            let summary = reply["content"].as_str().unwrap();
            for answer in ANSWERS {
                assert!(
                    summary.contains(answer),
                    "summary lacks {answer}: {summary}"
                );
            }
        }
    }

    let profile = server
        .get(&token, &format!("/api/v1/companies/{company}/profile"))
        .expect(200)
        .body;
    assert_eq!(profile["company_id"], company);
    assert_eq!(profile["profile"]["business_description"], ANSWERS[0]);
    assert_eq!(profile["profile"]["website"], ANSWERS[1]);
    assert_eq!(profile["profile"]["monthly_budget"], ANSWERS[5]);
    assert_eq!(profile["profile"]["goals"], ANSWERS[6]);
    assert!(profile["date_updated"].is_string());

    let thread_now = server
        .get(&token, &format!("/api/v1/chat/threads/{thread}"))
        .expect(200)
        .body;
    assert_eq!(thread_now["is_completed"], true);
    let listed = server.get(&token, &list).expect(200).body;
    assert_eq!(
        listed[0]["is_completed"], true,
        "the thread list shows the completion"
    );
    assert_eq!(listed[0]["date_updated"], thread_now["date_updated"]);

    let all = server.get(&token, &messages_path(&thread)).expect(200).body;
    assert_eq!(all.as_array().unwrap().len(), 16);
    assert_eq!(contents(&all)[0], "Hello");
    assert_eq!(contents(&all)[14], ANSWERS[6]);

    // A completed thread takes no more messages until it is reopened.
    let refused = server.post(
        &token,
        &messages_path(&thread),
        &json!({"role": "user", "content": "one more thing"}),
    );
    let refused = refused.expect(409);
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("is_completed"));
    assert_eq!(
        server
            .get(&token, &messages_path(&thread))
            .body
            .as_array()
            .unwrap()
            .len(),
        16,
        "the refused message is not stored"
    );
    server
        .patch(
            &token,
            &format!("/api/v1/chat/threads/{thread}"),
            &json!({"is_completed": false}),
        )
        .expect(200);
    let again = say(&server, &token, &thread, "Let's start over");
    assert!(again[1]["content"]
        .as_str()
        .unwrap()
        .contains("What does your business do?"));
}

#[test]
fn paging_with_limit_last_n_and_offset_scrolls_back() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = server.thread(&token, company, "onboarding", json!({}));
    say(&server, &token, &thread, "m0");
    for answer in &ANSWERS[..4] {
        say(&server, &token, &thread, answer);
    }
    // 10 messages: user/assistant pairs, oldest first.
    let all = contents(&server.get(&token, &messages_path(&thread)).expect(200).body);
    assert_eq!(all.len(), 10);
    let page = |query: &str| {
        contents(
            &server
                .get(&token, &format!("{}?{query}", messages_path(&thread)))
                .expect(200)
                .body,
        )
    };
    assert_eq!(page("limit__last_n=4"), all[6..].to_vec());
    assert_eq!(page("limit__last_n=4&offset=4"), all[2..6].to_vec());
    assert_eq!(page("limit__last_n=4&offset=8"), all[..2].to_vec());
    assert_eq!(page("offset=3"), all[..7].to_vec());
    assert!(page("limit__last_n=4&offset=10").is_empty());
    assert_eq!(page("limit__last_n=0"), Vec::<String>::new());
    let bad = server
        .get(
            &token,
            &format!("{}?limit__last_n=many", messages_path(&thread)),
        )
        .expect(422);
    assert_eq!(
        bad.body["detail"][0]["loc"],
        json!(["query", "limit__last_n"])
    );
}

#[test]
fn bad_messages_are_refused_and_change_nothing() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = server.thread(&token, company, "onboarding", json!({}));
    let path = messages_path(&thread);
    let cases = [
        (json!({"role": "assistant", "content": "hi"}), "role"),
        (json!({"role": "user", "content": ""}), "content"),
        (json!({"role": "user", "content": "   "}), "content"),
        (
            json!({"role": "user", "content": "x".repeat(32_001)}),
            "content",
        ),
        (json!({"role": "user"}), "content"),
    ];
    for (body, field) in cases {
        let refused = server.post(&token, &path, &body).expect(422);
        assert_eq!(
            refused.body["detail"][0]["loc"],
            json!(["body", field]),
            "{body}"
        );
    }
    assert_eq!(server.get(&token, &path).body, json!([]));
    // The longest message accepted.
    say(&server, &token, &thread, &"é".repeat(32_000));
}

#[test]
fn other_companies_threads_do_not_exist() {
    let server = Server::start();
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Acme");
    let thread = server.thread(&admin, company, "onboarding", json!({}));
    say(&server, &admin, &thread, "Hello");
    let outsider = server.user("outsider@example.com", false);
    let path = messages_path(&thread);
    server.get(&outsider, &path).expect(404);
    server
        .post(&outsider, &path, &json!({"role": "user", "content": "hi"}))
        .expect(404);
    let (status, _) = server.post_events(
        &outsider,
        &format!("{path}/stream"),
        &json!({"role": "user", "content": "hi"}),
    );
    assert_eq!(status, 404);
    server
        .get(&outsider, &format!("/api/v1/companies/{company}/profile"))
        .expect(404);
    server
        .get(&outsider, &format!("/api/v1/companies/{company}/usage"))
        .expect(404);
    server
        .get(
            &outsider,
            &format!("/api/v1/chat/threads/{thread}/campaign-draft"),
        )
        .expect(404);
    server
        .get(&admin, "/api/v1/chat/thr_nope/messages")
        .expect(404);
    assert_eq!(server.get(&admin, &path).body.as_array().unwrap().len(), 2);
}

#[test]
fn without_a_model_only_onboarding_answers() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    for kind in ["general", "market_analysis", "campaign_creation"] {
        let thread = server.thread(&token, company, kind, json!({}));
        let path = messages_path(&thread);
        let refused = server
            .post(&token, &path, &json!({"role": "user", "content": "hi"}))
            .expect(503);
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("ADTHREAD_LLM_BASE_URL"),
            "{}",
            refused.body
        );
        let (status, _) = server.post_events(
            &token,
            &format!("{path}/stream"),
            &json!({"role": "user", "content": "hi"}),
        );
        assert_eq!(status, 503);
        assert_eq!(server.get(&token, &path).body, json!([]), "nothing stored");
    }
    let assistants = server.get(&token, "/api/v1/assistants").expect(200).body;
    let can_answer: Vec<(String, bool)> = assistants
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["assistant_type"].as_str().unwrap().to_string(),
                a["can_answer"] == true,
            )
        })
        .collect();
    assert_eq!(
        can_answer,
        vec![
            ("onboarding".into(), true),
            ("general".into(), false),
            ("market_analysis".into(), false),
            ("campaign_creation".into(), false)
        ]
    );
    assert!(assistants[1]["unavailable_reason"]
        .as_str()
        .unwrap()
        .contains("ADTHREAD_LLM_BASE_URL"));
    assert!(assistants[0]["unavailable_reason"].is_null());
}

#[test]
fn the_interview_streams_its_reply() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = server.thread(&token, company, "onboarding", json!({}));
    let (status, events) = server.post_events(
        &token,
        &format!("{}/stream", messages_path(&thread)),
        &json!({"role": "user", "content": "Hello"}),
    );
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["user_message", "delta", "assistant_message", "done"]
    );
    assert_eq!(events[0].1["content"], "Hello");
    assert_eq!(events[1].1["content"], events[2].1["content"]);
    assert_eq!(
        events[2].1["frontend_actions"],
        json!(["disable_submit_button"])
    );
    let stored = server.get(&token, &messages_path(&thread)).body;
    assert_eq!(stored[0], events[0].1);
    assert_eq!(stored[1], events[2].1);
}

#[test]
fn admins_edit_instructions_and_others_may_not() {
    let server = Server::start();
    let admin = server.admin_token();
    let member = server.user("member@example.com", false);
    let company = server.company_with_connections(&admin, "Acme");
    server.thread(&admin, company, "general", json!({}));
    let threads = format!("/api/v1/chat/threads?company_id={company}");
    let embedded =
        |server: &Server| server.get(&admin, &threads).expect(200).body[0]["assistant"].clone();
    let before = embedded(&server);
    let listed = server.get(&member, "/api/v1/assistants").expect(200).body;
    assert_eq!(listed[1]["id"], "asst_general");
    assert_eq!(listed[1]["instructions_are_default"], true);
    let default = listed[1]["instructions"].as_str().unwrap().to_string();
    assert!(!default.is_empty());
    let body = json!({"instructions": "Answer in French."});
    server
        .patch(&member, "/api/v1/assistants/asst_general", &body)
        .expect(403);
    let changed = server
        .patch(&admin, "/api/v1/assistants/asst_general", &body)
        .expect(200)
        .body;
    assert_eq!(changed["instructions"], "Answer in French.");
    assert_eq!(changed["instructions_are_default"], false);
    let after = embedded(&server);
    assert_eq!(
        after["date_updated"], changed["date_updated"],
        "thread lists show the change"
    );
    assert_ne!(after["date_updated"], before["date_updated"]);
    server
        .patch(
            &admin,
            "/api/v1/assistants/asst_general",
            &json!({"instructions": ""}),
        )
        .expect(422);
    server
        .patch(&admin, "/api/v1/assistants/asst_nope", &body)
        .expect(404);
    let restored = server
        .patch(
            &admin,
            "/api/v1/assistants/asst_general",
            &json!({"instructions": null}),
        )
        .expect(200)
        .body;
    assert_eq!(restored["instructions"], default.as_str());
    assert_eq!(restored["instructions_are_default"], true);
}

#[test]
fn the_openapi_document_describes_messages_as_published() {
    let server = Server::start();
    let document: Value = server.openapi_document();
    let messages = &document["paths"]["/api/v1/chat/{thread_id}/messages"];
    let parameters: Vec<&str> = messages["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["thread_id", "limit__last_n", "offset"]);
    assert!(messages["post"].is_object());
    let stream = &document["paths"]["/api/v1/chat/{thread_id}/messages/stream"]["post"];
    assert!(stream["responses"]["200"]["content"]["text/event-stream"].is_object());
    let description = stream["description"].as_str().unwrap();
    for event in [
        "user_message",
        "delta",
        "assistant_message",
        "done",
        "error",
    ] {
        assert!(
            description.contains(event),
            "stream description lacks {event}"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["FrontendAction"]["enum"],
        json!([
            "enable_submit_button",
            "disable_submit_button",
            "update_campaign_draft",
            "set_campaign_draft_step_1",
            "set_campaign_draft_step_2",
            "set_campaign_draft_step_3",
            "set_campaign_draft_step_4"
        ])
    );
    let mut fields: Vec<&String> = schemas["AssistantChatMessageSchema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "content",
            "date_added",
            "date_updated",
            "frontend_actions",
            "role"
        ]
    );
    let create = &schemas["AssistantChatMessageCreateSchema"]["properties"];
    assert!(create["role"].is_object() && create["content"].is_object());
}
