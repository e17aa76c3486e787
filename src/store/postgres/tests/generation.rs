//! The generation queue on both stores, then what only PostgreSQL has: several processes
//! (pools of their own) claiming from one queue, one of them dying or losing the database,
//! and the bell rung across processes.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::threads::{two_companies, A, ACME, B};
use super::{another_process, outcome, same, shown_as_serialized, Ids, Pair, Shown};
use crate::schema::{AdText, Callout, DraftId, GenerationStatus, Nullable, Sitelink};
use crate::store::postgres::PostgresDatabase;
use crate::store::{
    GeneratedExtensions, GenerationJob, GenerationQueue, GenerationUsage, JobWork, QueuedRsas,
    Resumed,
};

const SPRING: DraftId = DraftId(1);
const AUTUMN: DraftId = DraftId(2);
const SHOES: i64 = 1;
const HATS: i64 = 3;

/// Two drafts of Acme's: Spring (website, ad groups Shoes with keywords and Boots) and Autumn
/// (ad group Hats); Acme's business profile; one callout on Spring already.
async fn drafts(pair: &Pair) {
    two_companies(pair).await;
    const DRAFTS: &str = "\
        INSERT INTO campaign_drafts (company_id, google_ads_customer_id, name, website_url, \
          default_match_type, date_added, date_updated) VALUES \
          (1, 42, 'Spring sale', 'https://acme.example', 'BROAD', \
           '2026-12-01T00:00:00.000000Z', '2026-12-01T00:00:00.000000Z'), \
          (1, 42, 'Autumn', NULL, 'BROAD', \
           '2026-12-01T00:00:00.000000Z', '2026-12-01T00:00:00.000000Z'); \
        INSERT INTO draft_ad_groups (draft_id, position, name) VALUES \
          (1, 0, 'Shoes'), (1, 1, 'Boots'), (2, 0, 'Hats'); \
        INSERT INTO draft_keywords (ad_group_id, position, text, match_type) VALUES \
          (1, 0, 'red shoes', 'BROAD'), (1, 1, 'cheap', 'NEGATIVE'), \
          (1, 2, 'running shoes', 'PHRASE'); \
        INSERT INTO business_profiles (company_id, profile, date_updated) VALUES \
          (1, '{\"about\": \"shoes\"}', '2026-12-01T00:00:00.000000Z'); \
        INSERT INTO draft_extension_items (draft_id, kind, position, data) VALUES \
          (1, 'callout', 0, '{\"callout_text\": \"Élan\"}');";
    pair.on_both(DRAFTS).await;
}

/// The rows `sql` selects (every column cast to text) on both databases.
async fn both_rows(
    pair: &Pair,
    sql: &'static str,
) -> (Vec<Vec<Option<String>>>, Vec<Vec<Option<String>>>) {
    let sqlite = pair
        .sqlite_fixtures
        .read(move |conn| {
            let mut statement = conn.prepare(sql)?;
            let columns = statement.column_count();
            let found = statement
                .query_map([], |row| (0..columns).map(|at| row.get(at)).collect())?
                .collect::<Result<_, _>>()?;
            Ok(found)
        })
        .await
        .unwrap();
    let postgres = pair
        .postgres
        .connection()
        .await
        .unwrap()
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (0..row.len()).map(|at| row.get(at)).collect())
        .collect();
    (sqlite, postgres)
}

