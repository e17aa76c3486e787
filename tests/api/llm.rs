//! Assistants backed by a model: the stand-in server in fake_llm.rs plays the model.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_llm::{Answer, FakeLlm};
use crate::harness::{on_postgres, Server};

pub const API_KEY: &str = "sk-test-do-not-log-4711";

fn server_for(llm: &FakeLlm, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("ADTHREAD_LLM_BASE_URL", llm.base_url.as_str()),
        ("ADTHREAD_LLM_MODEL", "test-model"),
        ("ADTHREAD_LLM_API_KEY", API_KEY),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

/// A server answering with the stand-in model, and a thread of one assistant type in a company
/// with the sample Google connections.
pub struct Chat {
    pub llm: FakeLlm,
    pub server: Server,
    pub token: String,
    pub company: i64,
    pub thread: String,
}

impl Chat {
    pub fn start(assistant_type: &str, env: &[(&str, &str)]) -> Chat {
        let llm = FakeLlm::start();
        let server = server_for(&llm, env);
        let token = server.admin_token();
        let company = server.company_with_connections(&token, "Acme");
        let thread = server.thread(&token, company, assistant_type, json!({}));
        Chat {
            llm,
            server,
            token,
            company,
            thread,
        }
    }

    /// Sends a user message to the thread; the answer as it came.
    pub fn send(&self, content: &str) -> crate::harness::Answer {
        self.server
            .post(&self.token, &path(&self.thread), &user(content))
    }

    /// Sends a user message that is answered: the stored pair (the message and the reply).
    pub fn say(&self, content: &str) -> Value {
        say(&self.server, &self.token, &self.thread, content)
    }

    /// Sends a user message to the thread's event stream: the status and the events.
    pub fn stream(&self, content: &str) -> (reqwest::StatusCode, Vec<(String, Value)>) {
        self.server.post_events(
            &self.token,
            &format!("{}/stream", path(&self.thread)),
            &user(content),
        )
    }

    /// The thread's stored messages, as listed.
    pub fn messages(&self) -> crate::harness::Answer {
        self.get(&path(&self.thread))
    }

    /// Reads `path` as the thread's owner.
    pub fn get(&self, path: &str) -> crate::harness::Answer {
        self.server.get(&self.token, path)
    }

    /// Reads `part` of the thread's company (`profile`, `usage`).
    pub fn company_part(&self, part: &str) -> crate::harness::Answer {
        self.get(&format!("/api/v1/companies/{}/{part}", self.company))
    }
}

pub fn path(thread: &str) -> String {
    format!("/api/v1/chat/{thread}/messages")
}

pub fn user(content: &str) -> Value {
    json!({"role": "user", "content": content})
}

pub fn say(server: &Server, token: &str, thread: &str, content: &str) -> Value {
    server
        .post(token, &path(thread), &user(content))
        .expect(200)
        .body
}

fn roles_and_contents(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(role, content)| (role.to_string(), content.to_string()))
        .collect()
}

/// The tool results the model was sent in a request, parsed.
pub fn tool_results(request: &crate::fake_llm::Received) -> Vec<Value> {
    request
        .messages()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| serde_json::from_str(m["content"].as_str().unwrap()).unwrap())
        .collect()
}

