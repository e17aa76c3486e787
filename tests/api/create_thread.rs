use serde_json::{json, Value};

use crate::harness::{
    is_rfc3339_utc, sample_customer, sample_location, Server, CUSTOMER_ID, LOCATION_ID,
};

fn create(server: &Server, token: &str, query: &str, body: Value) -> crate::harness::Answer {
    server.post(token, &format!("/api/v1/chat/threads?{query}"), &body)
}

#[test]
fn every_assistant_type_with_the_full_scope() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme Bakery");
    let mut ids = Vec::new();
    for kind in [
        "onboarding",
        "general",
        "market_analysis",
        "campaign_creation",
    ] {
        let thread = create(
            &server,
            &token,
            &format!(
                "company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}&login_customer_id=987"
            ),
            json!({
                "assistant_type": kind,
                "name": format!("{kind} thread"),
                "description": "for the spring campaign",
                "extra_data": {"campaign": {"budget": 1200, "tags": ["spring", "paris"]}, "unicode": "é✓"}
            }),
        )
        .expect(200)
        .body;
        let id = thread["thread_id"].as_str().unwrap().to_string();
        assert!(id.len() >= 24, "unguessable id: {id}");
        // The answer is what was stored, field for field.
        let stored = server
            .get(&token, &format!("/api/v1/chat/threads/{id}"))
            .expect(200)
            .body;
        assert_eq!(stored, thread);
        ids.push(id);
        assert_eq!(thread["is_completed"], false);
        assert!(is_rfc3339_utc(&thread["date_added"]), "{thread}");
        assert_eq!(thread["date_added"], thread["date_updated"]);
        assert_eq!(thread["name"], format!("{kind} thread"));
        assert_eq!(thread["description"], "for the spring campaign");
        assert_eq!(
            thread["extra_data"],
            json!({"campaign": {"budget": 1200, "tags": ["spring", "paris"]}, "unicode": "é✓"})
        );
        assert_eq!(thread["google_ads_login_customer_id"], 987);
        let customer = &thread["google_ads_customer"];
        let mut expected_customer = sample_customer();
        for key in [
            "id",
            "descriptive_name",
            "currency_code",
            "time_zone",
            "status",
            "manager",
            "is_active",
            "is_deleted",
        ] {
            assert_eq!(
                customer[key], expected_customer[key],
                "customer field {key}"
            );
        }
        assert!(
            is_rfc3339_utc(&customer["date_added"]) && is_rfc3339_utc(&customer["date_updated"])
        );
        expected_customer.as_object_mut().unwrap().clear();
        assert_eq!(thread["google_business_location"], sample_location());
        let assistant = &thread["assistant"];
        assert_eq!(assistant["assistant_type"], kind);
        assert_eq!(assistant["id"], format!("asst_{kind}"));
        assert!(
            is_rfc3339_utc(&assistant["date_added"]) && is_rfc3339_utc(&assistant["date_updated"])
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
}

#[test]
fn company_only_scope_gives_nulls_and_an_empty_extra_data() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let thread = create(
        &server,
        &token,
        &format!("company_id={company}"),
        json!({"assistant_type": "general"}),
    )
    .expect(200)
    .body;
    assert_eq!(thread["google_ads_customer"], Value::Null);
    assert_eq!(thread["google_business_location"], Value::Null);
    assert_eq!(thread["google_ads_login_customer_id"], Value::Null);
    assert_eq!(thread["name"], Value::Null);
    assert_eq!(thread["description"], Value::Null);
    assert_eq!(thread["extra_data"], json!({}));
}

#[test]
fn unregistered_customer_or_location_is_a_404_naming_which_and_writes_nothing() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let body = json!({"assistant_type": "general"});
    for (scope, named) in [
        ("customer_id=555", "customer 555"),
        ("location_id=locations/9", "locations/9"),
    ] {
        create(
            &server,
            &token,
            &format!("company_id={company}&{scope}"),
            body.clone(),
        )
        .expect_detail(404, named);
    }
    create(&server, &token, "company_id=999", body).expect(404);
    let list = server.list_threads(&token, company).expect(200);
    assert_eq!(list.body, json!([]));
}