/// Every task, RSA, extension item and charge, task ids replaced by their task's place in the
/// queue: the same on both databases.
async fn same_state(pair: &Pair) -> Value {
    const TASKS: &str = "SELECT id, kind, CAST(ad_group_id AS TEXT), status, error, \
                         CAST(attempts AS TEXT) FROM generation_tasks ORDER BY date_added, id";
    const RSAS: &str = "SELECT CAST(id AS TEXT), CAST(ad_group_id AS TEXT), \
                        CAST(position AS TEXT), status, error, task_id, headlines, descriptions, \
                        final_url, CASE WHEN generated_at IS NULL THEN 'no' ELSE 'yes' END \
                        FROM draft_rsas ORDER BY draft_rsas.id";
    const ITEMS: &str = "SELECT CAST(draft_id AS TEXT), kind, CAST(position AS TEXT), data \
                         FROM draft_extension_items \
                         ORDER BY draft_extension_items.draft_id, kind, \
                         draft_extension_items.position";
    const USAGE: &str = "SELECT CAST(company_id AS TEXT), CAST(prompt_tokens AS TEXT), \
                         CAST(completion_tokens AS TEXT) FROM generation_usage ORDER BY id";
    let (sqlite_tasks, postgres_tasks) = both_rows(pair, TASKS).await;
    let (sqlite_rsas, postgres_rsas) = both_rows(pair, RSAS).await;
    let state = |tasks: Vec<Vec<Option<String>>>, rsas: Vec<Vec<Option<String>>>| {
        let place = |id: &Option<String>| {
            tasks
                .iter()
                .position(|task| task[0] == *id)
                .map_or(json!(id), |at| json!(format!("task {at}")))
        };
        let rsas: Vec<Value> = rsas
            .iter()
            .map(|rsa| {
                let mut rsa = json!(rsa);
                rsa[5] = place(&rsa[5].as_str().map(String::from));
                rsa
            })
            .collect();
        let tasks: Vec<Value> = tasks.iter().map(|task| json!(task[1..])).collect();
        json!({"tasks": tasks, "rsas": rsas})
    };
    let sqlite = state(sqlite_tasks, sqlite_rsas);
    let postgres = state(postgres_tasks, postgres_rsas);
    assert_eq!(sqlite, postgres);
    for sql in [ITEMS, USAGE] {
        let (sqlite, postgres) = both_rows(pair, sql).await;
        assert_eq!(sqlite, postgres, "{sql}");
    }
    postgres
}

fn is_task_id(id: &str) -> bool {
    id.len() == 29 && id.starts_with("task_")
}

impl Shown for QueuedRsas {
    fn shown(&self) -> Value {
        json!({"task_id": is_task_id(&self.task_id), "rsa_ids": self.rsa_ids})
    }
}

impl Shown for (String, GenerationStatus) {
    fn shown(&self) -> Value {
        json!([is_task_id(&self.0), self.1.as_str()])
    }
}

impl Shown for Resumed {
    fn shown(&self) -> Value {
        json!({"resumed": self.resumed, "failed": self.failed})
    }
}

impl Shown for GenerationJob {
    fn shown(&self) -> Value {
        let work = match &self.work {
            JobWork::Rsas {
                ad_group_id,
                rsa_ids,
            } => json!({"rsas": ad_group_id, "rsa_ids": rsa_ids}),
            JobWork::Extensions => json!("extensions"),
        };
        let brief = &self.brief;
        json!({
            "task_id": is_task_id(&self.task_id),
            "draft_id": self.draft_id,
            "company_id": self.company_id,
            "attempt": self.attempt,
            "work": work,
            "brief": [brief.company_name, brief.profile, brief.draft_name, brief.campaign_name,
                      brief.website_url, brief.ad_group_name, brief.keywords],
        })
    }
}

shown_as_serialized!(bool);

fn usage(prompt_tokens: i64) -> GenerationUsage {
    GenerationUsage {
        company_id: ACME,
        prompt_tokens,
        completion_tokens: 7,
    }
}

fn copy(text: &str) -> (Vec<AdText>, Vec<AdText>) {
    let ad_text = |text: String| AdText {
        text,
        pinned_position: Nullable(None),
    };
    (
        vec![ad_text(format!("{text} headline"))],
        vec![ad_text(format!("{text} description"))],
    )
}

fn extensions() -> GeneratedExtensions {
    let sitelink = |link_text: &str| Sitelink {
        link_text: link_text.into(),
        final_url: Nullable(Some("https://acme.example/x".into())),
        description_1: Nullable(None),
        description_2: Nullable(None),
        final_mobile_url: Nullable(None),
    };
    let callout = |callout_text: &str| Callout {
        callout_text: callout_text.into(),
    };
    GeneratedExtensions {
        sitelinks: vec![sitelink("Shop"), sitelink("SHOP"), sitelink("Contact")],
        // The draft has "Élan" already: folded alike by both stores.
        callouts: vec![callout("ÉLAN"), callout("Free returns")],
        structured_snippets: Vec::new(),
    }
}

