//! Administrators managing accounts through `/api/v1/users`.

use serde_json::json;

use crate::harness::Server;

fn user_id(server: &Server, token: &str) -> i64 {
    server.get(token, "/api/v1/users/me").expect(200).body["id"]
        .as_i64()
        .unwrap()
}

fn create(server: &Server, admin: &str, email: &str, password: &str) -> i64 {
    server
        .post(
            admin,
            "/api/v1/users",
            &json!({"email": email, "password": password, "first_name": "Ada", "phone_number": "+33123456789"}),
        )
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap()
}

#[test]
fn only_administrators_manage_users() {
    let server = Server::start();
    let planner = server.user("planner@agency.test", false);
    let me = user_id(&server, &planner);
    for answer in [
        server.get(&planner, "/api/v1/users"),
        server.post(
            &planner,
            "/api/v1/users",
            &json!({"email": "x@agency.test", "password": "long enough"}),
        ),
        server.patch(
            &planner,
            &format!("/api/v1/users/{me}"),
            &json!({"is_admin": true}),
        ),
        // 403 whatever the body says: the rights are checked before the body's rules.
        server.post(
            &planner,
            "/api/v1/users",
            &json!({"email": "x@agency.test", "password": "short"}),
        ),
        server.patch(
            &planner,
            &format!("/api/v1/users/{me}"),
            &json!({"password": "short"}),
        ),
    ] {
        let answer = answer.expect(403);
        assert_eq!(
            answer.body["detail"],
            "Only administrators can manage users"
        );
    }
    assert_eq!(
        server.get(&planner, "/api/v1/users/me").expect(200).body["is_admin"],
        false
    );
    server.get("not-a-token", "/api/v1/users").expect(401);
}

#[test]
fn an_administrator_creates_users_who_can_sign_in() {
    let server = Server::start();
    let admin = server.admin_token();
    let id = create(&server, &admin, "  new@agency.test ", "s3cret-enough");

    let listed = server.get(&admin, "/api/v1/users").expect(200);
    let user = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["id"] == id)
        .expect("the new user is listed")
        .clone();
    assert_eq!(user["email"], "new@agency.test");
    assert_eq!(user["is_admin"], false);
    assert_eq!(user["is_active"], true);
    assert_eq!(
        user["profile"],
        json!({"first_name": "Ada", "last_name": null, "phone_number": "+33123456789"})
    );
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    server.token("new@agency.test", "s3cret-enough");

    let short = server
        .post(
            &admin,
            "/api/v1/users",
            &json!({"email": "b@agency.test", "password": "1234567"}),
        )
        .expect(422);
    assert_eq!(short.body["detail"][0]["loc"], json!(["body", "password"]));
    let bad_email = server
        .post(
            &admin,
            "/api/v1/users",
            &json!({"email": "no-at-sign", "password": "long enough"}),
        )
        .expect(422);
    assert_eq!(bad_email.body["detail"][0]["loc"], json!(["body", "email"]));
    let bad_phone = server
        .post(
            &admin,
            "/api/v1/users",
            &json!({"email": "d@agency.test", "password": "long enough", "phone_number": "12"}),
        )
        .expect(422);
    assert_eq!(
        bad_phone.body["detail"][0]["loc"],
        json!(["body", "phone_number"])
    );
    let missing = server
        .post(&admin, "/api/v1/users", &json!({"email": "c@agency.test"}))
        .expect(422);
    assert_eq!(
        missing.body["detail"][0]["loc"],
        json!(["body", "password"])
    );
    let duplicate = server
        .post(
            &admin,
            "/api/v1/users",
            &json!({"email": "NEW@agency.test", "password": "long enough"}),
        )
        .expect(409);
    assert!(duplicate.body["detail"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    let count = server.get(&admin, "/api/v1/users").expect(200).body;
    assert_eq!(
        count.as_array().unwrap().len(),
        2,
        "nothing else was created"
    );
}

#[test]
fn deactivating_a_user_stops_their_tokens_at_once() {
    let server = Server::start();
    let admin = server.admin_token();
    let id = create(&server, &admin, "leaver@agency.test", "leaver-password");
    let token = server.token("leaver@agency.test", "leaver-password");
    server.get(&token, "/api/v1/companies").expect(200);

    let changed = server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"is_active": false}),
        )
        .expect(200);
    assert_eq!(changed.body["is_active"], false);
    let refused = server.get(&token, "/api/v1/companies").expect(401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    server
        .sign_in("leaver@agency.test", "leaver-password")
        .expect(400);

    server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"is_active": true}),
        )
        .expect(200);
    server.get(&token, "/api/v1/companies").expect(401);
    let fresh = server.token("leaver@agency.test", "leaver-password");
    server.get(&fresh, "/api/v1/companies").expect(200);
}

