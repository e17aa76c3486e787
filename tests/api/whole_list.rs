//! The published list of threads has no paging: without `limit`, every thread of the company is
//! answered, streamed page by page from the database so that the server's memory does not grow
//! with the answer.

use serde_json::{json, Value};

use crate::harness::{ids, new_thread, next_page, on_postgres, Server};

/// Threads seeded straight into the database, each with about 2 KB of `extra_data`.
const SEEDED: i64 = 20_000;

/// Inserts `count` threads into the company, oldest first, named `Seeded <n>`, scoped to the
/// sample customer and location.
fn seed(server: &Server, company: i64, count: i64) {
    // Each database's own ways to count, format and repeat; the same rows.
    let (numbers, thread_id, notes) = if on_postgres() {
        (
            format!("generate_series(1, {count}) AS n(i)"),
            format!("format('thr_seed_%s_%s', {company}, lpad(i::text, 8, '0'))"),
            "repeat('0', 2000)",
        )
    } else {
        (
            format!("(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) SELECT i FROM n)"),
            format!("printf('thr_seed_%d_%08d', {company}, i)"),
            "hex(zeroblob(1000))",
        )
    };
    server.sql(&format!(
        "INSERT INTO chat_threads (thread_id, company_id, assistant_id, customer_id, \
           location_id, name, extra_data, date_added, date_updated) \
         SELECT {thread_id}, {company}, 'asst_general', 1234567890, \
           'locations/4242', 'Seeded ' || i, '{{\"notes\":\"' || {notes} || '\"}}', \
           '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z' FROM {numbers}"
    ));
}

fn names(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|thread| thread["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn without_limit_every_thread_is_answered_and_memory_stays_flat() {
    let mut server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Big");
    let other = server.company_with_connections(&token, "Other");
    seed(&server, company, SEEDED);
    seed(&server, other, 10);
    // A fresh process, so that its memory holds nothing of the seeding.
    server.restart();
    let token = server.admin_token();
    let newest = new_thread(
        &server,
        &token,
        &format!("company_id={company}"),
        json!({"assistant_type": "general", "name": "Newest"}),
    );
    let path = format!("/api/v1/chat/threads?company_id={company}");
    // Warm up: a page with `limit` is one page, with its Link, as before.
    let page = server.get(&token, &format!("{path}&limit=50")).expect(200);
    assert_eq!(page.body.as_array().unwrap().len(), 50);
    assert!(next_page(&page, &server.base).is_some());

    let before = server.peak_rss_kib();
    let response = server
        .client
        .get(server.url(&path))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("link").is_none());
    let bytes = response.bytes().unwrap();
    let grown = server.peak_rss_kib().saturating_sub(before);
    let answer_kib = bytes.len() as u64 / 1024;
    let list: Vec<Value> = serde_json::from_slice(&bytes).unwrap();

    assert_eq!(list.len() as i64, SEEDED + 1);
    assert_eq!(list[0]["thread_id"], newest);
    let expected: Vec<String> = std::iter::once("Newest".to_string())
        .chain((1..=SEEDED).rev().map(|n| format!("Seeded {n}")))
        .collect();
    assert_eq!(names(&list), expected, "each once, newest first");
    assert!(answer_kib > 40_000, "an answer of {answer_kib} KiB");
    assert!(
        grown < answer_kib / 8,
        "the server grew by {grown} KiB for an answer of {answer_kib} KiB"
    );
}

#[test]
fn without_limit_a_cursor_and_filters_still_apply_and_small_lists_match_the_pages() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let query = format!("company_id={company}");
    let made: Vec<String> = (0..7)
        .map(|n| {
            let kind = if n % 2 == 0 { "general" } else { "onboarding" };
            new_thread(
                &server,
                &token,
                &query,
                json!({"assistant_type": kind, "name": format!("t{n}")}),
            )
        })
        .collect();
    let path = format!("/api/v1/chat/threads?{query}");
    let whole = server.get(&token, &path).expect(200);
    assert!(whole.header("link").is_none());
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(ids(&whole), newest_first);
    // The same threads as following the pages of a client that asks for them.
    let paged: Vec<String> = server
        .all_threads(&token, company)
        .iter()
        .map(|thread| thread["thread_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paged, newest_first);
    let first = server.get(&token, &format!("{path}&limit=3")).expect(200);
    let cursor = next_page(&first, &server.base).unwrap();
    let cursor = cursor.split("cursor=").nth(1).unwrap();
    let after = server
        .get(&token, &format!("{path}&cursor={cursor}"))
        .expect(200);
    assert!(after.header("link").is_none());
    assert_eq!(ids(&after), newest_first[3..]);
    let general = server
        .get(&token, &format!("{path}&assistant_type=general"))
        .expect(200);
    assert_eq!(
        ids(&general),
        [&made[6], &made[4], &made[2], &made[0]].map(String::clone)
    );
    // Served again (from memory now), and after a write, the same way.
    assert_eq!(ids(&server.get(&token, &path).expect(200)), newest_first);
    server
        .delete(&token, &format!("/api/v1/chat/threads/{}", made[6]))
        .expect(204);
    assert_eq!(
        ids(&server.get(&token, &path).expect(200)),
        newest_first[1..]
    );
    let empty = server.company(&token, "Empty");
    let none = server
        .get(&token, &format!("/api/v1/chat/threads?company_id={empty}"))
        .expect(200);
    assert_eq!(none.body, json!([]));
    let outsider = server.user("outsider@example.com", false);
    server.get(&outsider, &path).expect(404);
}

#[test]
fn a_member_removed_while_the_list_is_sent_gets_a_cut_connection_not_a_shorter_list() {
    use std::io::Read;

    let server = Server::start();
    let owner = server.user("owner@agency.test", false);
    let member = server.user("member@agency.test", false);
    let company = server.company_with_connections(&owner, "Big");
    let members = format!("/api/v1/companies/{company}/members");
    let added = server
        .post(
            &owner,
            &members,
            &json!({"email": "member@agency.test", "role": "member"}),
        )
        .expect(200);
    seed(&server, company, SEEDED);

    let mut response = server
        .client
        .get(server.url(&format!("/api/v1/chat/threads?company_id={company}")))
        .bearer_auth(&member)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut start = [0u8; 1024];
    response.read_exact(&mut start).unwrap();
    server
        .delete(&owner, &format!("{members}/{}", added.body["user_id"]))
        .expect(204);
    let mut rest = Vec::new();
    let read = response.read_to_end(&mut rest);
    assert!(
        read.is_err(),
        "the answer ended cleanly after {} bytes",
        rest.len() + start.len()
    );
}
