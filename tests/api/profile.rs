//! User profiles: `adthread user create` options, `GET` and `PATCH /api/v1/users/me`, and the
//! password change that signs out the user's other sessions.

use serde_json::{json, Value};

use crate::harness::{is_rfc3339_utc, keys, run_user_create, Server};

const EMAIL: &str = "ada@agency.example";
const PASSWORD: &str = "analytical engine";

fn ada(server: &Server) -> String {
    let output = run_user_create(
        server,
        EMAIL,
        PASSWORD,
        &[
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--phone-number",
            "+33612345678",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.token(EMAIL, PASSWORD)
}

fn password_hash(server: &Server) -> String {
    server.sql(&format!(
        "SELECT password_hash FROM users WHERE email = '{EMAIL}'"
    ))
}

fn me(server: &Server, token: &str) -> Value {
    server.get(token, "/api/v1/users/me").expect(200).body
}

#[test]
fn the_cli_sets_the_profile_that_users_me_shows() {
    let server = Server::start();
    let token = ada(&server);
    let user = me(&server, &token);
    assert_eq!(
        keys(&user),
        [
            "date_added",
            "date_updated",
            "email",
            "id",
            "is_active",
            "is_admin",
            "profile"
        ]
    );
    assert!(user["id"].as_i64().unwrap() > 0);
    assert_eq!(user["email"], EMAIL);
    assert_eq!(user["is_admin"], false);
    assert_eq!(user["is_active"], true);
    assert!(is_rfc3339_utc(&user["date_added"]));
    assert_eq!(user["date_added"], user["date_updated"]);
    assert_eq!(
        user["profile"],
        json!({"first_name": "Ada", "last_name": "Lovelace", "phone_number": "+33612345678"})
    );

    let admin = me(&server, &server.admin_token());
    assert_eq!(
        admin["profile"],
        json!({"first_name": null, "last_name": null, "phone_number": null})
    );
}

#[test]
fn the_cli_refuses_bad_values_and_creates_nothing() {
    let server = Server::start();
    let cases: [(&str, &str, &[&str], &str); 5] = [
        (
            "x@agency.example",
            PASSWORD,
            &["--phone-number", "12345678"],
            "--phone-number: String should have at least 9 characters",
        ),
        (
            "x@agency.example",
            PASSWORD,
            &["--phone-number", "1234567890123456"],
            "--phone-number: String should have at most 15 characters",
        ),
        (
            "x@agency.example",
            PASSWORD,
            &["--last-name", &"x".repeat(201)],
            "--last-name: String should have at most 200 characters",
        ),
        (
            "not-an-email",
            PASSWORD,
            &[],
            "the email: value is not a valid email address",
        ),
        (
            "x@agency.example",
            "short",
            &[],
            "the password (read from standard input): String should have at least 8 characters",
        ),
    ];
    for (email, password, options, message) in cases {
        let output = run_user_create(&server, email, password, options);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{options:?} was accepted");
        assert!(stderr.contains(message), "{options:?}: {stderr}");
    }
    assert_eq!(server.count("users"), 1, "only the first administrator");
}

#[test]
fn patch_changes_only_the_fields_sent() {
    let server = Server::start();
    let token = ada(&server);
    let before = me(&server, &token);

    let unchanged = server
        .patch(&token, "/api/v1/users/me", &json!({}))
        .expect(200)
        .body;
    assert_eq!(unchanged, before, "an empty change changes nothing");

    std::thread::sleep(std::time::Duration::from_millis(5));
    let renamed = server
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({"first_name": "Augusta"}),
        )
        .expect(200)
        .body;
    assert_eq!(
        renamed["profile"],
        json!({"first_name": "Augusta", "last_name": "Lovelace", "phone_number": "+33612345678"})
    );
    assert!(renamed["date_updated"].as_str() > before["date_updated"].as_str());
    assert_eq!(renamed["date_added"], before["date_added"]);
    assert_eq!(renamed["email"], before["email"]);
    assert_eq!(me(&server, &token), renamed, "the change was stored");

    let cleared = server
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({"phone_number": null, "last_name": "King"}),
        )
        .expect(200)
        .body;
    assert_eq!(
        cleared["profile"],
        json!({"first_name": "Augusta", "last_name": "King", "phone_number": null})
    );

    let ignored = server
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({"email": "other@agency.example", "is_admin": true}),
        )
        .expect(200)
        .body;
    assert_eq!(ignored["email"], EMAIL);
    assert_eq!(ignored["is_admin"], false);
}

