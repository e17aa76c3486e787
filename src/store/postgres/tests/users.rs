//! Users and access tokens on both stores.

use super::{at_once, same, Pair};
use crate::schema::{Patch, ProfileChange, UserId, UserProfile};
use crate::store::UserStore;
use crate::store::{NewUser, StandingChange, StoreError};

pub(super) fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        password_hash: format!("hash of {email}"),
        is_admin: false,
        profile: UserProfile::default(),
    }
}

const NOW: i64 = 1_800_000_000;

fn token(n: u8) -> [u8; 32] {
    [n; 32]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    same!(pair, |store| store.count_users().await);
    same!(pair, |store| store.first_user_id().await);
    let admin = NewUser {
        is_admin: true,
        ..new_user("Admin@Example.com")
    };
    let first = same!(pair, |store| store.create_first_user(clone(&admin)).await).0;
    assert!(first.unwrap().is_some());
    let again = same!(pair, |store| store
        .create_first_user(new_user("x@example.com"))
        .await)
    .0;
    assert!(again.unwrap().is_none());
    same!(pair, |store| store
        .create_user(new_user("b@example.com"))
        .await);
    // Another case of the same email is the same email.
    let taken = same!(pair, |store| store
        .create_user(new_user("B@EXAMPLE.COM"))
        .await)
    .0;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    same!(pair, |store| store.users().await);
    same!(pair, |store| store.user(UserId(2)).await);
    same!(pair, |store| store.user(UserId(99)).await);
    same!(pair, |store| store
        .credentials("admin@EXAMPLE.com".into())
        .await);
    same!(pair, |store| store
        .credentials("nobody@example.com".into())
        .await);
    same!(pair, |store| store.password_hash(UserId(2)).await);
    same!(pair, |store| store.password_hash(UserId(99)).await);
    let change = || ProfileChange {
        first_name: Patch::Set("Bea".into()),
        last_name: Patch::Set("Smith".into()),
        phone_number: Patch::Keep,
    };
    same!(pair, |store| store
        .update_profile(UserId(2), change())
        .await);
    let clear = || ProfileChange {
        last_name: Patch::Clear,
        phone_number: Patch::Set("+1 555 0100".into()),
        ..ProfileChange::default()
    };
    same!(pair, |store| store.update_profile(UserId(2), clear()).await);
    same!(pair, |store| store
        .update_profile(UserId(99), change())
        .await);
    same!(pair, |store| store
        .set_password(UserId(99), "h".into(), None)
        .await);
    same!(pair, |store| store
        .set_password(UserId(2), "new hash".into(), None)
        .await);
    same!(pair, |store| store
        .credentials("b@example.com".into())
        .await);
    let demote = StandingChange {
        is_admin: Some(false),
        is_active: None,
    };
    same!(pair, |store| store.change_standing(UserId(1), demote).await);
    same!(pair, |store| store
        .change_standing(UserId(99), demote)
        .await);
    same!(pair, |store| store.first_user_id().await);
    same!(pair, |store| store.count_users().await);
    same!(pair, |store| store.users().await);
}

