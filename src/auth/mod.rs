//! Accounts, passwords (argon2id) and access tokens (random, stored as SHA-256).

mod account;
mod first_admin;
mod password;
mod sign_in;
mod throttle;
mod token;

pub use account::{create_account, register, AccountError, AccountResult, NewAccount};
pub use first_admin::{bootstrap_admin, forget_initial_password, BootstrapError};
pub use password::{PasswordError, Passwords};
pub use sign_in::{Confirmation, PasswordGate, SignInError, SignedInUser};
pub use throttle::{RetryAfter, Throttle, ThrottlePolicy};
pub use token::{hash_token, new_token};

use crate::schema::Token;

/// A token just issued: the secret for the client and how long it lasts.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// What a client is given to present as `Authorization: Bearer`.
impl From<IssuedToken> for Token {
    fn from(issued: IssuedToken) -> Self {
        Token {
            access_token: issued.token,
            token_type: "bearer".into(),
            expires_in: issued.expires_in,
        }
    }
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
