//! A model server that is broken or malicious, and many requests at once: the caps on what it
//! sends, the timeout, what clients are told, the monthly quota and the cap on answers in
//! flight. The stand-in model (fake_llm.rs) plays the hostile server.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fake_llm::{Answer, Hostile, LEAKY_SECRET};
use crate::harness::Server;
use crate::llm::{path, say, user, Chat, API_KEY};

fn stream_path(thread: &str) -> String {
    format!("{}/stream", path(thread))
}

/// The `error` event a failed stream ends with, after the user's message.
fn stream_error(server: &Server, token: &str, thread: &str, content: &str) -> Value {
    let (status, events) = server.post_events(token, &stream_path(thread), &user(content));
    assert_eq!(status, 200);
    let (name, data) = events.last().expect("events");
    assert_eq!(events[0].0, "user_message");
    assert_eq!(name, "error", "{events:?}");
    data.clone()
}

/// Nothing of a failed message was stored or charged.
fn nothing_stored(chat: &Chat) {
    let Chat {
        server,
        token,
        company,
        thread,
        ..
    } = chat;
    assert_eq!(server.get(token, &path(thread)).expect(200).body, json!([]));
    let usage = server
        .get(token, &format!("/api/v1/companies/{company}/usage"))
        .body;
    assert_eq!(usage["total_tokens"], 0);
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().expect("a detail")
}

#[test]
fn a_huge_tool_call_index_ends_the_exchange_and_the_server_lives_on() {
    let chat = Chat::start("general", &[]);
    let huge_index = r#"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1000000000000,"id":"c","function":{"name":"get_thread_context","arguments":"{}"}}]}}]}"#;
    chat.llm.script([Answer::hostile(Hostile::Raw(format!(
        "{huge_index}\n\ndata: [DONE]\n\n"
    )))]);
    let error = stream_error(&chat.server, &chat.token, &chat.thread, "hi");
    assert_eq!(error["status"], 502);
    assert!(
        detail(&error).contains("more than 16 tool calls"),
        "{error}"
    );
    nothing_stored(&chat);

    chat.llm.script([Answer::text("Still here.")]);
    let reply = say(&chat.server, &chat.token, &chat.thread, "hello again");
    assert_eq!(reply[1]["content"], "Still here.");
}