#[test]
fn bad_changes_get_422_naming_the_field_and_change_nothing() {
    let server = Server::start();
    let token = ada(&server);
    let before = me(&server, &token);
    let hash_before = password_hash(&server);
    let cases = [
        (
            json!({"phone_number": "12345678", "first_name": "Changed"}),
            "phone_number",
            "string_too_short",
        ),
        (
            json!({"phone_number": "1234567890123456"}),
            "phone_number",
            "string_too_long",
        ),
        (
            json!({"first_name": "x".repeat(201)}),
            "first_name",
            "string_too_long",
        ),
        (json!({"last_name": 5}), "last_name", "type_error"),
        (
            json!({"current_password": PASSWORD, "new_password": "short", "first_name": "Changed"}),
            "new_password",
            "string_too_short",
        ),
    ];
    for (body, field, kind) in cases {
        server
            .patch(&token, "/api/v1/users/me", &body)
            .expect_invalid(field, kind);
    }
    // Without the current password, or with a wrong one: 403 (the token is fine, and the
    // request is well formed).
    for body in [
        json!({"new_password": "a brand new one"}),
        json!({"current_password": "not it", "new_password": "a brand new one"}),
        json!({"current_password": "not the password", "new_password": "a brand new one", "first_name": "Changed"}),
    ] {
        let wrong = server.patch(&token, "/api/v1/users/me", &body).expect(403);
        assert!(wrong.body["detail"].as_str().unwrap().contains("password"));
    }
    // The current password alone changes nothing.
    server
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({"current_password": PASSWORD}),
        )
        .expect(200);

    assert_eq!(me(&server, &token), before, "nothing changed");
    let hash_after = password_hash(&server);
    assert_eq!(hash_after, hash_before);
    server.sign_in(EMAIL, PASSWORD).expect(200);

    let unsigned = server
        .client
        .patch(server.url("/api/v1/users/me"))
        .json(&json!({"first_name": "Eve"}))
        .send()
        .unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[test]
fn a_password_change_signs_out_every_other_session() {
    let server = Server::start();
    let this_session = ada(&server);
    let other_session = server.token(EMAIL, PASSWORD);
    let published_session = server.published_sign_in(EMAIL, PASSWORD).expect(200).body
        ["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = server.admin_token();
    let before = me(&server, &this_session);

    std::thread::sleep(std::time::Duration::from_millis(5));
    let changed = server
        .patch(
            &this_session,
            "/api/v1/users/me",
            &json!({
                "current_password": PASSWORD,
                "new_password": "difference engine",
                "first_name": "Augusta"
            }),
        )
        .expect(200)
        .body;
    assert_eq!(changed["profile"]["first_name"], "Augusta");
    assert!(changed["date_updated"].as_str() > before["date_updated"].as_str());

    server.get(&this_session, "/api/v1/users/me").expect(200);
    server.get(&other_session, "/api/v1/users/me").expect(401);
    server
        .get(&published_session, "/api/v1/users/me")
        .expect(401);
    server.get(&admin, "/api/v1/users/me").expect(200);

    server.sign_in(EMAIL, PASSWORD).expect(400);
    server.published_sign_in(EMAIL, PASSWORD).expect(401);
    server.sign_in(EMAIL, "difference engine").expect(200);
    server
        .published_sign_in(EMAIL, "difference engine")
        .expect(200);
    let hash = password_hash(&server);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}