/// A claim on both stores (PostgreSQL's by `postgres`), compared; each store's task id is kept.
async fn claim_on(
    pair: &Pair,
    postgres: &PostgresDatabase,
    ids: &mut Ids<String>,
) -> Option<GenerationJob> {
    let sqlite = pair.sqlite.claim_generation_task().await;
    let claimed = postgres.claim_generation_task().await;
    assert_eq!(outcome(&sqlite), outcome(&claimed));
    if let (Ok(Some(sqlite)), Ok(Some(postgres))) = (&sqlite, &claimed) {
        ids.sqlite.push(sqlite.task_id.clone());
        ids.postgres.push(postgres.task_id.clone());
    }
    claimed.unwrap()
}

/// A process of its own on the database, present in the queue.
async fn present_process(pair: &Pair) -> PostgresDatabase {
    let process = another_process(&pair.url).await;
    process.present().await;
    process
}

/// The drafts on a fresh pair, and two processes of their own on its PostgreSQL database,
/// present in the queue; None when there is no PostgreSQL.
async fn two_processes() -> Option<(Pair, [PostgresDatabase; 2])> {
    let pair = Pair::new().await?;
    drafts(&pair).await;
    let processes = [present_process(&pair).await, present_process(&pair).await];
    Some((pair, processes))
}

/// The id of a task the process claims (there must be one).
async fn claimed_id(process: &PostgresDatabase) -> String {
    let job = process.claim_generation_task().await.unwrap();
    job.expect("nothing to claim").task_id
}

/// The claimed task and its attempt.
fn claimed(job: &GenerationJob) -> (&str, u32) {
    (&job.task_id, job.attempt)
}

