//! Signing in and confirming a password: every check of a password goes through the throttle
//! here, so both sign-in endpoints and password changes are throttled alike.

use std::net::IpAddr;

use super::{fresh_token, IssuedToken, Passwords, RetryAfter, Throttle};
use crate::schema::UserId;
use crate::store::{Store, StoreError, StoreResult};

/// Who signed in, and the token issued to them.
pub struct SignedInUser {
    pub user_id: UserId,
    pub token: IssuedToken,
}

/// Why a sign-in was not even decided.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many recent failures for this account or from this address; the password was not
    /// even checked.
    #[error("too many failed sign-ins")]
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
    /// None for a wrong email, a wrong password and a deactivated account alike: all three get
    /// the same password check and the same answer.
    pub async fn sign_in(
        &self,
        client: IpAddr,
        email: String,
        password: String,
    ) -> Result<Option<SignedInUser>, SignInError> {
        self.admit(&email, client)
            .await?
            .map_err(SignInError::Throttled)?;
        let credentials = self.store.credentials(email.clone()).await?;
        let hash = credentials.as_ref().map(|c| c.password_hash.clone());
        let matches = self.passwords.verify(password, hash).await;
        let Some(user) = credentials.filter(|c| matches && c.is_active) else {
            return Ok(None);
        };
        self.throttle.succeeded(&email, client).await?;
        let (token, hash, expires_at) = fresh_token(self.token_lifetime_secs);
        self.store
            .insert_token(hash, user.user_id, expires_at)
            .await?;
        Ok(Some(SignedInUser {
            user_id: user.user_id,
            token,
        }))
    }

    /// Checks the current password of the signed-in `user_id`, sent from `client`, under the
    /// same throttle as signing in to that account.
    pub async fn confirm_password(
        &self,
        client: IpAddr,
        user_id: UserId,
        password: String,
    ) -> StoreResult<Confirmation> {
        let email = self.store.user(user_id).await?.email;
        if let Err(retry_after) = self.admit(&email, client).await? {
            return Ok(Confirmation::Throttled(retry_after));
        }
        let hash = self.store.password_hash(user_id).await?;
        if !self.passwords.verify(password, Some(hash)).await {
            return Ok(Confirmation::Wrong);
        }
        self.throttle.succeeded(&email, client).await?;
        Ok(Confirmation::Confirmed)
    }

    async fn admit(&self, email: &str, client: IpAddr) -> StoreResult<Result<(), RetryAfter>> {
        let verdict = self.throttle.attempt(email, client).await?;
        if verdict.is_err() {
            tracing::warn!(client = %client, "password check throttled");
        }
        Ok(verdict)
    }
}