#[test]
fn the_model_sees_instructions_context_history_and_tools() {
    let llm = FakeLlm::start();
    let server = server_for(&llm, &[("ADTHREAD_LLM_HISTORY_MESSAGES", "2")]);
    let token = server.admin_token();
    server
        .patch(
            &token,
            "/api/v1/assistants/asst_general",
            &json!({"instructions": "Be terse and precise."}),
        )
        .expect(200);
    let company = server.company_with_connections(&token, "Acme Bakery");
    let thread = server.thread(&token, company, "general", json!({}));
    llm.script([
        Answer::text("First reply"),
        Answer::text("Second reply"),
        Answer::text("Third reply"),
    ]);
    let created = say(&server, &token, &thread, "Hello");
    assert_eq!(
        roles_and_contents(created.as_array().unwrap()),
        pairs(&[("user", "Hello"), ("assistant", "First reply")])
    );
    say(&server, &token, &thread, "And then?");
    say(&server, &token, &thread, "Finally?");

    let received = llm.received();
    assert_eq!(received.len(), 3);
    let first = &received[0];
    assert_eq!(first.body["model"], "test-model");
    assert_eq!(first.body["stream"], false);
    assert_eq!(
        first.authorization.as_deref(),
        Some(&*format!("Bearer {API_KEY}"))
    );
    assert_eq!(first.tool_names(), ["get_thread_context"]);
    let system = first.messages()[0]["content"].as_str().unwrap();
    assert_eq!(first.messages()[0]["role"], "system");
    for expected in [
        "Be terse and precise.",
        "Acme Bakery",
        "Acme Bakery Ads",
        "EUR",
        "Europe/Paris",
        "Acme Bakery Paris",
        "1 rue de Rivoli",
        "Paris",
    ] {
        assert!(
            system.contains(expected),
            "system message lacks {expected}: {system}"
        );
    }
    let conversation =
        |request: &crate::fake_llm::Received| roles_and_contents(&request.messages()[1..]);
    assert_eq!(conversation(first), pairs(&[("user", "Hello")]));
    assert_eq!(
        conversation(&received[1]),
        pairs(&[
            ("user", "Hello"),
            ("assistant", "First reply"),
            ("user", "And then?")
        ])
    );
    // The history window (2) keeps only the last exchange.
    assert_eq!(
        conversation(&received[2]),
        pairs(&[
            ("user", "And then?"),
            ("assistant", "Second reply"),
            ("user", "Finally?")
        ])
    );
    assert!(
        !server.log().contains(API_KEY),
        "the API key reached the log"
    );
}

#[test]
fn a_tool_round_trip_reaches_extra_data_and_saves_the_profile() {
    let llm = FakeLlm::start();
    let server = server_for(&llm, &[]);
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme Bakery");
    let thread = server.thread(
        &token,
        company,
        "onboarding",
        json!({"campaign": {"budget": 1200}, "source": "crm"}),
    );
    llm.script([
        Answer::tool("get_thread_context", json!({})).and_tool(
            "save_business_profile",
            json!({"website": "https://acme.example", "area_served": "Paris"}),
        ),
        Answer::text("Saved your website."),
    ]);
    let created = say(&server, &token, &thread, "Our site is acme.example");
    assert_eq!(created[1]["content"], "Saved your website.");
    assert_eq!(created[1]["frontend_actions"], json!([]));

    let received = llm.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].tool_names(),
        [
            "get_thread_context",
            "save_business_profile",
            "complete_thread"
        ]
    );
    let second = received[1].messages();
    let call = second.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(
        call["tool_calls"][0]["function"]["name"],
        "get_thread_context"
    );
    assert_eq!(call["tool_calls"][1]["id"], "call_2");
    let results = tool_results(&received[1]);
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0]["extra_data"],
        json!({"campaign": {"budget": 1200}, "source": "crm"})
    );
    assert_eq!(results[0]["company"]["name"], "Acme Bakery");
    assert_eq!(results[0]["google_ads_customer"]["currency_code"], "EUR");
    assert_eq!(
        results[0]["google_business_location"]["title"],
        "Acme Bakery Paris"
    );
    assert_eq!(
        results[1]["business_profile"]["website"],
        "https://acme.example"
    );
    let tool_ids: Vec<&Value> = second
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| &m["tool_call_id"])
        .collect();
    assert_eq!(tool_ids, [&json!("call_1"), &json!("call_2")]);

    // Tool calls and results are kept for the model but not listed.
    let listed = server.get(&token, &path(&thread)).expect(200).body;
    assert_eq!(
        roles_and_contents(listed.as_array().unwrap()),
        pairs(&[
            ("user", "Our site is acme.example"),
            ("assistant", "Saved your website.")
        ])
    );
    let profile = server
        .get(&token, &format!("/api/v1/companies/{company}/profile"))
        .expect(200)
        .body;
    assert_eq!(
        profile["profile"],
        json!({"website": "https://acme.example", "area_served": "Paris"})
    );
    // The next request shows the model the earlier tool exchange.
    say(&server, &token, &thread, "Thanks");
    let third = &llm.received()[2];
    let roles: Vec<&str> = third
        .messages()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "system",
            "user",
            "assistant",
            "tool",
            "tool",
            "assistant",
            "user"
        ]
    );
    let usage = server
        .get(&token, &format!("/api/v1/companies/{company}/usage"))
        .expect(200)
        .body;
    assert_eq!(usage["prompt_tokens"], 30);
    assert_eq!(usage["completion_tokens"], 15);
    assert_eq!(usage["total_tokens"], 45);
    assert_eq!(usage["month_tokens"], 45);
    assert_eq!(usage["monthly_token_quota"], Value::Null);
}

