//! What both backends decide alike when they queue generation: a task's id, and which RSAs of
//! an ad group a run fills. Each backend writes the rows with its own statements, inside the
//! transaction of the change that asked for them.

use rand::RngCore;

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

pub(crate) const RSAS_PER_RUN: usize = 3;

/// A task id: `task_` and 24 hex digits, time first so that ids sort by creation.
pub(crate) fn new_task_id() -> String {
    let millis = chrono::Utc::now().timestamp_millis() as u64 & 0xffff_ffff_ffff;
    let mut random = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut random);
    let random = random
        .iter()
        .fold(0u64, |all, byte| all << 8 | u64::from(*byte));
    format!("task_{millis:012x}{random:012x}")
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

    #[test]
    fn task_ids_sort_by_creation() {
        let first = new_task_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_task_id();
        assert_eq!(first.len(), 29);
        assert!(first < second, "{first} {second}");
    }
}