#[test]
fn replies_past_the_caps_answer_502_and_store_nothing() {
    let chat = Chat::start(
        "onboarding",
        &[
            ("ADTHREAD_LLM_MAX_TOOL_CALLS", "3"),
            ("ADTHREAD_LLM_MAX_TOOL_ARGUMENT_BYTES", "2048"),
            ("ADTHREAD_LLM_MAX_REPLY_TEXT_BYTES", "4096"),
            ("ADTHREAD_LLM_MAX_REPLY_BYTES", "262144"),
        ],
    );
    let save = |website: &str| Answer::tool("save_business_profile", json!({ "website": website }));
    let four_calls = save("a")
        .and_tool("complete_thread", json!({}))
        .and_tool("get_thread_context", json!({}));
    let cases = [
        (
            four_calls.and_tool("get_thread_context", json!({})),
            "more than 3 tool calls",
        ),
        (
            save(&"w".repeat(3000)),
            "more than 2048 bytes in one tool call",
        ),
        (
            Answer::text(&"y".repeat(5000)),
            "more than 4096 bytes of text",
        ),
        (Answer::hostile(Hostile::Endless), "more than"),
    ];
    for (answer, expected) in cases {
        for streamed in [false, true] {
            chat.llm.script([answer.clone()]);
            let started = Instant::now();
            let failure = if streamed {
                let error = stream_error(&chat.server, &chat.token, &chat.thread, "hi");
                assert_eq!(error["status"], 502);
                error
            } else {
                let path = path(&chat.thread);
                chat.server
                    .post(&chat.token, &path, &user("hi"))
                    .expect(502)
                    .body
            };
            assert!(detail(&failure).contains(expected), "{failure}");
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "a reply past the caps is cut off, not read to its end"
            );
            nothing_stored(&chat);
        }
    }
    // A stream of nothing but comments ends at the byte cap, not at the timeout.
    chat.llm
        .script([Answer::hostile(Hostile::Forever(": keep-alive\n".into()))]);
    let started = Instant::now();
    let error = stream_error(&chat.server, &chat.token, &chat.thread, "hi");
    assert!(detail(&error).contains("more than 262144 bytes"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let profile = chat
        .server
        .get(
            &chat.token,
            &format!("/api/v1/companies/{}/profile", chat.company),
        )
        .body;
    assert_eq!(
        profile["profile"],
        json!({}),
        "no tool of a refused reply ran"
    );
}

#[test]
fn a_model_that_drips_its_reply_stops_at_the_model_timeout() {
    let chat = Chat::start("general", &[("ADTHREAD_LLM_TIMEOUT_SECS", "2")]);
    let drip = || Answer::hostile(Hostile::Drip(Duration::from_millis(100)));

    chat.llm.script([drip()]);
    let started = Instant::now();
    let path = path(&chat.thread);
    let failed = chat
        .server
        .post(&chat.token, &path, &user("hi"))
        .expect(504);
    assert!(
        detail(&failed.body).contains("2 seconds"),
        "{}",
        failed.body
    );
    assert!(started.elapsed() < Duration::from_secs(15));

    chat.llm.script([drip()]);
    let started = Instant::now();
    let error = stream_error(&chat.server, &chat.token, &chat.thread, "hi");
    assert_eq!(error["status"], 504);
    assert!(started.elapsed() < Duration::from_secs(15));
    nothing_stored(&chat);
}

#[test]
fn the_model_servers_words_never_reach_the_client_and_the_key_never_reaches_the_log() {
    let chat = Chat::start("general", &[]);
    let model_host = chat.llm.base_url.trim_start_matches("http://").to_string();
    let told = |answer: &Value| {
        let text = answer.to_string();
        for secret in [
            "org-secret-99",
            "internal-cluster",
            API_KEY,
            &model_host,
            "127.0.0.1",
            "secret page",
        ] {
            assert!(
                !text.contains(secret),
                "{secret} reached the client: {text}"
            );
        }
        text
    };
    chat.llm.script([Answer::hostile(Hostile::Leaky(401))]);
    let path = path(&chat.thread);
    let refused = chat
        .server
        .post(&chat.token, &path, &user("hi"))
        .expect(502);
    assert_eq!(
        detail(&refused.body),
        "The language model's server refused the request (401)"
    );
    told(&refused.body);

    chat.llm.script([Answer::hostile(Hostile::Leaky(503))]);
    let error = stream_error(&chat.server, &chat.token, &chat.thread, "hi");
    assert_eq!(error["status"], 502);
    assert!(told(&error).contains("(503)"), "{error}");

    chat.llm.script([Answer::hostile(Hostile::Raw(
        "<html>secret page of 127.0.0.1</html>".into(),
    ))]);
    let nonsense = chat
        .server
        .post(&chat.token, &path, &user("hi"))
        .expect(502);
    told(&nonsense.body);

    let log = chat.server.log();
    assert!(
        log.contains("org-secret-99"),
        "the log has the full detail: {log}"
    );
    assert!(!log.contains(API_KEY), "the API key reached the log");
    assert!(LEAKY_SECRET.contains("org-secret-99"));
    nothing_stored(&chat);
}

/// Posts one message to each thread at once; answers the statuses and bodies.
fn all_at_once(server: &Server, token: &str, threads: &[String]) -> Vec<(u16, Value)> {
    std::thread::scope(|scope| {
        let posts: Vec<_> = threads
            .iter()
            .map(|thread| {
                scope.spawn(move || {
                    let answer = server.post(token, &path(thread), &user("at once"));
                    let retry_after = answer.header("retry-after").map(str::to_string);
                    let mut body = answer.body;
                    if let Some(seconds) = retry_after {
                        body["retry_after"] = Value::from(seconds);
                    }
                    (answer.status.as_u16(), body)
                })
            })
            .collect();
        posts.into_iter().map(|post| post.join().unwrap()).collect()
    })
}

fn count(results: &[(u16, Value)], status: u16) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

fn threads(chat: &Chat, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            chat.server
                .thread(&chat.token, chat.company, "general", json!({}))
        })
        .collect()
}

fn month_tokens(chat: &Chat) -> i64 {
    chat.server
        .get(
            &chat.token,
            &format!("/api/v1/companies/{}/usage", chat.company),
        )
        .expect(200)
        .body["month_tokens"]
        .as_i64()
        .unwrap()
}

#[test]
fn the_monthly_quota_holds_under_parallel_requests() {
    let chat = Chat::start(
        "general",
        &[
            ("ADTHREAD_MONTHLY_TOKEN_QUOTA", "100"),
            ("ADTHREAD_LLM_MAX_TOKENS_PER_MESSAGE", "50"),
        ],
    );
    // A message that costs more than one message may fails, and is not charged.
    chat.llm
        .script([Answer::text("too costly").with_usage(40, 20)]);
    let failed = chat
        .server
        .post(&chat.token, &path(&chat.thread), &user("big"))
        .expect(502);
    assert!(
        detail(&failed.body).contains("50 tokens"),
        "{}",
        failed.body
    );
    assert_eq!(month_tokens(&chat), 0);

    let parallel = threads(&chat, 6);
    let slow = |_| {
        Answer::text("costly")
            .with_usage(30, 15)
            .after(Duration::from_millis(1500))
    };
    chat.llm.script((0..6).map(slow));
    let results = all_at_once(&chat.server, &chat.token, &parallel);
    chat.llm.forget_script();
    let answered = count(&results, 200);
    assert_eq!(answered + count(&results, 429), 6, "{results:?}");
    assert!(answered >= 1, "{results:?}");
    let used = month_tokens(&chat);
    assert_eq!(used, 45 * answered as i64);
    assert!(
        used <= 100 + 50,
        "parallel messages overshot the quota by more than one message's cost: {used}"
    );
}

