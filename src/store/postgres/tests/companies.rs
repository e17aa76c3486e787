//! Companies and members on both stores: who may see and change what.

use super::users::new_user;
use super::{at_once, same, Pair};
use crate::schema::{CompanyId, CompanyRole, UserId};
use crate::store::{CompanyStore, UserStore};
use crate::store::{StoreError, Viewer};

fn viewer(user_id: i64) -> Viewer {
    Viewer {
        user_id: UserId(user_id),
        is_admin: false,
    }
}

const ADMIN: Viewer = Viewer {
    user_id: UserId(99),
    is_admin: true,
};

/// Users 1-4: `Zed@…`, `_u@…` and `adam@…` (whose order differs when case is folded or not),
/// and `dora@…`.
async fn four_users(pair: &Pair) {
    for email in [
        "Zed@example.com",
        "_u@example.com",
        "adam@example.com",
        "dora@example.com",
    ] {
        same!(pair, |store| store.create_user(new_user(email)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_and_members_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    four_users(&pair).await;
    let (zed, underscore, adam, dora) = (viewer(1), viewer(2), viewer(3), viewer(4));
    const ACME: CompanyId = CompanyId(1);
    const GLOBEX: CompanyId = CompanyId(2);
    same!(pair, |store| store.create_company(zed, "Acme".into()).await);
    same!(pair, |store| store
        .create_company(dora, "Globex".into())
        .await);
    same!(pair, |store| store.companies(zed).await);
    same!(pair, |store| store.companies(ADMIN).await);
    same!(pair, |store| store.companies(adam).await);
    same!(pair, |store| store.company(zed, ACME).await);
    same!(pair, |store| store.company(ADMIN, GLOBEX).await);
    // A company of others, and one that does not exist, are alike not found.
    let other = same!(pair, |store| store.company(zed, GLOBEX).await).0;
    assert!(matches!(other, Err(StoreError::NotFound(_))), "{other:?}");
    same!(pair, |store| store.company(zed, CompanyId(77)).await);
    same!(pair, |store| store.members(zed, GLOBEX).await);

    // Members are found by email in any case; the answer says the email as asked.
    let member = CompanyRole::Member;
    same!(pair, |store| {
        store
            .add_member(zed, ACME, "ADAM@example.com".into(), member)
            .await
    });
    let twice = same!(pair, |store| {
        store
            .add_member(zed, ACME, "adam@EXAMPLE.com".into(), CompanyRole::Owner)
            .await
    })
    .0;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    same!(pair, |store| {
        store
            .add_member(zed, ACME, "nobody@example.com".into(), member)
            .await
    });
    let not_owner = same!(pair, |store| {
        store
            .add_member(adam, ACME, "dora@example.com".into(), member)
            .await
    })
    .0;
    assert!(
        matches!(not_owner, Err(StoreError::Forbidden(_))),
        "{not_owner:?}"
    );
    same!(pair, |store| {
        store
            .add_member(zed, GLOBEX, "adam@example.com".into(), member)
            .await
    });
    same!(pair, |store| {
        store
            .add_member(ADMIN, ACME, "_U@example.com".into(), member)
            .await
    });
    same!(pair, |store| {
        store
            .add_member(zed, ACME, "dora@example.com".into(), CompanyRole::Owner)
            .await
    });
    // Owners first, then by email with ASCII case folded.
    let members = same!(pair, |store| store.members(adam, ACME).await).0;
    let emails: Vec<String> = members.unwrap().into_iter().map(|m| m.email).collect();
    assert_eq!(
        emails,
        [
            "dora@example.com",
            "Zed@example.com",
            "_u@example.com",
            "adam@example.com"
        ]
    );
    same!(pair, |store| store.companies(adam).await);
    same!(pair, |store| store.members(adam, GLOBEX).await);

    // Removing: a member only themself, the last owner never.
    same!(pair, |store| store
        .remove_member(adam, ACME, zed.user_id)
        .await);
    same!(pair, |store| store
        .remove_member(zed, GLOBEX, dora.user_id)
        .await);
    same!(pair, |store| store
        .remove_member(dora, GLOBEX, dora.user_id)
        .await);
    same!(pair, |store| store
        .remove_member(zed, ACME, UserId(42))
        .await);
    same!(pair, |store| store
        .remove_member(adam, ACME, adam.user_id)
        .await);
    same!(pair, |store| store.company(adam, ACME).await);
    same!(pair, |store| store
        .remove_member(ADMIN, ACME, zed.user_id)
        .await);
    let last = same!(pair, |store| store
        .remove_member(dora, ACME, dora.user_id)
        .await)
    .0;
    assert!(matches!(last, Err(StoreError::Conflict(_))), "{last:?}");
    same!(pair, |store| store
        .remove_member(dora, ACME, underscore.user_id)
        .await);
    same!(pair, |store| store.members(dora, ACME).await);
    same!(pair, |store| store.members(ADMIN, CompanyId(77)).await);
}

/// Two owners removing each other at once, again and again: one goes, the other is the last
/// owner and stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_removing_each_other_at_once_leave_one() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let database = &pair.postgres;
    for email in ["a@example.com", "b@example.com"] {
        database.create_user(new_user(email)).await.unwrap();
    }
    let (a, b) = (viewer(1), viewer(2));
    for round in 0..10 {
        let company = database
            .create_company(a, format!("Round {round}"))
            .await
            .unwrap();
        database
            .add_member(a, company.id, "b@example.com".into(), CompanyRole::Owner)
            .await
            .unwrap();
        let answers = at_once(&pair, 2, |process, n| async move {
            let (by, whom) = if n == 0 { (a, b) } else { (b, a) };
            process.remove_member(by, company.id, whom.user_id).await
        })
        .await;
        let removed = answers.iter().filter(|answer| answer.is_ok()).count();
        assert_eq!(removed, 1, "round {round}: {answers:?}");
        let left = database.members(ADMIN, company.id).await.unwrap();
        assert_eq!(left.len(), 1, "round {round}");
        assert_eq!(left[0].role, CompanyRole::Owner);
    }
}
