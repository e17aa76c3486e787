//! Whatever clients send, the server's memory stays bounded: list filters, cursors and tokens
//! made up by the thousand leave nothing behind, and expired tokens leave the database.

use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::json;

use crate::harness::{new_thread, Server, CUSTOMER_ID, LOCATION_ID};

const CLIENTS: usize = 4;
const WARM_UP: usize = 4_000;
const HOSTILE: usize = 24_000;
/// What the measured requests may add to the server's memory. Remembering their multi-kilobyte
/// filters, as the list cache once did, took 25 to 30 MB.
const ALLOWED_GROWTH_KIB: u64 = 6 * 1024;

/// A request of the attack and the status it must get.
struct Hostile {
    path: String,
    bearer: String,
    status: u16,
}

/// Request `n` of the attack. Every value is new: multi-kilobyte location ids, customer ids,
/// cursors and companies no client was ever given, and tokens nobody was issued.
fn hostile_request(company: i64, token: &str, n: usize) -> Hostile {
    let list = format!("/api/v1/chat/threads?company_id={company}");
    let made_up_location = format!("locations%2F{n}-{}", "x".repeat(4096));
    let signed_in = |path: String, status| Hostile {
        path,
        bearer: token.into(),
        status,
    };
    match n % 5 {
        0 => signed_in(format!("{list}&location_id={made_up_location}"), 200),
        1 => signed_in(
            format!(
                "{list}&customer_id={}&location_id={made_up_location}",
                n + 1
            ),
            200,
        ),
        2 => signed_in(
            format!(
                "{list}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}&cursor={:016x}",
                n + 1_000_000
            ),
            200,
        ),
        3 => signed_in(
            format!("/api/v1/chat/threads?company_id={}", n + 1_000_000),
            404,
        ),
        _ => Hostile {
            path: list,
            bearer: format!("adt_forged-{n:08}-{}", "y".repeat(40)),
            status: 401,
        },
    }
}

/// Sends requests `from..to` of the attack from several keep-alive clients at once; each must
/// get its ordinary answer.
fn attack(server: &Server, company: i64, token: &str, from: usize, to: usize) {
    std::thread::scope(|scope| {
        for client_number in 0..CLIENTS {
            scope.spawn(move || {
                let client = Client::new();
                for n in (from + client_number..to).step_by(CLIENTS) {
                    let request = hostile_request(company, token, n);
                    let answer = client
                        .get(server.url(&request.path))
                        .bearer_auth(&request.bearer)
                        .send()
                        .unwrap();
                    assert_eq!(
                        answer.status().as_u16(),
                        request.status,
                        "{}",
                        &request.path[..80.min(request.path.len())]
                    );
                }
            });
        }
    });
}

#[test]
fn tens_of_thousands_of_made_up_list_requests_leave_memory_flat() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let scoped =
        format!("company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}");
    for _ in 0..3 {
        new_thread(
            &server,
            &token,
            &scoped,
            json!({"assistant_type": "general"}),
        );
    }
    // Thread pools, allocator arenas and connection buffers reach their working size first.
    attack(&server, company, &token, 0, WARM_UP);
    let before = server.rss_kib();
    let started = Instant::now();
    attack(&server, company, &token, WARM_UP, WARM_UP + HOSTILE);
    let after = server.rss_kib();
    eprintln!(
        "{HOSTILE} hostile requests in {:.1} s: RSS {before} KiB -> {after} KiB",
        started.elapsed().as_secs_f64()
    );
    assert!(
        after < before + ALLOWED_GROWTH_KIB,
        "{HOSTILE} made-up requests grew the server from {before} KiB to {after} KiB"
    );
}

#[test]
fn expired_tokens_are_deleted_in_the_background() {
    let server = Server::start_with(&[("ADTHREAD_TOKEN_LIFETIME_SECS", "1")]);
    let password = server.admin_password();
    for _ in 0..30 {
        server.sign_in("admin@localhost", &password).expect(200);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = server.count("access_tokens");
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} expired tokens are still in the database"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