#[test]
fn validation_errors_have_the_fastapi_shape() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let path = format!("/api/v1/chat/threads?company_id={company}");
    let cases: Vec<(Value, Value, &str)> = vec![
        (json!({}), json!(["body", "assistant_type"]), "missing"),
        (
            json!({"assistant_type": "wizard"}),
            json!(["body", "assistant_type"]),
            "enum",
        ),
        (
            json!({"assistant_type": 3}),
            json!(["body", "assistant_type"]),
            "type_error",
        ),
        (
            json!({"assistant_type": "general", "name": 5}),
            json!(["body", "name"]),
            "type_error",
        ),
        (
            json!({"assistant_type": "general", "extra_data": [1]}),
            json!(["body", "extra_data"]),
            "value_error",
        ),
        (
            json!({"assistant_type": "general", "extra_data": "x"}),
            json!(["body", "extra_data"]),
            "value_error",
        ),
    ];
    for (body, loc, kind) in cases {
        let answer = server.post(&token, &path, &body).expect(422);
        let issue = &answer.body["detail"][0];
        assert_eq!(issue["loc"], loc, "for {body}: {}", answer.body);
        assert_eq!(issue["type"], kind, "for {body}: {}", answer.body);
        assert!(issue["msg"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let malformed = server
        .post_raw(
            &token,
            &path,
            "application/json",
            b"{\"assistant_type\":".to_vec(),
        )
        .expect(422);
    assert_eq!(malformed.body["detail"][0]["type"], "json_invalid");

    for (query, loc) in [
        ("", json!(["query", "company_id"])),
        ("company_id=abc", json!(["query", "company_id"])),
        (
            &*format!("company_id={company}&customer_id=x"),
            json!(["query", "customer_id"]),
        ),
    ] {
        let answer = server
            .post(
                &token,
                &format!("/api/v1/chat/threads?{query}"),
                &json!({"assistant_type": "general"}),
            )
            .expect(422);
        assert_eq!(answer.body["detail"][0]["loc"], loc, "{}", answer.body);
    }
    let extra_fields_are_ignored = server
        .post(
            &token,
            &path,
            &json!({"assistant_type": "general", "colour": "blue"}),
        )
        .expect(200);
    assert!(extra_fields_are_ignored.body.get("colour").is_none());
    let list = server.get(&token, &path).expect(200);
    assert_eq!(
        list.body.as_array().unwrap().len(),
        1,
        "only the valid request wrote"
    );
}

#[test]
fn oversized_bodies_get_413() {
    let server = Server::start_with(&[("ADTHREAD_MAX_BODY_BYTES", "4096")]);
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let big = json!({"assistant_type": "general", "extra_data": {"blob": "x".repeat(5000)}});
    create(&server, &token, &format!("company_id={company}"), big).expect_detail(413, "4096");
}

#[test]
fn another_companys_ids_are_404() {
    let server = Server::start();
    let admin = server.admin_token();
    let theirs = server.company_with_connections(&admin, "Theirs");
    let outsider = server.user("outsider@example.com", false);
    let mine = server.company(&outsider, "Mine");
    let body = json!({"assistant_type": "general"});
    server
        .post(
            &outsider,
            &format!("/api/v1/chat/threads?company_id={theirs}"),
            &body,
        )
        .expect(404);
    // Their customer does not exist in my company.
    server
        .post(
            &outsider,
            &format!("/api/v1/chat/threads?company_id={mine}&customer_id={CUSTOMER_ID}"),
            &body,
        )
        .expect(404);
    server
        .get(
            &outsider,
            &format!("/api/v1/companies/{theirs}/google-ads-customers"),
        )
        .expect(404);
}

#[test]
fn duplicate_customer_or_location_in_one_company_is_409() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    server
        .post(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers"),
            &sample_customer(),
        )
        .expect(409);
    server
        .post(
            &token,
            &format!("/api/v1/companies/{company}/google-business-locations"),
            &sample_location(),
        )
        .expect(409);
    let other = server.company_with_connections(&token, "Other");
    assert_ne!(
        other, company,
        "the same ids may be registered in another company"
    );
}

#[test]
fn hundreds_of_concurrent_creates_all_succeed_with_distinct_ids() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let path = format!("/api/v1/chat/threads?company_id={company}&customer_id={CUSTOMER_ID}");
    let ids: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|worker| {
                let (server, token, path) = (&server, &token, &path);
                scope.spawn(move || {
                    (0..20)
                        .map(|n| {
                            let answer = server.post(
                                token,
                                path,
                                &json!({"assistant_type": "general", "name": format!("{worker}-{n}")}),
                            );
                            assert_eq!(answer.status, 200, "{}", answer.body);
                            answer.body["thread_id"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 320);
    assert!(!server.log().contains("locked"));
}

#[test]
fn acknowledged_threads_survive_a_kill_and_a_restart() {
    let mut server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let created: Vec<String> = (0..25)
        .map(|n| {
            server
                .post(
                    &token,
                    &format!("/api/v1/chat/threads?company_id={company}"),
                    &json!({"assistant_type": "onboarding", "name": n.to_string()}),
                )
                .expect(200)
                .body["thread_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    server.restart();
    let token = server.admin_token();
    for id in &created {
        server
            .get(&token, &format!("/api/v1/chat/threads/{id}"))
            .expect(200);
    }
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut server = Server::start();
    let status = server.terminate();
    assert!(status.success(), "{status}: {}", server.log());
    assert!(server.log().contains("adthread stopped"));
}
