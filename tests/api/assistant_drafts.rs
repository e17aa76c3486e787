//! The campaign-creation assistant works on its thread's typed campaign draft, through tools
//! that edit it as the wizard's steps do; `GET /api/v1/chat/threads/{id}/campaign-draft`
//! answers that draft.

use serde_json::{json, Value};

use crate::fake_llm::Answer;
use crate::harness::{sqlite_only, Server};
use crate::llm::{say, tool_results, Chat};

fn thread_draft_path(thread: &str) -> String {
    format!("/api/v1/chat/threads/{thread}/campaign-draft")
}

#[test]
fn a_thread_without_a_draft_answers_404_and_the_model_reads_null() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.get(&thread_draft_path(&chat.thread))
        .expect_detail(404, "This chat thread has no campaign draft");
    chat.llm.script([
        Answer::tool("get_campaign_draft", json!({})),
        Answer::text("Nothing saved yet."),
    ]);
    let reply = chat.say("What do we have?")[1].clone();
    assert_eq!(reply["frontend_actions"], json!([]));
    let request = &chat.llm.received()[0];
    assert_eq!(
        request.tool_names(),
        [
            "get_thread_context",
            "get_campaign_draft",
            "update_campaign_settings",
            "set_ad_groups",
            "set_ads",
            "set_extensions",
            "complete_thread"
        ]
    );
    let read = &tool_results(&chat.llm.received()[1])[0];
    assert_eq!(read["draft"], Value::Null, "{read}");
    assert_eq!(
        chat.server.count("campaign_drafts"),
        0,
        "reading creates nothing"
    );
}

#[test]
fn another_companys_thread_draft_is_404() {
    let chat = Chat::start("campaign_creation", &[]);
    let outsider = chat.server.user("outsider@example.com", false);
    chat.server
        .get(&outsider, &thread_draft_path(&chat.thread))
        .expect_detail(404, "Chat thread not found");
    chat.server
        .get(&chat.token, &thread_draft_path("thr_nope"))
        .expect_detail(404, "Chat thread not found");
}

#[test]
fn completing_a_campaign_thread_sends_no_submit_button_action() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.llm.script([
        Answer::tool("complete_thread", json!({})),
        Answer::text("Done."),
    ]);
    let reply = chat.say("That is all")[1].clone();
    assert_eq!(reply["frontend_actions"], json!([]));
    let thread = chat
        .get(&format!("/api/v1/chat/threads/{}", chat.thread))
        .expect(200)
        .body;
    assert_eq!(thread["is_completed"], true);
}