#[test]
fn answers_in_flight_are_capped_per_company_and_every_path_gives_its_place_back() {
    let chat = Chat::start(
        "general",
        &[("ADTHREAD_LLM_MAX_CONCURRENT_PER_COMPANY", "2")],
    );
    let parallel = threads(&chat, 4);
    let slow = |_| Answer::text("slow").after(Duration::from_secs(3));
    // Only the two admitted reach the model.
    chat.llm.script((0..2).map(slow));
    let results = all_at_once(&chat.server, &chat.token, &parallel);
    assert_eq!(count(&results, 200), 2, "{results:?}");
    assert_eq!(count(&results, 429), 2, "{results:?}");
    let refused = results.iter().find(|(status, _)| *status == 429).unwrap();
    assert_eq!(refused.1["retry_after"], "1");
    assert!(detail(&refused.1).contains("2 messages"), "{}", refused.1);

    // Failures, plain and streamed, give their places back too.
    chat.llm.script([Answer::error(500), Answer::error(500)]);
    let path = path(&chat.thread);
    chat.server
        .post(&chat.token, &path, &user("fails"))
        .expect(502);
    stream_error(&chat.server, &chat.token, &chat.thread, "fails");
    chat.llm.script((0..2).map(slow));
    let results = all_at_once(&chat.server, &chat.token, &parallel[..2]);
    assert_eq!(count(&results, 200), 2, "{results:?}");
}

#[test]
fn what_the_model_is_sent_is_bounded_in_bytes() {
    let chat = Chat::start(
        "general",
        &[
            ("ADTHREAD_LLM_HISTORY_BYTES", "4096"),
            ("ADTHREAD_LLM_MAX_TOOL_RESULT_BYTES", "1024"),
        ],
    );
    let thread = chat.server.thread(
        &chat.token,
        chat.company,
        "general",
        json!({"notes": "n".repeat(50_000)}),
    );
    chat.llm.script([
        Answer::tool("get_thread_context", json!({})),
        Answer::text("Read it."),
    ]);
    say(&chat.server, &chat.token, &thread, "look at the notes");
    let tool_result = |request: &crate::fake_llm::Received| -> Vec<String> {
        request
            .messages()
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    };
    let sent = tool_result(&chat.llm.received()[1]);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].len() <= 1024, "{} bytes", sent[0].len());
    let cut: Value = serde_json::from_str(&sent[0]).expect("still JSON");
    assert_eq!(cut["truncated"], true);

    for n in 0..4 {
        say(
            &chat.server,
            &chat.token,
            &thread,
            &format!("{n}{}", "m".repeat(1500)),
        );
    }
    let received = chat.llm.received();
    let last = received.last().unwrap().messages();
    let history = &last[1..last.len() - 1];
    let bytes: usize = history
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("").len())
        .sum();
    assert!(bytes <= 4096, "{bytes} bytes of history");
    assert!(!history.is_empty(), "the latest exchanges are kept");
    assert_eq!(history[0]["role"], "user");
}

/// A client that goes away does not cancel its answer (the model call runs on its own task,
/// although hyper drops the handler), so the call still counts until it ends; then its place is
/// given back, and the answer is stored although nobody is there to receive it.
#[test]
fn a_client_that_goes_away_holds_its_place_until_its_model_call_ends() {
    let chat = Chat::start(
        "general",
        &[("ADTHREAD_LLM_MAX_CONCURRENT_PER_COMPANY", "1")],
    );
    chat.llm
        .script([Answer::text("too late").after(Duration::from_secs(4))]);
    let impatient = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let gone = impatient
        .post(chat.server.url(&path(&chat.thread)))
        .bearer_auth(&chat.token)
        .json(&user("hi"))
        .send();
    assert!(gone.is_err(), "the client gave up");
    let other = threads(&chat, 1);
    let started = Instant::now();
    let mut refused = 0;
    loop {
        let answer = chat.server.post(&chat.token, &path(&other[0]), &user("hi"));
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 429, "{}", answer.body);
        refused += 1;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the place was never given back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(refused > 0, "the abandoned model call did not count");
    let stored = chat.server.get(&chat.token, &path(&chat.thread)).body;
    assert_eq!(stored[1]["content"], "too late");
}
