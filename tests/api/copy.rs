//! `adthread copy --to postgres://...` (issue 17): data made through the API on SQLite, the
//! server stopped, the copy run, and then every table compared row for row between the SQLite
//! file (read with rusqlite) and the PostgreSQL database (read with psql). Skipped, saying why,
//! without a PostgreSQL to test against (see postgres.rs).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fake_llm::FakeLlm;
use crate::harness::{Server, CUSTOMER_ID};
use crate::postgres::{assert_refused, postgres, psql, stdout};

const DRAFTS: &str = "/api/v1/campaigns/drafts";

/// What `fill` made, to ask the API about it again.
struct Made {
    token: String,
    companies: Vec<i64>,
    threads: Vec<String>,
    drafts: Vec<i64>,
}

/// Two companies with their Google connections, an owner and a member, threads with the
/// onboarding interview's messages (which fill the business profile, offline), and drafts with
/// ad groups, keywords, RSAs and extensions; then, restarted with the stand-in model, a
/// generation of extensions (its task and the tokens it spent).
fn fill(server: &mut Server) -> Made {
    let token = server.admin_token();
    let member = server.user("member@agency.test", false);
    let mut made = Made {
        token: token.clone(),
        companies: Vec::new(),
        threads: Vec::new(),
        drafts: Vec::new(),
    };
    for name in ["Acme", "Bakery & Co"] {
        let company = server.company_with_connections(&token, name);
        server
            .post(
                &token,
                &format!("/api/v1/companies/{company}/members"),
                &json!({"email": "member@agency.test", "role": "member"}),
            )
            .expect(200);
        let thread = server.thread(&token, company, "onboarding", json!({"source": name}));
        for content in ["We bake bread and cakes", "https://acme.example"] {
            server
                .post(
                    &token,
                    &format!("/api/v1/chat/{thread}/messages"),
                    &json!({"role": "user", "content": content}),
                )
                .expect(200);
        }
        made.threads.push(thread);
        made.threads.push(server.thread_in(
            &member,
            company,
            json!({"assistant_type": "general", "name": "Spring"}),
        ));
        made.drafts
            .push(draft_with_everything(server, &token, company));
        made.companies.push(company);
    }
    let llm = FakeLlm::start();
    server
        .env
        .push(("ADTHREAD_LLM_BASE_URL".into(), llm.base_url.clone()));
    server.restart();
    let draft = made.drafts[0];
    server
        .post(
            &token,
            &format!("{DRAFTS}/{draft}/extensions/generate"),
            &json!({}),
        )
        .expect(200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server
        .get(&token, &format!("{DRAFTS}/{draft}/generation-status"))
        .expect(200)
        .body["all_complete"]
        != true
    {
        assert!(Instant::now() < deadline, "the generation never completed");
        std::thread::sleep(Duration::from_millis(50));
    }
    made
}

fn new_draft(server: &Server, token: &str, company: i64, name: &str) -> i64 {
    server
        .post(
            token,
            &format!("{DRAFTS}?company_id={company}"),
            &json!({"name": name, "google_ads_customer_id": CUSTOMER_ID, "daily_budget_micros": 25_000_000,
                    "language_ids": [1000, 1002]}),
        )
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap()
}

fn draft_with_everything(server: &Server, token: &str, company: i64) -> i64 {
    let draft = new_draft(server, token, company, "Spring bread");
    let path = |rest: &str| format!("{DRAFTS}/{draft}{rest}");
    let answer = server
        .post(
            token,
            &path("/ad-groups?regenerate_rsas=false"),
            &json!({"name": "Shoes", "keywords": [{"text": "running shoes"},
                                                  {"text": "trail shoes"}]}),
        )
        .expect(200);
    let group = answer.body["draft"]["ad_groups"][0]["id"].as_i64().unwrap();
    // Without regenerate_rsas=false, a generation task is queued (no model runs it here).
    server
        .post(
            token,
            &path("/ad-groups"),
            &json!({"name": "Socks", "keywords": [{"text": "wool socks"}]}),
        )
        .expect(200);
    server
        .patch(
            token,
            &path("/ads"),
            &json!({"rsas": [{"ad_group_id": group,
                "headlines": [{"text": "Buy shoes"}, {"text": "Run far", "pinned_position": 1},
                              {"text": "Free returns"}],
                "descriptions": [{"text": "Great shoes."}, {"text": "Free returns."}],
                "path1": "shoes", "final_url": "https://acme.example/shoes"}]}),
        )
        .expect(200);
    server
        .patch(
            token,
            &path("/extensions"),
            &json!({"sitelinks": [{"link_text": "Returns", "final_url": "https://acme.example/r",
                                   "description_1": "Free", "description_2": "30 days"}],
                    "callouts": [{"callout_text": "Free shipping"}],
                    "structured_snippets": [{"header": "Brands", "values": ["A", "B", "C"]}]}),
        )
        .expect(200);
    draft
}

fn copy(server: &Server, target: &str) -> Output {
    server
        .command()
        .args(["copy", "--to", target])
        .output()
        .unwrap()
}

/// Our tables in the SQLite file, SQLite's own left out.
fn sqlite_tables(database: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .unwrap();
    let names = statement.query_map([], |row| row.get(0)).unwrap();
    names.map(Result::unwrap).collect()
}

/// Each row as JSON with its keys sorted, the rows sorted: blobs as PostgreSQL's `\x` hex.
fn sqlite_rows(database: &Path, table: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let names: Vec<String> = statement
        .column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut rows = statement.query([]).unwrap();
    let mut all = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let mut object = BTreeMap::new();
        for (at, name) in names.iter().enumerate() {
            use rusqlite::types::ValueRef;
            let value = match row.get_ref(at).unwrap() {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(integer) => json!(integer),
                ValueRef::Real(real) => json!(real),
                ValueRef::Text(text) => json!(std::str::from_utf8(text).unwrap()),
                ValueRef::Blob(blob) => json!(format!("\\x{}", hex(blob))),
            };
            object.insert(name.clone(), value);
        }
        all.push(serde_json::to_string(&object).unwrap());
    }
    all.sort();
    all
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// As [`sqlite_rows`], from PostgreSQL, booleans as SQLite's 0 and 1.
fn postgres_rows(url: &str, table: &str) -> Vec<String> {
    let text = psql(url, &format!("SELECT row_to_json(t)::text FROM {table} t"));
    let mut all: Vec<String> = text
        .lines()
        .map(|line| {
            let object: BTreeMap<String, Value> = serde_json::from_str(line).unwrap();
            let object: BTreeMap<String, Value> = object
                .into_iter()
                .map(|(name, value)| match value {
                    Value::Bool(flag) => (name, json!(flag as i64)),
                    other => (name, other),
                })
                .collect();
            serde_json::to_string(&object).unwrap()
        })
        .collect();
    all.sort();
    all
}

/// PostgreSQL's tables that SQLite has too: not its own record of migrations, nor what the
/// processes sharing the database keep there (who holds which generation task, sign-in
/// failures, answers in flight, thread turns; a copy brings none).
fn postgres_tables(url: &str) -> Vec<String> {
    psql(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_name NOT IN ('adthread_migrations', 'generation_claims', 'throttle_failures', \
         'throttle_paces', 'answer_slots', 'thread_turns') \
         ORDER BY table_name",
    )
    .lines()
    .map(String::from)
    .collect()
}

/// Every table of one side, row by row: (table, rows) in name order.
fn every_row(
    tables: Vec<String>,
    rows: impl Fn(&str) -> Vec<String>,
) -> Vec<(String, Vec<String>)> {
    tables
        .into_iter()
        .map(|table| {
            let rows = rows(&table);
            (table, rows)
        })
        .collect()
}

fn every_row_sqlite(database: &Path) -> Vec<(String, Vec<String>)> {
    every_row(sqlite_tables(database), |table| {
        sqlite_rows(database, table)
    })
}

fn every_row_postgres(url: &str) -> Vec<(String, Vec<String>)> {
    every_row(postgres_tables(url), |table| postgres_rows(url, table))
}

/// The (table, sqlite, postgresql) lines of the copy's report.
fn reported_counts(output: &Output) -> BTreeMap<String, (i64, i64)> {
    stdout(output)
        .lines()
        .skip(1)
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [table, sqlite, postgres] => Some((
                    table.to_string(),
                    (sqlite.parse().ok()?, postgres.parse().ok()?),
                )),
                _ => None,
            },
        )
        .collect()
}

