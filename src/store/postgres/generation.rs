//! The generation queue on PostgreSQL, shared by every process on the database: each task is
//! worked by one process at a time, and one whose process died is taken over by another, live,
//! without waiting for the dead one to restart.
//!
//! How a process is known to be alive: once its worker first looks at the queue, a process
//! takes a number from the `generation_owners` sequence (never handed out twice) and holds a
//! session-level advisory lock on it, on a connection of its own (its *presence*), for as long
//! as it runs; its claims write that number in the task's row of `generation_claims` (a table
//! of PostgreSQL's own: SQLite, one process, has none, and a copy from it brings none). The
//! lock goes with the connection: at once when the process is killed (its socket closes), and
//! after the server's TCP keepalive (about 25 s, set by the presence connection) when its
//! machine is lost. So a task in progress with no claim, or whose claimer's lock nobody holds
//! (`pg_locks`), was cut off by a stop, exactly as SQLite's restart finds it: a claim takes it
//! over (one more attempt), or fails it once it has been claimed `max_attempts` times, with the
//! words SQLite's `resume_generation` uses; `resume_generation` does the same at start-up for
//! all of them at once. A lease renewed by the worker was the other way: it needs no advisory
//! locks, but finds a dead process only once the lease runs out, and every live task costs a
//! write per renewal.
//!
//! Claims take the oldest claimable task `FOR UPDATE SKIP LOCKED`, so two processes claiming
//! at once never get the same one. A task's claim is written and read only under its task's
//! row lock. A process whose presence is lost (the database restarted, the network failed)
//! claims nothing until it is back, since others may be taking its tasks over meanwhile; and
//! what it writes about a task is kept only while the task's claim still names it: once
//! another process took the task over, or a restart resumed it, the first owner's late results
//! are left out, and its `rsa_awaits` says false, so it stops spending on the model.
//!
//! The same connection LISTENs on the channel queueing writes NOTIFY at commit
//! (`generation_queueing.rs`), and rings the worker's bell for each notification. When it
//! drops, it is made again with a growing pause; the bell rings once it is back, since
//! notifications sent meanwhile were lost (the worker also looks every few seconds anyway).
//!
//! What this asks of the database: session-level advisory locks and LISTEN, so the presence
//! connection must reach PostgreSQL itself or a pooler in session mode (a transaction-mode
//! pooler would hand the lock to whichever client came next); a "PostgreSQL-compatible"
//! database without real advisory locks cannot share the queue this way. `max_attempts` is the
//! one the worker gave `resume_generation` at start (the configured default until then), since
//! a claim is not told it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use deadpool_postgres::{GenericClient, Object, Transaction};
use futures_util::StreamExt;
use tokio::sync::{watch, Notify};
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::access::{visible_draft, HOLD_DRAFT};
use super::generation_queueing::{
    insert_task, new_pending_rsas, ring_generation_bell, GENERATION_CHANNEL,
};
use super::statements::{execute, optional_row, row, rows};
use super::PostgresDatabase;
use crate::config::LlmConfig;
use crate::schema::{AdText, CompanyId, DraftId, GenerationStatus, Timestamp};
use crate::store::generation::{
    brief_profile, cut_off_too_often, extension_rows, job_work, ExtensionRows, INTERRUPTED,
    UNSUPPORTED_KIND,
};
use crate::store::{
    GeneratedExtensions, GenerationBrief, GenerationJob, GenerationQueue, GenerationUsage, JobWork,
    QueuedRsas, Resumed, StoreError, StoreResult, Viewer,
};

/// The first key of every presence lock (`adgt` in ASCII), so that they never meet the other
/// advisory locks of adthread (one-key locks) or of anything else on the database.
const PRESENCE_CLASS: i32 = 0x6164_6774;

/// Someone holds the presence lock of process `owner` (an SQL expression), in this database.
fn present(owner: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
         AND l.objsubid = 2 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.classid = {PRESENCE_CLASS}::oid AND l.objid = ({owner})::oid)"
    )
}