/// Drops the process, as a kill would, and waits until the server has noticed.
async fn kill(pair: &Pair, process: PostgresDatabase) {
    let owner = process.owner_number().unwrap();
    drop(process);
    pair.postgres.wait_gone(owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_answers_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    drafts(&pair).await;
    pair.postgres.present().await;

    same!(pair, |store| store.generation_target(A, SPRING, None).await);
    same!(pair, |store| store
        .generation_target(A, SPRING, Some(SHOES))
        .await);
    let hats = same!(pair, |store| store
        .generation_target(A, SPRING, Some(HATS))
        .await)
    .0;
    assert!(hats.is_err(), "Hats is Autumn's ad group");
    same!(pair, |store| store.generation_target(B, SPRING, None).await);
    same!(pair, |store| store
        .generation_target(A, DraftId(9), None)
        .await);
    same!(pair, |store| store.generate_rsas(B, SPRING, SHOES).await);
    same!(pair, |store| store.generate_rsas(A, SPRING, HATS).await);
    same!(pair, |store| store.generate_extensions(B, SPRING).await);

    let queued = same!(pair, |store| store.generate_rsas(A, SPRING, SHOES).await).0;
    assert_eq!(queued.unwrap().rsa_ids, [1, 2, 3]);
    let first = same!(pair, |store| store.generate_extensions(A, SPRING).await).0;
    let again = same!(pair, |store| store.generate_extensions(A, SPRING).await).0;
    assert_eq!(
        first.unwrap().0,
        again.unwrap().0,
        "one extensions task at a time"
    );
    same!(pair, |store| store.generate_rsas(A, AUTUMN, HATS).await);
    same!(pair, |store| store.resume_generation(3).await);
    same_state(&pair).await;

    // The oldest first: Shoes's RSAs. One is written, one fails, and a person edits the third
    // before its turn.
    let mut ids = Ids::default();
    let job = claim_on(&pair, &pair.postgres, &mut ids).await.unwrap();
    assert_eq!(job.attempt, 1);
    same!(pair, ids, |store, id| store
        .rsa_awaits(id[0].clone(), 1)
        .await);
    let written = same!(pair, ids, |store, id| store
        .finish_generated_rsa(id[0].clone(), 1, Ok(copy("a")), usage(10))
        .await)
    .0;
    assert!(written.unwrap());
    same!(pair, ids, |store, id| store
        .finish_generated_rsa(id[0].clone(), 2, Err("The model said no".into()), usage(0))
        .await);
    pair.on_both("UPDATE draft_rsas SET edited_at = '2026-12-02T00:00:00.000000Z' WHERE id = 3")
        .await;
    let awaits = same!(pair, ids, |store, id| store
        .rsa_awaits(id[0].clone(), 3)
        .await)
    .0;
    assert!(!awaits.unwrap());
    let left_alone = same!(pair, ids, |store, id| store
        .finish_generated_rsa(id[0].clone(), 3, Ok(copy("c")), usage(5))
        .await)
    .0;
    assert!(!left_alone.unwrap());
    same!(pair, ids, |store, id| store
        .finish_generation_task(id[0].clone(), Some("1 of 3 failed".into()), usage(0))
        .await);
    same_state(&pair).await;

    // Then the extensions: duplicates (case-blind, Unicode too) are left out; a second finish
    // of the completed task adds nothing.
    let job = claim_on(&pair, &pair.postgres, &mut ids).await.unwrap();
    assert_eq!(job.work, JobWork::Extensions);
    for _ in 0..2 {
        same!(pair, ids, |store, id| store
            .finish_generated_extensions(id[1].clone(), SPRING, extensions(), usage(20))
            .await);
    }
    let state = same_state(&pair).await;
    assert_eq!(state["tasks"][1][2], "completed", "{state}");

    // Autumn's RSAs: given back at a clean stop (the attempt not counted), claimed again.
    claim_on(&pair, &pair.postgres, &mut ids).await.unwrap();
    same!(pair, ids, |store, id| store
        .release_generation_tasks(vec![id[2].clone()])
        .await);
    same_state(&pair).await;
    let again = claim_on(&pair, &pair.postgres, &mut ids).await.unwrap();
    assert_eq!((again.attempt, &again.task_id), (1, &ids.postgres[2]));
    same!(pair, ids, |store, id| store
        .finish_generation_task(id[3].clone(), None, usage(0))
        .await);
    assert!(claim_on(&pair, &pair.postgres, &mut ids).await.is_none());
    same_state(&pair).await;
}

/// A stop that cuts a task off: SQLite's restart and a PostgreSQL process's death are resumed
/// alike, attempts counted, RSAs no task waits for failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_tasks_resume_as_on_sqlite() {
    let Some((pair, dying)) = two_processes().await else {
        return;
    };
    let mut ids = Ids::default();
    same!(pair, |store| store.generate_rsas(A, SPRING, SHOES).await);
    same!(pair, |store| store.generate_rsas(A, AUTUMN, HATS).await);
    pair.on_both("INSERT INTO draft_rsas (ad_group_id, position, status) VALUES (2, 0, 'pending')")
        .await;
    // Each claimed once by a process that then dies (SQLite's: the restart below).
    for process in &dying {
        claim_on(&pair, process, &mut ids).await.unwrap();
    }
    for process in dying {
        kill(&pair, process).await;
    }
    // Once is all they may have.
    let resumed = same!(pair, |store| store.resume_generation(1).await).0;
    assert_eq!(
        (resumed.as_ref().unwrap().resumed, resumed.unwrap().failed),
        (0, 2)
    );
    let state = same_state(&pair).await;
    assert_eq!(state["tasks"][0][3], json!(cut_off_message(1)), "{state}");
    assert_eq!(
        state["rsas"][6][4],
        "Generation was interrupted; generate again to retry"
    );

    same!(pair, |store| store.generate_rsas(A, SPRING, SHOES).await);
    let dying = present_process(&pair).await;
    claim_on(&pair, &dying, &mut ids).await.unwrap();
    kill(&pair, dying).await;
    let resumed = same!(pair, |store| store.resume_generation(3).await).0;
    assert_eq!(resumed.unwrap().resumed, 1);
    pair.postgres.present().await;
    let job = claim_on(&pair, &pair.postgres, &mut ids).await.unwrap();
    assert_eq!(job.attempt, 2);
    same_state(&pair).await;
}

