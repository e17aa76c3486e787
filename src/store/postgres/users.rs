//! Users and their access tokens, on PostgreSQL. Emails compare case-insensitively through
//! `lower(email)`, as the schema's unique index does (SQLite's `COLLATE NOCASE`).
//! `purge_expired_tokens_forever` has no twin here: it only calls `purge_expired_tokens` on a
//! timer, so it belongs to the store's interface once both backends share one.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::error::on_unique;
use super::statements::{execute, optional_row, row, rows};
use super::PostgresDatabase;
use crate::schema::{ProfileChange, Timestamp, User, UserId};
use crate::store::layouts::USER_COLUMNS;
use crate::store::parameters::patch_params;
use crate::store::row_readers::user_from_row;
use crate::store::UserStore;
use crate::store::{Credentials, NewUser, StandingChange, StoreError, StoreResult, TokenOwner};

/// Expired tokens deleted per statement, so that each is a short transaction.
const PURGE_BATCH: i64 = 500;

fn user_not_found() -> StoreError {
    StoreError::NotFound("User not found".into())
}

/// The user of the one row a `... RETURNING {USER_COLUMNS}` answered, NotFound for none.
fn returned_user(found: Option<Row>) -> StoreResult<User> {
    Ok(user_from_row(&found.ok_or_else(user_not_found)?)?)
}

async fn insert_user(client: &impl GenericClient, user: &NewUser) -> StoreResult<User> {
    let now = Timestamp::now();
    let inserted = row(
        client,
        &format!(
            "INSERT INTO users (email, password_hash, is_admin, first_name, last_name, \
             phone_number, date_added, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             RETURNING {USER_COLUMNS}"
        ),
        &[
            &user.email,
            &user.password_hash,
            &user.is_admin,
            &user.profile.first_name.0,
            &user.profile.last_name.0,
            &user.profile.phone_number.0,
            &now.0,
        ],
    )
    .await
    .map_err(|err| {
        on_unique(err, || {
            format!("A user with the email {} already exists", user.email)
        })
    })?;
    Ok(user_from_row(&inserted)?)
}

async fn insert_token_row(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
    user_id: UserId,
    expires_at: i64,
) -> StoreResult<()> {
    execute(
        client,
        "INSERT INTO access_tokens (token_hash, user_id, date_added, expires_at) \
         VALUES ($1, $2, $3, $4)",
        &[
            &&token_hash[..],
            &user_id.0,
            &Timestamp::now().0,
            &expires_at,
        ],
    )
    .await?;
    Ok(())
}

/// Deletes every token of the user but `except` (the session that asked, when it stays).
async fn revoke_user_tokens(
    client: &impl GenericClient,
    user_id: UserId,
    except: Option<&[u8; 32]>,
) -> StoreResult<()> {
    execute(
        client,
        "DELETE FROM access_tokens WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
        &[&user_id.0, &except.map(|hash| &hash[..])],
    )
    .await?;
    Ok(())
}

impl UserStore for PostgresDatabase {
    async fn count_users(&self) -> StoreResult<i64> {
        let client = self.connection().await?;
        Ok(row(&client, "SELECT count(*) FROM users", &[])
            .await?
            .try_get(0)?)
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        insert_user(&self.connection().await?, &user).await
    }

    /// Creates `user` only when there are no users at all; None when there already were.
    /// Processes starting at once each try: the table lock lets one count and insert at a
    /// time (readers go on), so exactly one finds none.
    async fn create_first_user(&self, user: NewUser) -> StoreResult<Option<User>> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .await?;
        let count: i64 = row(&tx, "SELECT count(*) FROM users", &[])
            .await?
            .try_get(0)?;
        if count > 0 {
            return Ok(None);
        }
        let created = insert_user(&tx, &user).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    /// The user `create_first_user` made (users are never deleted, so the oldest one).
    async fn first_user_id(&self) -> StoreResult<Option<UserId>> {
        let client = self.connection().await?;
        let first: Option<i64> = row(&client, "SELECT min(id) FROM users", &[])
            .await?
            .try_get(0)?;
        Ok(first.map(UserId))
    }

    /// Creates `user` with a token already issued to it, in one transaction.
    async fn create_user_with_token(
        &self,
        user: NewUser,
        token_hash: [u8; 32],
        expires_at: i64,
    ) -> StoreResult<User> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let created = insert_user(&tx, &user).await?;
        insert_token_row(&tx, &token_hash, created.id, expires_at).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update_profile(&self, user_id: UserId, change: ProfileChange) -> StoreResult<User> {
        let (first_sent, first_name) = patch_params(change.first_name);
        let (last_sent, last_name) = patch_params(change.last_name);
        let (phone_sent, phone_number) = patch_params(change.phone_number);
        let client = self.connection().await?;
        let updated = optional_row(
            &client,
            &format!(
                "UPDATE users SET first_name = CASE WHEN $1 THEN $2 ELSE first_name END, \
                 last_name = CASE WHEN $3 THEN $4 ELSE last_name END, \
                 phone_number = CASE WHEN $5 THEN $6 ELSE phone_number END, date_updated = $7 \
                 WHERE id = $8 RETURNING {USER_COLUMNS}"
            ),
            &[
                &first_sent,
                &first_name,
                &last_sent,
                &last_name,
                &phone_sent,
                &phone_number,
                &Timestamp::now().0,
                &user_id.0,
            ],
        )
        .await?;
        returned_user(updated)
    }

