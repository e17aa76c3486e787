//! What processes sharing one database must share (issue 17): each pool here is a process of
//! its own, in effect. Thread turns are serialized across pools and let go when dropped, also
//! while waiting, and when the holder's connection dies; the sign-in throttle counts across
//! pools as one process counts, and concurrent attempts cannot all slip past; answer slots and
//! their reservations count across pools, and a dead pool's expire.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

use super::{another_process, cluster_url, fresh_database};
use crate::auth::{RetryAfter, Throttle, ThrottlePolicy};
use crate::config::PostgresUrl;
use crate::schema::{CompanyId, ThreadId};
use crate::store::coordination::{SharedCoordination, SharedTurn, SlotRequest};
use crate::store::postgres::PostgresDatabase;

const THREAD: &str = "thr_0123456789abcdef0123456789abcdef";
const ACME: CompanyId = CompanyId(1);

/// A fresh database with company 1 and its thread [`THREAD`]; None without a cluster.
async fn database() -> Option<PostgresUrl> {
    let url = fresh_database(&cluster_url()?).await;
    another_process(&url)
        .await
        .connection()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO companies (name, date_added, date_updated) VALUES ('Acme', 'x', 'x'); \
             INSERT INTO chat_threads (thread_id, company_id, assistant_id, date_added, \
               date_updated) VALUES ('{THREAD}', 1, 'asst_general', 'x', 'x');"
        ))
        .await
        .unwrap();
    Some(url)
}

async fn process(url: &PostgresUrl) -> SharedCoordination {
    SharedCoordination::new(another_process(url).await)
}

/// Two processes on a fresh [`database`], and a pool to watch them from.
struct Processes {
    one: SharedCoordination,
    two: SharedCoordination,
    watcher: PostgresDatabase,
}

async fn two_processes() -> Option<Processes> {
    let url = database().await?;
    Some(Processes {
        one: process(&url).await,
        two: process(&url).await,
        watcher: another_process(&url).await,
    })
}

/// Joins the thread's queue and waits for the lock on a task; the turn once it holds it.
async fn wait_in_background(coordination: &SharedCoordination) -> JoinHandle<SharedTurn> {
    let mut turn = coordination.queue_turn(&thread()).await.unwrap();
    let waiting = tokio::spawn(async move {
        turn.acquire().await.unwrap();
        turn
    });
    sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a turn went while another held the thread"
    );
    waiting
}

fn thread() -> ThreadId {
    ThreadId(THREAD.into())
}

async fn turn(coordination: &SharedCoordination) -> SharedTurn {
    let mut turn = coordination.queue_turn(&thread()).await.unwrap();
    timeout(Duration::from_secs(10), turn.acquire())
        .await
        .expect("the thread is free")
        .unwrap();
    turn
}

/// The turn waiting in the background, once it holds the thread (as it should by now: `why`).
async fn once_held(waiting: JoinHandle<SharedTurn>, why: &str) -> SharedTurn {
    timeout(Duration::from_secs(10), waiting)
        .await
        .expect(why)
        .unwrap()
}

