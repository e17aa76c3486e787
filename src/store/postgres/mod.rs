//! The PostgreSQL database (issue 17): its connection pool, TLS and migrations, and the
//! store's operations on it, one module per table group as on the SQLite side, each answering
//! what its SQLite twin answers. Nothing is cached in the process: several processes share the
//! database, and a read must see what any of them wrote before it began.

mod access;
mod assistants;
mod campaigns;
mod columns;
mod companies;
mod connections;
mod coordination;
mod draft_edits;
mod error;
mod generation;
mod generation_queueing;
pub mod import;
mod messages;
mod migrate;
mod rows;
mod statements;
#[cfg(test)]
mod tests;
mod thread_drafts;
mod threads;
mod tls;
mod users;

use std::sync::Arc;

use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;

use crate::config::PostgresUrl;

pub use coordination::{SharedSlot, SharedTurn, SlotRequest};
pub use migrate::MigrationReport;

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("PostgreSQL at {url}: {reason}")]
    Query { url: String, reason: String },
    #[error("TLS to PostgreSQL: {0}")]
    Tls(String),
    #[error("{0}")]
    Migration(String),
}

/// How long a request waits for a pooled connection before it is answered 503, as long as
/// SQLite's read pool lets it wait.
const CONNECTION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A pool of connections to one PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct PostgresDatabase {
    pool: Pool,
    /// Connections that hold a thread's lock for a whole turn (`coordination/turns.rs`): a pool
    /// of their own, so that turns waiting for the model never take the store's connections.
    turns: Pool,
    /// For cancelling a turn's wait for its lock when the turn is dropped meanwhile.
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// The URL without its password, for messages.
    url: String,
    /// This process's part in the generation queue all processes share.
    queue: Arc<generation::SharedQueue>,
}

/// What `adthread check` reports of the server it reached.
pub struct ServerFacts {
    pub version: String,
    pub encrypted: bool,
}

impl PostgresDatabase {
    /// Connects (one connection first, so that a wrong address or password is said at once),
    /// then brings the schema up to date.
    pub async fn open(
        url: &PostgresUrl,
        pool_size: u32,
    ) -> Result<(PostgresDatabase, MigrationReport), PostgresError> {
        let (settings, tls) = tls::connector(url)?;
        let queue = Arc::new(generation::SharedQueue::new(settings.clone(), tls.clone()));
        let database = PostgresDatabase {
            pool: pool(
                settings.clone(),
                tls.clone(),
                pool_size,
                Some(CONNECTION_WAIT),
            )?,
            // A turn waits for a connection as long as it waits for its thread's lock.
            turns: pool(settings, tls.clone(), pool_size, None)?,
            tls,
            url: url.to_string(),
            queue,
        };
        let mut client = database.client().await?;
        let report = migrate::apply(&mut client)
            .await
            .map_err(|err| err.at(&database.url))?;
        drop(client);
        Ok((database, report))
    }

    pub async fn client(&self) -> Result<Object, PostgresError> {
        self.pool.get().await.map_err(|err| PostgresError::Connect {
            url: self.url.clone(),
            reason: match err {
                PoolError::Backend(err) => reason(&err),
                other => other.to_string(),
            },
        })
    }

    /// A pooled connection for the store's operations.
    async fn connection(&self) -> crate::store::StoreResult<Object> {
        Ok(self.pool.get().await?)
    }

    /// Answers whether the server responds, for `/healthz`: a round trip on a pooled
    /// connection, so a server that went away or a pool that is exhausted shows.
    pub async fn ping(&self) -> crate::store::StoreResult<()> {
        self.connection().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    /// Lets the pool's connections go; requests still holding one finish first.
    pub fn close(&self) {
        self.pool.close();
        self.turns.close();
    }

    /// A connection to hold a thread's lock on.
    async fn turn_connection(&self) -> crate::store::StoreResult<Object> {
        Ok(self.turns.get().await?)
    }

    pub async fn server_facts(&self) -> Result<ServerFacts, PostgresError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT current_setting('server_version'), \
                        coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await
            .map_err(|err| QueryError::from(err).at(&self.url))?;
        Ok(ServerFacts {
            version: row.get(0),
            encrypted: row.get(1),
        })
    }
}

fn pool(
    settings: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    size: u32,
    wait: Option<std::time::Duration>,
) -> Result<Pool, PostgresError> {
    let manager = Manager::from_config(
        settings,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size as usize)
        .wait_timeout(wait)
        .runtime(Runtime::Tokio1)
        .post_create(Hook::async_fn(|client, _| {
            Box::pin(async move { plan_once(client).await.map_err(HookError::Backend) })
        }))
        .build()
        .map_err(|err| PostgresError::Tls(err.to_string()))
}

/// Makes each of the connection's prepared statements keep one plan for every call. Ours are
/// short and keyed (ids, a company, a keyset cursor), so one generic plan fits every call;
/// left to itself, PostgreSQL plans the thread list anew on every call (its generic estimate
/// of `LIMIT $n` looks costlier), which took about half of the database's time per page in
/// bench/run. A server that does not know the setting (older than PostgreSQL 12, or only
/// compatible) keeps its own way.
async fn plan_once(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    match client
        .batch_execute("SET plan_cache_mode = force_generic_plan")
        .await
    {
        Err(err) if err.code() == Some(&SqlState::UNDEFINED_OBJECT) => Ok(()),
        done => done,
    }
}

/// A failed statement, before it is said where ([`QueryError::at`]).
pub(crate) enum QueryError {
    Failed(tokio_postgres::Error),
    Refused(String),
}

impl From<tokio_postgres::Error> for QueryError {
    fn from(err: tokio_postgres::Error) -> Self {
        QueryError::Failed(err)
    }
}

impl QueryError {
    fn at(self, url: &str) -> PostgresError {
        match self {
            QueryError::Failed(err) => PostgresError::Query {
                url: url.to_string(),
                reason: reason(&err),
            },
            QueryError::Refused(reason) => PostgresError::Migration(reason),
        }
    }
}

/// The server's own message for a database error, else tokio-postgres's with its causes:
/// "error performing TLS handshake: invalid peer certificate: UnknownIssuer". Neither quotes
/// the connection settings.
fn reason(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return db.message().to_string();
    }
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}