#[test]
fn the_stream_sends_the_user_message_deltas_the_reply_and_done() {
    let chat = Chat::start("campaign_creation", &[]);
    chat.llm.script([
        Answer::tool(
            "update_campaign_settings",
            json!({"campaign_name": "Spring"}),
        ),
        Answer::text("Step one is saved, on to ad groups."),
    ]);
    let (status, events) = chat.stream("Start the campaign");
    assert_eq!(status, 200);
    assert!(chat.llm.received().iter().all(|r| r.body["stream"] == true));
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"user_message"));
    assert_eq!(&names[names.len() - 2..], ["assistant_message", "done"]);
    let deltas: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["content"].as_str().unwrap())
        .collect();
    assert!(deltas.len() > 1, "the reply arrives in pieces: {deltas:?}");
    assert_eq!(deltas.concat(), "Step one is saved, on to ad groups.");
    let user_message = &events[0].1;
    let reply = &events[names.len() - 2].1;
    assert_eq!(user_message["content"], "Start the campaign");
    assert_eq!(reply["content"], "Step one is saved, on to ad groups.");
    assert_eq!(
        reply["frontend_actions"],
        json!(["update_campaign_draft", "set_campaign_draft_step_1"])
    );
    let stored = chat.messages().expect(200).body;
    assert_eq!(stored, json!([user_message, reply]));
    let draft = chat
        .get(&format!(
            "/api/v1/chat/threads/{}/campaign-draft",
            chat.thread
        ))
        .body;
    assert_eq!(draft["campaign_name"], "Spring");

    // A failure mid-stream is an `error` event, and nothing is stored.
    chat.llm.script([Answer::error(500)]);
    let (status, events) = chat.stream("Again");
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["user_message", "error"]);
    assert_eq!(events[1].1["status"], 502);
    assert!(events[1].1["detail"].as_str().unwrap().contains("500"));
    assert_eq!(chat.messages().body.as_array().unwrap().len(), 2);
}

#[test]
fn provider_errors_and_timeouts_store_nothing() {
    let chat = Chat::start("onboarding", &[("ADTHREAD_LLM_TIMEOUT_SECS", "1")]);
    let save = || {
        Answer::tool(
            "save_business_profile",
            json!({"website": "https://x.example"}),
        )
    };
    chat.llm.script([save(), Answer::error(500)]);
    chat.send("hi").expect_detail(502, "500");

    chat.llm
        .script([save(), Answer::text("late").after(Duration::from_secs(3))]);
    chat.send("hi").expect_detail(504, "1 seconds");

    assert_eq!(chat.messages().body, json!([]));
    let profile = chat.company_part("profile").body;
    assert_eq!(
        profile["profile"],
        json!({}),
        "a failed answer's tools change nothing"
    );
    assert_eq!(profile["date_updated"], Value::Null);
    let usage = chat.company_part("usage").body;
    assert_eq!(usage["total_tokens"], 0);
    assert!(!chat.server.log().contains(API_KEY));
}

#[test]
fn a_model_that_is_down_answers_502() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{closed_port}/v1");
    let server = Server::start_with(&[("ADTHREAD_LLM_BASE_URL", &base)]);
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = server.thread(&token, company, "general", json!({}));
    let failed = server.post(&token, &path(&thread), &user("hi")).expect(502);
    assert!(failed.body["detail"].is_string());
    assert_eq!(server.get(&token, &path(&thread)).body, json!([]));
    let assistants = server.get(&token, "/api/v1/assistants").body;
    assert!(assistants
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["can_answer"] == true));
}

