//! The PostgreSQL store against the SQLite one: the same operations on a fresh database of
//! each must answer the same (records, errors and their messages, order and pages), with only
//! the moments and random ids of the two runs told apart. PostgreSQL is the throwaway cluster
//! `tests/setup/postgres.sh start DIR` describes in `DIR/env`, named by ADTHREAD_TEST_POSTGRES
//! (tests/run sets it); without it these tests are skipped, saying why.

mod assistants;
mod companies;
mod connections;
mod coordination;
mod draft_edits;
mod drafts;
mod generation;
mod messages;
mod thread_drafts;
mod threads;
mod users;

use crate::store::UserStore;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use tempfile::TempDir;

use super::{tls, PostgresDatabase};
use crate::config::PostgresUrl;
use crate::store::sqlite::{testing, SqliteStore};
use crate::store::{Store, StoreError, StoreResult};

/// The URL of the test cluster's database (a role that may create databases), or None with
/// the reason printed when no cluster is named.
fn cluster_url() -> Option<String> {
    let Some(path) = std::env::var_os("ADTHREAD_TEST_POSTGRES").map(PathBuf::from) else {
        eprintln!(
            "skipped: ADTHREAD_TEST_POSTGRES is unset, so there is no PostgreSQL to test against \
             (tests/run starts one with tests/setup/postgres.sh)"
        );
        return None;
    };
    let env = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("ADTHREAD_TEST_POSTGRES={}: {err}", path.display()));
    let url = env
        .lines()
        .find_map(|line| line.strip_prefix("ADTHREAD_TEST_POSTGRES_URL="))
        .unwrap_or_else(|| panic!("{} names no ADTHREAD_TEST_POSTGRES_URL", path.display()));
    Some(url.to_string())
}

/// A new, empty database on the cluster; its URL.
async fn fresh_database(cluster: &str) -> PostgresUrl {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "adthread_store_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    on_cluster(cluster, &format!("CREATE DATABASE {name}")).await;
    let (server, _) = cluster.rsplit_once('/').unwrap();
    format!("{server}/{name}").parse().unwrap()
}

/// Runs `sql` on the cluster's own database, on a connection of its own.
async fn on_cluster(cluster: &str, sql: &str) {
    let (settings, tls) = tls::connector(&cluster.parse().unwrap()).unwrap();
    let (client, connection) = settings.connect(tls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
}

/// A fresh SQLite store and a fresh PostgreSQL database, side by side.
pub(super) struct Pair {
    pub sqlite: Store,
    /// The same SQLite store, for fixtures written in SQL.
    pub sqlite_fixtures: SqliteStore,
    pub postgres: PostgresDatabase,
    /// The PostgreSQL database's URL, for more pools on it (more processes, in effect).
    pub url: PostgresUrl,
    _dir: TempDir,
}

impl Pair {
    /// None when there is no PostgreSQL to test against (said on stderr).
    pub async fn new() -> Option<Pair> {
        let url = fresh_database(&cluster_url()?).await;
        let dir = tempfile::tempdir().unwrap();
        let sqlite = testing::open_in(dir.path());
        Some(Pair {
            sqlite: Store::on_sqlite(sqlite.clone()),
            sqlite_fixtures: sqlite,
            postgres: another_process(&url).await,
            url,
            _dir: dir,
        })
    }
}

impl Pair {
    /// Runs `sql` (fixtures both databases take alike) on both.
    pub async fn on_both(&self, sql: &'static str) {
        self.sqlite_fixtures
            .write(move |conn| Ok(conn.execute_batch(sql)?))
            .await
            .unwrap();
        self.postgres
            .connection()
            .await
            .unwrap()
            .batch_execute(sql)
            .await
            .unwrap();
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.sqlite.close();
    }
}

/// A pool of its own on the database, as another adthread process would have.
pub(super) async fn another_process(url: &PostgresUrl) -> PostgresDatabase {
    PostgresDatabase::open(url, 4).await.unwrap().0
}

/// `work(process, n)` for n in 0..count, each on a pool of its own (a process of its own, in
/// effect), all let go at the same moment once every pool has a connection; their answers.
pub(super) async fn at_once<T, F, Work>(pair: &Pair, count: usize, work: Work) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
    Work: Fn(PostgresDatabase, usize) -> F,
{
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(count));
    let mut tasks = Vec::new();
    for n in 0..count {
        let process = another_process(&pair.url).await;
        let start = start.clone();
        let work = work(process, n);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            work.await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Runs `$call` with `$store` bound to the SQLite store, then to the PostgreSQL database,
/// asserts that both answered the same ([`Shown`]), and gives back PostgreSQL's answer
/// (in a [`Same`], which may be left unused).
/// With `$ids`, `$id` is bound to `$ids.sqlite`, then to `$ids.postgres`: what each store
/// named (thread ids, which are random).
macro_rules! same {
    ($pair:expr, |$store:ident| $call:expr) => {{
        let no_ids = $crate::store::postgres::tests::Ids::<()>::default();
        $crate::store::postgres::tests::same!($pair, no_ids, |$store, _ids| $call)
    }};
    ($pair:expr, $ids:expr, |$store:ident, $id:ident| $call:expr) => {{
        let sqlite = {
            let $store = &$pair.sqlite;
            let $id = &$ids.sqlite;
            $call
        };
        let postgres = {
            let $store = &$pair.postgres;
            let $id = &$ids.postgres;
            $call
        };
        assert_eq!(
            $crate::store::postgres::tests::outcome(&sqlite),
            $crate::store::postgres::tests::outcome(&postgres),
            "{}",
            stringify!($call)
        );
        $crate::store::postgres::tests::Same(postgres)
    }};
}
pub(super) use same;

/// What each store named, in the order they were made.
pub(super) struct Ids<T> {
    pub sqlite: Vec<T>,
    pub postgres: Vec<T>,
}

impl<T> Default for Ids<T> {
    fn default() -> Self {
        Ids {
            sqlite: Vec::new(),
            postgres: Vec::new(),
        }
    }
}

/// What PostgreSQL answered, once `same!` found it equal to SQLite's answer.
pub(super) struct Same<T>(pub StoreResult<T>);

/// An answer as JSON, errors as their kind and message (and a 422's place), with every
/// timestamp written as `<timestamp>` once it is checked to be in the store's format, and
/// random ids (threads', tasks') as what they name.
pub(super) fn outcome<T: Shown>(result: &StoreResult<T>) -> Value {
    match result {
        Ok(value) => json!({ "ok": without_moments(value.shown()) }),
        Err(StoreError::Invalid { loc, message }) => {
            json!({ "error": "invalid", "message": message, "loc": loc })
        }
        Err(err) => json!({ "error": error_kind(err), "message": err.to_string() }),
    }
}

fn error_kind(err: &StoreError) -> &'static str {
    match err {
        StoreError::NotFound(_) => "not found",
        StoreError::Conflict(_) => "conflict",
        StoreError::Forbidden(_) => "forbidden",
        StoreError::Invalid { .. } => "invalid",
        StoreError::Busy => "busy",
        other => panic!("an unexpected error: {other}"),
    }
}

fn without_moments(value: Value) -> Value {
    match value {
        Value::String(text) if is_timestamp(&text) => Value::String("<timestamp>".into()),
        Value::String(text) if text.starts_with("thr_") && text.len() == 36 => {
            Value::String("<thread id>".into())
        }
        Value::String(text) if text.starts_with("task_") && text.len() == 29 => {
            Value::String("<task id>".into())
        }
        Value::Array(items) => items.into_iter().map(without_moments).collect(),
        Value::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| (key, without_moments(value)))
            .collect(),
        other => other,
    }
}

