use std::collections::HashSet;

use serde_json::{json, Value};

use crate::harness::{ids, new_thread, next_page, Server, CUSTOMER_ID, LOCATION_ID};

#[test]
fn paging_misses_and_repeats_nothing_while_threads_are_created() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let query = format!("company_id={company}");
    let existing: Vec<String> = (0..23)
        .map(|n| {
            new_thread(
                &server,
                &token,
                &query,
                json!({"assistant_type": "general", "name": n.to_string()}),
            )
        })
        .collect();
    let first = server
        .get(&token, &format!("/api/v1/chat/threads?{query}&limit=5"))
        .expect(200);
    let mut seen = ids(&first);
    assert_eq!(seen[0], *existing.last().unwrap(), "newest first");
    let mut next = next_page(&first, &server.base);
    let mut pages = 1;
    while let Some(path) = next {
        // A thread created mid-way belongs before the first page and must not shift the others.
        new_thread(
            &server,
            &token,
            &query,
            json!({"assistant_type": "general"}),
        );
        let page = server.get(&token, &path).expect(200);
        seen.extend(ids(&page));
        next = next_page(&page, &server.base);
        pages += 1;
    }
    assert_eq!(pages, 5);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no thread twice");
    let mut expected = existing.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every thread, newest first");
}

#[test]
fn filters_combine() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let scoped =
        format!("company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}");
    let plain = format!("company_id={company}");
    let a = new_thread(
        &server,
        &token,
        &scoped,
        json!({"assistant_type": "onboarding"}),
    );
    let b = new_thread(
        &server,
        &token,
        &scoped,
        json!({"assistant_type": "general"}),
    );
    let c = new_thread(
        &server,
        &token,
        &plain,
        json!({"assistant_type": "general"}),
    );
    server
        .patch(
            &token,
            &format!("/api/v1/chat/threads/{b}"),
            &json!({"is_completed": true}),
        )
        .expect(200);
    let list = |filter: &str| {
        let answer = server
            .get(
                &token,
                &format!("/api/v1/chat/threads?company_id={company}{filter}"),
            )
            .expect(200);
        ids(&answer)
    };
    assert_eq!(list(""), vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(list("&assistant_type=general"), vec![c.clone(), b.clone()]);
    assert_eq!(
        list(&format!("&customer_id={CUSTOMER_ID}")),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        list(&format!(
            "&location_id={LOCATION_ID}&assistant_type=onboarding"
        )),
        vec![a.clone()]
    );
    assert_eq!(list("&is_completed=true"), vec![b.clone()]);
    assert_eq!(
        list(&format!("&is_completed=false&customer_id={CUSTOMER_ID}")),
        vec![a]
    );
    assert_eq!(
        list("&assistant_type=market_analysis"),
        Vec::<String>::new()
    );
    for bad in [
        "&assistant_type=wizard",
        "&limit=0",
        "&limit=501",
        "&is_completed=maybe",
        "&cursor=garbage",
    ] {
        server
            .get(
                &token,
                &format!("/api/v1/chat/threads?company_id={company}{bad}"),
            )
            .expect(422);
    }
}

#[test]
fn patch_changes_only_the_fields_sent() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let body = json!({"assistant_type": "general", "name": "n", "description": "d", "extra_data": {"k": 1}});
    let id = server.thread_in(&token, company, body);
    let path = format!("/api/v1/chat/threads/{id}");
    let before = server.get(&token, &path).expect(200).body;
    let changes = [
        (json!({"name": "renamed"}), "name", json!("renamed")),
        (json!({"description": "new"}), "description", json!("new")),
        (json!({"is_completed": true}), "is_completed", json!(true)),
        (
            json!({"extra_data": {"other": [1]}}),
            "extra_data",
            json!({"other": [1]}),
        ),
        (json!({"name": null}), "name", Value::Null),
    ];
    let mut expected = before.clone();
    let mut last_updated = before["date_updated"].as_str().unwrap().to_string();
    for (change, field, value) in changes {
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = server.patch(&token, &path, &change).expect(200).body;
        expected[field] = value;
        for key in [
            "name",
            "description",
            "is_completed",
            "extra_data",
            "date_added",
            "thread_id",
        ] {
            assert_eq!(after[key], expected[key], "after {change}: {key}");
        }
        let updated = after["date_updated"].as_str().unwrap().to_string();
        assert!(updated > last_updated, "date_updated moves");
        last_updated = updated;
        assert_eq!(server.get(&token, &path).expect(200).body, after);
    }
    server
        .patch(&token, &path, &json!({"is_completed": "yes"}))
        .expect(422);
    server
        .patch(&token, &path, &json!({"extra_data": 3}))
        .expect(422);
}

#[test]
fn delete_then_404_everywhere() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let id = server.thread_in(&token, company, json!({"assistant_type": "general"}));
    let path = format!("/api/v1/chat/threads/{id}");
    let deleted = server.delete(&token, &path).expect(204);
    assert_eq!(deleted.body, Value::Null);
    server.get(&token, &path).expect(404);
    server
        .patch(&token, &path, &json!({"name": "x"}))
        .expect(404);
    server.delete(&token, &path).expect(404);
    let list = server.list_threads(&token, company).expect(200);
    assert_eq!(list.body, json!([]));
}

#[test]
fn threads_are_visible_to_members_and_admins_only() {
    let server = Server::start();
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Acme");
    let other_company = server.company_with_connections(&admin, "Other");
    let id = server.thread_in(&admin, company, json!({"assistant_type": "general"}));
    let path = format!("/api/v1/chat/threads/{id}");
    let member = server.user("member@example.com", false);
    let outsider = server.user("outsider@example.com", false);
    server
        .post(
            &admin,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": "member@example.com", "role": "member"}),
        )
        .expect(200);
    server.get(&member, &path).expect(200);
    server
        .get(&member, &format!("{path}?company_id={company}"))
        .expect(200);
    server
        .get(&member, &format!("{path}?company_id={other_company}"))
        .expect(404);
    server
        .get(&admin, &format!("{path}?company_id={other_company}"))
        .expect(404);
    server.get(&outsider, &path).expect(404);
    server
        .patch(&outsider, &path, &json!({"name": "x"}))
        .expect(404);
    server.delete(&outsider, &path).expect(404);
    server.list_threads(&outsider, company).expect(404);
    server.get(&member, &path).expect(200);
}

#[test]
fn healthz_needs_no_token() {
    let server = Server::start();
    let answer = server.client.get(server.url("/healthz")).send().unwrap();
    assert_eq!(answer.status(), 200);
}