/// Advisory locks any session holds or waits for on the database.
async fn advisory_locks(db: &PostgresDatabase) -> i64 {
    db.connection()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Waits (a few seconds at most) until `count` locks are held or waited for: turns let go on
/// tasks.
async fn until_locks(db: &PostgresDatabase, count: i64) {
    for _ in 0..100 {
        if advisory_locks(db).await == count {
            return;
        }
        sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{} locks held or waited for, not {count}",
        advisory_locks(db).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_turns_on_one_thread_from_two_processes_go_one_after_the_other() {
    let Some(processes) = two_processes().await else {
        return;
    };
    let first = turn(&processes.one).await;
    assert!(!first.others_went_first());
    let waiting = wait_in_background(&processes.two).await;
    drop(first);
    let second = once_held(waiting, "the second turn goes once the first ends").await;
    assert!(
        second.others_went_first(),
        "the first turn ended after the second joined the queue: its exchange must be read"
    );
    drop(second);

    // Alone on the thread, a turn has nothing new to read.
    until_locks(&processes.watcher, 0).await;
    assert!(!turn(&processes.one).await.others_went_first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_that_gives_up_waiting_leaves_nothing_held() {
    let Some(processes) = two_processes().await else {
        return;
    };
    let first = turn(&processes.one).await;
    for _ in 0..3 {
        let mut impatient = processes.two.queue_turn(&thread()).await.unwrap();
        let gave_up = timeout(Duration::from_millis(100), impatient.acquire()).await;
        assert!(gave_up.is_err(), "the thread was held");
    }
    // Their waits are cancelled at once: only the holder's lock is left.
    until_locks(&processes.watcher, 1).await;
    drop(first);
    until_locks(&processes.watcher, 0).await;
    drop(turn(&processes.two).await);
    until_locks(&processes.watcher, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_connection_dies_frees_the_thread() {
    let Some(processes) = two_processes().await else {
        return;
    };
    let dying = turn(&processes.one).await;
    let pid = dying.backend_pid().await;
    let waiting = wait_in_background(&processes.two).await;
    let killed: bool = processes
        .watcher
        .connection()
        .await
        .unwrap()
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    let second = once_held(waiting, "the thread is free once its holder's session ends").await;
    assert!(
        second.others_went_first(),
        "a turn that never said it ended may have stored its exchange"
    );
    drop((dying, second));
    until_locks(&processes.watcher, 0).await;
    // The turn after a clean one trusts what it read again.
    assert!(!turn(&processes.one).await.others_went_first());
}

fn policy() -> ThrottlePolicy {
    ThrottlePolicy::small()
}

fn address(n: u8) -> IpAddr {
    [10, 0, 0, n].into()
}

/// Attempts and registrations from the throttle unit tests, made in turn on each of
/// `throttles`; every answer, in order.
async fn scenario(throttles: &[&Throttle]) -> Vec<Result<(), RetryAfter>> {
    let mut answers = Vec::new();
    let mut on = throttles.iter().cycle();
    let mut next = || *on.next().unwrap();
    // An account's failures from one address, then the owner from another.
    for _ in 0..4 {
        answers.push(
            next()
                .attempt("Owner@Example.com", address(1))
                .await
                .unwrap(),
        );
    }
    answers.push(
        next()
            .attempt("owner@example.com", address(2))
            .await
            .unwrap(),
    );
    next()
        .succeeded("owner@example.com", address(2))
        .await
        .unwrap();
    answers.push(
        next()
            .attempt("owner@example.com", address(2))
            .await
            .unwrap(),
    );
    // An address's failures whatever the account.
    for n in 0..6 {
        let email = format!("user{n}@example.com");
        answers.push(next().attempt(&email, address(7)).await.unwrap());
    }
    // The account's shared pace: four addresses spend it, then wait for it.
    for _ in 0..2 {
        for n in 11..=14 {
            let answer = next()
                .attempt("paced@example.com", address(n))
                .await
                .unwrap();
            // A wait of 14 or 15 s, by how much time has passed: the same answer.
            answers.push(
                answer.map_err(|RetryAfter(secs)| RetryAfter(if secs == 14 { 15 } else { secs })),
            );
        }
    }
    for _ in 0..3 {
        answers.push(next().register(address(20)).await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_throttle_counts_across_processes_as_one_process_counts() {
    let Some(url) = database().await else {
        return;
    };
    let local = Throttle::new(policy(), None);
    let expected = scenario(&[&local]).await;
    assert!(
        expected.iter().any(Result::is_err),
        "the scenario refuses some"
    );
    let one = Throttle::new(policy(), Some(process(&url).await));
    let two = Throttle::new(policy(), Some(process(&url).await));
    assert_eq!(scenario(&[&one, &two]).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_sent_at_once_from_many_processes_cannot_all_slip_past() {
    let Some(url) = database().await else {
        return;
    };
    let mut throttles = Vec::new();
    for _ in 0..4 {
        throttles.push(Throttle::new(policy(), Some(process(&url).await)));
    }
    let attempts = (0..20).map(|n| {
        let throttle = &throttles[n % throttles.len()];
        async move {
            let email = format!("user{n}@example.com");
            throttle.attempt(&email, address(9)).await.unwrap()
        }
    });
    let through = join_all(attempts)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count();
    assert_eq!(through, 5, "the address's free failures, no more");
}

fn request(limit: Option<u32>, reserved_tokens: u64, lifetime: Duration) -> SlotRequest {
    SlotRequest {
        company_id: ACME,
        limit,
        reserved_tokens,
        lifetime,
    }
}

const LONG: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_slots_and_their_reservations_count_across_processes() {
    let Some(url) = database().await else {
        return;
    };
    let (one, two) = (process(&url).await, process(&url).await);
    let first = one
        .take_slot(request(Some(2), 600, LONG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.reserved_by_others, 0);
    let second = two
        .take_slot(request(Some(2), 300, LONG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.reserved_by_others, 600,
        "the other process's reservation counts"
    );
    assert!(
        one.take_slot(request(Some(2), 300, LONG))
            .await
            .unwrap()
            .is_none(),
        "both places are taken, one in each process"
    );
    // A generation call takes no place, but its reservation counts for the next answer.
    let generation = two
        .take_slot(request(None, 100, LONG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(generation.reserved_by_others, 900);
    drop(first);
    let mut third = None;
    for _ in 0..100 {
        third = one.take_slot(request(Some(2), 0, LONG)).await.unwrap();
        if third.is_some() {
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let third = third.expect("a slot given back in one process frees a place in the other");
    assert_eq!(third.reserved_by_others, 400);
    drop((second, generation, third));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slots_of_a_process_that_died_expire() {
    let Some(url) = database().await else {
        return;
    };
    let dying = process(&url).await;
    let slot = dying
        .take_slot(request(Some(1), 500, Duration::from_secs(1)))
        .await
        .unwrap()
        .unwrap();
    // It dies: nothing gives the slot back.
    std::mem::forget(slot);
    drop(dying);
    let other = process(&url).await;
    assert!(other
        .take_slot(request(Some(1), 0, LONG))
        .await
        .unwrap()
        .is_none());
    sleep(Duration::from_millis(1200)).await;
    let after = other.take_slot(request(Some(1), 0, LONG)).await.unwrap();
    let after = after.expect("the dead process's slot expired");
    assert_eq!(
        after.reserved_by_others, 0,
        "its reservation no longer counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_no_longer_counts_is_purged() {
    let Some(url) = database().await else {
        return;
    };
    let db = another_process(&url).await;
    let client = db.connection().await.unwrap();
    client
        .batch_execute(
            "INSERT INTO throttle_failures (kind, key, count, last_at) VALUES \
               (1, '\\x01', 9, now() - interval '2 hours'), \
               (1, '\\x02', 9, now() - interval '10 minutes'); \
             INSERT INTO throttle_paces (account, full_at) VALUES \
               ('\\x01', now() - interval '1 second'), ('\\x02', now() + interval '1 minute'); \
             INSERT INTO answer_slots (company_id, answers, reserved_tokens, expires_at) VALUES \
               (1, 1, 5, now() - interval '1 second'), (1, 1, 5, now() + interval '1 minute');",
        )
        .await
        .unwrap();
    let throttle = Throttle::new(policy(), Some(SharedCoordination::new(db.clone())));
    throttle.register(address(1)).await.unwrap().unwrap();
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM throttle_failures WHERE kind = 1), \
                    (SELECT count(*) FROM throttle_paces), (SELECT count(*) FROM answer_slots)",
            &[],
        )
        .await
        .unwrap();
    let left: Vec<i64> = (0..3).map(|n| counts.get(n)).collect();
    assert_eq!(left, [1, 1, 1], "only what still counts is left");
}