    /// Sets the user's password hash and revokes every token of theirs but `keep_token`.
    async fn set_password(
        &self,
        user_id: UserId,
        password_hash: String,
        keep_token: Option<[u8; 32]>,
    ) -> StoreResult<()> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let changed = execute(
            &tx,
            "UPDATE users SET password_hash = $1, date_updated = $2 WHERE id = $3",
            &[&password_hash, &Timestamp::now().0, &user_id.0],
        )
        .await?;
        if changed == 0 {
            return Err(user_not_found());
        }
        revoke_user_tokens(&tx, user_id, keep_token.as_ref()).await?;
        Ok(tx.commit().await?)
    }

    async fn password_hash(&self, user_id: UserId) -> StoreResult<String> {
        let client = self.connection().await?;
        let found = optional_row(
            &client,
            "SELECT password_hash FROM users WHERE id = $1",
            &[&user_id.0],
        )
        .await?;
        Ok(found.ok_or_else(user_not_found)?.try_get(0)?)
    }

    async fn user(&self, user_id: UserId) -> StoreResult<User> {
        let client = self.connection().await?;
        let found = optional_row(
            &client,
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
            &[&user_id.0],
        )
        .await?;
        returned_user(found)
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let client = self.connection().await?;
        rows(
            &client,
            &format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(|row| Ok(user_from_row(row)?))
        .collect()
    }

    /// Makes or unmakes an admin, deactivates or reactivates. Deactivating revokes every token
    /// of the user in the same transaction, so reactivating does not bring old sessions back.
    async fn change_standing(&self, user_id: UserId, change: StandingChange) -> StoreResult<User> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let updated = optional_row(
            &tx,
            &format!(
                "UPDATE users SET is_admin = coalesce($2, is_admin), \
                 is_active = coalesce($3, is_active), date_updated = $4 WHERE id = $1 \
                 RETURNING {USER_COLUMNS}"
            ),
            &[
                &user_id.0,
                &change.is_admin,
                &change.is_active,
                &Timestamp::now().0,
            ],
        )
        .await?;
        let user = returned_user(updated)?;
        if change.is_active == Some(false) {
            revoke_user_tokens(&tx, user_id, None).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn credentials(&self, email: String) -> StoreResult<Option<Credentials>> {
        let client = self.connection().await?;
        let found = optional_row(
            &client,
            "SELECT id, password_hash, is_active FROM users WHERE lower(email) = lower($1)",
            &[&email],
        )
        .await?;
        found
            .map(|row| {
                Ok(Credentials {
                    user_id: UserId(row.try_get(0)?),
                    password_hash: row.try_get(1)?,
                    is_active: row.try_get(2)?,
                })
            })
            .transpose()
    }

    async fn insert_token(
        &self,
        token_hash: [u8; 32],
        user_id: UserId,
        expires_at: i64,
    ) -> StoreResult<()> {
        insert_token_row(&self.connection().await?, &token_hash, user_id, expires_at).await
    }

    /// The active user a token that has not expired belongs to. Read each time: a token
    /// revoked by another process is refused at once.
    async fn token_owner(&self, token_hash: [u8; 32], now: i64) -> StoreResult<Option<TokenOwner>> {
        let client = self.connection().await?;
        let found = optional_row(
            &client,
            "SELECT u.id, u.is_admin FROM access_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.is_active",
            &[&&token_hash[..], &now],
        )
        .await?;
        found
            .map(|row| {
                Ok(TokenOwner {
                    user_id: UserId(row.try_get(0)?),
                    is_admin: row.try_get(1)?,
                })
            })
            .transpose()
    }

    /// Deletes every token that expired at `now` or before, a batch per statement. Processes
    /// purging at once skip each other's locked rows instead of waiting on them. Answers how
    /// many this call deleted.
    async fn purge_expired_tokens(&self, now: i64) -> StoreResult<usize> {
        let client = self.connection().await?;
        let mut purged = 0;
        loop {
            let deleted = execute(
                &client,
                "DELETE FROM access_tokens WHERE token_hash IN \
                 (SELECT token_hash FROM access_tokens WHERE expires_at <= $1 \
                  LIMIT $2 FOR UPDATE SKIP LOCKED)",
                &[&now, &PURGE_BATCH],
            )
            .await?;
            purged += deleted as usize;
            if deleted < PURGE_BATCH as u64 {
                return Ok(purged);
            }
        }
    }

    async fn revoke_token(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        let client = self.connection().await?;
        execute(
            &client,
            "DELETE FROM access_tokens WHERE token_hash = $1",
            &[&&token_hash[..]],
        )
        .await?;
        Ok(())
    }
}
