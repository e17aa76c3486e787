//! The published API's company discovery (`/api/v1/companies/me/...connections`), and a client
//! that uses only published endpoints from sign-in to its threads.

use serde_json::{json, Value};

use crate::harness::{is_rfc3339_utc, keys, run_user_create, sample_location, Server, CUSTOMER_ID};

const CONNECTIONS: &str = "/api/v1/companies/me/connections";
const COMPANY_KEYS: [&str; 6] = [
    "date_added",
    "date_updated",
    "google_ads_customers",
    "google_business_locations",
    "id",
    "name",
];

fn company_connections(company_id: i64) -> String {
    format!("/api/v1/companies/me/{company_id}/connections")
}

/// The company as adthread's own endpoints show it, in CompanyWithConnectionsSchema's shape.
fn expected(server: &Server, token: &str, company_id: i64) -> Value {
    let mut company = server
        .get(token, &format!("/api/v1/companies/{company_id}"))
        .expect(200)
        .body;
    company["google_ads_customers"] = server
        .get(
            token,
            &format!("/api/v1/companies/{company_id}/google-ads-customers"),
        )
        .expect(200)
        .body;
    company["google_business_locations"] = server
        .get(
            token,
            &format!("/api/v1/companies/{company_id}/google-business-locations"),
        )
        .expect(200)
        .body;
    company
}

fn new_company(server: &Server, token: &str, name: &str) -> i64 {
    server
        .post(token, "/api/v1/companies", &json!({ "name": name }))
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap()
}

/// Tokens for two ordinary users and the administrator.
fn owner_stranger_and_admin(server: &Server) -> (String, String, String) {
    (
        server.user("owner@agency.example", false),
        server.user("stranger@agency.example", false),
        server.admin_token(),
    )
}

