//! Clients that guess passwords from many addresses, lie about who they are in
//! `X-Forwarded-For` or `Host`, or register in bulk. The second client address is 127.0.0.2:
//! on Linux all of 127.0.0.0/8 is loopback, so it reaches the server bound to 127.0.0.1.

use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::json;

use crate::harness::{create_user_cli, new_thread, next_page, Answer, Server};
use crate::login_throttle::retry_after;

const OWNER: &str = "owner@example.com";
const OWNER_PASSWORD: &str = "the owner's password";

/// A client whose connections come from `address`.
fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(Some(address.parse().unwrap()))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A password-grant sign-in sent by `client`, with an `X-Forwarded-For` when given.
fn sign_in_from(
    server: &Server,
    client: &Client,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> Answer {
    let mut request = client.post(server.url("/api/v1/auth/token")).form(&[
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ]);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    Answer::from(request.send().unwrap())
}

#[test]
fn an_attacker_at_another_address_never_locks_the_owner_out() {
    let server = Server::start_with(&[("ADTHREAD_LOGIN_FAILURES_PER_ACCOUNT", "3")]);
    create_user_cli(&server, OWNER, OWNER_PASSWORD, false);
    let attacker = client_from("127.0.0.2");
    let answers: Vec<u16> = (0..12)
        .map(|n| {
            let guess = format!("guess {n}");
            sign_in_from(&server, &attacker, None, OWNER, &guess)
                .status
                .as_u16()
        })
        .collect();
    // Three free failures, then 429 (a block ending between two guesses on a slow machine
    // lets one more through, not more).
    assert_eq!(answers[..4], [400, 400, 400, 429], "{answers:?}");
    let checked = answers.iter().filter(|&&status| status == 400).count();
    assert!(checked <= 5 && answers[11] == 429, "{answers:?}");

    // The owner, from their own address, gets in at once, through either sign-in.
    server.sign_in(OWNER, OWNER_PASSWORD).expect(200);
    server.published_sign_in(OWNER, OWNER_PASSWORD).expect(200);
    // The attacker stays blocked, even with the right password: it is not even checked.
    let blocked = sign_in_from(&server, &attacker, None, OWNER, OWNER_PASSWORD).expect(429);
    assert!(retry_after(&blocked) >= 1);
    assert_eq!(
        blocked.body,
        json!({"detail": "Too many failed sign-ins; try again later"})
    );
}

#[test]
fn guessing_from_many_addresses_shares_one_pace_per_account_and_the_owner_still_gets_in() {
    let server = Server::start_with(&[
        ("ADTHREAD_TRUSTED_PROXIES", "127.0.0.1"),
        ("ADTHREAD_LOGIN_ACCOUNT_CHECKS_PER_MINUTE", "3"),
    ]);
    create_user_cli(&server, OWNER, OWNER_PASSWORD, false);
    let proxy = &server.client;
    // Three addresses spend the account's three checks of the minute.
    for n in 1..=3 {
        let address = format!("198.51.100.{n}");
        sign_in_from(&server, proxy, Some(&address), OWNER, "guess").expect(400);
    }
    // Each of them has failed before: its next guess waits for the account's pace (20 s a
    // check), although it is far below its own limit of failures.
    for n in 1..=3 {
        let address = format!("198.51.100.{n}");
        let paced = sign_in_from(&server, proxy, Some(&address), OWNER, "guess").expect(429);
        assert!((1..=20).contains(&retry_after(&paced)), "{paced:?}");
    }
    // The owner, from an address that never failed, is checked and gets in.
    sign_in_from(&server, proxy, Some("203.0.113.7"), OWNER, OWNER_PASSWORD).expect(200);
}

#[test]
fn a_wrong_current_password_is_throttled_and_a_blocked_attempt_checks_nothing() {
    // Costly checks, so that one is easy to tell from none.
    let server = Server::start_with(&[
        ("ADTHREAD_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("ADTHREAD_ARGON2_ITERATIONS", "10"),
    ]);
    create_user_cli(&server, OWNER, OWNER_PASSWORD, false);
    let token = server.token(OWNER, OWNER_PASSWORD);
    let change = |current: &str| {
        server.patch(
            &token,
            "/api/v1/users/me",
            &json!({"current_password": current, "new_password": "a brand new password"}),
        )
    };
    let mut check_time = Duration::MAX;
    for n in 0..3 {
        let started = Instant::now();
        change(&format!("guess {n}")).expect(403);
        check_time = check_time.min(started.elapsed());
    }
    let blocked = change("guess 4").expect(429);
    assert!(retry_after(&blocked) >= 1, "{blocked:?}");
    assert_eq!(
        blocked.body,
        json!({"detail": "Too many wrong passwords; try again later"})
    );
    // Blocked, the right password changes nothing either; ten blocked attempts take less time
    // than three password checks would (argon2 is not run for them).
    let started = Instant::now();
    for _ in 0..10 {
        change(OWNER_PASSWORD).expect(429);
    }
    let blocked_time = started.elapsed();
    assert!(
        blocked_time < check_time * 3,
        "ten blocked attempts took {blocked_time:?}, one check {check_time:?}"
    );
    // The password is unchanged (checked from an address that has not failed).
    let elsewhere = client_from("127.0.0.2");
    sign_in_from(&server, &elsewhere, None, OWNER, OWNER_PASSWORD).expect(200);
}

#[test]
fn registrations_are_throttled_per_address() {
    let server = Server::start_with(&[
        ("ADTHREAD_ALLOW_REGISTRATION", "true"),
        ("ADTHREAD_REGISTRATIONS_PER_ADDRESS", "2"),
    ]);
    let register = |client: &Client, email: &str| {
        let body = json!({"email": email, "password": "a long password",
                          "password_confirm": "a long password"});
        Answer::from(
            client
                .post(server.url("/api/v1/users/authorization/register"))
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    register(&server.client, "one@example.com").expect(200);
    register(&server.client, "two@example.com").expect(200);
    let users = server.count("users");
    let refused = register(&server.client, "three@example.com").expect(429);
    assert!(
        (3500..=3600).contains(&retry_after(&refused)),
        "{refused:?}"
    );
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("Too many registrations"));
    assert_eq!(server.count("users"), users, "nothing was created");
    register(&client_from("127.0.0.2"), "three@example.com").expect(200);
}

#[test]
fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = Server::start_with(&[("ADTHREAD_LOGIN_FAILURES_PER_ADDRESS", "3")]);
    for n in 1..=3 {
        let (address, email) = (format!("198.51.100.{n}"), format!("user{n}@example.com"));
        sign_in_from(&server, &server.client, Some(&address), &email, "guess").expect(400);
    }
    let rotated = Some("198.51.100.99");
    sign_in_from(
        &server,
        &server.client,
        rotated,
        "fresh@example.com",
        "guess",
    )
    .expect(429);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_is_counted_apart() {
    let server = Server::start_with(&[
        ("ADTHREAD_TRUSTED_PROXIES", "127.0.0.1"),
        ("ADTHREAD_LOGIN_FAILURES_PER_ADDRESS", "3"),
    ]);
    let proxy = &server.client;
    for n in 1..=3 {
        let email = format!("user{n}@example.com");
        sign_in_from(&server, proxy, Some("198.51.100.1"), &email, "guess").expect(400);
    }
    sign_in_from(&server, proxy, Some("198.51.100.1"), "new@example.com", "x").expect(429);
    // What the client put in front of what the proxy appended changes nothing.
    let spoofed = Some("198.51.100.2, 198.51.100.1");
    sign_in_from(&server, proxy, spoofed, "new@example.com", "x").expect(429);
    // Another client behind the same proxy has its own count.
    sign_in_from(&server, proxy, Some("198.51.100.2"), "new@example.com", "x").expect(400);
    // A peer that is not a trusted proxy is counted by its own address.
    let other = client_from("127.0.0.2");
    sign_in_from(
        &server,
        &other,
        Some("198.51.100.1"),
        "new@example.com",
        "x",
    )
    .expect(400);
}

/// The `Link` of the first page of two, asked with `headers`.
fn first_page_link(server: &Server, headers: &[(&str, &str)]) -> (Answer, String) {
    let token = server.admin_token();
    let company = server.company(&token, "Acme");
    for _ in 0..2 {
        new_thread(
            server,
            &token,
            &format!("company_id={company}"),
            json!({"assistant_type": "onboarding"}),
        );
    }
    let mut request = server
        .client
        .get(server.url(&format!(
            "/api/v1/chat/threads?company_id={company}&limit=1"
        )))
        .bearer_auth(&token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = Answer::from(request.send().unwrap()).expect(200);
    let link = answer.header("link").expect("a Link header").to_string();
    (answer, link)
}

#[test]
fn link_headers_are_relative_whatever_host_and_forwarded_headers_say() {
    let server = Server::start();
    let hostile = [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
    ];
    let (answer, link) = first_page_link(&server, &hostile);
    assert!(link.starts_with("</api/v1/chat/threads?"), "{link}");
    assert!(!link.contains("evil"), "{link}");
    let next = next_page(&answer, &server.base).unwrap();
    let token = server.admin_token();
    let second = server.get(&token, &next).expect(200);
    assert_eq!(second.body.as_array().unwrap().len(), 1);
}

#[test]
fn link_headers_use_the_configured_public_url() {
    let server = Server::start_with(&[("ADTHREAD_PUBLIC_URL", "https://adthread.example/")]);
    let (_, link) = first_page_link(&server, &[("host", "evil.example")]);
    assert!(
        link.starts_with("<https://adthread.example/api/v1/chat/threads?company_id="),
        "{link}"
    );
    assert!(link.contains("&cursor="), "{link}");
}