#[test]
fn a_password_reset_revokes_the_users_tokens() {
    let server = Server::start();
    let admin = server.admin_token();
    let id = create(&server, &admin, "forgetful@agency.test", "old-password");
    let old_token = server.token("forgetful@agency.test", "old-password");

    let short = server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"password": "short"}),
        )
        .expect(422);
    assert_eq!(short.body["detail"][0]["loc"], json!(["body", "password"]));
    server.get(&old_token, "/api/v1/users/me").expect(200);

    server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"password": "new-password"}),
        )
        .expect(200);
    server.get(&old_token, "/api/v1/users/me").expect(401);
    server
        .sign_in("forgetful@agency.test", "old-password")
        .expect(400);
    server.token("forgetful@agency.test", "new-password");

    // An administrator resetting their own password stays signed in there, and only there.
    let other_session = server.admin_token();
    let me = user_id(&server, &admin);
    server
        .patch(
            &admin,
            &format!("/api/v1/users/{me}"),
            &json!({"password": "admin-new-password"}),
        )
        .expect(200);
    server.get(&admin, "/api/v1/users/me").expect(200);
    server.get(&other_session, "/api/v1/users/me").expect(401);
    server.token("admin@localhost", "admin-new-password");

    server
        .patch(
            &admin,
            "/api/v1/users/999999",
            &json!({"password": "whatever-long"}),
        )
        .expect(404);
}

#[test]
fn administrators_make_admins_but_cannot_demote_or_deactivate_themselves() {
    let server = Server::start();
    let admin = server.admin_token();
    let me = user_id(&server, &admin);
    for (change, message) in [
        (json!({"is_admin": false}), "own administrator rights"),
        (json!({"is_active": false}), "deactivate your own account"),
    ] {
        let refused = server
            .patch(&admin, &format!("/api/v1/users/{me}"), &change)
            .expect(409);
        assert!(
            refused.body["detail"].as_str().unwrap().contains(message),
            "{:#}",
            refused.body
        );
    }
    let still = server.get(&admin, "/api/v1/users/me").expect(200);
    assert_eq!(
        (
            still.body["is_admin"].clone(),
            still.body["is_active"].clone()
        ),
        (json!(true), json!(true))
    );

    let id = create(&server, &admin, "boss@agency.test", "boss-password");
    let boss = server.token("boss@agency.test", "boss-password");
    server.get(&boss, "/api/v1/users").expect(403);
    let promoted = server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"is_admin": true}),
        )
        .expect(200);
    assert_eq!(promoted.body["is_admin"], true);
    server.get(&boss, "/api/v1/users").expect(200);
    // The new admin may now demote the first one: someone with rights always remains.
    server
        .patch(
            &boss,
            &format!("/api/v1/users/{me}"),
            &json!({"is_admin": false}),
        )
        .expect(200);
    server.get(&admin, "/api/v1/users").expect(403);

    let wrong_type = server
        .patch(
            &boss,
            &format!("/api/v1/users/{me}"),
            &json!({"is_admin": "yes"}),
        )
        .expect(422);
    assert_eq!(
        wrong_type.body["detail"][0]["loc"],
        json!(["body", "is_admin"])
    );
}