fn cut_off_message(times: i64) -> String {
    crate::store::generation::cut_off_too_often(times)
}

/// Two processes claiming from one queue at the same moment, round after round, never get
/// the same task, and every task is claimed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_claim_the_same_task() {
    let Some((pair, processes)) = two_processes().await else {
        return;
    };
    let mut claimed = HashSet::new();
    for round in 0..8 {
        let mut queued = HashSet::new();
        for _ in 0..12 {
            queued.insert(
                pair.postgres
                    .generate_rsas(A, SPRING, SHOES)
                    .await
                    .unwrap()
                    .task_id,
            );
        }
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let claims = processes.iter().map(|process| {
            let (process, start) = (process.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let mut mine = Vec::new();
                while let Some(job) = process.claim_generation_task().await.unwrap() {
                    mine.push(job.task_id);
                }
                mine
            })
        });
        let mut this_round = Vec::new();
        for claims in claims.collect::<Vec<_>>() {
            this_round.extend(claims.await.unwrap());
        }
        let distinct: HashSet<String> = this_round.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            this_round.len(),
            "round {round}: {this_round:?}"
        );
        assert_eq!(distinct, queued, "round {round}");
        assert!(claimed.is_disjoint(&distinct), "round {round}");
        claimed.extend(distinct);
    }
}

/// A live process's task is left to it; once the process dies, another takes it over (one
/// more attempt, the same RSAs), and one cut off too often fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_process_task_is_taken_over() {
    let Some((pair, [first, second])) = two_processes().await else {
        return;
    };
    let queued = pair.postgres.generate_rsas(A, SPRING, SHOES).await.unwrap();
    let job = first.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(claimed(&job), (queued.task_id.as_str(), 1));
    assert!(second.claim_generation_task().await.unwrap().is_none());

    kill(&pair, first).await;
    let job = second.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(claimed(&job), (queued.task_id.as_str(), 2));
    let JobWork::Rsas { rsa_ids, .. } = &job.work else {
        panic!("{job:?}")
    };
    assert_eq!(rsa_ids, &queued.rsa_ids);

    kill(&pair, second).await;
    let third = present_process(&pair).await;
    let resumed = third.resume_generation(2).await.unwrap();
    assert_eq!((resumed.resumed, resumed.failed), (0, 1));
    assert!(third.claim_generation_task().await.unwrap().is_none());
    let task = pair
        .postgres
        .connection()
        .await
        .unwrap()
        .query_one(
            "SELECT status, error, (SELECT count(*) FROM draft_rsas WHERE status = 'failed') \
             FROM generation_tasks",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(task.get::<_, String>(0), "failed");
    assert_eq!(task.get::<_, String>(1), cut_off_message(2));
    assert_eq!(task.get::<_, i64>(2), 3);
}