#[test]
fn two_messages_to_one_thread_are_answered_one_after_the_other() {
    let chat = Chat::start("general", &[]);
    let slow = Duration::from_millis(600);
    chat.llm.script([
        Answer::text("reply one").after(slow),
        Answer::text("reply two").after(slow),
    ]);
    let (first, second) = std::thread::scope(|scope| {
        let a = scope.spawn(|| chat.say("message A"));
        let b = scope.spawn(|| chat.say("message B"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let listed = chat.messages().expect(200).body;
    let listed = roles_and_contents(listed.as_array().unwrap());
    let (early, late) = if listed[0].1 == "message A" {
        ("message A", "message B")
    } else {
        ("message B", "message A")
    };
    assert_eq!(
        listed,
        pairs(&[
            ("user", early),
            ("assistant", "reply one"),
            ("user", late),
            ("assistant", "reply two")
        ])
    );
    // The later message's model call saw the earlier exchange.
    let received = chat.llm.received();
    assert_eq!(received[1].messages().len(), 4);
    assert_eq!(received[1].messages()[2]["content"], "reply one");
    let replies = [&first[1]["content"], &second[1]["content"]];
    assert!(replies.contains(&&json!("reply one")) && replies.contains(&&json!("reply two")));
}

/// A general thread whose model answers `reply` after `delay`.
fn slow_chat(reply: &str, delay: Duration) -> Chat {
    let chat = Chat::start("general", &[]);
    chat.llm.script([Answer::text(reply).after(delay)]);
    chat
}

fn until_called(llm: &FakeLlm) {
    while llm.received().is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The turn read its thread before the model was called; the exchange is stored only if that
/// thread is still there once the model has answered, even when a new thread took its row.
#[test]
fn a_thread_deleted_while_its_model_answers_stores_nothing() {
    let chat = slow_chat("too late", Duration::from_millis(1500));
    let (server, token) = (&chat.server, &chat.token);
    let seq_of = |thread: &str| -> i64 {
        server
            .sql(&format!(
                "SELECT seq FROM chat_threads WHERE thread_id = '{thread}'"
            ))
            .parse()
            .unwrap()
    };
    let deleted_seq = seq_of(&chat.thread);
    std::thread::scope(|scope| {
        let answer = scope.spawn(|| server.post(token, &path(&chat.thread), &user("hello")));
        until_called(&chat.llm);
        let deleted = format!("/api/v1/chat/threads/{}", chat.thread);
        server.delete(token, &deleted).expect(204);
        let successor = server.thread(token, chat.company, "general", json!({}));
        // SQLite hands the freed row to the next thread; PostgreSQL's sequence never hands
        // a seq out twice, so there the successor's row is new and the rest holds alike.
        if !on_postgres() {
            assert_eq!(
                seq_of(&successor),
                deleted_seq,
                "the new thread has the old row"
            );
        }
        answer.join().unwrap().expect(404);
        let listed = server.get(token, &path(&successor)).expect(200).body;
        assert_eq!(listed, json!([]));
    });
    assert_eq!(server.count("chat_messages"), 0);
}

/// A message waits for the thread's previous one to be answered, but the checks that need no
/// waiting do not: a thread the caller cannot see is 404, then a bad message 422, at once.
#[test]
fn while_a_thread_is_answered_its_404_and_422_do_not_wait() {
    let chat = slow_chat("slow", Duration::from_secs(4));
    let (server, token) = (&chat.server, &chat.token);
    let outsider = server.user("outsider@example.com", false);
    let at_once = Duration::from_millis(2500);
    std::thread::scope(|scope| {
        let answered = scope.spawn(|| say(server, token, &chat.thread, "first"));
        until_called(&chat.llm);
        let started = std::time::Instant::now();
        let empty = json!({"role": "user", "content": " "});
        server
            .post(&outsider, &path(&chat.thread), &empty)
            .expect(404);
        server
            .post(token, &path(&chat.thread), &empty)
            .expect_invalid("content", "string_too_short");
        assert!(started.elapsed() < at_once, "{:?}", started.elapsed());
        assert_eq!(answered.join().unwrap()[1]["content"], "slow");
    });
}

#[test]
fn the_last_round_offers_no_tools() {
    let chat = Chat::start("general", &[("ADTHREAD_LLM_MAX_TOOL_ROUNDS", "2")]);
    chat.llm.script([
        Answer::tool("get_thread_context", json!({})),
        Answer::text("Here is my answer.").and_tool("get_thread_context", json!({})),
    ]);
    let reply = chat.say("Tell me")[1].clone();
    assert_eq!(reply["content"], "Here is my answer.");
    let received = chat.llm.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].tool_names(), ["get_thread_context"]);
    assert!(received[1].body.get("tools").is_none());
}

#[test]
fn a_spent_monthly_quota_answers_429() {
    let chat = Chat::start("general", &[("ADTHREAD_MONTHLY_TOKEN_QUOTA", "20")]);
    chat.say("one"); // 15 tokens
    chat.say("two"); // 30: over the quota from now on
    let refused = chat.send("three").expect(429);
    assert!(refused.body["detail"].as_str().unwrap().contains("quota"));
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 31 * 24 * 3600);
    assert_eq!(chat.llm.received().len(), 2);
    let usage = chat.company_part("usage").expect(200).body;
    assert_eq!(usage["month_tokens"], 30);
    assert_eq!(usage["monthly_token_quota"], 20);
    assert_eq!(chat.messages().body.as_array().unwrap().len(), 4);
}