/// `t` (a task) is in progress and no live process holds it: it has no claim (a copy from
/// SQLite brings none), or its claimer's presence lock is free.
static ORPHANED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "t.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM generation_claims c \
         WHERE c.task_id = t.id AND {})",
        present("c.owner")
    )
});

/// How often `resume_generation` tries again when a concurrent write made its snapshot stale.
const RESUME_TRIES: usize = 5;
/// The presence connection is made again after a pause that doubles up to this.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// This process's presence, as its connection last saw it.
#[derive(Debug, Clone, Copy, Default)]
struct Presence {
    /// Its number, once it has one (kept over reconnections).
    owner: Option<i32>,
    /// Whether its lock is held now.
    held: bool,
}

/// What a process keeps for the shared queue: the bell, its presence (started on first use,
/// stopped when the last handle on the database is dropped), and the attempts a task cut off
/// by a stop is given.
pub(super) struct SharedQueue {
    settings: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    bell: Arc<Notify>,
    presence: Arc<watch::Sender<Presence>>,
    keeper: OnceLock<tokio::task::AbortHandle>,
    max_attempts: AtomicU32,
}

impl SharedQueue {
    pub(super) fn new(settings: tokio_postgres::Config, tls: MakeRustlsConnect) -> SharedQueue {
        SharedQueue {
            settings,
            tls,
            bell: Arc::new(Notify::new()),
            presence: Arc::new(watch::Sender::new(Presence::default())),
            keeper: OnceLock::new(),
            max_attempts: AtomicU32::new(LlmConfig::default().generation_attempts),
        }
    }

    /// The presence as it is now, its connection started if it was not. Called on the runtime.
    fn presence(&self) -> Presence {
        self.keeper.get_or_init(|| {
            tokio::spawn(keep_presence(
                self.settings.clone(),
                self.tls.clone(),
                self.presence.clone(),
                self.bell.clone(),
            ))
            .abort_handle()
        });
        *self.presence.borrow()
    }
}

impl Drop for SharedQueue {
    /// The process is letting the database go: its lock goes with the connection.
    fn drop(&mut self) {
        if let Some(keeper) = self.keeper.get() {
            keeper.abort();
        }
    }
}

