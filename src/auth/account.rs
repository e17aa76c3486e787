//! Creating accounts: registration, an administrator's, the command line's and the first
//! administrator all check and store a new account here.

use super::{fresh_token, IssuedToken, PasswordError, Passwords};
use crate::schema::rules::{new_account_problems, FieldProblem};
use crate::schema::{User, UserProfile};
use crate::store::{NewUser, Store, StoreError};

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type AccountResult<T> = Result<T, AccountError>;

/// An account about to be created, its fields checked.
pub struct NewAccount {
    email: String,
    password: String,
    is_admin: bool,
    profile: UserProfile,
}

impl NewAccount {
    /// The email is trimmed; every problem with the fields is reported at once, in the order
    /// they are read. `confirmation` is the repeated password of forms that ask for one.
    pub fn checked(
        email: &str,
        password: String,
        confirmation: Option<&str>,
        is_admin: bool,
        profile: UserProfile,
    ) -> Result<Self, Vec<FieldProblem>> {
        let email = email.trim().to_string();
        let problems = new_account_problems(&email, &password, confirmation, &profile);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(NewAccount {
            email,
            password,
            is_admin,
            profile,
        })
    }

    /// An account whose fields need no check: ours, not a person's.
    pub(super) fn trusted(email: &str, password: String, is_admin: bool) -> Self {
        NewAccount {
            email: email.to_string(),
            password,
            is_admin,
            profile: UserProfile::default(),
        }
    }

    /// The row to store: the password hashed.
    async fn hashed(self, passwords: &Passwords) -> Result<NewUser, PasswordError> {
        Ok(NewUser {
            email: self.email,
            password_hash: passwords.hash(self.password).await?,
            is_admin: self.is_admin,
            profile: self.profile,
        })
    }
}

/// Creates the account; an email already in use is a conflict.
pub async fn create_account(
    store: &Store,
    passwords: &Passwords,
    account: NewAccount,
) -> AccountResult<User> {
    let user = account.hashed(passwords).await?;
    Ok(store.create_user(user).await?)
}

/// Creates the account and its first token in one write: either both exist afterwards or
/// neither does.
pub async fn register(
    store: &Store,
    passwords: &Passwords,
    token_lifetime_secs: u64,
    account: NewAccount,
) -> AccountResult<(User, IssuedToken)> {
    let user = account.hashed(passwords).await?;
    let (issued, hash, expires_at) = fresh_token(token_lifetime_secs);
    let user = store.create_user_with_token(user, hash, expires_at).await?;
    Ok((user, issued))
}

/// Creates the account only while there is no user at all; None when there was one.
pub(super) async fn create_first_account(
    store: &Store,
    passwords: &Passwords,
    account: NewAccount,
) -> AccountResult<Option<User>> {
    let user = account.hashed(passwords).await?;
    Ok(store.create_first_user(user).await?)
}
