//! Company members and Google connections: listing, changing and removing them.

use serde_json::json;

use crate::harness::{sample_location, Server, CUSTOMER_ID, LOCATION_ID};

/// The location id as a path segment: its `/` percent-encoded.
fn location_path(company: i64) -> String {
    format!(
        "/api/v1/companies/{company}/google-business-locations/{}",
        LOCATION_ID.replace('/', "%2F")
    )
}

/// Removing the connection at `path` while a thread (created with `scope`) uses it: 409; once the
/// thread is gone: 204, then 404.
fn removal_waits_for_threads(server: &Server, token: &str, path: &str, scope: &str) {
    let thread = server
        .post(
            token,
            &format!("/api/v1/chat/threads?{scope}"),
            &json!({"assistant_type": "general"}),
        )
        .expect(200);
    let conflict = server.delete(token, path).expect(409);
    let message = conflict.body["detail"].as_str().unwrap();
    assert!(
        message.ends_with(" is used by 1 chat thread; delete those threads first"),
        "{message}"
    );
    server
        .get(token, path.rsplit_once('/').unwrap().0)
        .expect(200);
    let thread_id = thread.body["thread_id"].as_str().unwrap();
    server
        .delete(token, &format!("/api/v1/chat/threads/{thread_id}"))
        .expect(204);
    server.delete(token, path).expect(204);
    server.delete(token, path).expect(404);
}

#[test]
fn owners_list_and_remove_members_and_the_last_owner_stays() {
    let server = Server::start();
    let owner = server.user("owner@agency.test", false);
    let member = server.user("member@agency.test", false);
    let outsider = server.user("outsider@agency.test", false);
    let company = server
        .post(&owner, "/api/v1/companies", &json!({"name": "Acme"}))
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap();
    let members_path = format!("/api/v1/companies/{company}/members");
    let added = server
        .post(
            &owner,
            &members_path,
            &json!({"email": "member@agency.test", "role": "member"}),
        )
        .expect(200);
    let member_id = added.body["user_id"].as_i64().unwrap();

    let listed = server.get(&member, &members_path).expect(200);
    let emails: Vec<_> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        emails,
        [
            ("owner@agency.test", "owner"),
            ("member@agency.test", "member")
        ]
    );
    server.get(&outsider, &members_path).expect(404);

    let owner_id = listed.body[0]["user_id"].as_i64().unwrap();
    let refused = server
        .delete(&member, &format!("{members_path}/{owner_id}"))
        .expect(403);
    assert!(refused.body["detail"].as_str().unwrap().contains("owners"));
    let last = server
        .delete(&owner, &format!("{members_path}/{owner_id}"))
        .expect(409);
    assert!(last.body["detail"].as_str().unwrap().contains("last owner"));
    server
        .delete(&outsider, &format!("{members_path}/{member_id}"))
        .expect(404);

    server
        .delete(&owner, &format!("{members_path}/{member_id}"))
        .expect(204);
    server
        .get(&member, &format!("/api/v1/companies/{company}"))
        .expect(404);
    server
        .delete(&owner, &format!("{members_path}/{member_id}"))
        .expect(404);
    assert_eq!(
        server
            .get(&owner, &members_path)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_customer_is_changed_field_by_field_and_kept_while_threads_use_it() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let path = format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}");

    let changed = server
        .patch(
            &token,
            &path,
            &json!({"descriptive_name": null, "currency_code": "USD", "manager": true}),
        )
        .expect(200);
    assert_eq!(changed.body["id"], CUSTOMER_ID);
    assert_eq!(changed.body["descriptive_name"], json!(null));
    assert_eq!(changed.body["currency_code"], "USD");
    assert_eq!(changed.body["time_zone"], "Europe/Paris", "not sent, kept");
    assert_eq!(changed.body["manager"], true);
    assert_eq!(changed.body["is_active"], true);
    assert_ne!(changed.body["date_updated"], changed.body["date_added"]);

    let wrong = server
        .patch(&token, &path, &json!({"is_active": "no"}))
        .expect(422);
    assert_eq!(wrong.body["detail"][0]["loc"], json!(["body", "is_active"]));
    server
        .patch(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers/42"),
            &json!({"status": "PAUSED"}),
        )
        .expect(404);

    removal_waits_for_threads(
        &server,
        &token,
        &path,
        &format!("company_id={company}&customer_id={CUSTOMER_ID}"),
    );
    let left = server
        .get(
            &token,
            &format!("/api/v1/companies/{company}/google-ads-customers"),
        )
        .expect(200);
    assert_eq!(left.body, json!([]));
}