/// A database written before the assistants used typed drafts: the thread's loose JSON draft
/// becomes a typed draft linked to it (what converts safely), and the loose JSON is kept.
#[test]
fn loose_drafts_of_older_databases_become_typed_drafts() {
    if sqlite_only("migration of a file an older version made") {
        return;
    }
    let mut server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = server.thread(
        &token,
        company,
        "campaign_creation",
        json!({"market_analysis_id": 7}),
    );
    let bare = server.thread_in(
        &token,
        company,
        json!({"assistant_type": "campaign_creation", "name": "No customer"}),
    );
    let loose = json!({
        "current_step": 2,
        "campaign_settings": {"name": "Spring", "website_url": "https://acme.example",
                              "daily_budget_micros": 40_000_000, "campaign_name": 12},
        "ad_groups": {"ad_groups": [{"name": "Bread", "keywords": ["sourdough"]}]}
    });
    server.kill();
    let version: i64 = {
        let db = server.db();
        let version = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        for id in [&thread, &bare] {
            db.execute(
                "UPDATE chat_threads SET campaign_draft = ?1 WHERE thread_id = ?2",
                rusqlite::params![loose.to_string(), id],
            )
            .unwrap();
        }
        // As the database was before the typed drafts' migration.
        db.pragma_update(None, "user_version", 3).unwrap();
        version
    };
    assert!(version >= 4);
    server.restart();
    let draft = server
        .get(&token, &thread_draft_path(&thread))
        .expect(200)
        .body;
    assert_eq!(draft["name"], "Spring");
    assert_eq!(draft["website_url"], "https://acme.example");
    assert_eq!(draft["daily_budget_micros"], 40_000_000);
    assert_eq!(
        draft["campaign_name"],
        Value::Null,
        "a number is not a name"
    );
    assert_eq!(draft["market_analysis_id"], 7);
    assert_eq!(draft["google_ads_customer_id"], crate::harness::CUSTOMER_ID);
    assert_eq!(draft["ad_groups"], json!([]));
    server
        .get(&token, &format!("/api/v1/campaigns/drafts/{}", draft["id"]))
        .expect(200);
    // Without a customer there is no typed draft; both loose drafts stay where they were.
    server.get(&token, &thread_draft_path(&bare)).expect(404);
    assert_eq!(server.count("campaign_drafts"), 1);
    let kept: i64 = server
        .db()
        .query_row(
            "SELECT count(*) FROM chat_threads WHERE campaign_draft = json(?1)",
            [loose.to_string()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, 2);
}

/// A thread without a Google Ads customer has no draft: the tools answer the model an error
/// and nothing is created.
#[test]
fn a_thread_without_a_customer_gets_tool_errors_and_no_draft() {
    let chat = Chat::start("campaign_creation", &[]);
    let bare = chat.server.thread_in(
        &chat.token,
        chat.company,
        json!({"assistant_type": "campaign_creation"}),
    );
    chat.llm.script([
        Answer::tool("get_campaign_draft", json!({}))
            .and_tool("update_campaign_settings", settings()),
        Answer::text("I cannot keep a draft here."),
    ]);
    let reply = say(&chat.server, &chat.token, &bare, "Build a campaign")[1].clone();
    assert_eq!(reply["content"], "I cannot keep a draft here.");
    assert_eq!(reply["frontend_actions"], json!([]));
    let results = tool_results(&chat.llm.received()[1]);
    assert_eq!(results.len(), 2);
    for result in &results {
        let error = result["error"].as_str().unwrap();
        assert!(error.contains("no Google Ads customer"), "{error}");
    }
    assert_eq!(chat.server.count("campaign_drafts"), 0);
    chat.get(&thread_draft_path(&bare)).expect(404);
}

fn settings() -> Value {
    json!({"campaign_name": "Spring bread", "website_url": "https://acme.example",
           "daily_budget_micros": 25_000_000})
}

/// Two ad groups, the second without keywords (a step-2 warning).
fn ad_groups() -> Value {
    json!({"ad_groups": [{"name": "Bread", "keywords": [
        {"text": "sourdough bread", "match_type": "PHRASE"}, {"text": "rye bread"}]},
        {"name": "Cakes", "keywords": []}]})
}

/// The draft the thread's endpoint and the drafts API answer, checked to be the same.
fn thread_draft(chat: &Chat, thread: &str) -> Value {
    let draft = chat.get(&thread_draft_path(thread)).expect(200).body;
    let by_id = chat
        .get(&format!("/api/v1/campaigns/drafts/{}", draft["id"]))
        .expect(200)
        .body;
    assert_eq!(draft, by_id);
    draft
}

#[test]
fn campaign_tools_build_the_typed_draft_and_the_reply_says_so() {
    let chat = Chat::start("campaign_creation", &[]);
    let thread = chat.server.thread(
        &chat.token,
        chat.company,
        "campaign_creation",
        json!({"market_analysis_id": 42}),
    );
    chat.llm.script([
        Answer::tool("update_campaign_settings", settings()),
        Answer::tool("set_ad_groups", ad_groups()),
        Answer::text("Settings and ad groups are saved."),
    ]);
    let reply = say(&chat.server, &chat.token, &thread, "Build it")[1].clone();
    assert_eq!(reply["content"], "Settings and ad groups are saved.");
    assert_eq!(
        reply["frontend_actions"],
        json!(["update_campaign_draft", "set_campaign_draft_step_2"])
    );
    let draft = thread_draft(&chat, &thread);
    assert_eq!(draft["name"], "Acme campaign", "the thread has no name");
    assert_eq!(draft["google_ads_customer_id"], crate::harness::CUSTOMER_ID);
    assert_eq!(draft["market_analysis_id"], 42);
    assert_eq!(draft["campaign_name"], "Spring bread");
    assert_eq!(draft["daily_budget_micros"], 25_000_000);
    let groups = draft["ad_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["name"], "Bread");
    assert_eq!(groups[0]["keywords"][0]["text"], "sourdough bread");
    assert_eq!(groups[0]["keywords"][0]["match_type"], "PHRASE");
    assert_eq!(groups[0]["keywords"][1]["match_type"], "BROAD");
    assert_eq!(
        groups[0]["rsas"],
        json!([]),
        "the assistant writes its own ads"
    );
    // The model saw each step's warnings and the draft.
    let received = chat.llm.received();
    let saved = &tool_results(&received[1])[0];
    assert_eq!(saved["saved_step"], 1);
    assert!(saved["warnings"].is_array(), "{saved}");
    assert_eq!(saved["draft"]["id"], draft["id"]);
    let saved = &tool_results(&received[2])[1];
    assert_eq!(saved["saved_step"], 2);
    assert_eq!(
        saved["warnings"],
        json!([{"path": "ad_groups[1].keywords", "code": "TOO_FEW",
                "message": "An ad group needs at least one keyword"}])
    );
    // Warnings come before the draft, so that a cut result keeps them.
    let text = received[2].messages().last().unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with(r#"{"saved_step":2,"warnings":[{"#),
        "{text}"
    );
    assert_eq!(chat.server.count("campaign_drafts"), 1);

    // The next message edits the same draft: one draft per thread.
    chat.llm.script([
        Answer::tool(
            "update_campaign_settings",
            json!({"daily_budget_micros": 30_000_000}),
        ),
        Answer::text("Budget raised."),
    ]);
    let reply = say(&chat.server, &chat.token, &thread, "More budget")[1].clone();
    assert_eq!(
        reply["frontend_actions"],
        json!(["update_campaign_draft", "set_campaign_draft_step_1"])
    );
    let again = thread_draft(&chat, &thread);
    assert_eq!(again["id"], draft["id"]);
    assert_eq!(again["daily_budget_micros"], 30_000_000);
    assert_eq!(again["campaign_name"], "Spring bread");
    assert_eq!(chat.server.count("campaign_drafts"), 1);

    // Deleting the thread keeps the draft; the thread's endpoint is then 404.
    chat.server
        .delete(&chat.token, &format!("/api/v1/chat/threads/{thread}"))
        .expect(204);
    chat.get(&format!("/api/v1/campaigns/drafts/{}", draft["id"]))
        .expect(200);
    chat.get(&thread_draft_path(&thread))
        .expect_detail(404, "Chat thread not found");
}

#[test]
fn bad_tool_arguments_get_an_error_store_nothing_and_the_reply_goes_on() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.llm.script([
        Answer::tool(
            "update_campaign_settings",
            json!({"daily_budget_micros": "lots"}),
        )
        .and_tool("set_ad_groups", json!({"ad_groups": [{"keywords": []}]}))
        .and_tool(
            "set_ad_groups",
            json!({"ad_groups": [{"name": "Bread",
                "keywords": [{"text": "rye", "match_type": "SOMETIMES"}]}]}),
        )
        .and_tool("update_campaign_settings", json!({"campaign_name": ""})),
        Answer::text("Let me try again later."),
    ]);
    let reply = chat.say("Build it")[1].clone();
    assert_eq!(reply["content"], "Let me try again later.");
    assert_eq!(reply["frontend_actions"], json!([]));
    let results = tool_results(&chat.llm.received()[1]);
    assert_eq!(results.len(), 4);
    for result in &results {
        assert!(result["error"].is_string(), "{result}");
    }
    let errors: Vec<&str> = results
        .iter()
        .map(|result| result["error"].as_str().unwrap())
        .collect();
    assert!(errors[0].starts_with("daily_budget_micros: "), "{errors:?}");
    assert!(
        errors[1].starts_with("ad_groups[0]: missing field `name`"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("ad_groups[0].keywords[0].match_type: "),
        "{errors:?}"
    );
    assert!(errors[3].starts_with("campaign_name: "), "{errors:?}");
    assert_eq!(chat.server.count("campaign_drafts"), 0);
    chat.get(&thread_draft_path(&chat.thread)).expect(404);

    // Arguments that are not JSON at all.
    chat.llm.script([
        Answer::tool("set_extensions", json!("not an object")),
        Answer::text("Still nothing."),
    ]);
    chat.say("Extensions?");
    let results = tool_results(&chat.llm.received()[3]);
    assert!(results[0]["error"].is_string(), "{}", results[0]);
    assert_eq!(chat.server.count("campaign_drafts"), 0);
}

#[test]
fn streamed_campaign_tools_save_the_draft_and_send_its_actions() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.llm.script([
        Answer::tool("update_campaign_settings", settings()).and_tool("set_ad_groups", ad_groups()),
        Answer::text("Saved."),
    ]);
    let (status, events) = chat.stream("Build it");
    assert_eq!(status, 200);
    let (name, reply) = &events[events.len() - 2];
    assert_eq!(name, "assistant_message");
    assert_eq!(
        reply["frontend_actions"],
        json!(["update_campaign_draft", "set_campaign_draft_step_2"])
    );
    let draft = thread_draft(&chat, &chat.thread);
    assert_eq!(draft["campaign_name"], "Spring bread");
    assert_eq!(
        draft["ad_groups"][0]["keywords"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn ads_and_extensions_are_saved_on_the_ad_groups_the_model_made() {
    let chat = Chat::start("campaign_creation", &[]);
    let path = format!(
        "/api/v1/chat/threads?company_id={}&customer_id={}",
        chat.company,
        crate::harness::CUSTOMER_ID
    );
    let created = chat
        .server
        .post(
            &chat.token,
            &path,
            &json!({"assistant_type": "campaign_creation", "name": "  Winter sale  "}),
        )
        .expect(200);
    let thread = created.body["thread_id"].as_str().unwrap().to_string();
    chat.llm.script([
        Answer::tool("set_ad_groups", ad_groups()),
        Answer::text("Groups saved."),
    ]);
    say(&chat.server, &chat.token, &thread, "Groups");
    let draft = thread_draft(&chat, &thread);
    assert_eq!(draft["name"], "Winter sale");
    assert_eq!(draft["market_analysis_id"], Value::Null);
    let group = draft["ad_groups"][0]["id"].clone();
    let headlines: Vec<Value> = ["Fresh bread", "Baked daily", "Order now"]
        .iter()
        .map(|text| json!({"text": text}))
        .collect();
    chat.llm.script([
        Answer::tool(
            "set_ads",
            json!({"rsas": [{"ad_group_id": 999_999, "headlines": [], "descriptions": []}]}),
        )
        .and_tool(
            "set_ads",
            json!({"rsas": [{"ad_group_id": group, "headlines": headlines,
                             "descriptions": [{"text": "Sourdough and rye, every morning."}]}]}),
        )
        .and_tool(
            "set_extensions",
            json!({"callouts": [{"callout_text": "Free delivery"}],
                   "phone": {"phone_number": "+33 1 23 45 67 89"}}),
        ),
        Answer::text("Ads and extensions saved."),
    ]);
    let reply = say(&chat.server, &chat.token, &thread, "Ads")[1].clone();
    assert_eq!(
        reply["frontend_actions"],
        json!(["update_campaign_draft", "set_campaign_draft_step_4"])
    );
    let results = tool_results(&chat.llm.received()[3]);
    let results = &results[results.len() - 3..];
    let error = results[0]["error"].as_str().unwrap();
    assert!(error.starts_with("rsas[0].ad_group_id: "), "{error}");
    assert_eq!(results[1]["saved_step"], 3);
    let warnings = results[1]["warnings"].to_string();
    assert!(
        warnings.contains("descriptions"),
        "one description: {warnings}"
    );
    assert_eq!(results[2]["saved_step"], 4);
    let draft = thread_draft(&chat, &thread);
    let rsa = &draft["ad_groups"][0]["rsas"][0];
    assert_eq!(rsa["headlines"][2]["text"], "Order now");
    assert_eq!(rsa["status"], "not_started", "written, not generated");
    assert_eq!(
        draft["extensions"]["callouts"][0]["callout_text"],
        "Free delivery"
    );
    assert_eq!(
        draft["extensions"]["phone"]["phone_number"],
        "+33 1 23 45 67 89"
    );

    // Usage: every model call of the exchange, tool rounds included, is charged.
    let usage = chat.company_part("usage").expect(200).body;
    assert_eq!(
        usage["total_tokens"],
        4 * 15,
        "two exchanges of two model calls"
    );

    // A draft deleted by hand is gone for the thread; the next saved step makes a new one.
    chat.server
        .delete(
            &chat.token,
            &format!("/api/v1/campaigns/drafts/{}", draft["id"]),
        )
        .expect(204);
    chat.get(&thread_draft_path(&thread)).expect(404);
    chat.llm.script([
        Answer::tool("update_campaign_settings", settings()),
        Answer::text("Started again."),
    ]);
    say(&chat.server, &chat.token, &thread, "Again");
    let renewed = thread_draft(&chat, &thread);
    assert_eq!(
        renewed["ad_groups"],
        json!([]),
        "a new draft, not the deleted one"
    );
    assert_eq!(renewed["name"], "Winter sale");
    assert_eq!(renewed["campaign_name"], "Spring bread");
}

/// A saved step is the draft's own write: a message that fails afterwards stores no messages
/// and is charged nothing, but the step stays saved, as if a person had saved it.
#[test]
fn a_step_saved_before_the_model_fails_stays_saved() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.llm.script([
        Answer::tool("update_campaign_settings", settings()),
        Answer::error(500),
    ]);
    chat.send("Build it").expect(502);
    assert_eq!(chat.messages().expect(200).body, json!([]));
    assert_eq!(chat.company_part("usage").body["total_tokens"], 0);
    let draft = thread_draft(&chat, &chat.thread);
    assert_eq!(draft["campaign_name"], "Spring bread");
}
