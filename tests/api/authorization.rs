//! Authorization over every operation in the server's own /openapi.json, so an endpoint added
//! later is covered without a line here: missing, unknown, expired and revoked tokens get 401;
//! another company's ids get 404; admin-only user management gets 403 for everyone else.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::harness::{Answer, Server, CUSTOMER_ID, LOCATION_ID};
use crate::spec::{request, Operation, Spec};

/// Operations anyone may call: signing in (and registering, when enabled) and liveness.
fn is_public(path: &str) -> bool {
    path == "/api/v1/auth/token"
        || path == "/healthz"
        || path.starts_with("/api/v1/users/authorization/")
}

fn send(
    server: &Server,
    spec: &Spec,
    operation: &Operation,
    known: &Known,
    token: Option<&str>,
) -> Answer {
    Answer::from(
        request(server, spec, operation, &known.0, token)
            .send()
            .unwrap(),
    )
}

/// Values for parameters and body fields, by name.
#[derive(Clone)]
struct Known(HashMap<String, Value>);

impl Known {
    fn with(&self, name: &str, value: Value) -> Known {
        let mut known = self.clone();
        known.0.insert(name.into(), value);
        known
    }
}

fn user_id(server: &Server, token: &str) -> i64 {
    server.get(token, "/api/v1/users/me").expect(200).body["id"]
        .as_i64()
        .unwrap()
}

/// A company of `token`'s user with a Google Ads customer, a Business location, a thread, a
/// campaign draft (its market analysis id is the company's own; the thread's draft) with an ad
/// group and its keyword, and `member` (email, id) as a
/// member, its name carrying `marker`; what names them.
fn company_world(server: &Server, token: &str, marker: &str, member: (&str, i64)) -> Known {
    let company = server.company_with_connections(token, &format!("{marker} company"));
    server
        .post(
            token,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": member.0, "role": "member"}),
        )
        .expect(200);
    let thread = server
        .post(
            token,
            &format!(
                "/api/v1/chat/threads?company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}"
            ),
            &json!({"assistant_type": "general", "name": format!("{marker} thread")}),
        )
        .expect(200);
    let draft = server
        .post(
            token,
            &format!("/api/v1/campaigns/drafts?company_id={company}"),
            &json!({"name": format!("{marker} draft"), "google_ads_customer_id": CUSTOMER_ID,
                    "market_analysis_id": company}),
        )
        .expect(200);
    let ad_group = server
        .post(
            token,
            &format!(
                "/api/v1/campaigns/drafts/{}/ad-groups?regenerate_rsas=false",
                draft.body["id"]
            ),
            &json!({"name": format!("{marker} ad group"), "keywords": [{"text": "keyword"}]}),
        )
        .expect(200)
        .body["draft"]["ad_groups"][0]
        .clone();
    server.link_draft_to_thread(&draft.body["id"], &thread.body["thread_id"]);
    Known(HashMap::from([
        ("company_id".to_string(), json!(company)),
        ("thread_id".to_string(), thread.body["thread_id"].clone()),
        ("customer_id".to_string(), json!(CUSTOMER_ID)),
        ("location_id".to_string(), json!(LOCATION_ID)),
        ("user_id".to_string(), json!(member.1)),
        ("assistant_id".to_string(), json!("asst_general")),
        ("email".to_string(), json!(member.0)),
        ("name".to_string(), json!(format!("{marker} renamed"))),
        ("draft_id".to_string(), draft.body["id"].clone()),
        ("ad_group_id".to_string(), ad_group["id"].clone()),
        (
            "keyword_id".to_string(),
            ad_group["keywords"][0]["id"].clone(),
        ),
        ("google_ads_customer_id".to_string(), json!(CUSTOMER_ID)),
        ("market_analysis_id".to_string(), json!(company)),
        ("start_date".to_string(), json!("2027-01-01")),
        ("end_date".to_string(), json!("2027-02-01")),
    ]))
}

/// A user who is a member of the companies the tests make.
fn bystander(server: &Server) -> (&'static str, i64) {
    let email = "bystander@example.com";
    let token = server.user(email, false);
    (email, user_id(server, &token))
}

#[test]
fn every_operation_but_sign_in_needs_a_valid_token() {
    let server = Server::start();
    let admin = server.admin_token();
    let spec = Spec::fetch(&server);
    let operations = spec.operations();

    let unprotected: Vec<String> = operations
        .iter()
        .filter(|op| !op.secured && !is_public(&op.path))
        .map(Operation::label)
        .collect();
    assert!(
        unprotected.is_empty(),
        "operations without the bearer scheme: {unprotected:?}"
    );

    let expired = server.user("expired@example.com", false);
    let expired_id = user_id(&server, &expired);
    let a_second_ago = chrono::Utc::now().timestamp() - 1;
    server.sql(&format!(
        "UPDATE access_tokens SET expires_at = {a_second_ago} WHERE user_id = {expired_id}"
    ));
    assert_eq!(
        server.sql(&format!(
            "SELECT count(*) FROM access_tokens WHERE user_id = {expired_id} \
             AND expires_at = {a_second_ago}"
        )),
        "1"
    );
    let revoked = server.user("revoked@example.com", false);
    server
        .post(&revoked, "/api/v1/auth/logout", &json!({}))
        .expect(204);
    let unknown = format!("adt_{}", "A".repeat(43));
    let known = company_world(&server, &admin, "Victim", bystander(&server));

    let secured: Vec<&Operation> = operations.iter().filter(|op| op.secured).collect();
    assert!(
        secured.len() >= 15,
        "only {} secured operations found",
        secured.len()
    );
    for operation in secured {
        for (case, token) in [
            ("no token", None),
            ("an unknown token", Some(unknown.as_str())),
            ("an expired token", Some(expired.as_str())),
            ("a revoked token", Some(revoked.as_str())),
        ] {
            let answer = send(&server, &spec, operation, &known, token);
            assert_eq!(
                answer.status,
                401,
                "{} with {case}: {}",
                operation.label(),
                answer.body
            );
            assert_eq!(
                answer.header("www-authenticate"),
                Some("Bearer"),
                "{} with {case}",
                operation.label()
            );
            assert!(
                answer.body["detail"].is_string(),
                "{}: {}",
                operation.label(),
                answer.body
            );
        }
    }
    // The tokens refused above were refused for what they are: the admin's still works.
    server.get(&admin, "/api/v1/users/me").expect(200);
}

