//! Users and their access tokens.

use rusqlite::{params, Connection, OptionalExtension};

use super::cache::OwnedBytes;
use super::write::Write;
use super::{is_unique_violation, OptionalRow, SqliteStore, StoreError, StoreResult};
use crate::schema::{ProfileChange, Timestamp, User, UserId};
use crate::store::layouts::USER_COLUMNS;
use crate::store::parameters::patch_params;
use crate::store::row_readers::user_from_row;
use crate::store::{Credentials, NewUser, StandingChange, TokenOwner, UserStore};

/// A token that worked, remembered until it expires or a write records `tokens_changed`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CachedToken {
    owner: TokenOwner,
    expires_at: i64,
}

impl OwnedBytes for CachedToken {}

pub(super) fn user_by_id(conn: &Connection, user_id: UserId) -> StoreResult<User> {
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([user_id], |row| user_from_row(row))
        .or_not_found(|| "User not found".into())
}

fn insert_user(conn: &Connection, user: &NewUser) -> StoreResult<User> {
    let now = Timestamp::now();
    let inserted = conn.execute(
        "INSERT INTO users (email, password_hash, is_admin, first_name, last_name, phone_number, \
         date_added, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            user.email,
            user.password_hash,
            user.is_admin,
            user.profile.first_name.0,
            user.profile.last_name.0,
            user.profile.phone_number.0,
            now.0
        ],
    );
    match inserted {
        Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict(format!(
            "A user with the email {} already exists",
            user.email
        ))),
        Err(err) => Err(err.into()),
        Ok(_) => user_by_id(conn, UserId(conn.last_insert_rowid())),
    }
}

fn insert_token_row(
    conn: &Connection,
    token_hash: &[u8; 32],
    user_id: UserId,
    expires_at: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO access_tokens (token_hash, user_id, date_added, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        &token_hash[..],
        user_id,
        Timestamp::now().0,
        expires_at
    ])?;
    Ok(())
}

/// Expired tokens deleted per write, so that each batch is a short turn of the writer.
const PURGE_BATCH: usize = 500;

