//! Two `adthread serve` processes on one PostgreSQL database behave as one server (issue 17):
//! what one process acknowledges, the other shows on the next request; refusals made on one hold
//! on the other; writers on both lose nothing; a process killed with SIGKILL loses nothing it
//! acknowledged while the other goes on serving. They run in tests/run's PostgreSQL pass.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_llm::{Answer, FakeLlm};
use crate::harness::{ids, on_postgres, Server};
use crate::llm::{path, user};

/// Two processes on one fresh PostgreSQL database; None (saying why) on the SQLite pass.
fn two_processes(env: &[(&str, &str)]) -> Option<(Server, Server)> {
    if !on_postgres() {
        eprintln!(
            "skipped: two processes share a PostgreSQL database; tests/run runs this in its \
             PostgreSQL pass (ADTHREAD_TEST_BACKEND=postgres)"
        );
        return None;
    }
    let a = Server::start_with(env);
    let b = a.second_process();
    Some((a, b))
}

fn add_member(server: &Server, token: &str, company: i64, email: &str) -> i64 {
    server
        .post(
            token,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": email, "role": "member"}),
        )
        .expect(200);
    user_id(server, email, token)
}

fn user_id(server: &Server, email: &str, admin_token: &str) -> i64 {
    let users = server.get(admin_token, "/api/v1/users").expect(200).body;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["email"] == email)
        .and_then(|user| user["id"].as_i64())
        .unwrap_or_else(|| panic!("{email} in {users}"))
}

#[test]
fn a_write_on_one_process_is_read_on_the_other_at_once() {
    let Some((a, b)) = two_processes(&[]) else {
        return;
    };
    let admin = a.admin_token();
    let company = a.company(&admin, "Shared");
    assert_eq!(
        b.get(&admin, "/api/v1/companies").expect(200).body[0]["id"],
        company
    );

    // Each thread created on one process is in the other's list on the very next request.
    for round in 0..5 {
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let thread = writer.thread_in(&admin, company, json!({"assistant_type": "general"}));
        let listed = ids(&reader.list_threads(&admin, company).expect(200));
        assert_eq!(listed.len(), round + 1);
        assert!(listed.contains(&thread), "{thread} not in {listed:?}");
        reader
            .patch(
                &admin,
                &format!("/api/v1/chat/threads/{thread}"),
                &json!({"name": format!("renamed {round}")}),
            )
            .expect(200);
        let renamed = writer.get(&admin, &format!("/api/v1/chat/threads/{thread}"));
        assert_eq!(renamed.expect(200).body["name"], format!("renamed {round}"));
    }

    // A member added on A reads on B; removed on A, refused on B at once.
    let member = b.user("member@example.com", false);
    let member_id = add_member(&a, &admin, company, "member@example.com");
    assert_eq!(ids(&b.list_threads(&member, company).expect(200)).len(), 5);
    a.delete(
        &admin,
        &format!("/api/v1/companies/{company}/members/{member_id}"),
    )
    .expect(204);
    b.list_threads(&member, company).expect(404);
    b.get(&member, "/api/v1/users/me").expect(200);

    // A thread deleted on B is gone on A.
    let doomed = a.thread_in(&admin, company, json!({"assistant_type": "general"}));
    b.delete(&admin, &format!("/api/v1/chat/threads/{doomed}"))
        .expect(204);
    a.get(&admin, &format!("/api/v1/chat/threads/{doomed}"))
        .expect(404);
}

#[test]
fn a_token_revoked_on_one_process_is_refused_on_the_other_at_once() {
    let Some((a, b)) = two_processes(&[]) else {
        return;
    };
    let admin = a.admin_token();

    // Signed out on A: refused on B (whose earlier request had accepted it).
    let leaving = a.user("leaving@example.com", false);
    b.get(&leaving, "/api/v1/users/me").expect(200);
    a.post(&leaving, "/api/v1/auth/logout", &json!({}))
        .expect(204);
    b.get(&leaving, "/api/v1/users/me").expect(401);

    // Deactivated on B: every token of the user refused on A.
    let first = a.user("deactivated@example.com", false);
    let second = b.token(
        "deactivated@example.com",
        "password-of-deactivated@example.com",
    );
    a.get(&first, "/api/v1/users/me").expect(200);
    a.get(&second, "/api/v1/users/me").expect(200);
    let id = user_id(&b, "deactivated@example.com", &admin);
    b.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        &json!({"is_active": false}),
    )
    .expect(200);
    a.get(&first, "/api/v1/users/me").expect(401);
    a.get(&second, "/api/v1/users/me").expect(401);

    // A password reset on A revokes the user's tokens on B.
    let reset = b.user("reset@example.com", false);
    b.get(&reset, "/api/v1/users/me").expect(200);
    let id = user_id(&a, "reset@example.com", &admin);
    a.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        &json!({"password": "a brand new password"}),
    )
    .expect(200);
    b.get(&reset, "/api/v1/users/me").expect(401);
    b.token("reset@example.com", "a brand new password");
}