fn is_scoped(operation: &Operation) -> bool {
    ["company_id", "thread_id", "draft_id", "market_analysis_id"]
        .iter()
        .any(|name| operation.has_parameter(name))
}

#[test]
fn another_companys_ids_are_404_for_every_operation_that_takes_them() {
    let server = Server::start();
    let owner = server.user("owner@example.com", false);
    let outsider = server.user("outsider@example.com", false);
    let member = bystander(&server);
    let spec = Spec::fetch(&server);
    let operations = spec.operations();
    let scoped: Vec<&Operation> = operations
        .iter()
        .filter(|op| op.secured && is_scoped(op))
        .collect();
    assert!(
        scoped.len() >= 10,
        "only {} company- or thread-scoped operations",
        scoped.len()
    );
    let own = company_world(&server, &outsider, "Outsider", member);

    for (n, operation) in scoped.into_iter().enumerate() {
        // A fresh company per operation: the owner's own call below may delete or change it.
        let marker = format!("Secret{n}");
        let theirs = company_world(&server, &owner, &marker, member);
        let mut attempts = vec![("their ids", theirs.clone())];
        if operation.has_parameter("company_id") && operation.has_parameter("thread_id") {
            attempts.push((
                "their thread under the outsider's own company",
                theirs.with("company_id", own.0["company_id"].clone()),
            ));
        }
        for (case, known) in attempts {
            let answer = send(&server, &spec, operation, &known, Some(&outsider));
            assert_eq!(
                answer.status,
                404,
                "{} with {case}: {}",
                operation.label(),
                answer.body
            );
            assert!(
                !answer.body.to_string().contains(&marker),
                "{}: {}",
                operation.label(),
                answer.body
            );
        }
        // The same request from the company's own member goes through: the 404 above was the
        // outsider's, not the request's.
        let control = send(&server, &spec, operation, &theirs, Some(&owner));
        assert!(
            ![401, 403, 404].contains(&control.status.as_u16()),
            "{} as the owner: {} {}",
            operation.label(),
            control.status,
            control.body
        );
    }

    // Whatever the outsider may read, nothing of another company shows through.
    for operation in operations
        .iter()
        .filter(|op| op.secured && op.method == reqwest::Method::GET)
    {
        let answer = send(&server, &spec, operation, &own, Some(&outsider));
        assert!(
            answer.status.is_success() || [403, 404].contains(&answer.status.as_u16()),
            "{}: {}",
            operation.label(),
            answer.body
        );
        assert!(
            !answer.body.to_string().contains("Secret"),
            "{} leaks: {}",
            operation.label(),
            answer.body
        );
    }
}

/// Everything under /api/v1/users but the caller's own account and signing in is for admins.
fn is_admin_only(operation: &Operation) -> bool {
    let path = operation.path.as_str();
    path.starts_with("/api/v1/users")
        && path != "/api/v1/users/me"
        && !path.starts_with("/api/v1/users/me/")
        && !path.starts_with("/api/v1/users/authorization/")
}

#[test]
fn user_management_is_403_for_everyone_but_admins() {
    let server = Server::start();
    let admin = server.admin_token();
    let planner = server.user("planner@example.com", false);
    let spec = Spec::fetch(&server);
    let admin_only: Vec<Operation> = spec
        .operations()
        .into_iter()
        .filter(is_admin_only)
        .collect();
    // None exist yet on every branch; each one that does is checked.
    for (n, operation) in admin_only.iter().enumerate() {
        let email = format!("managed{n}@example.com");
        let managed = server.user(&email, false);
        let known = Known(HashMap::from([
            ("user_id".to_string(), json!(user_id(&server, &managed))),
            ("email".to_string(), json!(format!("new{n}@example.com"))),
            ("password".to_string(), json!("a long enough password")),
        ]));
        let refused = send(&server, &spec, operation, &known, Some(&planner));
        assert_eq!(
            refused.status,
            403,
            "{} as a non-admin: {}",
            operation.label(),
            refused.body
        );
        let allowed = send(&server, &spec, operation, &known, Some(&admin));
        assert!(
            ![401, 403, 404].contains(&allowed.status.as_u16()),
            "{} as an admin: {} {}",
            operation.label(),
            allowed.status,
            allowed.body
        );
    }
    server.get(&planner, "/api/v1/users/me").expect(200);
}
