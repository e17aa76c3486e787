//! Repeated failed sign-ins from one address slow down, then get 429 with Retry-After; the owner
//! gets back in soon. Other addresses, proxies and password changes: `hostile_clients.rs`.

use std::time::Duration;

use crate::harness::{create_user_cli, Answer, Server};

/// The seconds of a throttled answer's `Retry-After`.
pub fn retry_after(answer: &Answer) -> u64 {
    answer
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds")
}

#[test]
fn failures_for_one_account_get_429_until_the_block_ends_then_the_owner_signs_in() {
    let server = Server::start_with(&[
        ("ADTHREAD_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("ADTHREAD_LOGIN_BLOCK_MAX_SECS", "2"),
    ]);
    create_user_cli(&server, "owner@example.com", "the right password", false);
    for _ in 0..3 {
        server.sign_in("owner@example.com", "guess").expect(400);
    }
    // Blocked even with the right password, and whatever the case of the email.
    let blocked = server
        .sign_in("OWNER@example.com", "the right password")
        .expect(429);
    assert!(
        (1..=2).contains(&retry_after(&blocked)),
        "{:?}",
        blocked.headers
    );
    assert!(blocked.body["detail"]
        .as_str()
        .unwrap()
        .contains("Too many"));
    // The published API's sign-in goes through the same gate.
    let published = Answer::from(
        server
            .client
            .post(server.url("/api/v1/users/authorization/token"))
            .form(&[
                ("username", "owner@example.com"),
                ("password", "the right password"),
            ])
            .send()
            .unwrap(),
    )
    .expect(429);
    assert!(retry_after(&published) >= 1);
    // Another account is not affected.
    server.sign_in("someone@example.com", "guess").expect(400);

    std::thread::sleep(Duration::from_secs(retry_after(&blocked)));
    server
        .sign_in("owner@example.com", "the right password")
        .expect(200);
    // A success clears the account's failures.
    server.sign_in("owner@example.com", "guess").expect(400);
    server
        .sign_in("owner@example.com", "the right password")
        .expect(200);
}

#[test]
fn failures_from_one_address_over_many_accounts_get_429_and_blocks_double() {
    let server = Server::start_with(&[
        ("ADTHREAD_LOGIN_FAILURES_PER_ADDRESS", "4"),
        ("ADTHREAD_LOGIN_BLOCK_MAX_SECS", "60"),
    ]);
    for n in 0..4 {
        server
            .sign_in(&format!("user{n}@example.com"), "guess")
            .expect(400);
    }
    let first = server.sign_in("fresh@example.com", "guess").expect(429);
    assert_eq!(retry_after(&first), 1);
    std::thread::sleep(Duration::from_secs(1));
    server.sign_in("fresh@example.com", "guess").expect(400);
    let second = server.sign_in("fresh@example.com", "guess").expect(429);
    assert_eq!(retry_after(&second), 2, "the block doubles");
}
