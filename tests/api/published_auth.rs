//! The published API's sign-in (`/api/v1/users/authorization/token`) and registration
//! (`/api/v1/users/authorization/register`).

use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use serde_json::{json, Value};

use crate::harness::{keys, run_user_create, Answer, Server};

const TOKEN_PATH: &str = "/api/v1/users/authorization/token";
const REGISTER_PATH: &str = "/api/v1/users/authorization/register";
const EMAIL: &str = "planner@agency.example";
const PASSWORD: &str = "a long password";
const LOGGED_IN_KEYS: [&str; 6] = [
    "access_token",
    "email",
    "id",
    "is_google_recaptcha_response_valid",
    "profile",
    "token_type",
];

fn planner(server: &Server) {
    let output = run_user_create(
        server,
        EMAIL,
        PASSWORD,
        &["--first-name", "Grace", "--last-name", "Hopper"],
    );
    assert!(output.status.success());
}

/// Asserts a LoggedInUserSchema answer, field by field.
fn assert_logged_in(answer: &Answer, email: &str, profile: Value) {
    assert_eq!(keys(&answer.body), LOGGED_IN_KEYS);
    assert!(answer.body["id"].as_i64().is_some_and(|id| id > 0));
    assert_eq!(answer.body["email"], email);
    assert_eq!(answer.body["profile"], profile);
    assert_eq!(answer.body["token_type"], "bearer");
    assert_eq!(
        answer.body["is_google_recaptcha_response_valid"],
        Value::Null
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

fn access_token(answer: &Answer) -> String {
    answer.body["access_token"].as_str().unwrap().to_string()
}

/// Seconds until the newest token in the database expires.
/// Whole seconds the newest token has left: up to its lifetime plus one, as its expiry is rounded
/// up to a whole second.
fn newest_token_lifetime(server: &Server) -> i64 {
    let newest: i64 = server
        .sql("SELECT max(expires_at) FROM access_tokens")
        .parse()
        .unwrap();
    newest - chrono::Utc::now().timestamp()
}

#[test]
fn sign_in_answers_logged_in_user_schema_with_a_working_token() {
    let server = Server::start_with(&[("ADTHREAD_TOKEN_LIFETIME_SECS", "3600")]);
    planner(&server);
    let answer = server
        .post_form(
            TOKEN_PATH,
            &[
                ("username", EMAIL),
                ("password", PASSWORD),
                ("grant_type", "password"),
                ("scope", "read write"),
                ("client_id", "frontend"),
                ("client_secret", "anything"),
                ("google_recaptcha_response", "03AGdBq2"),
            ],
        )
        .expect(200);
    assert_logged_in(
        &answer,
        EMAIL,
        json!({"first_name": "Grace", "last_name": "Hopper", "phone_number": null}),
    );
    let lifetime = newest_token_lifetime(&server);
    assert!((3590..=3601).contains(&lifetime), "{lifetime}");

    let token = access_token(&answer);
    assert!(token.len() >= 43, "{token}");
    let me = server.get(&token, "/api/v1/users/me").expect(200);
    assert_eq!(me.body["id"], answer.body["id"]);
    assert_eq!(me.body["profile"], answer.body["profile"]);

    let plain = server.published_sign_in(EMAIL, PASSWORD).expect(200);
    assert_ne!(
        access_token(&plain),
        token,
        "every sign-in gets its own token"
    );
    let differently_cased = server
        .published_sign_in("Planner@Agency.Example", PASSWORD)
        .expect(200);
    assert_eq!(differently_cased.body["email"], EMAIL);

    server
        .post(&token, "/api/v1/auth/logout", &json!({}))
        .expect(204);
    server.get(&token, "/api/v1/users/me").expect(401);
    server
        .get(&access_token(&plain), "/api/v1/users/me")
        .expect(200);
}

/// The fastest of a few argon2id checks with the server's default cost, here in the test.
fn argon2_verify_time() -> Duration {
    let params = Params::new(19456, 2, 1, None).unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2
        .hash_password(b"calibration", &salt)
        .unwrap()
        .to_string();
    let parsed = PasswordHash::new(&hash).unwrap();
    (0..3)
        .map(|_| {
            let started = Instant::now();
            assert!(argon2.verify_password(b"other", &parsed).is_err());
            started.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn wrong_email_and_wrong_password_get_the_same_401_after_a_full_password_check() {
    let server = Server::start();
    planner(&server);
    server.sql(&format!(
        "INSERT INTO users (email, password_hash, is_active, date_added, date_updated) \
         SELECT 'gone@agency.example', password_hash, false, date_added, date_updated \
         FROM users WHERE email = '{EMAIL}'"
    ));
    let tokens_before = server.count("access_tokens");
    let floor = argon2_verify_time() / 2;

    let timed = |email: &str, password: &str| {
        let started = Instant::now();
        let answer = server.published_sign_in(email, password).expect(401);
        (answer, started.elapsed())
    };
    let (wrong_password, wrong_password_time) = timed(EMAIL, "not the password");
    let (wrong_email, wrong_email_time) = timed("nobody@agency.example", PASSWORD);
    let (deactivated, _) = timed("gone@agency.example", PASSWORD);
    for answer in [&wrong_password, &wrong_email, &deactivated] {
        assert_eq!(
            answer.body,
            json!({"detail": "Incorrect email or password"})
        );
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
    assert!(
        wrong_email_time >= floor && wrong_password_time >= floor,
        "a password check takes at least {floor:?}: wrong email {wrong_email_time:?}, \
         wrong password {wrong_password_time:?}"
    );
    assert_eq!(server.count("access_tokens"), tokens_before);
}

#[test]
fn bad_forms_get_422_415_or_413_and_sign_in_no_one() {
    let server = Server::start();
    let locations = |answer: &Answer| -> Vec<Value> {
        answer.body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|issue| {
                assert_eq!(issue["type"], "missing");
                assert_eq!(issue["msg"], "Field required");
                issue["loc"].clone()
            })
            .collect()
    };
    let nothing = server.post_form(TOKEN_PATH, &[]).expect(422);
    assert_eq!(
        locations(&nothing),
        [json!(["body", "username"]), json!(["body", "password"])]
    );
    let empty_password = server
        .post_form(TOKEN_PATH, &[("username", EMAIL), ("password", "")])
        .expect(422);
    assert_eq!(locations(&empty_password), [json!(["body", "password"])]);
    let json_body = server.post_anonymous(TOKEN_PATH, &json!({"username": EMAIL, "password": "x"}));
    assert_eq!(json_body.status, 415, "{}", json_body.body);
    let oversized = format!("username={EMAIL}&password={}", "x".repeat(1024 * 1024));
    let too_large = server
        .post_raw(
            "",
            TOKEN_PATH,
            "application/x-www-form-urlencoded",
            oversized.into_bytes(),
        )
        .expect(413);
    assert!(too_large.body["detail"].as_str().unwrap().contains("limit"));
    assert_eq!(server.count("access_tokens"), 0);
}

fn registration() -> Value {
    json!({
        "email": "new@agency.example",
        "password": "a long password",
        "password_confirm": "a long password",
        "first_name": "Katherine",
        "last_name": "Johnson",
        "phone_number": "+15551234567"
    })
}

#[test]
fn registration_is_off_by_default() {
    let server = Server::start();
    for body in [registration(), json!({"email": 5}), json!([])] {
        let answer = server.post_anonymous(REGISTER_PATH, &body).expect(403);
        assert_eq!(answer.body, json!({"detail": "Registration is disabled"}));
    }
    assert_eq!(server.count("users"), 1);
    server
        .published_sign_in("new@agency.example", "a long password")
        .expect(401);
}

#[test]
fn registration_creates_an_ordinary_user_signed_in() {
    let server = Server::start_with(&[("ADTHREAD_ALLOW_REGISTRATION", "true")]);
    let mut body = registration();
    body["email"] = json!("  new@agency.example ");
    let answer = server.post_anonymous(REGISTER_PATH, &body).expect(200);
    assert_logged_in(
        &answer,
        "new@agency.example",
        json!({"first_name": "Katherine", "last_name": "Johnson", "phone_number": "+15551234567"}),
    );
    let lifetime = newest_token_lifetime(&server);
    assert!((86390..=86401).contains(&lifetime), "{lifetime}");

    let me = server
        .get(&access_token(&answer), "/api/v1/users/me")
        .expect(200);
    assert_eq!(me.body["id"], answer.body["id"]);
    assert_eq!(me.body["is_admin"], false);
    assert_eq!(me.body["is_active"], true);
    assert_eq!(me.body["profile"], answer.body["profile"]);
    server
        .published_sign_in("new@agency.example", "a long password")
        .expect(200);
    server
        .sign_in("new@agency.example", "a long password")
        .expect(200);

    let minimal = server
        .post_anonymous(
            REGISTER_PATH,
            &json!({"email": "min@agency.example", "password": "12345678", "password_confirm": "12345678"}),
        )
        .expect(200);
    assert_eq!(
        minimal.body["profile"],
        json!({"first_name": null, "last_name": null, "phone_number": null})
    );
}

#[test]
fn bad_registrations_get_422_or_409_and_create_nothing() {
    let server = Server::start_with(&[("ADTHREAD_ALLOW_REGISTRATION", "true")]);
    server
        .post_anonymous(REGISTER_PATH, &registration())
        .expect(200);
    let users = server.count("users");
    let tokens = server.count("access_tokens");

    let with = |field: &str, value: Value| {
        let mut body = registration();
        body["email"] = json!("other@agency.example");
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = with("email", json!("other@agency.example"));
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        (
            with("password_confirm", json!("a lung password")),
            "password_confirm",
            "value_error",
        ),
        (with("email", json!("not-an-email")), "email", "value_error"),
        (
            with("email", json!("two@@agency.example")),
            "email",
            "value_error",
        ),
        (
            with("phone_number", json!("12345678")),
            "phone_number",
            "string_too_short",
        ),
        (
            with("phone_number", json!("1234567890123456")),
            "phone_number",
            "string_too_long",
        ),
        (
            with("first_name", json!("x".repeat(201))),
            "first_name",
            "string_too_long",
        ),
        (
            {
                let mut body = with("password", json!("1234567"));
                body["password_confirm"] = json!("1234567");
                body
            },
            "password",
            "string_too_short",
        ),
        (without("email"), "email", "missing"),
        (without("password_confirm"), "password_confirm", "missing"),
        (with("last_name", json!(42)), "last_name", "type_error"),
    ];
    for (body, field, kind) in cases {
        server
            .post_anonymous(REGISTER_PATH, &body)
            .expect_invalid(field, kind);
    }

    let everything_wrong = server
        .post_anonymous(
            REGISTER_PATH,
            &json!({"email": "nope", "password": "short", "password_confirm": "other", "phone_number": "1"}),
        )
        .expect(422);
    let fields: Vec<&Value> = everything_wrong.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| &issue["loc"][1])
        .collect();
    assert_eq!(
        fields,
        ["email", "password", "password_confirm", "phone_number"]
    );

    for email in ["new@agency.example", "NEW@agency.example"] {
        let taken = server
            .post_anonymous(REGISTER_PATH, &with("email", json!(email)))
            .expect(409);
        assert!(taken.body["detail"]
            .as_str()
            .unwrap()
            .contains("already exists"));
    }
    let admin_taken = server
        .post_anonymous(REGISTER_PATH, &with("email", json!("admin@localhost")))
        .expect(409);
    assert!(admin_taken.body["detail"].is_string());

    assert_eq!(server.count("users"), users);
    assert_eq!(server.count("access_tokens"), tokens);
    server
        .published_sign_in("other@agency.example", "a long password")
        .expect(401);
}