/// Holds the presence for as long as the task runs, making its connection again whenever it
/// drops.
async fn keep_presence(
    settings: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    presence: Arc<watch::Sender<Presence>>,
    bell: Arc<Notify>,
) {
    let mut pause = Duration::from_millis(250);
    loop {
        let lost = be_present(&settings, &tls, &presence, &bell, &mut pause).await;
        presence.send_modify(|presence| presence.held = false);
        tracing::warn!(error = %lost, retry_in = ?pause, "generation queue: lost the database");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// One presence connection: takes the lock and listens, ringing the bell for each
/// notification, until the connection fails (its error).
async fn be_present(
    settings: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    presence: &watch::Sender<Presence>,
    bell: &Notify,
    pause: &mut Duration,
) -> StoreError {
    let (client, mut connection) = match settings.connect(tls.clone()).await {
        Ok(connected) => connected,
        Err(err) => return err.into(),
    };
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let known = presence.borrow().owner;
    let setup = take_presence(&client, known);
    tokio::pin!(setup);
    // The connection's messages are read while the lock is waited for: they drive it.
    let owner = loop {
        tokio::select! {
            taken = &mut setup => match taken {
                Ok(owner) => break owner,
                Err(err) => return err.into(),
            },
            message = messages.next() => match message {
                Some(Ok(message)) => ring_on(message, bell),
                Some(Err(err)) => return err.into(),
                None => return closed(),
            },
        }
    };
    presence.send_replace(Presence {
        owner: Some(owner),
        held: true,
    });
    *pause = Duration::from_millis(250);
    bell.notify_one();
    while let Some(message) = messages.next().await {
        match message {
            Ok(message) => ring_on(message, bell),
            Err(err) => return err.into(),
        }
    }
    closed()
}

fn closed() -> StoreError {
    StoreError::NoConnection("the connection was closed".into())
}

fn ring_on(message: AsyncMessage, bell: &Notify) {
    if let AsyncMessage::Notification(_) = message {
        bell.notify_one();
    }
}

/// The server keeps the connection alive (and drops it, with the lock, once its peer is gone),
/// then the process's number is taken (or the one it had), its lock held, and the channel
/// listened to; the number.
async fn take_presence(
    client: &tokio_postgres::Client,
    known: Option<i32>,
) -> Result<i32, tokio_postgres::Error> {
    client
        .batch_execute(
            "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
             SET tcp_keepalives_count = 3",
        )
        .await?;
    let owner = match known {
        Some(owner) => owner,
        None => client
            .query_one("SELECT nextval('generation_owners')::integer", &[])
            .await?
            .try_get(0)?,
    };
    client
        .execute(
            "SELECT pg_advisory_lock($1, $2)",
            &[&PRESENCE_CLASS, &owner],
        )
        .await?;
    client
        .batch_execute(&format!("LISTEN {GENERATION_CHANNEL}"))
        .await?;
    Ok(owner)
}

impl PostgresDatabase {
    /// Rung after every commit, by any process, that queued generation tasks, and when the
    /// presence connection is back after a loss.
    pub fn generation_bell(&self) -> Arc<Notify> {
        self.queue.presence();
        self.queue.bell.clone()
    }

    /// This process's number, whatever the state of its lock: what its writes about a task are
    /// checked against.
    fn owner(&self) -> Option<i32> {
        self.queue.presence().owner
    }
}

/// The ad group `ad_group_id`, when it is one of the draft's.
async fn draft_ad_group(
    client: &impl GenericClient,
    draft_id: DraftId,
    ad_group_id: i64,
) -> StoreResult<()> {
    optional_row(
        client,
        "SELECT 1 FROM draft_ad_groups WHERE id = $1 AND draft_id = $2",
        &[&ad_group_id, &draft_id.0],
    )
    .await?
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "Ad group {ad_group_id} not found in this campaign draft"
        ))
    })?;
    Ok(())
}

async fn charge(tx: &Transaction<'_>, usage: GenerationUsage) -> StoreResult<()> {
    if usage.prompt_tokens == 0 && usage.completion_tokens == 0 {
        return Ok(());
    }
    execute(
        tx,
        "INSERT INTO generation_usage (company_id, prompt_tokens, completion_tokens, date_added) \
         VALUES ($1, $2, $3, $4)",
        &[
            &usage.company_id.0,
            &usage.prompt_tokens,
            &usage.completion_tokens,
            &Timestamp::now().0,
        ],
    )
    .await?;
    Ok(())
}