/// A process that lost the database while its task ran: another takes the task over, and what
/// the first writes late about it is left out; it claims nothing until it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_owner_writes_nothing() {
    let Some((pair, [first, second])) = two_processes().await else {
        return;
    };
    let queued = pair.postgres.generate_rsas(A, SPRING, SHOES).await.unwrap();
    pair.postgres.generate_extensions(A, SPRING).await.unwrap();
    let task = claimed_id(&first).await;
    // No new connection may be made meanwhile: the first process cannot come back at once.
    let name = pair.url.connection().get_dbname().unwrap().to_string();
    let admin = pair.postgres.connection().await.unwrap();
    admin
        .batch_execute(&format!("ALTER DATABASE {name} CONNECTION LIMIT 0"))
        .await
        .unwrap();
    first.lose_presence().await;
    assert!(first.claim_generation_task().await.unwrap().is_none());
    let job = second.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(claimed(&job), (task.as_str(), 2));

    let rsa = queued.rsa_ids[0];
    assert!(!first.rsa_awaits(task.clone(), rsa).await.unwrap());
    let late = first
        .finish_generated_rsa(task.clone(), rsa, Ok(copy("late")), usage(3))
        .await
        .unwrap();
    assert!(!late);
    first
        .finish_generation_task(task.clone(), None, usage(0))
        .await
        .unwrap();
    first
        .release_generation_tasks(vec![task.clone()])
        .await
        .unwrap();
    assert!(second.rsa_awaits(task.clone(), rsa).await.unwrap());
    assert!(second
        .finish_generated_rsa(task.clone(), rsa, Ok(copy("on time")), usage(3))
        .await
        .unwrap());
    let found = admin
        .query_one(
            "SELECT t.status, t.attempts, r.headlines, \
             (SELECT sum(prompt_tokens)::bigint FROM generation_usage) \
             FROM generation_tasks t JOIN draft_rsas r ON r.task_id = t.id WHERE r.id = $1",
            &[&rsa],
        )
        .await
        .unwrap();
    assert_eq!(found.get::<_, String>(0), "in_progress");
    assert_eq!(found.get::<_, i64>(1), 2);
    assert!(found.get::<_, String>(2).contains("on time"));
    // The tokens the late call spent are charged all the same.
    assert_eq!(found.get::<_, Option<i64>>(3), Some(6));

    admin
        .batch_execute(&format!("ALTER DATABASE {name} CONNECTION LIMIT -1"))
        .await
        .unwrap();
    first.present().await;
    let extensions = first.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(extensions.work, JobWork::Extensions);
}

/// Tasks given back at a clean stop are claimed at once by another process, the attempt not
/// counted, its bell rung.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_tasks_go_to_another_process() {
    let Some((pair, [first, second])) = two_processes().await else {
        return;
    };
    pair.postgres.generate_rsas(A, SPRING, SHOES).await.unwrap();
    let task = claimed_id(&first).await;
    let bell = second.generation_bell();
    drain(&bell).await;
    first
        .release_generation_tasks(vec![task.clone()])
        .await
        .unwrap();
    rung(&bell).await;
    let job = second.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(claimed(&job), (task.as_str(), 1));
}

/// Takes the rings already given (a presence made, a queueing before), until it is silent.
async fn drain(bell: &tokio::sync::Notify) {
    let silence = Duration::from_millis(300);
    while tokio::time::timeout(silence, bell.notified()).await.is_ok() {}
}

async fn silent(bell: &tokio::sync::Notify) {
    let rang = tokio::time::timeout(Duration::from_millis(500), bell.notified()).await;
    assert!(rang.is_err(), "the bell rang with nothing queued");
}

async fn rung(bell: &tokio::sync::Notify) {
    tokio::time::timeout(Duration::from_secs(5), bell.notified())
        .await
        .expect("the bell did not ring");
}

/// A queueing commit in one process rings the bell of another; a queueing that is rolled back
/// (refused) rings nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bell_rings_in_every_process() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    drafts(&pair).await;
    let listening = present_process(&pair).await;
    let bell = listening.generation_bell();
    drain(&bell).await;
    pair.postgres
        .generate_rsas(B, SPRING, SHOES)
        .await
        .unwrap_err();
    silent(&bell).await;
    pair.postgres.generate_rsas(A, SPRING, SHOES).await.unwrap();
    rung(&bell).await;
    pair.postgres.generate_extensions(A, SPRING).await.unwrap();
    rung(&bell).await;
}

/// A task a copy from SQLite brought in progress has no claim: a claim takes it over, its
/// attempt counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_task_in_progress_is_taken_over() {
    let Some((pair, [process, _])) = two_processes().await else {
        return;
    };
    pair.postgres
        .connection()
        .await
        .unwrap()
        .batch_execute(
            "INSERT INTO generation_tasks (id, draft_id, kind, status, attempts, date_added, \
               date_updated) VALUES ('task_000000000001000000000001', 1, 'extensions', \
               'in_progress', 1, '2026-12-01T00:00:00.000000Z', '2026-12-01T00:00:00.000000Z')",
        )
        .await
        .unwrap();
    let job = process.claim_generation_task().await.unwrap().unwrap();
    assert_eq!(claimed(&job), ("task_000000000001000000000001", 2));
}
