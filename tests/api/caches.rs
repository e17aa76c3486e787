//! The server caches list pages and tokens; whatever a write changed must show at once, on every
//! page already served (and so cached) before it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{ids, new_thread, next_page, Server, CUSTOMER_ID, LOCATION_ID};

fn names(answer: &crate::harness::Answer) -> Vec<String> {
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn pages_served_before_a_write_show_it_right_after() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let query = format!("company_id={company}");
    let made: Vec<String> = (0..4)
        .map(|n| {
            let body = json!({"assistant_type": "general", "name": format!("t{n}")});
            new_thread(&server, &token, &query, body)
        })
        .collect();
    let first_path = format!("/api/v1/chat/threads?{query}&limit=2");
    let first = server.get(&token, &first_path).expect(200);
    let second_path = next_page(&first, &server.base).unwrap();
    let second = server.get(&token, &second_path).expect(200);
    assert_eq!(ids(&first), [made[3].clone(), made[2].clone()]);
    assert_eq!(ids(&second), [made[1].clone(), made[0].clone()]);

    // Created: on top of the first page.
    let newest = new_thread(
        &server,
        &token,
        &query,
        json!({"assistant_type": "general"}),
    );
    assert_eq!(
        ids(&server.get(&token, &first_path).expect(200)),
        [newest.clone(), made[3].clone()]
    );

    // Changed: on a deeper page served before.
    server
        .patch(
            &token,
            &format!("/api/v1/chat/threads/{}", made[0]),
            &json!({"name": "renamed"}),
        )
        .expect(200);
    assert_eq!(
        names(&server.get(&token, &second_path).expect(200)),
        ["t1", "renamed"]
    );

    // Deleted: gone from the pages.
    server
        .delete(&token, &format!("/api/v1/chat/threads/{newest}"))
        .expect(204);
    assert_eq!(
        ids(&server.get(&token, &first_path).expect(200)),
        [made[3].clone(), made[2].clone()]
    );
}

#[test]
fn a_cached_page_is_still_refused_to_a_non_member() {
    let server = Server::start();
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Acme");
    new_thread(
        &server,
        &admin,
        &format!("company_id={company}"),
        json!({"assistant_type": "general"}),
    );
    let path = format!("/api/v1/chat/threads?company_id={company}");
    server.get(&admin, &path).expect(200);
    let outsider = server.user("outsider@example.com", false);
    server.get(&outsider, &path).expect(404);
}

#[test]
fn a_member_added_or_removed_sees_the_list_change_at_once() {
    let server = Server::start();
    let owner = server.user("owner@agency.test", false);
    let colleague = server.user("colleague@agency.test", false);
    let company = server.company(&owner, "Acme");
    let thread = new_thread(
        &server,
        &owner,
        &format!("company_id={company}"),
        json!({"assistant_type": "general"}),
    );
    let path = format!("/api/v1/chat/threads?company_id={company}");
    let members = format!("/api/v1/companies/{company}/members");
    // Twice each time, so that the second answer could come from memory.
    for _ in 0..2 {
        server.get(&owner, &path).expect(200);
        server.get(&colleague, &path).expect(404);
    }

    let added = server
        .post(
            &owner,
            &members,
            &json!({"email": "colleague@agency.test", "role": "member"}),
        )
        .expect(200);
    for _ in 0..2 {
        assert_eq!(
            ids(&server.get(&colleague, &path).expect(200)),
            std::slice::from_ref(&thread)
        );
    }

    server
        .delete(&owner, &format!("{members}/{}", added.body["user_id"]))
        .expect(204);
    server.get(&colleague, &path).expect(404);
    server.get(&owner, &path).expect(200);
}

