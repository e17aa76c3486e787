//! Many clients writing at once, to the same company and to different ones, while
//! `adthread user create` writes to the same file from another process: nobody sees
//! "database is locked" or a 5xx.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::json;

use crate::harness::{create_user_cli, Answer, Server};

const CLIENTS: usize = 16;
const ROUNDS: usize = 25;

fn assert_fine(answer: &Answer, what: &str) {
    assert!(
        answer.status.is_success(),
        "{what}: {} {}",
        answer.status,
        answer.body
    );
    assert!(
        !answer.body.to_string().contains("locked"),
        "{what}: {}",
        answer.body
    );
}

#[test]
fn many_writers_and_the_cli_never_see_a_locked_database() {
    let server = Server::start();
    let token = server.admin_token();
    let shared = server.company(&token, "Shared");
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let cli_users = std::thread::scope(|scope| {
        let cli = scope.spawn(|| {
            let mut created = 0;
            while !done.load(Ordering::Relaxed) || created < 3 {
                create_user_cli(
                    &server,
                    &format!("cli{created}@example.com"),
                    "a long password",
                    false,
                );
                created += 1;
            }
            created
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (server, token) = (&server, &token);
                scope.spawn(move || {
                    let own = server.company(token, &format!("Own {client}"));
                    for round in 0..ROUNDS {
                        let company = if round % 2 == 0 { shared } else { own };
                        let created = server.post(
                            token,
                            &format!("/api/v1/chat/threads?company_id={company}"),
                            &json!({"assistant_type": "general", "name": format!("c{client} r{round}")}),
                        );
                        assert_fine(&created, "create a thread");
                        let id = created.body["thread_id"].as_str().unwrap();
                        let patched = server.patch(
                            token,
                            &format!("/api/v1/chat/threads/{id}"),
                            &json!({"is_completed": true, "extra_data": {"round": round}}),
                        );
                        assert_fine(&patched, "patch a thread");
                        let customer = server.post(
                            token,
                            &format!("/api/v1/companies/{own}/google-ads-customers"),
                            &json!({"id": 1000 + round}),
                        );
                        assert_fine(&customer, "add a customer");
                        let listed = server.get(token, &format!("/api/v1/chat/threads?company_id={company}&limit=5"));
                        assert_fine(&listed, "list threads");
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        cli.join().unwrap()
    });
    eprintln!(
        "concurrency: {} requests from {CLIENTS} clients and {cli_users} `user create` runs in {:.1?}",
        CLIENTS * (ROUNDS * 4 + 1),
        started.elapsed()
    );

    let shared_threads = server.all_threads(&token, shared);
    assert_eq!(shared_threads.len(), CLIENTS * ROUNDS.div_ceil(2));
    assert!(shared_threads.iter().all(|t| t["is_completed"] == true));
    for n in 0..cli_users {
        server.token(&format!("cli{n}@example.com"), "a long password");
    }
    let log = server.log().to_lowercase();
    assert!(!log.contains("locked") && !log.contains("busy"), "{log}");
}