async fn brief(
    client: &impl GenericClient,
    draft_id: DraftId,
    ad_group_id: Option<i64>,
) -> StoreResult<GenerationBrief> {
    let found = row(
        client,
        "SELECT c.name, p.profile, d.name, d.campaign_name, d.website_url \
         FROM campaign_drafts d JOIN companies c ON c.id = d.company_id \
         LEFT JOIN business_profiles p ON p.company_id = d.company_id WHERE d.id = $1",
        &[&draft_id.0],
    )
    .await?;
    let mut brief = GenerationBrief {
        company_name: found.try_get(0)?,
        profile: brief_profile(found.try_get(1)?),
        draft_name: found.try_get(2)?,
        campaign_name: found.try_get(3)?,
        website_url: found.try_get(4)?,
        ad_group_name: None,
        keywords: Vec::new(),
    };
    if let Some(ad_group_id) = ad_group_id {
        brief.ad_group_name = optional_row(
            client,
            "SELECT name FROM draft_ad_groups WHERE id = $1",
            &[&ad_group_id],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
        brief.keywords = rows(
            client,
            "SELECT text FROM draft_keywords WHERE ad_group_id = $1 \
             AND match_type != 'NEGATIVE' ORDER BY position, id LIMIT 200",
            &[&ad_group_id],
        )
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    }
    Ok(brief)
}

/// Fails the task and whatever RSAs it still holds, with `error`.
async fn fail_task(tx: &Transaction<'_>, task_id: &str, error: &str) -> StoreResult<()> {
    execute(
        tx,
        "UPDATE draft_rsas SET status = 'failed', error = $2 WHERE task_id = $1 \
         AND edited_at IS NULL AND status IN ('pending', 'in_progress')",
        &[&task_id, &error],
    )
    .await?;
    execute(
        tx,
        "UPDATE generation_tasks SET status = 'failed', error = $2, date_updated = $3 \
         WHERE id = $1 AND status IN ('pending', 'in_progress')",
        &[&task_id, &error, &Timestamp::now().0],
    )
    .await?;
    Ok(())
}

async fn finish_task(tx: &Transaction<'_>, task_id: &str, error: Option<&str>) -> StoreResult<()> {
    match error {
        Some(error) => fail_task(tx, task_id, error).await,
        None => {
            execute(
                tx,
                "UPDATE generation_tasks SET status = 'completed', error = NULL, \
                 date_updated = $2 WHERE id = $1 AND status = 'in_progress'",
                &[&task_id, &Timestamp::now().0],
            )
            .await?;
            Ok(())
        }
    }
}

/// The task's status when `owner` holds it (locked until the transaction ends); None when it
/// is gone or another process took it over (or a restart resumed it) meanwhile. A task's claim
/// changes only under its row's lock, so once that lock is had, a statement begun after it
/// reads the claim as it is.
async fn held_status(
    tx: &Transaction<'_>,
    task_id: &str,
    owner: Option<i32>,
) -> StoreResult<Option<String>> {
    let Some(task) = optional_row(
        tx,
        "SELECT status FROM generation_tasks WHERE id = $1 FOR UPDATE",
        &[&task_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let held: bool = row(
        tx,
        "SELECT EXISTS (SELECT 1 FROM generation_claims WHERE task_id = $1 AND owner = $2)",
        &[&task_id, &owner],
    )
    .await?
    .try_get(0)?;
    Ok(held.then(|| task.try_get(0)).transpose()?)
}

impl PostgresDatabase {
    /// Begins a write about a task: a transaction on `client` that has charged `usage` (spent
    /// whether or not the task is still this process's), with the task's status, locked, while
    /// it is this process's. `draft`, when the write adds to it, is locked first, as its other
    /// writers lock it before its tasks.
    async fn task_write<'a>(
        &self,
        client: &'a mut Object,
        task_id: &str,
        usage: GenerationUsage,
        draft: Option<DraftId>,
    ) -> StoreResult<(Transaction<'a>, Option<String>)> {
        let owner = self.owner();
        let tx = client.transaction().await?;
        if let Some(draft_id) = draft {
            optional_row(
                &tx,
                "SELECT 1 FROM campaign_drafts WHERE id = $1 FOR NO KEY UPDATE",
                &[&draft_id.0],
            )
            .await?;
        }
        charge(&tx, usage).await?;
        let status = held_status(&tx, task_id, owner).await?;
        Ok((tx, status))
    }
}

/// The tasks are nobody's (pending again).
async fn unclaim(tx: &Transaction<'_>, task_ids: &[String]) -> StoreResult<()> {
    execute(
        tx,
        "DELETE FROM generation_claims WHERE task_id = ANY($1)",
        &[&task_ids],
    )
    .await?;
    Ok(())
}

/// The task's RSAs that wait for it, now in progress, in their order.
async fn claim_rsas(tx: &Transaction<'_>, task_id: &str) -> StoreResult<Vec<i64>> {
    let mut claimed = rows(
        tx,
        "UPDATE draft_rsas SET status = 'in_progress', error = NULL WHERE task_id = $1 \
         AND edited_at IS NULL AND status IN ('pending', 'in_progress') RETURNING position, id",
        &[&task_id],
    )
    .await?
    .iter()
    .map(|row| Ok((row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?)))
    .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    claimed.sort_unstable();
    Ok(claimed.into_iter().map(|(_, id)| id).collect())
}

/// A task a claim found: pending, or in progress with no live owner.
struct Claimable {
    task_id: String,
    draft_id: DraftId,
    kind: String,
    ad_group_id: Option<i64>,
    attempts: i64,
    company_id: CompanyId,
    orphaned: bool,
}

/// The oldest claimable task, locked; those other claims hold are skipped.
async fn next_claimable(tx: &Transaction<'_>) -> StoreResult<Option<Claimable>> {
    let found = optional_row(
        tx,
        &format!(
            "SELECT t.id, t.draft_id, t.kind, t.ad_group_id, t.attempts, d.company_id, \
             t.status = 'in_progress' FROM generation_tasks t \
             JOIN campaign_drafts d ON d.id = t.draft_id \
             WHERE t.status = 'pending' OR ({}) \
             ORDER BY t.date_added, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
            *ORPHANED
        ),
        &[],
    )
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    Ok(Some(Claimable {
        task_id: found.try_get(0)?,
        draft_id: DraftId(found.try_get(1)?),
        kind: found.try_get(2)?,
        ad_group_id: found.try_get(3)?,
        attempts: found.try_get(4)?,
        company_id: CompanyId(found.try_get(5)?),
        orphaned: found.try_get(6)?,
    }))
}

/// Whether the task, now locked, is still orphaned, seen in a snapshot taken now: a claim that
/// committed while the task was looked for is seen on its row (in progress), but not its claim
/// (another table, read in the older snapshot), so the first look took it for an orphan.
async fn still_orphaned(tx: &Transaction<'_>, task_id: &str) -> StoreResult<bool> {
    Ok(row(
        tx,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM generation_tasks t WHERE t.id = $1 AND {})",
            *ORPHANED
        ),
        &[&task_id],
    )
    .await?
    .try_get(0)?)
}