/// Only what `NewUser` holds: it is not Clone.
fn clone(user: &NewUser) -> NewUser {
    NewUser {
        email: user.email.clone(),
        password_hash: user.password_hash.clone(),
        is_admin: user.is_admin,
        profile: user.profile.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    same!(pair, |store| store
        .create_user(new_user("a@example.com"))
        .await);
    same!(pair, |store| store
        .insert_token(token(1), UserId(1), NOW + 60)
        .await);
    same!(pair, |store| store
        .insert_token(token(2), UserId(1), NOW)
        .await);
    same!(pair, |store| store
        .insert_token(token(3), UserId(1), NOW + 60)
        .await);
    let valid = same!(pair, |store| store.token_owner(token(1), NOW).await).0;
    assert!(valid.unwrap().is_some());
    // Expired at NOW; unknown.
    let expired = same!(pair, |store| store.token_owner(token(2), NOW).await).0;
    assert!(expired.unwrap().is_none());
    same!(pair, |store| store.token_owner(token(9), NOW).await);
    same!(pair, |store| store.revoke_token(token(1)).await);
    let revoked = same!(pair, |store| store.token_owner(token(1), NOW).await).0;
    assert!(revoked.unwrap().is_none());

    // A user made with a token; the token of one refused as a duplicate is not kept.
    same!(pair, |store| {
        store
            .create_user_with_token(new_user("c@example.com"), token(4), NOW + 60)
            .await
    });
    same!(pair, |store| store.token_owner(token(4), NOW).await);
    same!(pair, |store| {
        store
            .create_user_with_token(new_user("C@example.com"), token(5), NOW + 60)
            .await
    });
    let dropped = same!(pair, |store| store.token_owner(token(5), NOW).await).0;
    assert!(dropped.unwrap().is_none());

    // A new password keeps the session that asked and ends the others.
    same!(pair, |store| store
        .insert_token(token(6), UserId(2), NOW + 60)
        .await);
    same!(pair, |store| {
        store
            .set_password(UserId(2), "new".into(), Some(token(6)))
            .await
    });
    same!(pair, |store| store.token_owner(token(4), NOW).await);
    same!(pair, |store| store.token_owner(token(6), NOW).await);

    // Deactivating ends every session; reactivating brings none back.
    let off = StandingChange {
        is_admin: None,
        is_active: Some(false),
    };
    let on = StandingChange {
        is_admin: Some(true),
        is_active: Some(true),
    };
    same!(pair, |store| store.change_standing(UserId(2), off).await);
    same!(pair, |store| store.token_owner(token(6), NOW).await);
    same!(pair, |store| store
        .credentials("c@example.com".into())
        .await);
    same!(pair, |store| store.change_standing(UserId(2), on).await);
    let ended = same!(pair, |store| store.token_owner(token(6), NOW).await).0;
    assert!(ended.unwrap().is_none());
    same!(pair, |store| store
        .insert_token(token(7), UserId(2), NOW + 60)
        .await);
    let admin = same!(pair, |store| store.token_owner(token(7), NOW).await).0;
    assert!(admin.unwrap().unwrap().is_admin);

    // Tokens 2 (expired at NOW) and 3 (later) are left of user 1: the purge takes token 2.
    let purged = same!(pair, |store| store.purge_expired_tokens(NOW).await).0;
    assert_eq!(purged.unwrap(), 1);
    same!(pair, |store| store.token_owner(token(3), NOW).await);
    // Time only moves on: SQLite's token cache knows that a token it saw expires, and is not
    // told of a purge.
    same!(pair, |store| store.purge_expired_tokens(NOW + 60).await);
    same!(pair, |store| store.token_owner(token(3), NOW + 60).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_deletes_expired_tokens_only_however_many() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let database = &pair.postgres;
    let user = database
        .create_user(new_user("a@example.com"))
        .await
        .unwrap();
    for n in 0..1207u32 {
        let mut hash = [0u8; 32];
        hash[..4].copy_from_slice(&n.to_be_bytes());
        database
            .insert_token(hash, user.id, NOW - i64::from(n))
            .await
            .unwrap();
    }
    database
        .insert_token(token(255), user.id, NOW + 1)
        .await
        .unwrap();
    assert_eq!(database.purge_expired_tokens(NOW).await.unwrap(), 1207);
    assert!(database
        .token_owner(token(255), NOW)
        .await
        .unwrap()
        .is_some());
    assert_eq!(database.purge_expired_tokens(NOW).await.unwrap(), 0);
}

/// Processes creating the same email at once, each in another case: exactly one succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_many_creating_an_email_at_once_succeeds() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let emails = [
        "race@example.com",
        "RACE@example.com",
        "Race@Example.Com",
        "race@EXAMPLE.com",
    ];
    let answers = at_once(&pair, 16, |process, n| async move {
        process
            .create_user(new_user(emails[n % emails.len()]))
            .await
    })
    .await;
    let mut created = 0;
    for answer in answers {
        match answer {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(message)) => {
                assert!(message.starts_with("A user with the email "), "{message}");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(pair.postgres.count_users().await.unwrap(), 1);
}

/// Processes starting at once each bootstrap the first admin: exactly one is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_first_user_when_processes_start_at_once() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let answers = at_once(&pair, 8, |process, n| async move {
        process
            .create_first_user(new_user(&format!("admin{n}@example.com")))
            .await
    })
    .await;
    let made: Vec<_> = answers.into_iter().filter_map(Result::unwrap).collect();
    assert_eq!(made.len(), 1);
    assert_eq!(pair.postgres.count_users().await.unwrap(), 1);
}