#[test]
fn a_copy_holds_every_row_of_every_table_and_a_second_copy_is_refused() {
    let Some(postgres) = postgres() else { return };
    let mut server = Server::start_on_sqlite();
    fill(&mut server);
    server.terminate();
    let original = every_row_sqlite(&server.database());
    let empty: Vec<&str> = original
        .iter()
        .filter(|(_, rows)| rows.is_empty())
        .map(|(table, _)| table.as_str())
        .collect();
    assert!(empty.is_empty(), "tables without rows to copy: {empty:?}");
    let target = postgres.fresh_database();

    let output = copy(&server, &target);

    assert!(output.status.success(), "{output:?}");
    let rows: usize = original.iter().map(|(_, rows)| rows.len()).sum();
    assert!(
        stdout(&output).contains(&format!(
            "{} tables, {rows} rows, every count matches",
            original.len()
        )),
        "{output:?}"
    );
    let expected: BTreeMap<String, (i64, i64)> = original
        .iter()
        .map(|(table, rows)| (table.clone(), (rows.len() as i64, rows.len() as i64)))
        .collect();
    assert_eq!(reported_counts(&output), expected, "{output:?}");
    assert!(!stdout(&output).contains(&postgres.password));
    assert_eq!(every_row_postgres(&target), original);

    let again = copy(&server, &target);

    assert_refused(
        &again,
        "PostgreSQL's companies table already has rows; copy only into an empty database",
        &postgres.password,
    );
    assert_eq!(every_row_postgres(&target), original, "nothing changed");
}