/// Resumes what stops cut off, in one snapshot (see `resume_generation`).
async fn resume_once(database: &PostgresDatabase, max_attempts: u32) -> StoreResult<Resumed> {
    let mut client = database.connection().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await?;
    let exhausted = rows(
        &tx,
        &format!(
            "SELECT t.id, t.attempts FROM generation_tasks t WHERE {} AND t.attempts >= $1",
            *ORPHANED
        ),
        &[&i64::from(max_attempts)],
    )
    .await?;
    for task in &exhausted {
        let task_id: String = task.try_get(0)?;
        fail_task(&tx, &task_id, &cut_off_too_often(task.try_get(1)?)).await?;
    }
    let resumed: Vec<String> = rows(
        &tx,
        &format!(
            "UPDATE generation_tasks t SET status = 'pending' WHERE {} RETURNING t.id",
            *ORPHANED
        ),
        &[],
    )
    .await?
    .iter()
    .map(|row| row.try_get(0))
    .collect::<Result<_, _>>()?;
    unclaim(&tx, &resumed).await?;
    execute(
        &tx,
        "UPDATE draft_rsas SET status = 'pending' WHERE status = 'in_progress' \
         AND task_id IN (SELECT id FROM generation_tasks WHERE status = 'pending')",
        &[],
    )
    .await?;
    execute(
        &tx,
        "UPDATE draft_rsas SET status = 'failed', error = $1 \
         WHERE status IN ('pending', 'in_progress') AND (task_id IS NULL OR task_id NOT IN \
         (SELECT id FROM generation_tasks WHERE status IN ('pending', 'in_progress')))",
        &[&INTERRUPTED],
    )
    .await?;
    if !resumed.is_empty() {
        ring_generation_bell(&tx).await?;
    }
    tx.commit().await?;
    Ok(Resumed {
        resumed: resumed.len(),
        failed: exhausted.len(),
    })
}

