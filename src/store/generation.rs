//! What both backends' generation queues share that is not SQL: task ids, how many RSAs a run
//! makes and which a refresh fills, what a claimed task is to do, the brief's profile, the
//! extension items as stored, and the words a task fails with. Each backend writes them with
//! its own statements (`sqlite/generation.rs`, `postgres/generation.rs`).

use std::collections::HashSet;

use rand::RngCore;
use serde_json::Value;

use super::{GeneratedExtensions, JobWork, StoreResult};

/// How an ad group's RSAs are (re)generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaRun {
    /// Three new RSAs, filled by the task (the generate endpoint).
    ThreeNew,
    /// After a change to the ad group's name or keywords: the RSAs no person wrote or edited
    /// are filled again (three new ones when the group has no RSA at all); RSAs a person
    /// wrote or edited are left alone, and when only those exist nothing is queued.
    Refresh,
}

/// RSAs a run makes when it makes new ones.
pub const RSAS_PER_RUN: usize = 3;

/// A task id: `task_` and 24 hex digits, time first so that ids sort by creation.
pub fn new_task_id() -> String {
    let millis = chrono::Utc::now().timestamp_millis() as u64 & 0xffff_ffff_ffff;
    let mut random = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut random);
    let random = random
        .iter()
        .fold(0u64, |all, byte| all << 8 | u64::from(*byte));
    format!("task_{millis:012x}{random:012x}")
}

/// What a claimed task of `kind` is to do, its RSAs still to be listed; None for a kind the
/// worker does not do (the task then fails with [`UNSUPPORTED_KIND`]).
pub fn job_work(kind: &str, ad_group_id: Option<i64>) -> Option<JobWork> {
    match (kind, ad_group_id) {
        ("rsas", Some(ad_group_id)) => Some(JobWork::Rsas {
            ad_group_id,
            rsa_ids: Vec::new(),
        }),
        ("extensions", _) => Some(JobWork::Extensions),
        _ => None,
    }
}

pub const UNSUPPORTED_KIND: &str = "This kind of generation task is not supported";

/// What an RSA left waiting by a task that is over says.
pub const INTERRUPTED: &str = "Generation was interrupted; generate again to retry";

/// What a task cut off by a stop `attempts` times (its last chance) fails with.
pub fn cut_off_too_often(attempts: i64) -> String {
    let times = if attempts == 1 {
        "once".to_string()
    } else {
        format!("{attempts} times")
    };
    format!(
        "Generation was cut off by a server stop {times} and was not tried again; generate \
         again to retry"
    )
}

/// The company's stored business profile as the brief shows it: an empty object when there is
/// none or it does not parse.
pub fn brief_profile(stored: Option<String>) -> Value {
    stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| Value::Object(Default::default()))
}

/// Generated items of one kind of extension, as rows of `draft_extension_items`.
pub struct ExtensionRows {
    /// `draft_extension_items.kind`.
    pub kind: &'static str,
    /// The field of the stored JSON that tells two items apart (case-blind).
    pub key_field: &'static str,
    /// Each item's key, lower-cased, and its JSON.
    pub items: Vec<(String, String)>,
}

impl ExtensionRows {
    /// The JSON of the items to add after `stored` (the JSON of the draft's items of this kind):
    /// those whose key is new, the first of any that come twice. Keys are compared here, not
    /// in SQL, so that both databases fold case alike (SQLite's lower() folds only ASCII).
    pub fn new_items(&self, stored: &[String]) -> Vec<&str> {
        let mut known: HashSet<String> = stored
            .iter()
            .filter_map(|data| {
                let item: Value = serde_json::from_str(data).ok()?;
                Some(item.get(self.key_field)?.as_str()?.to_lowercase())
            })
            .collect();
        self.items
            .iter()
            .filter(|(key, _)| known.insert(key.clone()))
            .map(|(_, data)| data.as_str())
            .collect()
    }
}

/// The generated sitelinks, callouts and structured snippets as rows to add.
pub fn extension_rows(items: &GeneratedExtensions) -> StoreResult<[ExtensionRows; 3]> {
    fn rows<T: serde::Serialize>(
        kind: &'static str,
        key_field: &'static str,
        items: &[T],
        key: fn(&T) -> &str,
    ) -> StoreResult<ExtensionRows> {
        let items = items
            .iter()
            .map(|item| Ok((key(item).to_lowercase(), serde_json::to_string(item)?)))
            .collect::<StoreResult<_>>()?;
        Ok(ExtensionRows {
            kind,
            key_field,
            items,
        })
    }
    Ok([
        rows("sitelink", "link_text", &items.sitelinks, |item| {
            &item.link_text
        })?,
        rows("callout", "callout_text", &items.callouts, |item| {
            &item.callout_text
        })?,
        rows(
            "structured_snippet",
            "header",
            &items.structured_snippets,
            |item| &item.header,
        )?,
    ])
}

/// The RSAs a run's task fills.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RsaTargets {
    /// These existing RSAs, generated again.
    Existing(Vec<i64>),
    /// `RSAS_PER_RUN` new RSAs, after the ad group's others.
    New,
}

/// What `run` fills in an ad group that `has_rsas` or not, of which `refreshable` are the
/// RSAs no person wrote or edited, in their order (read only for a refresh). None when there
/// is nothing to queue: every RSA of the ad group is a person's.
pub(crate) fn rsa_targets(
    run: RsaRun,
    has_rsas: bool,
    refreshable: Vec<i64>,
) -> Option<RsaTargets> {
    match run {
        RsaRun::Refresh if has_rsas && refreshable.is_empty() => None,
        RsaRun::Refresh if has_rsas => Some(RsaTargets::Existing(refreshable)),
        RsaRun::Refresh | RsaRun::ThreeNew => Some(RsaTargets::New),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_leaves_an_ad_group_of_edited_rsas_alone() {
        assert_eq!(rsa_targets(RsaRun::Refresh, true, vec![]), None);
        assert_eq!(
            rsa_targets(RsaRun::Refresh, true, vec![4, 2]),
            Some(RsaTargets::Existing(vec![4, 2]))
        );
        assert_eq!(
            rsa_targets(RsaRun::Refresh, false, vec![]),
            Some(RsaTargets::New)
        );
        assert_eq!(
            rsa_targets(RsaRun::ThreeNew, true, vec![]),
            Some(RsaTargets::New)
        );
    }
}
