//! Crash safety: writers create and update threads while the server is SIGKILLed at random
//! moments; after each restart on the same file, every acknowledged write is there with its
//! acknowledged content, nothing half-written shows, and SQLite finds the file sound.
//!
//! ADTHREAD_CRASH_SEED (printed; random when unset) replays a run; ADTHREAD_CRASH_ITERATIONS
//! (default 6) sets how many kills.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::harness::{on_postgres, Server};

const WRITERS: u64 = 4;

/// One thread as its writer sent it: every version, and how far the answers got.
#[derive(Default)]
struct History {
    thread_id: Option<String>,
    /// (name, extra_data) per version; version 0 is the create.
    versions: Vec<(String, Value)>,
    /// The last version the server acknowledged (answered 200 to).
    acknowledged: Option<usize>,
}

type Key = (u64, u64, u64); // iteration, writer, thread

fn content(key: Key, version: usize, rng: &mut StdRng) -> (String, Value) {
    let (iteration, writer, thread) = key;
    let name = format!("i{iteration}-w{writer}-t{thread}-v{version}");
    let pad = "p".repeat(rng.gen_range(0..4000));
    let extra = json!({"iteration": iteration, "writer": writer, "thread": thread, "version": version, "pad": pad});
    (name, extra)
}

/// Creates and patches its own threads until the server stops answering.
fn write_until_killed(
    server: &Server,
    token: &str,
    company: i64,
    key: (u64, u64),
    seed: u64,
    log: &Mutex<HashMap<Key, History>>,
) {
    let (iteration, writer) = key;
    let mut rng = StdRng::seed_from_u64(seed ^ (iteration << 32) ^ writer);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut mine: Vec<Key> = Vec::new();
    loop {
        let patch = !mine.is_empty() && rng.gen_bool(0.4);
        let key = if patch {
            mine[rng.gen_range(0..mine.len())]
        } else {
            (iteration, writer, mine.len() as u64)
        };
        let (version, (name, extra)) = {
            let mut log = log.lock().unwrap();
            let history = log.entry(key).or_default();
            let version = history.versions.len();
            let sent = content(key, version, &mut rng);
            history.versions.push(sent.clone());
            (version, sent)
        };
        let body = json!({"name": name, "extra_data": extra});
        let request = if patch {
            let id = log.lock().unwrap()[&key].thread_id.clone().unwrap();
            client
                .patch(server.url(&format!("/api/v1/chat/threads/{id}")))
                .json(&body)
        } else {
            mine.push(key);
            let mut body = body;
            body["assistant_type"] = json!("general");
            client
                .post(server.url(&format!("/api/v1/chat/threads?company_id={company}")))
                .json(&body)
        };
        let Ok(response) = request.bearer_auth(token).send() else {
            return;
        };
        let status = response.status();
        let Ok(answer) = response.json::<Value>() else {
            return;
        };
        assert_eq!(status, 200, "{answer}");
        let mut log = log.lock().unwrap();
        let history = log.get_mut(&key).unwrap();
        history.acknowledged = Some(version);
        history.thread_id = Some(answer["thread_id"].as_str().unwrap().to_string());
    }
}

/// On PostgreSQL the server's own recovery answers for its files; what the API shows is
/// checked on both.
fn check_file(server: &Server) {
    if on_postgres() {
        return;
    }
    let conn = rusqlite::Connection::open_with_flags(
        server.database(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let broken: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0, "foreign keys that point nowhere");
}

/// Every thread the server shows is one a writer sent, exactly as sent (at a version no older
/// than the last acknowledged one); every acknowledged thread is shown. Returns how many
/// acknowledged writes (creates and updates) that covers.
fn check_writes(server: &Server, token: &str, company: i64, log: &HashMap<Key, History>) -> usize {
    let threads = server.all_threads(token, company);
    let mut seen = 0;
    for thread in &threads {
        let extra = &thread["extra_data"];
        let key = (
            extra["iteration"].as_u64().unwrap(),
            extra["writer"].as_u64().unwrap(),
            extra["thread"].as_u64().unwrap(),
        );
        let history = log
            .get(&key)
            .unwrap_or_else(|| panic!("a thread no writer sent: {thread}"));
        let version = extra["version"].as_u64().unwrap() as usize;
        let (name, sent) = &history.versions[version];
        assert_eq!(
            (&thread["name"], extra),
            (&json!(name), sent),
            "shown not as sent"
        );
        if let Some(acknowledged) = history.acknowledged {
            assert!(
                version >= acknowledged,
                "{key:?}: version {version} shown, {acknowledged} acknowledged"
            );
        }
        if let Some(id) = &history.thread_id {
            assert_eq!(thread["thread_id"].as_str(), Some(id.as_str()));
        }
        seen += 1;
    }
    let acknowledged = log.values().filter(|h| h.acknowledged.is_some()).count();
    let shown: std::collections::HashSet<&str> = threads
        .iter()
        .map(|t| t["thread_id"].as_str().unwrap())
        .collect();
    for (key, history) in log {
        if history.acknowledged.is_some() {
            let id = history.thread_id.as_deref().unwrap();
            assert!(
                shown.contains(id),
                "acknowledged thread {key:?} ({id}) is gone"
            );
        }
    }
    assert!(seen >= acknowledged);
    log.values()
        .filter_map(|h| h.acknowledged)
        .map(|v| v + 1)
        .sum()
}

#[test]
fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let seed = std::env::var("ADTHREAD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let iterations: u64 = std::env::var("ADTHREAD_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    eprintln!("crash test: ADTHREAD_CRASH_SEED={seed}, {iterations} iterations");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut server = Server::start();
    let token = server.admin_token();
    let company = server.company(&token, "Crashy");
    let log = Mutex::new(HashMap::new());
    let started = Instant::now();
    for iteration in 0..iterations {
        let kill_after = Duration::from_millis(rng.gen_range(100..800));
        std::thread::scope(|scope| {
            for writer in 0..WRITERS {
                let (server, token, log) = (&server, &token, &log);
                scope.spawn(move || {
                    write_until_killed(server, token, company, (iteration, writer), seed, log)
                });
            }
            std::thread::sleep(kill_after);
            server.sigkill();
        });
        server.restart();
        check_file(&server);
        let acknowledged = check_writes(&server, &token, company, &log.lock().unwrap());
        eprintln!("crash test: kill {} after {kill_after:?}: {acknowledged} acknowledged writes all there", iteration + 1);
    }
    eprintln!(
        "crash test: {iterations} kills in {:.1?}",
        started.elapsed()
    );
}