/// Adds the rows after the draft's items of their kind (the draft's row is locked), leaving
/// out those whose key the draft already has.
async fn add_items(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    rows_to_add: &ExtensionRows,
) -> StoreResult<()> {
    let stored: Vec<String> = rows(
        tx,
        "SELECT data FROM draft_extension_items WHERE draft_id = $1 AND kind = $2",
        &[&draft_id.0, &rows_to_add.kind],
    )
    .await?
    .iter()
    .map(|row| row.try_get(0))
    .collect::<Result<_, _>>()?;
    for data in rows_to_add.new_items(&stored) {
        execute(
            tx,
            "INSERT INTO draft_extension_items (draft_id, kind, position, data) VALUES \
             ($1, $2, (SELECT COALESCE(MAX(position), -1) + 1 FROM draft_extension_items \
             WHERE draft_id = $1 AND kind = $2), $3)",
            &[&draft_id.0, &rows_to_add.kind, &data],
        )
        .await?;
    }
    Ok(())
}

impl GenerationQueue for PostgresDatabase {
    async fn generate_rsas(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
    ) -> StoreResult<QueuedRsas> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        visible_draft(&tx, viewer, draft_id, HOLD_DRAFT).await?;
        draft_ad_group(&tx, draft_id, ad_group_id).await?;
        let task_id = insert_task(&tx, draft_id, "rsas", Some(ad_group_id)).await?;
        let rsa_ids = new_pending_rsas(&tx, ad_group_id, &task_id).await?;
        ring_generation_bell(&tx).await?;
        tx.commit().await?;
        Ok(QueuedRsas { task_id, rsa_ids })
    }

    async fn generate_extensions(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
    ) -> StoreResult<(String, GenerationStatus)> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        visible_draft(&tx, viewer, draft_id, HOLD_DRAFT).await?;
        let running = optional_row(
            &tx,
            "SELECT id, status FROM generation_tasks WHERE draft_id = $1 \
             AND kind = 'extensions' AND status IN ('pending', 'in_progress') \
             ORDER BY date_added DESC, id DESC LIMIT 1",
            &[&draft_id.0],
        )
        .await?;
        if let Some(running) = running {
            let status: String = running.try_get(1)?;
            let status = GenerationStatus::parse(&status).unwrap_or(GenerationStatus::Pending);
            return Ok((running.try_get(0)?, status));
        }
        let task_id = insert_task(&tx, draft_id, "extensions", None).await?;
        ring_generation_bell(&tx).await?;
        tx.commit().await?;
        Ok((task_id, GenerationStatus::Pending))
    }

    async fn generation_target(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: Option<i64>,
    ) -> StoreResult<()> {
        let client = self.connection().await?;
        visible_draft(&client, viewer, draft_id, "").await?;
        match ad_group_id {
            Some(ad_group_id) => draft_ad_group(&client, draft_id, ad_group_id).await,
            None => Ok(()),
        }
    }

    /// Only the tasks no live process holds are resumed; the others are at work. Read in one
    /// snapshot, tried again when a concurrent write (a claim, an edit) changed a row it was
    /// about to change.
    async fn resume_generation(&self, max_attempts: u32) -> StoreResult<Resumed> {
        self.queue
            .max_attempts
            .store(max_attempts, Ordering::Relaxed);
        self.queue.presence();
        let mut tries = 1;
        loop {
            match resume_once(self, max_attempts).await {
                Err(StoreError::Busy) if tries < RESUME_TRIES => tries += 1,
                resumed => return resumed,
            }
        }
    }

    /// Also takes over a task in progress whose process died, as `resume_generation` would
    /// (failing it instead once claimed `max_attempts` times). Claims nothing while this
    /// process's presence is not held.
    async fn claim_generation_task(&self) -> StoreResult<Option<GenerationJob>> {
        let Presence {
            owner: Some(owner),
            held: true,
        } = self.queue.presence()
        else {
            return Ok(None);
        };
        let max_attempts = i64::from(self.queue.max_attempts.load(Ordering::Relaxed));
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let task = loop {
            let Some(task) = next_claimable(&tx).await? else {
                tx.commit().await?;
                return Ok(None);
            };
            if task.orphaned && !still_orphaned(&tx, &task.task_id).await? {
                continue;
            }
            if !(task.orphaned && task.attempts >= max_attempts) {
                break task;
            }
            fail_task(&tx, &task.task_id, &cut_off_too_often(task.attempts)).await?;
        };
        execute(
            &tx,
            "UPDATE generation_tasks SET status = 'in_progress', attempts = attempts + 1, \
             date_updated = $2 WHERE id = $1",
            &[&task.task_id, &Timestamp::now().0],
        )
        .await?;
        execute(
            &tx,
            "INSERT INTO generation_claims (task_id, owner) VALUES ($1, $2) \
             ON CONFLICT (task_id) DO UPDATE SET owner = EXCLUDED.owner",
            &[&task.task_id, &owner],
        )
        .await?;
        let Some(mut work) = job_work(&task.kind, task.ad_group_id) else {
            fail_task(&tx, &task.task_id, UNSUPPORTED_KIND).await?;
            tx.commit().await?;
            return Ok(None);
        };
        if let JobWork::Rsas { rsa_ids, .. } = &mut work {
            *rsa_ids = claim_rsas(&tx, &task.task_id).await?;
        }
        let brief = brief(&tx, task.draft_id, task.ad_group_id).await?;
        tx.commit().await?;
        Ok(Some(GenerationJob {
            task_id: task.task_id,
            draft_id: task.draft_id,
            company_id: task.company_id,
            attempt: u32::try_from(task.attempts + 1).unwrap_or(u32::MAX),
            work,
            brief,
        }))
    }

    async fn rsa_awaits(&self, task_id: String, rsa_id: i64) -> StoreResult<bool> {
        let client = self.connection().await?;
        Ok(row(
            &client,
            "SELECT EXISTS (SELECT 1 FROM draft_rsas r JOIN generation_claims c \
             ON c.task_id = r.task_id WHERE r.id = $1 AND r.task_id = $2 AND c.owner = $3 \
             AND r.edited_at IS NULL AND r.status IN ('pending', 'in_progress'))",
            &[&rsa_id, &task_id, &self.owner()],
        )
        .await?
        .try_get(0)?)
    }

    async fn finish_generated_rsa(
        &self,
        task_id: String,
        rsa_id: i64,
        outcome: Result<(Vec<AdText>, Vec<AdText>), String>,
        usage: GenerationUsage,
    ) -> StoreResult<bool> {
        let mut client = self.connection().await?;
        let (tx, status) = self.task_write(&mut client, &task_id, usage, None).await?;
        let changed = match (status.is_some(), outcome) {
            (false, _) => 0,
            (true, Ok((headlines, descriptions))) => {
                execute(
                    &tx,
                    "UPDATE draft_rsas SET headlines = $3, descriptions = $4, \
                     status = 'completed', error = NULL, generated_at = $5, \
                     final_url = COALESCE(final_url, (SELECT d.website_url FROM \
                     campaign_drafts d JOIN draft_ad_groups g ON g.draft_id = d.id \
                     WHERE g.id = draft_rsas.ad_group_id)) \
                     WHERE id = $1 AND task_id = $2 AND edited_at IS NULL",
                    &[
                        &rsa_id,
                        &task_id,
                        &serde_json::to_string(&headlines)?,
                        &serde_json::to_string(&descriptions)?,
                        &Timestamp::now().0,
                    ],
                )
                .await?
            }
            (true, Err(error)) => {
                execute(
                    &tx,
                    "UPDATE draft_rsas SET status = 'failed', error = $3 \
                     WHERE id = $1 AND task_id = $2 AND edited_at IS NULL",
                    &[&rsa_id, &task_id, &error],
                )
                .await?
            }
        };
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn finish_generated_extensions(
        &self,
        task_id: String,
        draft_id: DraftId,
        items: GeneratedExtensions,
        usage: GenerationUsage,
    ) -> StoreResult<()> {
        let mut client = self.connection().await?;
        let (tx, status) = self
            .task_write(&mut client, &task_id, usage, Some(draft_id))
            .await?;
        if status.as_deref() == Some("in_progress") {
            for rows_to_add in extension_rows(&items)? {
                add_items(&tx, draft_id, &rows_to_add).await?;
            }
            finish_task(&tx, &task_id, None).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn finish_generation_task(
        &self,
        task_id: String,
        error: Option<String>,
        usage: GenerationUsage,
    ) -> StoreResult<()> {
        let mut client = self.connection().await?;
        let (tx, status) = self.task_write(&mut client, &task_id, usage, None).await?;
        if status.is_some() {
            finish_task(&tx, &task_id, error.as_deref()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The tasks are pending again for any process, whose workers are woken.
    async fn release_generation_tasks(&self, task_ids: Vec<String>) -> StoreResult<()> {
        let owner = self.owner();
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        // The tasks' rows first, then their claims (see `held_status`).
        rows(
            &tx,
            "SELECT 1 FROM generation_tasks WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&task_ids],
        )
        .await?;
        let released: Vec<String> = rows(
            &tx,
            "DELETE FROM generation_claims c USING generation_tasks t \
             WHERE c.task_id = ANY($1) AND c.owner = $2 AND t.id = c.task_id \
             AND t.status = 'in_progress' RETURNING c.task_id",
            &[&task_ids, &owner],
        )
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
        if !released.is_empty() {
            execute(
                &tx,
                "UPDATE generation_tasks SET status = 'pending', \
                 attempts = GREATEST(attempts - 1, 0) WHERE id = ANY($1)",
                &[&released],
            )
            .await?;
            execute(
                &tx,
                "UPDATE draft_rsas SET status = 'pending' WHERE task_id = ANY($1) \
                 AND status = 'in_progress'",
                &[&released],
            )
            .await?;
            ring_generation_bell(&tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
impl PostgresDatabase {
    /// Waits until this process's presence is held (started if it was not).
    pub(super) async fn present(&self) {
        self.queue.presence();
        let mut presence = self.queue.presence.subscribe();
        let _ = presence.wait_for(|presence| presence.held).await;
    }

    /// This process's number (its presence started if it was not).
    pub(super) fn owner_number(&self) -> Option<i32> {
        self.owner()
    }

    /// Waits until no connection holds the presence lock of process `owner` any more.
    pub(super) async fn wait_gone(&self, owner: i32) {
        let client = self.connection().await.unwrap();
        loop {
            let held: bool = client
                .query_one(&format!("SELECT {}", present("$1::integer")), &[&owner])
                .await
                .unwrap()
                .get(0);
            if !held {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ends this process's presence connection from the server's side, as a lost network
    /// would (it is made again after a pause).
    pub(super) async fn lose_presence(&self) {
        let owner = self.owner().unwrap();
        let client = self.connection().await.unwrap();
        let ended: bool = client
            .query_one(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' \
                 AND l.granted AND l.objsubid = 2 \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 AND l.classid = $1::integer::oid AND l.objid = $2::integer::oid",
                &[&PRESENCE_CLASS, &owner],
            )
            .await
            .unwrap()
            .get(0);
        assert!(ended);
        drop(client);
        let mut presence = self.queue.presence.subscribe();
        let _ = presence.wait_for(|presence| !presence.held).await;
        // The server says it ends the connection before its backend lets the lock go.
        self.wait_gone(owner).await;
    }
}