/// Up to `limit` tokens that expired at `now` or before. A scan (there is no index on expiry),
/// so it runs on a read connection, off the writer.
fn expired_tokens(conn: &Connection, now: i64, limit: usize) -> StoreResult<Vec<[u8; 32]>> {
    let mut statement = conn
        .prepare_cached("SELECT token_hash FROM access_tokens WHERE expires_at <= ?1 LIMIT ?2")?;
    let rows = statement.query_map(params![now, limit], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes these tokens by key, each only if it has indeed expired; answers how many went.
/// The token cache is left alone: it checks expiry itself, and dropping it would cost every
/// valid token a database read.
fn delete_expired_tokens(conn: &Connection, hashes: &[[u8; 32]], now: i64) -> StoreResult<usize> {
    let mut statement = conn
        .prepare_cached("DELETE FROM access_tokens WHERE token_hash = ?1 AND expires_at <= ?2")?;
    let mut deleted = 0;
    for hash in hashes {
        deleted += statement.execute(params![&hash[..], now])?;
    }
    Ok(deleted)
}

/// Deletes every token of the user but `except` (the session that asked, when it stays).
pub(super) fn revoke_user_tokens(
    conn: &mut Write,
    user_id: UserId,
    except: Option<&[u8; 32]>,
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM access_tokens WHERE user_id = ?1 AND token_hash IS NOT ?2")?
        .execute(params![user_id, except.map(|hash| &hash[..])])?;
    conn.tokens_changed();
    Ok(())
}

impl UserStore for SqliteStore {
    async fn count_users(&self) -> StoreResult<i64> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0))?))
            .await
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        self.write(move |conn| insert_user(conn, &user)).await
    }

    async fn create_first_user(&self, user: NewUser) -> StoreResult<Option<User>> {
        self.write(move |conn| {
            let count: i64 = conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0))?;
            if count > 0 {
                return Ok(None);
            }
            insert_user(conn, &user).map(Some)
        })
        .await
    }

    async fn first_user_id(&self) -> StoreResult<Option<UserId>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT min(id) FROM users")?
                .query_row([], |row| row.get(0))?)
        })
        .await
    }

    async fn create_user_with_token(
        &self,
        user: NewUser,
        token_hash: [u8; 32],
        expires_at: i64,
    ) -> StoreResult<User> {
        self.write(move |conn| {
            let created = insert_user(conn, &user)?;
            insert_token_row(conn, &token_hash, created.id, expires_at)?;
            Ok(created)
        })
        .await
    }

    async fn update_profile(&self, user_id: UserId, change: ProfileChange) -> StoreResult<User> {
        self.write(move |conn| {
            let (first_sent, first_name) = patch_params(change.first_name);
            let (last_sent, last_name) = patch_params(change.last_name);
            let (phone_sent, phone_number) = patch_params(change.phone_number);
            let changed = conn
                .prepare_cached(
                    "UPDATE users SET first_name = IIF(?1, ?2, first_name), \
                     last_name = IIF(?3, ?4, last_name), \
                     phone_number = IIF(?5, ?6, phone_number), date_updated = ?7 WHERE id = ?8",
                )?
                .execute(params![
                    first_sent,
                    first_name,
                    last_sent,
                    last_name,
                    phone_sent,
                    phone_number,
                    Timestamp::now().0,
                    user_id
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound("User not found".into()));
            }
            user_by_id(conn, user_id)
        })
        .await
    }

    async fn set_password(
        &self,
        user_id: UserId,
        password_hash: String,
        keep_token: Option<[u8; 32]>,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE users SET password_hash = ?1, date_updated = ?2 WHERE id = ?3",
                )?
                .execute(params![password_hash, Timestamp::now().0, user_id])?;
            if changed == 0 {
                return Err(StoreError::NotFound("User not found".into()));
            }
            revoke_user_tokens(conn, user_id, keep_token.as_ref())
        })
        .await
    }

    async fn password_hash(&self, user_id: UserId) -> StoreResult<String> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
                .query_row([user_id], |row| row.get(0))
                .or_not_found(|| "User not found".into())
        })
        .await
    }

    async fn user(&self, user_id: UserId) -> StoreResult<User> {
        self.read(move |conn| user_by_id(conn, user_id)).await
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
            let rows = statement.query_map([], |row| user_from_row(row))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn change_standing(&self, user_id: UserId, change: StandingChange) -> StoreResult<User> {
        self.write(move |conn| {
            user_by_id(conn, user_id)?;
            // Cached tokens carry whether their owner is an admin.
            conn.tokens_changed();
            conn.prepare_cached(
                "UPDATE users SET is_admin = coalesce(?2, is_admin), \
                 is_active = coalesce(?3, is_active), date_updated = ?4 WHERE id = ?1",
            )?
            .execute(params![
                user_id,
                change.is_admin,
                change.is_active,
                Timestamp::now().0
            ])?;
            if change.is_active == Some(false) {
                revoke_user_tokens(conn, user_id, None)?;
            }
            user_by_id(conn, user_id)
        })
        .await
    }

    async fn credentials(&self, email: String) -> StoreResult<Option<Credentials>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id, password_hash, is_active FROM users WHERE email = ?1")?
                .query_row([email], |row| {
                    Ok(Credentials {
                        user_id: row.get(0)?,
                        password_hash: row.get(1)?,
                        is_active: row.get(2)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn insert_token(
        &self,
        token_hash: [u8; 32],
        user_id: UserId,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.write(move |conn| insert_token_row(conn, &token_hash, user_id, expires_at))
            .await
    }

    async fn token_owner(&self, token_hash: [u8; 32], now: i64) -> StoreResult<Option<TokenOwner>> {
        let tokens = &self.caches.tokens;
        if let Some(known) = tokens.get((), &token_hash) {
            return Ok((known.expires_at > now).then_some(known.owner));
        }
        let stamp = tokens.stamp(());
        let found = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT u.id, u.is_admin, t.expires_at FROM access_tokens t \
                         JOIN users u ON u.id = t.user_id \
                         WHERE t.token_hash = ?1 AND t.expires_at > ?2 AND u.is_active = 1",
                    )?
                    .query_row(params![&token_hash[..], now], |row| {
                        Ok(CachedToken {
                            owner: TokenOwner {
                                user_id: row.get(0)?,
                                is_admin: row.get(1)?,
                            },
                            expires_at: row.get(2)?,
                        })
                    })
                    .optional()?)
            })
            .await?;
        if let Some(known) = found {
            tokens.put((), stamp, token_hash, known);
        }
        Ok(found.map(|known| known.owner))
    }

    async fn purge_expired_tokens(&self, now: i64) -> StoreResult<usize> {
        let mut purged = 0;
        loop {
            let expired = self
                .read(move |conn| expired_tokens(conn, now, PURGE_BATCH))
                .await?;
            let found = expired.len();
            let deleted = self
                .write(move |conn| delete_expired_tokens(conn, &expired, now))
                .await?;
            purged += deleted;
            if found < PURGE_BATCH || deleted == 0 {
                return Ok(purged);
            }
        }
    }

    async fn revoke_token(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM access_tokens WHERE token_hash = ?1")?
                .execute([&token_hash[..]])?;
            conn.tokens_changed();
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_purge_deletes_expired_tokens_only_however_many() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::testing::open_in(dir.path());
        let now = 1_000_000;
        let expiries = (0..(2 * PURGE_BATCH as i64 + 7)).map(move |n| now - n);
        let live = [now + 1, now + 3600];
        store
            .write(move |conn| {
                conn.execute_batch(
                    "INSERT INTO users (id, email, password_hash, date_added, date_updated) \
                     VALUES (1, 'a@example.com', 'x', 'now', 'now')",
                )?;
                for (n, expires_at) in expiries.chain(live).enumerate() {
                    let mut hash = [0u8; 32];
                    hash[..8].copy_from_slice(&(n as u64).to_be_bytes());
                    insert_token_row(conn, &hash, UserId(1), expires_at)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            store.purge_expired_tokens(now).await.unwrap(),
            2 * PURGE_BATCH + 7
        );
        let left: Vec<i64> = store
            .read(|conn| {
                let mut statement =
                    conn.prepare("SELECT expires_at FROM access_tokens ORDER BY expires_at")?;
                let rows = statement.query_map([], |row| row.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .unwrap();
        assert_eq!(left, live);
        store.close();
    }
}
