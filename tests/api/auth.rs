use serde_json::json;

use crate::harness::{create_user_cli, Server};

#[test]
fn first_start_creates_an_admin_whose_password_is_only_in_a_private_file() {
    let server = Server::start();
    let password_file = server.dir.path().join("data/initial-admin-password");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&password_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let password = server.admin_password();
    assert!(password.len() >= 16);
    assert!(
        !server.log().contains(&password),
        "the password reached the log"
    );

    let token = server.admin_token();
    let me = server.get(&token, "/api/v1/users/me").expect(200);
    assert_eq!(me.body["email"], "admin@localhost");
    assert_eq!(me.body["is_admin"], true);
}

#[test]
fn the_token_endpoint_follows_rfc_6749() {
    let server = Server::start();
    let answer = server
        .sign_in("admin@localhost", &server.admin_password())
        .expect(200);
    assert_eq!(answer.body["token_type"], "bearer");
    assert_eq!(answer.body["expires_in"], 86400);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let token = answer.body["access_token"].as_str().unwrap();
    assert!(token.len() >= 43, "at least 256 bits: {token}");

    let wrong_password = server.sign_in("admin@localhost", "not-it").expect(400);
    let wrong_email = server.sign_in("nobody@example.com", "not-it").expect(400);
    assert_eq!(wrong_password.body["error"], "invalid_grant");
    assert_eq!(wrong_password.body, wrong_email.body);

    let form = |pairs: &[(&str, &str)]| {
        let response = server
            .client
            .post(server.url("/api/v1/auth/token"))
            .form(pairs)
            .send()
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<serde_json::Value>().unwrap(),
        )
    };
    let (status, body) = form(&[("username", "a"), ("password", "b")]);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = form(&[("grant_type", "client_credentials")]);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[test]
fn tokens_are_stored_only_as_hashes() {
    let server = Server::start();
    let token = server.admin_token();
    drop(server.get(&token, "/api/v1/users/me").expect(200));
    // Both databases write a hash as \x and its bytes in hex.
    let stored = server.sql("SELECT token_hash FROM access_tokens");
    assert_eq!(stored.lines().count(), 1, "{stored}");
    assert_eq!(stored.len(), 2 + 2 * 32, "{stored}");
    assert!(!stored.contains(&token));
    let hash = server.sql("SELECT password_hash FROM users");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[test]
fn missing_unknown_and_revoked_tokens_get_401_with_www_authenticate() {
    let server = Server::start();
    let token = server.admin_token();
    let no_token = server
        .client
        .get(server.url("/api/v1/users/me"))
        .send()
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(no_token.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        no_token.json::<serde_json::Value>().unwrap(),
        json!({"detail": "Not authenticated"})
    );

    let unknown = server
        .get("adt_not-a-real-token", "/api/v1/users/me")
        .expect(401);
    assert_eq!(unknown.body, json!({"detail": "Not authenticated"}));

    server
        .post(&token, "/api/v1/auth/logout", &json!({}))
        .expect(204);
    server.get(&token, "/api/v1/users/me").expect(401);
}

#[test]
fn tokens_expire_after_their_lifetime() {
    let server = Server::start_with(&[("ADTHREAD_TOKEN_LIFETIME_SECS", "2")]);
    let token = server.admin_token();
    let issued = std::time::Instant::now();
    server.get(&token, "/api/v1/users/me").expect(200);
    // A token works for at least its lifetime and less than a second more.
    std::thread::sleep(std::time::Duration::from_millis(3100).saturating_sub(issued.elapsed()));
    server.get(&token, "/api/v1/users/me").expect(401);
}

#[test]
fn the_cli_creates_users_while_the_server_runs() {
    let server = Server::start();
    create_user_cli(&server, "planner@agency.example", "a long password", false);
    let token = server.token("planner@agency.example", "a long password");
    let me = server.get(&token, "/api/v1/users/me").expect(200);
    assert_eq!(me.body["is_admin"], false);

    let mut again = server.command();
    let output = again
        .args(["user", "create", "planner@agency.example"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = {
        let mut child = output;
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "another password").unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}