/// `Timestamp::now()`'s format exactly: RFC 3339, UTC, microseconds.
fn is_timestamp(text: &str) -> bool {
    text.len() == 27
        && chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.6fZ").is_ok()
}

/// What an answer shows, as JSON, for comparing two.
pub(super) trait Shown {
    fn shown(&self) -> Value;
}

macro_rules! shown_as_serialized {
    ($($type:ty),*) => {
        $(impl Shown for $type {
            fn shown(&self) -> Value {
                serde_json::to_value(self).unwrap()
            }
        })*
    };
}

pub(super) use shown_as_serialized;

shown_as_serialized!(
    (),
    i64,
    usize,
    String,
    crate::schema::User,
    crate::schema::UserId,
    crate::schema::DraftId,
    crate::schema::CampaignDraft,
    crate::schema::DraftGenerationStatus,
    crate::schema::Company,
    crate::schema::CompanyMember,
    crate::schema::AssistantChatThread,
    crate::schema::GoogleAdsCustomer,
    crate::schema::GoogleBusinessLocation,
    crate::schema::CompanyWithConnections,
    crate::store::AssistantRecord
);

/// Stored JSON (a thread, a page's threads) as the value it writes.
impl Shown for bytes::Bytes {
    fn shown(&self) -> Value {
        serde_json::from_slice(self).unwrap()
    }
}

impl Shown for crate::store::ThreadPage {
    fn shown(&self) -> Value {
        json!({ "threads": self.json.shown(), "next_before_seq": self.next_before_seq })
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> Value {
        self.as_ref().map_or(Value::Null, Shown::shown)
    }
}

impl<T: Shown> Shown for Vec<T> {
    fn shown(&self) -> Value {
        self.iter().map(Shown::shown).collect()
    }
}

impl Shown for crate::store::Credentials {
    fn shown(&self) -> Value {
        json!([self.user_id, self.password_hash, self.is_active])
    }
}

impl Shown for crate::store::TokenOwner {
    fn shown(&self) -> Value {
        json!([self.user_id, self.is_admin])
    }
}

/// A database the server no longer has is a `StoreError::NoConnection` (503, as an SQLite pool
/// with none to spare) whose text says why and
/// holds no password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_is_said_without_the_password() {
    let Some(cluster) = cluster_url() else {
        return;
    };
    let url = fresh_database(&cluster).await;
    let database = another_process(&url).await;
    assert_eq!(database.count_users().await.unwrap(), 0);
    let name = url.connection().get_dbname().unwrap().to_string();
    on_cluster(&cluster, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    let lost = database.count_users().await.unwrap_err();
    let text = lost.to_string();
    assert!(matches!(lost, StoreError::NoConnection(_)), "{lost:?}");
    assert!(text.contains(&name), "{text}");
    let password = cluster
        .split_once("://adthread:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(password, _)| password)
        .unwrap();
    assert!(!text.contains(password), "{text}");
}