#[test]
fn the_callers_companies_come_with_all_their_connections() {
    let server = Server::start();
    let (owner, stranger, admin) = owner_stranger_and_admin(&server);

    let bakery = server.company_with_connections(&owner, "Acme Bakery");
    server
        .post(
            &owner,
            &format!("/api/v1/companies/{bakery}/google-ads-customers"),
            &json!({"id": 5550001111i64}),
        )
        .expect(200);
    let mut second_location = sample_location();
    second_location["id"] = json!("locations/1");
    second_location["storefront_address"] = Value::Null;
    server
        .post(
            &owner,
            &format!("/api/v1/companies/{bakery}/google-business-locations"),
            &second_location,
        )
        .expect(200);
    let empty = new_company(&server, &owner, "Not connected yet");
    let many: Vec<i64> = (0..25)
        .map(|n| server.company_with_connections(&owner, &format!("Client {n}")))
        .collect();
    let theirs = server.company_with_connections(&stranger, "Someone else's");
    new_company(&server, &admin, "The admin's own");

    let listed = server.get(&owner, CONNECTIONS).expect(200).body;
    let listed = listed.as_array().unwrap();
    let mut ids = vec![bakery, empty];
    ids.extend(&many);
    assert_eq!(
        listed
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        ids,
        "the owner's companies, by id"
    );
    for (company, id) in listed.iter().zip(&ids) {
        assert_eq!(keys(company), COMPANY_KEYS);
        assert!(is_rfc3339_utc(&company["date_added"]));
        assert_eq!(company, &expected(&server, &owner, *id));
    }
    let bakery_listed = &listed[0];
    assert_eq!(bakery_listed["name"], "Acme Bakery");
    assert_eq!(
        bakery_listed["google_ads_customers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        bakery_listed["google_ads_customers"][0]["descriptive_name"],
        "Acme Bakery Ads"
    );
    assert_eq!(
        bakery_listed["google_business_locations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(listed[1]["google_ads_customers"], json!([]));
    assert_eq!(listed[1]["google_business_locations"], json!([]));

    let stranger_listed = server.get(&stranger, CONNECTIONS).expect(200).body;
    assert_eq!(
        stranger_listed,
        json!([expected(&server, &stranger, theirs)])
    );

    server
        .post(
            &owner,
            &format!("/api/v1/companies/{bakery}/members"),
            &json!({"email": "stranger@agency.example", "role": "member"}),
        )
        .expect(200);
    let as_member = server.get(&stranger, CONNECTIONS).expect(200).body;
    assert_eq!(
        as_member
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [bakery, theirs]
    );
    assert_eq!(as_member[0], listed[0]);

    let admin_listed = server.get(&admin, CONNECTIONS).expect(200).body;
    assert_eq!(admin_listed.as_array().unwrap().len(), 1, "membership only");
    assert_eq!(admin_listed[0]["name"], "The admin's own");

    let fresh = server.user("fresh@agency.example", false);
    assert_eq!(server.get(&fresh, CONNECTIONS).expect(200).body, json!([]));
}

#[test]
fn one_company_is_404_unless_the_caller_belongs_to_it() {
    let server = Server::start();
    let (owner, stranger, admin) = owner_stranger_and_admin(&server);
    let bakery = server.company_with_connections(&owner, "Acme Bakery");

    let one = server
        .get(&owner, &company_connections(bakery))
        .expect(200)
        .body;
    assert_eq!(keys(&one), COMPANY_KEYS);
    assert_eq!(one, expected(&server, &owner, bakery));
    assert_eq!(one["google_ads_customers"][0]["id"], CUSTOMER_ID);
    assert_eq!(one["google_business_locations"], json!([sample_location()]));

    for (token, company) in [(&stranger, bakery), (&admin, bakery), (&owner, 999_999)] {
        let answer = server.get(token, &company_connections(company)).expect(404);
        assert_eq!(answer.body, json!({"detail": "Company not found"}));
    }
    let not_a_number = server
        .get(&owner, "/api/v1/companies/me/acme/connections")
        .expect(422);
    assert_eq!(
        not_a_number.body["detail"][0]["loc"],
        json!(["path", "company_id"])
    );
    for path in [CONNECTIONS.to_string(), company_connections(bakery)] {
        let unsigned = server.client.get(server.url(&path)).send().unwrap();
        assert_eq!(unsigned.status(), 401);
    }
}

/// What a front end written for the published API does, using nothing else: sign in, find its
/// companies and their connections, open a thread for one customer and location, list threads.
#[test]
fn a_published_api_client_works_from_start_to_end() {
    let server = Server::start();
    let admin = server.admin_token();
    let output = run_user_create(&server, "client@agency.example", "client password", &[]);
    assert!(output.status.success());
    let company = server.company_with_connections(&admin, "Acme Bakery");
    server
        .post(
            &admin,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": "client@agency.example", "role": "member"}),
        )
        .expect(200);

    // From here on, only the published API.
    let signed_in = server
        .post_form(
            "/api/v1/users/authorization/token",
            &[
                ("grant_type", "password"),
                ("username", "client@agency.example"),
                ("password", "client password"),
            ],
        )
        .expect(200)
        .body;
    let token = signed_in["access_token"].as_str().unwrap();
    assert_eq!(signed_in["token_type"], "bearer");

    let companies = server.get(token, CONNECTIONS).expect(200).body;
    let found = &companies[0];
    assert_eq!(found["name"], "Acme Bakery");
    let company_id = found["id"].as_i64().unwrap();
    let customer = &found["google_ads_customers"][0];
    let location = &found["google_business_locations"][0];
    assert_eq!(
        server
            .get(token, &company_connections(company_id))
            .expect(200)
            .body,
        *found
    );

    let created = server
        .post(
            token,
            &format!(
                "/api/v1/chat/threads?company_id={company_id}&customer_id={}&location_id={}",
                customer["id"],
                location["id"].as_str().unwrap()
            ),
            &json!({"assistant_type": "campaign_creation", "name": "Spring campaign"}),
        )
        .expect(200)
        .body;
    assert_eq!(created["google_ads_customer"], *customer);
    assert_eq!(created["google_business_location"], *location);
    assert_eq!(created["assistant"]["assistant_type"], "campaign_creation");

    let threads = server
        .get(
            token,
            &format!("/api/v1/chat/threads?company_id={company_id}"),
        )
        .expect(200)
        .body;
    assert_eq!(threads, json!([created]));
    let filtered = server
        .get(
            token,
            &format!(
                "/api/v1/chat/threads?company_id={company_id}&assistant_type=campaign_creation"
            ),
        )
        .expect(200)
        .body;
    assert_eq!(filtered, threads);
}

#[test]
fn the_openapi_document_uses_the_published_schema_names() {
    let server = Server::start();
    let document: Value = server.openapi_document();
    let schema_of = |path: &str, method: &str| {
        document["paths"][path][method]["responses"]["200"]["content"]
            ["application/json; charset=utf-8"]["schema"]
            .to_string()
    };
    for (path, method, schema) in [
        (
            "/api/v1/users/authorization/token",
            "post",
            "LoggedInUserSchema",
        ),
        (
            "/api/v1/users/authorization/register",
            "post",
            "LoggedInUserSchema",
        ),
        ("/api/v1/users/me", "patch", "UserSchema"),
        (
            "/api/v1/companies/me/connections",
            "get",
            "CompanyWithConnectionsSchema",
        ),
        (
            "/api/v1/companies/me/{company_id}/connections",
            "get",
            "CompanyWithConnectionsSchema",
        ),
    ] {
        assert!(
            schema_of(path, method).contains(&format!("#/components/schemas/{schema}\"")),
            "{method} {path}: {}",
            schema_of(path, method)
        );
    }
    let logged_in = &document["components"]["schemas"]["LoggedInUserSchema"]["properties"];
    assert_eq!(
        logged_in["profile"]["$ref"],
        "#/components/schemas/UserProfileSchema"
    );
}

/// The ids of the Google Ads customers a company shows in `answer`.
fn customer_ids(company: &Value) -> Vec<i64> {
    company["google_ads_customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|customer| customer["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn connections_leave_out_inactive_deleted_and_closed_customers_the_registry_does_not() {
    let server = Server::start();
    let owner = server.user("owner@agency.example", false);
    let company = server.company_with_connections(&owner, "Acme Bakery");
    let customers = format!("/api/v1/companies/{company}/google-ads-customers");
    // id -> what makes it left out (or not): every reason alone, and statuses that still serve.
    let registered = [
        (11, json!({"is_active": false})),
        (12, json!({"is_deleted": true})),
        (13, json!({"status": "SUSPENDED"})),
        (14, json!({"status": "CANCELED"})),
        (15, json!({"status": "closed"})),
        (16, json!({"status": "ENABLED"})),
        (17, json!({"status": "UNKNOWN"})),
        (18, json!({"status": null})),
    ];
    for (id, fields) in &registered {
        let mut body = fields.clone();
        body["id"] = json!(id);
        server.post(&owner, &customers, &body).expect(200);
    }
    let connected = [16, 17, 18, CUSTOMER_ID];
    let everything: Vec<i64> = [11, 12, 13, 14, 15, 16, 17, 18, CUSTOMER_ID].into();

    let all = server.get(&owner, CONNECTIONS).expect(200).body;
    assert_eq!(customer_ids(&all[0]), connected);
    let one = server
        .get(&owner, &company_connections(company))
        .expect(200)
        .body;
    assert_eq!(one, all[0]);
    assert_eq!(one["google_business_locations"][0]["id"], "locations/4242");
    // The company's own list, and the threads scoped to them, still show every customer.
    let registry = server.get(&owner, &customers).expect(200).body;
    let registry_ids: Vec<i64> = registry
        .as_array()
        .unwrap()
        .iter()
        .map(|customer| customer["id"].as_i64().unwrap())
        .collect();
    assert_eq!(registry_ids, everything);
    let thread = server
        .post(
            &owner,
            &format!("/api/v1/chat/threads?company_id={company}&customer_id=11"),
            &json!({"assistant_type": "general"}),
        )
        .expect(200);
    assert_eq!(thread.body["google_ads_customer"]["id"], 11);

    // Reactivated, it is connected again; unlinked, it goes.
    server
        .patch(
            &owner,
            &format!("{customers}/11"),
            &json!({"is_active": true}),
        )
        .expect(200);
    server
        .patch(
            &owner,
            &format!("{customers}/16"),
            &json!({"status": "SUSPENDED"}),
        )
        .expect(200);
    let after = server
        .get(&owner, &company_connections(company))
        .expect(200)
        .body;
    assert_eq!(customer_ids(&after), [11, 17, 18, CUSTOMER_ID]);
}
