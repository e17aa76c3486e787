//! Ids are never handed out twice: a deleted object's id does not come back for a new one (as
//! PostgreSQL's identity columns), and a database made before that rule upgrades with its rows,
//! ids and links as they were.

use std::path::Path;

use serde_json::{json, Value};

use crate::harness::{sqlite_only, Server, CUSTOMER_ID};

const DRAFTS: &str = "/api/v1/campaigns/drafts";
const SCHEMA: &str = include_str!("../../schema.sql");
/// The schema version before the rule: a database of that version is made of the migrations
/// of `schema.sql` up to this one.
const LAST_VERSION_REUSING_IDS: u32 = 4;

fn id(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id: {value}"))
}

fn new_draft(server: &Server, token: &str, company: i64, name: &str) -> i64 {
    id(&server
        .post(
            token,
            &format!("{DRAFTS}?company_id={company}"),
            &json!({"name": name, "google_ads_customer_id": CUSTOMER_ID}),
        )
        .expect(200)
        .body)
}

fn step(server: &Server, token: &str, draft: i64, rest: &str, body: Value) -> Value {
    server
        .patch(token, &format!("{DRAFTS}/{draft}{rest}"), &body)
        .expect(200)
        .body["draft"]
        .clone()
}

/// Step 2 with two ad groups, Bread (two keywords) and Cakes (one); answers the draft.
fn bread_and_cakes(server: &Server, token: &str, draft: i64) -> Value {
    step(
        server,
        token,
        draft,
        "/ad-groups",
        json!({"ad_groups": [
            {"name": "Bread", "keywords": [{"text": "sourdough"}, {"text": "rye"}]},
            {"name": "Cakes", "keywords": [{"text": "birthday cake"}]}]}),
    )
}

/// Adds an ad group with one keyword to the draft; answers the ad group as created.
fn new_ad_group(server: &Server, token: &str, draft: i64, name: &str, keyword: &str) -> Value {
    let answer = server
        .post(
            token,
            &format!("{DRAFTS}/{draft}/ad-groups"),
            &json!({"name": name, "keywords": [{"text": keyword}]}),
        )
        .expect(200);
    ad_groups(&answer.body["draft"]).last().unwrap().clone()
}

fn ad_groups(draft: &Value) -> &Vec<Value> {
    draft["ad_groups"].as_array().unwrap()
}

fn ids_of(items: &Value) -> Vec<i64> {
    items.as_array().unwrap().iter().map(id).collect()
}

fn rsa(id: Option<i64>, ad_group: i64, headline: &str) -> Value {
    let mut rsa = json!({"ad_group_id": ad_group, "headlines": [{"text": headline}],
                         "descriptions": [{"text": "Baked every morning"}]});
    if let Some(id) = id {
        rsa["id"] = json!(id);
    }
    rsa
}

#[test]
fn the_newest_drafts_ad_groups_keywords_and_rsas_ids_are_not_handed_out_again() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");

    let first = new_draft(&server, &token, company, "First");
    let newest = new_draft(&server, &token, company, "Second");
    server
        .delete(&token, &format!("{DRAFTS}/{newest}"))
        .expect(204);
    let draft = new_draft(&server, &token, company, "Third");
    assert!(draft > newest, "draft {draft} after deleted {newest}");
    assert!(newest > first);

    let made = bread_and_cakes(&server, &token, draft);
    let (bread, cakes) = (id(&ad_groups(&made)[0]), id(&ad_groups(&made)[1]));
    let newest_keyword = id(&ad_groups(&made)[1]["keywords"][0]);
    let keyword_path = format!("{DRAFTS}/{draft}/ad-groups/{cakes}/keywords");
    server
        .delete(&token, &format!("{keyword_path}/{newest_keyword}"))
        .expect(200);
    let keyword = server
        .post(&token, &keyword_path, &json!({"text": "wedding cake"}))
        .expect(200);
    let keyword = ad_groups(&keyword.body["draft"])[1]["keywords"][0].clone();
    assert!(id(&keyword) > newest_keyword, "keyword {keyword}");

    let two = step(
        &server,
        &token,
        draft,
        "/ads",
        json!({"rsas": [rsa(None, bread, "Fresh bread"), rsa(None, bread, "Warm bread")]}),
    );
    let [kept, newest_rsa] = ids_of(&ad_groups(&two)[0]["rsas"])[..] else {
        panic!("two RSAs: {two}")
    };
    step(
        &server,
        &token,
        draft,
        "/ads",
        json!({"rsas": [rsa(Some(kept), bread, "Fresh bread")]}),
    );
    let again = step(
        &server,
        &token,
        draft,
        "/ads",
        json!({"rsas": [rsa(Some(kept), bread, "Fresh bread"), rsa(None, bread, "Rye")]}),
    );
    let rsas = ids_of(&ad_groups(&again)[0]["rsas"]);
    assert_eq!(rsas[0], kept);
    assert!(
        rsas[1] > newest_rsa,
        "RSA {} after deleted {newest_rsa}",
        rsas[1]
    );

    // Leaving the newest ad group out deletes it, with its keywords (the newest ones).
    let newest_keyword = id(&keyword);
    let one = step(
        &server,
        &token,
        draft,
        "/ad-groups",
        json!({"ad_groups": [{"id": bread, "name": "Bread", "keywords": []}]}),
    );
    assert_eq!(ids_of(&one["ad_groups"]), [bread]);
    let pastries = &new_ad_group(&server, &token, draft, "Pastries", "croissant");
    assert!(
        id(pastries) > cakes,
        "ad group {pastries} after deleted {cakes}"
    );
    assert!(id(&pastries["keywords"][0]) > newest_keyword, "{pastries}");
}