#[test]
fn the_next_id_on_postgres_is_above_a_deleted_highest_one() {
    let Some(postgres) = postgres() else { return };
    let mut server = Server::start_on_sqlite();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let drafts: Vec<i64> = ["One", "Two", "Three"]
        .iter()
        .map(|name| new_draft(&server, &token, company, name))
        .collect();
    let deleted = drafts[2];
    server
        .delete(&token, &format!("{DRAFTS}/{deleted}"))
        .expect(204);
    server.terminate();
    let target = postgres.fresh_database();

    let output = copy(&server, &target);

    assert!(output.status.success(), "{output:?}");
    let next: i64 = psql(
        &target,
        &format!(
            "INSERT INTO campaign_drafts (company_id, google_ads_customer_id, name, date_added, \
             date_updated) VALUES ({company}, {CUSTOMER_ID}, 'Four', 'x', 'x') RETURNING id"
        ),
    )
    .parse()
    .unwrap();
    assert!(
        next > deleted,
        "{next} reuses the deleted draft's id {deleted}"
    );
}

#[test]
fn a_copy_from_postgres_or_to_a_file_is_refused() {
    let Some(postgres) = postgres() else { return };
    let server = Server::start_on_sqlite();
    let not_a_url = copy(&server, "/tmp/elsewhere.db");
    assert_refused(
        &not_a_url,
        "--to: a PostgreSQL URL starts with postgres://",
        &postgres.password,
    );
    let from_postgres = server
        .command()
        .env("ADTHREAD_DATABASE", &postgres.url)
        .args(["copy", "--to", &postgres.fresh_database()])
        .output()
        .unwrap();
    assert_refused(
        &from_postgres,
        "the database configured here is already PostgreSQL",
        &postgres.password,
    );
}

#[test]
fn the_api_answers_the_same_on_the_copy_as_on_the_original() {
    let Some(postgres) = postgres() else { return };
    let mut original = Server::start_on_sqlite();
    let made = fill(&mut original);
    original.terminate();
    let target = postgres.fresh_database();
    assert!(copy(&original, &target).status.success());
    original.restart();
    let copied = Server::start_with(&[("ADTHREAD_DATABASE", target.as_str())]);

    let mut paths = vec!["/api/v1/companies".to_string()];
    for company in &made.companies {
        paths.push(format!("/api/v1/chat/threads?company_id={company}"));
        paths.push(format!("/api/v1/companies/{company}/members"));
        paths.push(format!("{DRAFTS}?company_id={company}"));
    }
    for thread in &made.threads {
        paths.push(format!("/api/v1/chat/{thread}/messages"));
    }
    for draft in &made.drafts {
        paths.push(format!("{DRAFTS}/{draft}"));
        paths.push(format!("{DRAFTS}/{draft}/generation-status"));
    }
    for path in paths {
        let on_original = original.get(&made.token, &path).expect(200).body;
        let on_copy = copied.get(&made.token, &path).expect(200).body;
        assert_eq!(on_copy, on_original, "{path}");
    }
}

/// Stops `server`, changes its file with `sql`, copies it to a fresh database, and asserts the
/// copy was refused saying `text` and left no user and no company there.
fn assert_copy_refused_after(mut server: Server, sql: &str, text: &str) {
    let Some(postgres) = postgres() else { return };
    server.terminate();
    server.db().execute(sql, []).unwrap();
    let target = postgres.fresh_database();

    let output = copy(&server, &target);

    assert_refused(&output, text, &postgres.password);
    assert_eq!(psql(&target, "SELECT count(*) FROM users"), "0");
    assert_eq!(psql(&target, "SELECT count(*) FROM companies"), "0");
}

#[test]
fn a_value_postgres_cannot_hold_fails_the_copy_naming_its_column_and_keeps_nothing() {
    let server = Server::start_on_sqlite();
    let token = server.admin_token();
    let company = server.company(&token, "Acme");
    server.thread_in(&token, company, json!({"assistant_type": "general"}));
    // SQLite keeps a text that does not read as a number in an INTEGER column as text; the
    // companies, copied before the threads, are rolled back with them.
    assert_copy_refused_after(
        server,
        "UPDATE chat_threads SET login_customer_id = 'twelve'",
        "chat_threads.login_customer_id is int8 on PostgreSQL and cannot hold SQLite's text",
    );
}

#[test]
fn a_column_on_one_side_only_is_named_and_nothing_is_copied() {
    assert_copy_refused_after(
        Server::start_on_sqlite(),
        "ALTER TABLE users ADD COLUMN nickname TEXT",
        "the databases' schemas differ: column users.nickname is missing on PostgreSQL",
    );
}