/// A thread read once is answered from memory: every change to it, to what it embeds or to who
/// may see it must show at once, as for the list.
#[test]
fn a_thread_read_before_shows_every_change_and_refusal_at_once() {
    let server = Server::start();
    let admin = server.admin_token();
    let colleague = server.user("colleague@agency.test", false);
    let company = server.company_with_connections(&admin, "Acme");
    let other = server.company(&admin, "Other");
    let thread = new_thread(
        &server,
        &admin,
        &format!("company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}"),
        json!({"assistant_type": "general", "name": "before"}),
    );
    let path = format!("/api/v1/chat/threads/{thread}");
    // Twice each time, so that the second answer could come from memory.
    let read = |token: &str, expected: u16| {
        let answers = [0, 1].map(|_| server.get(token, &path).expect(expected));
        assert_eq!(answers[0].body, answers[1].body);
        answers[1].body.clone()
    };
    let listed = server
        .get(
            &admin,
            &format!("/api/v1/chat/threads?company_id={company}"),
        )
        .expect(200);
    assert_eq!(read(&admin, 200), listed.body[0]);

    for _ in 0..2 {
        server
            .get(&admin, &format!("{path}?company_id={other}"))
            .expect(404);
        server
            .get(&admin, &format!("{path}?company_id={company}"))
            .expect(200);
    }

    server
        .patch(&admin, &path, &json!({"name": "renamed"}))
        .expect(200);
    assert_eq!(read(&admin, 200)["name"], "renamed");
    server
        .patch(
            &admin,
            &format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}"),
            &json!({"descriptive_name": "Renamed Ads"}),
        )
        .expect(200);
    assert_eq!(
        read(&admin, 200)["google_ads_customer"]["descriptive_name"],
        "Renamed Ads"
    );

    read(&colleague, 404);
    let members = format!("/api/v1/companies/{company}/members");
    let added = server
        .post(
            &admin,
            &members,
            &json!({"email": "colleague@agency.test", "role": "member"}),
        )
        .expect(200);
    assert_eq!(read(&colleague, 200)["name"], "renamed");
    server
        .delete(&admin, &format!("{members}/{}", added.body["user_id"]))
        .expect(204);
    read(&colleague, 404);

    server.delete(&admin, &path).expect(204);
    read(&admin, 404);
}

/// Waits (a few seconds at most) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn writes_by_another_process_drop_the_caches() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = new_thread(
        &server,
        &token,
        &format!("company_id={company}"),
        json!({"assistant_type": "general", "name": "before"}),
    );
    let path = format!("/api/v1/chat/threads?company_id={company}");
    assert_eq!(names(&server.get(&token, &path).expect(200)), ["before"]);
    let one = format!("/api/v1/chat/threads/{thread}");
    for _ in 0..2 {
        assert_eq!(server.get(&token, &one).expect(200).body["name"], "before");
    }

    server.sql(&format!(
        "UPDATE chat_threads SET name = 'after' WHERE thread_id = '{thread}'"
    ));
    eventually("the list shows the outside change", || {
        names(&server.get(&token, &path).expect(200)) == ["after"]
    });
    assert_eq!(server.get(&token, &one).expect(200).body["name"], "after");

    server.sql("UPDATE users SET is_active = false");
    eventually("a deactivated user's token stops working", || {
        server.get(&token, &path).status == 401
    });
}

#[test]
fn a_changed_customer_or_location_shows_in_pages_served_before() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    new_thread(
        &server,
        &token,
        &format!("company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}"),
        json!({"assistant_type": "general"}),
    );
    let path = format!("/api/v1/chat/threads?company_id={company}");
    server.get(&token, &path).expect(200);
    server
        .patch(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}"),
            &json!({"descriptive_name": "Renamed Ads"}),
        )
        .expect(200);
    server
        .patch(
            &token,
            &format!(
                "/api/v1/companies/{company}/google-business-locations/{}",
                LOCATION_ID.replace('/', "%2F")
            ),
            &json!({"title": "Renamed Paris"}),
        )
        .expect(200);
    let listed = server.get(&token, &path).expect(200);
    assert_eq!(
        listed.body[0]["google_ads_customer"]["descriptive_name"],
        "Renamed Ads"
    );
    assert_eq!(
        listed.body[0]["google_business_location"]["title"],
        "Renamed Paris"
    );
}

#[test]
fn an_admin_made_ordinary_loses_admin_rights_at_once() {
    let server = Server::start();
    let admin = server.admin_token();
    let other = server.user("second-admin@agency.test", true);
    let company = server.company(&admin, "Not theirs");
    let threads = format!("/api/v1/chat/threads?company_id={company}");
    server.get(&other, "/api/v1/users").expect(200);
    for _ in 0..2 {
        server.get(&other, &threads).expect(200);
    }
    let id = server.get(&other, "/api/v1/users/me").expect(200).body["id"]
        .as_i64()
        .unwrap();
    server
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            &json!({"is_admin": false}),
        )
        .expect(200);
    server.get(&other, "/api/v1/users").expect(403);
    server.get(&other, &threads).expect(404);
}
