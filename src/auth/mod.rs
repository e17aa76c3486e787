//! Passwords (argon2id) and access tokens (random, stored as SHA-256).

mod password;
mod token;

pub use password::{PasswordError, Passwords};
pub use token::{hash_token, new_token};

use crate::model::User;
use crate::store::{NewUser, Store, StoreResult};

/// A token just issued: the secret for the client and how long it lasts.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Checks an email and password; on success stores and returns a new token. A wrong email, a
/// wrong password and a deactivated account all answer None after the same password check.
pub async fn sign_in(
    store: &Store,
    passwords: &Passwords,
    lifetime_secs: u64,
    email: String,
    password: String,
) -> StoreResult<Option<(i64, IssuedToken)>> {
    let credentials = store.credentials(email).await?;
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let matches = passwords.verify(password, hash).await;
    let Some(user) = credentials.filter(|c| matches && c.is_active) else {
        return Ok(None);
    };
    Ok(Some((
        user.user_id,
        issue_token(store, user.user_id, lifetime_secs).await?,
    )))
}

pub async fn issue_token(
    store: &Store,
    user_id: i64,
    lifetime_secs: u64,
) -> StoreResult<IssuedToken> {
    let (issued, hash, expires_at) = fresh_token(lifetime_secs);
    store.insert_token(hash, user_id, expires_at).await?;
    Ok(issued)
}

/// Creates the account and its first token in one write: either both exist afterwards or
/// neither does.
pub async fn register(
    store: &Store,
    lifetime_secs: u64,
    user: NewUser,
) -> StoreResult<(User, IssuedToken)> {
    let (issued, hash, expires_at) = fresh_token(lifetime_secs);
    let user = store.create_user_with_token(user, hash, expires_at).await?;
    Ok((user, issued))
}

/// A new token, the hash to store and when it expires (unix seconds).
fn fresh_token(lifetime_secs: u64) -> (IssuedToken, [u8; 32], i64) {
    let (token, hash) = new_token();
    let expires_at = chrono::Utc::now().timestamp() + lifetime_secs as i64;
    let issued = IssuedToken {
        token,
        expires_in: lifetime_secs,
    };
    (issued, hash, expires_at)
}