#[test]
fn a_location_is_addressed_by_its_percent_encoded_resource_name() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let path = location_path(company);

    let new_address = json!({"locality": "Lyon", "address_lines": ["2 place Bellecour"]});
    let changed = server
        .patch(
            &token,
            &path,
            &json!({"title": "Acme Lyon", "store_code": null, "storefront_address": new_address}),
        )
        .expect(200);
    assert_eq!(changed.body["id"], LOCATION_ID);
    assert_eq!(changed.body["title"], "Acme Lyon");
    assert_eq!(changed.body["store_code"], json!(null));
    assert_eq!(changed.body["maps_uri"], sample_location()["maps_uri"]);
    assert_eq!(
        changed.body["storefront_address"],
        json!({"region_code": null, "language_code": null, "postal_code": null,
               "administrative_area": null, "locality": "Lyon", "sublocality": null,
               "address_lines": ["2 place Bellecour"]})
    );
    let listed = server
        .get(
            &token,
            &format!("/api/v1/companies/{company}/google-business-locations"),
        )
        .expect(200);
    assert_eq!(listed.body[0], changed.body);

    let bad = server
        .patch(
            &token,
            &path,
            &json!({"storefront_address": {"address_lines": "one line"}}),
        )
        .expect(422);
    assert_eq!(
        bad.body["detail"][0]["loc"],
        json!(["body", "storefront_address", "address_lines"])
    );
    // serde would fill the address field by field from an array; the schema says object.
    let array = server
        .patch(
            &token,
            &path,
            &json!({"storefront_address": [null, null, null, null, "Paris", null, []]}),
        )
        .expect_invalid("storefront_address", "type_error");
    assert!(array.body["detail"][0]["msg"]
        .as_str()
        .unwrap()
        .contains("StorefrontAddress"));
    assert_eq!(
        server
            .get(
                &token,
                &format!("/api/v1/companies/{company}/google-business-locations"),
            )
            .expect(200)
            .body[0],
        changed.body
    );
    server
        .patch(
            &token,
            &format!("/api/v1/companies/{company}/google-business-locations/locations%2F999"),
            &json!({"title": "x"}),
        )
        .expect(404);

    removal_waits_for_threads(
        &server,
        &token,
        &path,
        &format!("company_id={company}&location_id={LOCATION_ID}"),
    );
}

#[test]
fn connections_of_another_company_are_not_found() {
    let server = Server::start();
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Acme");
    let stranger = server.user("stranger@agency.test", false);
    let customer = format!("/api/v1/companies/{company}/google-ads-customers/{CUSTOMER_ID}");
    server
        .patch(&stranger, &customer, &json!({"status": "PAUSED"}))
        .expect(404);
    server.delete(&stranger, &customer).expect(404);
    server
        .delete(&stranger, &location_path(company))
        .expect(404);
    let still = server
        .get(
            &admin,
            &format!("/api/v1/companies/{company}/google-ads-customers"),
        )
        .expect(200);
    assert_eq!(still.body.as_array().unwrap().len(), 1);
}

#[test]
fn a_maps_uri_must_be_an_absolute_web_address() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company(&token, "Acme");
    let locations = format!("/api/v1/companies/{company}/google-business-locations");
    for (uri, says) in [
        (
            "javascript:alert(document.cookie)",
            "scheme should be 'http' or 'https'",
        ),
        (
            "data:text/html,<script>alert(1)</script>",
            "scheme should be",
        ),
        ("//evil.example/map", "valid URL"),
        ("maps/place/1", "valid URL"),
    ] {
        let refused = server
            .post(
                &token,
                &locations,
                &json!({"id": "locations/7", "maps_uri": uri}),
            )
            .expect_invalid("maps_uri", "value_error");
        let message = refused.body["detail"][0]["msg"].as_str().unwrap();
        assert!(message.contains(says), "{uri}: {message}");
    }
    assert_eq!(server.get(&token, &locations).expect(200).body, json!([]));

    let good = "https://maps.google.com/?cid=7";
    server
        .post(
            &token,
            &locations,
            &json!({"id": "locations/7", "maps_uri": good}),
        )
        .expect(200);
    let one = format!("{locations}/locations%2F7");
    server
        .patch(&token, &one, &json!({"maps_uri": "javascript:alert(1)"}))
        .expect_invalid("maps_uri", "value_error");
    let listed = server.get(&token, &locations).expect(200);
    assert_eq!(listed.body[0]["maps_uri"], good);
    // null still clears it.
    let cleared = server
        .patch(&token, &one, &json!({"maps_uri": null}))
        .expect(200);
    assert_eq!(cleared.body["maps_uri"], json!(null));
}
