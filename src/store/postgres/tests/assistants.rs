//! The assistants and their instructions on both stores.

use super::{same, Pair};
use crate::store::AssistantStore;
use crate::store::StoreError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assistants_answer_as_on_sqlite() {
    let Some(pair) = Pair::new().await else {
        return;
    };
    let all = same!(pair, |store| store.assistants().await).0;
    assert_eq!(all.unwrap().len(), 4);
    same!(pair, |store| store
        .set_instructions("asst_general".into(), Some("Be brief.".into()))
        .await);
    same!(pair, |store| store
        .set_instructions(
            "asst_onboarding".into(),
            Some("Ask one thing at a time.".into())
        )
        .await);
    same!(pair, |store| store.assistants().await);
    // None restores the built-in instructions.
    same!(pair, |store| store
        .set_instructions("asst_general".into(), None)
        .await);
    let unknown = same!(pair, |store| store
        .set_instructions("asst_nobody".into(), Some("x".into()))
        .await)
    .0;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    same!(pair, |store| store.assistants().await);
}
