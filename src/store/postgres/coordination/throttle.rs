//! The sign-in throttle's counts on PostgreSQL. An attempt is judged and counted in one
//! transaction that first takes advisory locks on its address and then its account (always in
//! that order, so two attempts never wait for each other in a circle): attempts that share
//! either wait for each other, across processes, and many sent at once cannot all be judged
//! on the same count. What the counts mean is the policy's (`auth/throttle.rs`); this only
//! reads them as ages and writes them back.

use deadpool_postgres::GenericClient;

use super::{duration_of, lock_key, micros};
use crate::store::coordination::{AttemptCount, AttemptLook, FailureCount, ThrottleKeys};
use crate::store::postgres::statements::{execute, optional_row};
use crate::store::postgres::PostgresDatabase;
use crate::store::StoreResult;

/// The first keys of the throttle's advisory locks ("addr", "acct").
const ADDRESS_LOCK: i32 = 0x6164_6472;
const ACCOUNT_LOCK: i32 = 0x6163_6374;

/// `throttle_failures.kind`.
const ADDRESS: i16 = 1;
const ACCOUNT_AND_ADDRESS: i16 = 2;
const REGISTRATIONS: i16 = 3;

async fn lock(client: &impl GenericClient, space: i32, what: &[u8]) -> StoreResult<()> {
    execute(
        client,
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&space, &lock_key(what)],
    )
    .await?;
    Ok(())
}

/// The failures recorded under `kind` and `key`, as their count and the time since the last.
async fn failures(
    client: &impl GenericClient,
    kind: i16,
    key: &[u8],
) -> StoreResult<Option<FailureCount>> {
    let Some(row) = optional_row(
        client,
        "SELECT count, (extract(epoch FROM clock_timestamp() - last_at) * 1000000)::bigint \
         FROM throttle_failures WHERE kind = $1 AND key = $2",
        &[&kind, &key],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(FailureCount {
        count: u32::try_from(row.try_get::<_, i64>(0)?).unwrap_or(u32::MAX),
        age: duration_of(row.try_get(1)?),
    }))
}

async fn set_failures(
    client: &impl GenericClient,
    kind: i16,
    key: &[u8],
    count: u32,
) -> StoreResult<()> {
    execute(
        client,
        "INSERT INTO throttle_failures (kind, key, count, last_at) \
         VALUES ($1, $2, $3, clock_timestamp()) \
         ON CONFLICT (kind, key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at",
        &[&kind, &key, &i64::from(count)],
    )
    .await?;
    Ok(())
}

impl PostgresDatabase {
    /// Judges a password check by what is recorded of its keys, and records what `judge`
    /// counted when it lets the check through; answers `judge`'s refusal otherwise.
    pub(crate) async fn judge_attempt<Refusal>(
        &self,
        keys: &ThrottleKeys,
        judge: impl FnOnce(AttemptLook) -> Result<AttemptCount, Refusal>,
    ) -> StoreResult<Result<(), Refusal>> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        lock(&tx, ADDRESS_LOCK, &keys.address).await?;
        lock(&tx, ACCOUNT_LOCK, &keys.account).await?;
        let pair = keys.account_and_address();
        let look = AttemptLook {
            address: failures(&tx, ADDRESS, &keys.address).await?,
            pair: failures(&tx, ACCOUNT_AND_ADDRESS, &pair).await?,
            pace_ahead: pace_ahead(&tx, &keys.account).await?,
        };
        let counted = match judge(look) {
            Ok(counted) => counted,
            Err(refusal) => return Ok(Err(refusal)),
        };
        set_failures(&tx, ADDRESS, &keys.address, counted.address).await?;
        set_failures(&tx, ACCOUNT_AND_ADDRESS, &pair, counted.pair).await?;
        if let Some(ahead) = counted.pace_ahead {
            execute(
                &tx,
                "INSERT INTO throttle_paces (account, full_at) \
                 VALUES ($1, clock_timestamp() + $2::bigint * interval '1 microsecond') \
                 ON CONFLICT (account) DO UPDATE SET full_at = excluded.full_at",
                &[&keys.account.as_slice(), &micros(ahead)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The owner got in: the pair's failures are forgotten, and one of the address's forgiven.
    pub(crate) async fn forgive_attempt(&self, keys: &ThrottleKeys) -> StoreResult<()> {
        let client = self.connection().await?;
        execute(
            &client,
            "WITH forgotten AS (DELETE FROM throttle_failures WHERE kind = $1 AND key = $2) \
             UPDATE throttle_failures SET count = greatest(count - 1, 0) \
             WHERE kind = $3 AND key = $4",
            &[
                &ACCOUNT_AND_ADDRESS,
                &keys.account_and_address(),
                &ADDRESS,
                &keys.address.as_slice(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Judges a registration from `address` by the ones recorded, and records the count
    /// `judge` answers when it lets it through.
    pub(crate) async fn judge_registration<Refusal>(
        &self,
        address: &[u8; 16],
        judge: impl FnOnce(Option<FailureCount>) -> Result<u32, Refusal>,
    ) -> StoreResult<Result<(), Refusal>> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        lock(&tx, ADDRESS_LOCK, address).await?;
        let count = match judge(failures(&tx, REGISTRATIONS, address).await?) {
            Ok(count) => count,
            Err(refusal) => return Ok(Err(refusal)),
        };
        set_failures(&tx, REGISTRATIONS, address, count).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes the counts forgotten anyway (last failure more than `memory` ago), the paces
    /// back to full and the answer slots expired, so the tables hold only what still counts.
    pub(crate) async fn purge_forgotten(&self, memory: std::time::Duration) -> StoreResult<()> {
        let client = self.connection().await?;
        execute(
            &client,
            "WITH failures AS ( \
               DELETE FROM throttle_failures \
               WHERE last_at < clock_timestamp() - $1::bigint * interval '1 microsecond'), \
             paces AS (DELETE FROM throttle_paces WHERE full_at < clock_timestamp()) \
             DELETE FROM answer_slots WHERE expires_at < clock_timestamp()",
            &[&micros(memory)],
        )
        .await?;
        Ok(())
    }
}

/// How far ahead of now the account's pace runs (zero when it is back to full).
async fn pace_ahead(
    client: &impl GenericClient,
    account: &[u8; 32],
) -> StoreResult<std::time::Duration> {
    let found = optional_row(
        client,
        "SELECT (extract(epoch FROM full_at - clock_timestamp()) * 1000000)::bigint \
         FROM throttle_paces WHERE account = $1",
        &[&account.as_slice()],
    )
    .await?;
    Ok(match found {
        Some(row) => duration_of(row.try_get(0)?),
        None => std::time::Duration::ZERO,
    })
}