/// Creates threads in `company` through `server` until `stop` (or `limit` threads); the ids
/// it was answered 200 with, and how many requests failed.
fn create_until(
    server: &Server,
    token: &str,
    company: i64,
    label: &str,
    stop: &AtomicBool,
    limit: usize,
) -> (Vec<String>, usize) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = server.url(&format!("/api/v1/chat/threads?company_id={company}"));
    let (mut acknowledged, mut failed) = (Vec::new(), 0);
    for n in 0..limit {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let body = json!({"assistant_type": "general", "name": format!("{label} {n}")});
        match client.post(&url).bearer_auth(token).json(&body).send() {
            Ok(answer) if answer.status() == 200 => {
                let thread: Value = answer.json().unwrap();
                acknowledged.push(thread["thread_id"].as_str().unwrap().to_string());
            }
            _ => failed += 1,
        }
    }
    (acknowledged, failed)
}

/// Every thread of the company as `server` lists it (every page).
fn listed(server: &Server, token: &str, company: i64) -> BTreeSet<String> {
    let threads = server.all_threads(token, company);
    let set: BTreeSet<String> = threads
        .iter()
        .map(|thread| thread["thread_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(set.len(), threads.len(), "a thread listed twice");
    set
}

#[test]
fn writers_on_both_processes_lose_nothing() {
    let Some((a, b)) = two_processes(&[]) else {
        return;
    };
    let admin = a.admin_token();
    let company = a.company(&admin, "Busy");
    let never = AtomicBool::new(false);
    let acknowledged: Vec<String> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|n| {
                let (server, admin, never) = (if n % 2 == 0 { &a } else { &b }, &admin, &never);
                scope.spawn(move || {
                    let (ids, failed) =
                        create_until(server, admin, company, &format!("w{n}"), never, 40);
                    assert_eq!(failed, 0, "writer {n}: no request may fail");
                    ids
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|writer| writer.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), 8 * 40);
    let expected: BTreeSet<String> = acknowledged.into_iter().collect();
    assert_eq!(expected.len(), 8 * 40, "an id answered twice");
    assert_eq!(listed(&a, &admin, company), expected);
    assert_eq!(listed(&b, &admin, company), expected);
}

#[test]
fn a_process_killed_mid_write_loses_nothing_it_acknowledged_and_the_other_serves_on() {
    let Some((mut a, b)) = two_processes(&[]) else {
        return;
    };
    let admin = a.admin_token();
    let company = a.company(&admin, "Crash");
    let stop = AtomicBool::new(false);
    let (on_a, on_b) = std::thread::scope(|scope| {
        let (a, b, admin, stop) = (&a, &b, &admin, &stop);
        let writers = |on, name: &str| {
            (0..3)
                .map(|n| {
                    let label = format!("{name}{n}");
                    scope.spawn(move || create_until(on, admin, company, &label, stop, 10_000))
                })
                .collect::<Vec<_>>()
        };
        let (writers_a, writers_b) = (writers(a, "a"), writers(b, "b"));
        // Let both take writes, kill A in the middle of them, and let B go on alone.
        std::thread::sleep(Duration::from_millis(1500));
        a.sigkill();
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        let join = |writers: Vec<std::thread::ScopedJoinHandle<'_, (Vec<String>, usize)>>| {
            writers
                .into_iter()
                .map(|writer| writer.join().unwrap())
                .fold((Vec::new(), 0), |(mut ids, failed), (more, failures)| {
                    ids.extend(more);
                    (ids, failed + failures)
                })
        };
        (join(writers_a), join(writers_b))
    });
    let (acknowledged_a, failed_a) = on_a;
    let (acknowledged_b, failed_b) = on_b;
    assert!(
        !acknowledged_a.is_empty(),
        "A took writes before it was killed"
    );
    assert!(failed_a > 0, "A's writers saw it die");
    assert_eq!(failed_b, 0, "B served every request while A was dead");

    let expected: BTreeSet<String> = acknowledged_a
        .iter()
        .chain(&acknowledged_b)
        .cloned()
        .collect();
    // Every acknowledged create is listed; besides them, at most one per writer of A that A
    // committed but was killed before answering.
    let seen_by_b = listed(&b, &admin, company);
    assert!(
        seen_by_b.is_superset(&expected),
        "{:?}",
        expected.difference(&seen_by_b)
    );
    assert!(
        seen_by_b.len() <= expected.len() + 3,
        "{} listed",
        seen_by_b.len()
    );

    a.restart();
    assert_eq!(listed(&a, &admin, company), seen_by_b);
    let after = a.thread_in(&admin, company, json!({"assistant_type": "general"}));
    assert!(listed(&b, &admin, company).contains(&after));
}

/// Two processes sharing one stand-in model, and a thread in a company with connections.
struct Shared {
    a: Server,
    b: Server,
    llm: FakeLlm,
    admin: String,
    company: i64,
}

fn shared_model(env: &[(&str, &str)]) -> Option<Shared> {
    let llm = FakeLlm::start();
    let mut with_model = vec![
        ("ADTHREAD_LLM_BASE_URL", llm.base_url.as_str()),
        ("ADTHREAD_LLM_MODEL", "test-model"),
    ];
    with_model.extend_from_slice(env);
    let (a, b) = two_processes(&with_model)?;
    let admin = a.admin_token();
    let company = a.company_with_connections(&admin, "Acme");
    Some(Shared {
        llm,
        a,
        b,
        admin,
        company,
    })
}

impl Shared {
    fn thread(&self) -> String {
        self.a
            .thread(&self.admin, self.company, "general", json!({}))
    }
}

/// Posts `content` to each (server, thread) at once; the statuses in that order.
fn at_once(posts: &[(&Server, &str, &str)], token: &str) -> Vec<u16> {
    std::thread::scope(|scope| {
        let sent: Vec<_> = posts
            .iter()
            .map(|&(server, thread, content)| {
                scope.spawn(move || {
                    server
                        .post(token, &path(thread), &user(content))
                        .status
                        .as_u16()
                })
            })
            .collect();
        sent.into_iter().map(|post| post.join().unwrap()).collect()
    })
}

#[test]
fn two_messages_to_one_thread_on_two_processes_take_turns() {
    let Some(shared) = shared_model(&[]) else {
        return;
    };
    let thread = shared.thread();
    let slow = |text: &str| Answer::text(text).after(Duration::from_millis(1500));
    shared
        .llm
        .script([slow("first reply"), slow("second reply")]);
    let statuses = at_once(
        &[
            (&shared.a, &thread, "from A"),
            (&shared.b, &thread, "from B"),
        ],
        &shared.admin,
    );
    assert_eq!(statuses, [200, 200]);

    // The second turn started after the first was stored: the model saw it, and the thread
    // reads question, answer, question, answer.
    let received = shared.llm.received();
    assert_eq!(received.len(), 2);
    let second_history: Vec<&str> = received[1]
        .messages()
        .iter()
        .filter_map(|message| message["content"].as_str())
        .collect();
    assert!(
        second_history.contains(&"first reply"),
        "{second_history:?}"
    );
    let messages = shared.b.get(&shared.admin, &path(&thread)).expect(200).body;
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages[1]["content"], "first reply");
    assert_eq!(messages[3]["content"], "second reply");
}

#[test]
fn the_monthly_quota_and_the_answers_in_flight_are_counted_across_processes() {
    let Some(shared) = shared_model(&[
        ("ADTHREAD_MONTHLY_TOKEN_QUOTA", "20"),
        ("ADTHREAD_LLM_MAX_CONCURRENT_PER_COMPANY", "1"),
    ]) else {
        return;
    };
    let (first, second) = (shared.thread(), shared.thread());

    // One answer in flight per company: a message on B while A's is answered is refused.
    shared
        .llm
        .script([Answer::text("slow").after(Duration::from_secs(2))]);
    let statuses = std::thread::scope(|scope| {
        let on_a = scope.spawn(|| at_once(&[(&shared.a, &first, "on A")], &shared.admin));
        std::thread::sleep(Duration::from_millis(500));
        let on_b = at_once(&[(&shared.b, &second, "on B")], &shared.admin);
        (on_a.join().unwrap(), on_b)
    });
    assert_eq!(statuses, (vec![200], vec![429]));

    // 15 tokens spent on A, 15 more on B: over the quota of 20, which both now refuse.
    crate::llm::say(&shared.b, &shared.admin, &second, "again");
    for (server, thread) in [(&shared.a, &first), (&shared.b, &second)] {
        let refused = server
            .post(&shared.admin, &path(thread), &user("one more"))
            .expect(429);
        assert!(refused.body["detail"].as_str().unwrap().contains("quota"));
    }
    assert_eq!(shared.llm.received().len(), 2);
    let usage = shared
        .a
        .get(
            &shared.admin,
            &format!("/api/v1/companies/{}/usage", shared.company),
        )
        .expect(200);
    assert_eq!(usage.body["month_tokens"], 30);
}

#[test]
fn sign_in_failures_on_both_processes_count_toward_one_limit() {
    let Some((a, b)) = two_processes(&[
        ("ADTHREAD_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("ADTHREAD_LOGIN_BLOCK_MAX_SECS", "60"),
    ]) else {
        return;
    };
    let password = a.admin_password();
    a.sign_in("admin@localhost", "wrong one").expect(400);
    b.sign_in("admin@localhost", "wrong two").expect(400);
    a.sign_in("admin@localhost", "wrong three").expect(400);
    // The account is blocked on both, even with the right password.
    for server in [&a, &b] {
        server.sign_in("admin@localhost", &password).expect(429);
    }
}
