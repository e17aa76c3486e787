//! Accounts, passwords (argon2id) and access tokens (random, stored as SHA-256).

mod account;
mod first_admin;
mod password;
mod throttle;
mod token;

use std::net::IpAddr;

pub use account::{create_account, register, AccountError, AccountResult, NewAccount};
pub use first_admin::{bootstrap_admin, forget_initial_password, BootstrapError};
pub use password::{PasswordError, Passwords};
pub use throttle::{RetryAfter, Throttle, ThrottlePolicy};
pub use token::{hash_token, new_token};

use crate::store::{Store, StoreResult};

/// A token just issued: the secret for the client and how long it lasts.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// What a sign-in attempt came to.
pub enum SignIn {
    Issued {
        user_id: i64,
        token: IssuedToken,
    },
    /// Wrong email, wrong password or deactivated account: the same answer for all three.
    Refused,
    /// Too many recent failures for this account or from this address; the password was not
    /// even checked.
    Throttled(RetryAfter),
}

/// What a check of a signed-in user's current password came to.
pub enum Confirmation {
    Confirmed,
    Wrong,
    /// Too many recent failures; the password was not even checked.
    Throttled(RetryAfter),
}

/// What every check of a password goes through: sign-ins and password changes.
pub struct PasswordGate<'a> {
    pub store: &'a Store,
    pub passwords: &'a Passwords,
    pub throttle: &'a Throttle,
    pub token_lifetime_secs: u64,
}

impl PasswordGate<'_> {
    /// Checks an email and password, from `client`; on success stores and returns a new token.
    /// A wrong email, a wrong password and a deactivated account all get the same password
    /// check and the same answer.
    pub async fn sign_in(
        &self,
        client: IpAddr,
        email: String,
        password: String,
    ) -> StoreResult<SignIn> {
        if let Err(retry_after) = self.admit(&email, client) {
            return Ok(SignIn::Throttled(retry_after));
        }
        let credentials = self.store.credentials(email.clone()).await?;
        let hash = credentials.as_ref().map(|c| c.password_hash.clone());
        let matches = self.passwords.verify(password, hash).await;
        let Some(user) = credentials.filter(|c| matches && c.is_active) else {
            return Ok(SignIn::Refused);
        };
        self.throttle.succeeded(&email, client);
        Ok(SignIn::Issued {
            user_id: user.user_id,
            token: issue_token(self.store, user.user_id, self.token_lifetime_secs).await?,
        })
    }

    /// Checks the current password of the signed-in `user_id`, sent from `client`, under the
    /// same throttle as signing in to that account.
    pub async fn confirm_password(
        &self,
        client: IpAddr,
        user_id: i64,
        password: String,
    ) -> StoreResult<Confirmation> {
        let email = self.store.user(user_id).await?.email;
        if let Err(retry_after) = self.admit(&email, client) {
            return Ok(Confirmation::Throttled(retry_after));
        }
        let hash = self.store.password_hash(user_id).await?;
        if !self.passwords.verify(password, Some(hash)).await {
            return Ok(Confirmation::Wrong);
        }
        self.throttle.succeeded(&email, client);
        Ok(Confirmation::Confirmed)
    }

    fn admit(&self, email: &str, client: IpAddr) -> Result<(), RetryAfter> {
        self.throttle.attempt(email, client).inspect_err(|_| {
            tracing::warn!(client = %client, "password check throttled");
        })
    }
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

/// A new token, the hash to store and when it expires (unix seconds).
fn fresh_token(lifetime_secs: u64) -> (IssuedToken, [u8; 32], i64) {
    let (token, hash) = new_token();
    let expires_at = expiry(chrono::Utc::now(), lifetime_secs);
    let issued = IssuedToken {
        token,
        expires_in: lifetime_secs,
    };
    (issued, hash, expires_at)
}

/// The first whole second at which a token issued at `now` is no longer valid. Rounded up, so
/// that a token works for at least the `expires_in` seconds its client was told (rounded down,
/// one issued at 10.95 s with a lifetime of 1 s stopped working at 11 s).
fn expiry(now: chrono::DateTime<chrono::Utc>, lifetime_secs: u64) -> i64 {
    let started_second = i64::from(now.timestamp_subsec_nanos() > 0);
    now.timestamp() + started_second + lifetime_secs as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_lives_at_least_its_lifetime_and_less_than_a_second_more() {
        for millis in [0, 1, 500, 999] {
            let now = chrono::DateTime::from_timestamp_millis(10_000 + millis).unwrap();
            let lifetime_millis = expiry(now, 60) * 1000 - now.timestamp_millis();
            assert!(
                (60_000..61_000).contains(&lifetime_millis),
                "{lifetime_millis}"
            );
        }
    }
}