/// Users and companies have no delete route yet; an operator's delete (or a later route) must
/// not bring their ids back either.
#[test]
fn deleted_users_and_companies_ids_are_not_handed_out_again() {
    let mut server = Server::start();
    let token = server.admin_token();
    let new_user = |server: &Server, email: &str| -> i64 {
        id(&server
            .post(
                &token,
                "/api/v1/users",
                &json!({"email": email, "password": "long enough"}),
            )
            .expect(200)
            .body)
    };
    new_user(&server, "first@agency.test");
    let newest_user = new_user(&server, "second@agency.test");
    server.company(&token, "First");
    let newest_company = server.company(&token, "Second");
    server.kill();
    server.sql(&format!("DELETE FROM users WHERE id = {newest_user}"));
    server.sql(&format!(
        "DELETE FROM companies WHERE id = {newest_company}"
    ));
    server.restart();
    let user = new_user(&server, "third@agency.test");
    assert!(
        user > newest_user,
        "user {user} after deleted {newest_user}"
    );
    let company = server.company(&token, "Third");
    assert!(
        company > newest_company,
        "company {company} after deleted {newest_company}"
    );
}

/// Every row of every table, as text, sorted: what an upgrade must keep.
fn rows(db: &rusqlite::Connection) -> Vec<(String, Vec<String>)> {
    tables(db)
        .into_iter()
        .map(|table| {
            let mut select = db.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let columns = select.column_count();
            let mut rows: Vec<String> = select
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| row.get::<_, rusqlite::types::Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap()
                .map(|row| format!("{:?}", row.unwrap()))
                .collect();
            rows.sort();
            (table, rows)
        })
        .collect()
}

fn tables(db: &rusqlite::Connection) -> Vec<String> {
    db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .unwrap()
    .query_map([], |row| row.get(0))
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// Rewrites the stopped server's database as the last version that reused ids would hold the
/// same rows: its tables made by the migrations up to that version, every row copied with its
/// id.
fn as_made_by_the_version_before(server: &Server) {
    let database = server.database();
    let made = server.dir.path().join("made.db");
    server
        .db()
        .execute("VACUUM INTO ?1", [made.to_str().unwrap()])
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", database.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(file).unwrap();
        }
    }
    let older = SCHEMA
        .split(&format!("\n-- migration {}:", LAST_VERSION_REUSING_IDS + 1))
        .next()
        .unwrap();
    let db = server.db();
    db.execute_batch(older).unwrap();
    db.pragma_update(None, "user_version", LAST_VERSION_REUSING_IDS)
        .unwrap();
    db.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    db.execute("ATTACH ?1 AS made", [made.to_str().unwrap()])
        .unwrap();
    for table in tables(&db) {
        db.execute_batch(&format!(
            "DELETE FROM main.{table}; INSERT INTO main.{table} SELECT * FROM made.{table};"
        ))
        .unwrap();
    }
    let reusing: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(reusing, 0, "the older schema has no AUTOINCREMENT");
}

#[test]
fn a_database_of_the_version_before_upgrades_with_its_rows_ids_and_links() {
    if sqlite_only("migration of a file an older version made") {
        return;
    }
    let mut server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let member = server.user("planner@agency.test", false);
    server
        .post(
            &token,
            &format!("/api/v1/companies/{company}/members"),
            &json!({"email": "planner@agency.test", "role": "member"}),
        )
        .expect(200);
    server.company(&token, "Other");
    let thread = server.thread(&token, company, "campaign_creation", json!({}));
    let draft = new_draft(&server, &token, company, "Spring");
    server.link_draft_to_thread(&json!(draft), &json!(thread));
    let made = bread_and_cakes(&server, &token, draft);
    let cakes = id(&ad_groups(&made)[1]);
    step(
        &server,
        &token,
        draft,
        "/ads",
        json!({"rsas": [rsa(None, cakes, "Cakes to order")]}),
    );
    step(
        &server,
        &token,
        draft,
        "/extensions",
        json!({"callouts": [{"callout_text": "Free delivery"}]}),
    );
    let reads = |server: &Server| -> Vec<Value> {
        [
            format!("{DRAFTS}/{draft}"),
            format!("/api/v1/chat/threads/{thread}/campaign-draft"),
            format!("/api/v1/chat/threads/{thread}"),
            format!("/api/v1/companies/{company}/members"),
            "/api/v1/companies".to_string(),
            "/api/v1/users".to_string(),
        ]
        .iter()
        .map(|path| server.get(&token, path).expect(200).body)
        .chain([server.get(&member, "/api/v1/users/me").expect(200).body])
        .collect()
    };
    let answered = reads(&server);
    server.kill();
    as_made_by_the_version_before(&server);
    let kept = rows(&server.db());

    server.restart();
    assert_eq!(reads(&server), answered);
    assert_eq!(rows(&server.db()), kept);
    let version: u32 = server
        .db()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert!(version > LAST_VERSION_REUSING_IDS);

    // The upgrade starts each table after its largest id: the newest draft's id does not come
    // back once it is deleted.
    server
        .delete(&token, &format!("{DRAFTS}/{draft}"))
        .expect(204);
    let next = new_draft(&server, &token, company, "After the upgrade");
    assert!(next > draft, "draft {next} after deleted {draft}");
    let rolls = &new_ad_group(&server, &token, next, "Rolls", "bread rolls");
    assert!(id(rolls) > cakes, "ad group {rolls} after deleted {cakes}");
    server.get(&token, &format!("{DRAFTS}/{draft}")).expect(404);
}
