//! Who may see what. Every company-scoped query in the store starts from `visible_company`
//! (the thread list from its remembered form), every thread-scoped one from `visible_thread`:
//! a company the viewer neither belongs to nor administers does not exist, nor do its threads.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension};

use super::cache::{OwnedBytes, StampedCache};
use super::{OptionalRow, StoreError, StoreResult};
use crate::schema::{CompanyId, CompanyRole, DraftId, ThreadId, UserId};
use crate::store::layouts::SELECT_THREADS;
use crate::store::row_readers::{thread_from_row, ThreadRow};
use crate::store::{thread_not_found, Viewer};

/// The viewer's role in a company, or NotFound. Admins act as owners everywhere.
pub(super) fn visible_company(
    conn: &Connection,
    viewer: Viewer,
    company_id: CompanyId,
) -> StoreResult<CompanyRole> {
    role_seen_by(viewer, membership(conn, viewer.user_id, company_id)?)
}

impl OwnedBytes for CompanyRole {}

impl OwnedBytes for UserId {}

/// Per existing company: a user's role in it, or None for a user who is not a member.
pub(super) type Memberships = StampedCache<CompanyId, UserId, Option<CompanyRole>>;

/// `visible_company` as a read last found it, if no write has changed the company's members
/// since. Lets the hottest reads check access without leaving the async thread.
pub(super) fn visible_company_in_memory(
    memberships: &Memberships,
    viewer: Viewer,
    company_id: CompanyId,
) -> Option<StoreResult<CompanyRole>> {
    let membership = memberships.get(company_id, &viewer.user_id)?;
    Some(role_seen_by(viewer, Some(membership)))
}

/// `visible_company` for reads: remembers what the database answered.
pub(super) fn visible_company_remembering(
    conn: &Connection,
    memberships: &Memberships,
    viewer: Viewer,
    company_id: CompanyId,
) -> StoreResult<CompanyRole> {
    if let Some(known) = visible_company_in_memory(memberships, viewer, company_id) {
        return known;
    }
    let stamp = memberships.stamp(company_id);
    let found = membership(conn, viewer.user_id, company_id);
    match &found {
        Ok(Some(role)) => memberships.put(company_id, stamp, viewer.user_id, *role),
        // Ids of companies that do not exist leave nothing behind, nor do failed reads (the id
        // may be one).
        Ok(None) | Err(_) => memberships.invalidate(company_id),
    }
    role_seen_by(viewer, found?)
}

/// None when the company does not exist; else the user's role in it, None for a non-member.
fn membership(
    conn: &Connection,
    user_id: UserId,
    company_id: CompanyId,
) -> StoreResult<Option<Option<CompanyRole>>> {
    let found: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT m.role FROM companies c LEFT JOIN company_members m \
             ON m.company_id = c.id AND m.user_id = ?2 WHERE c.id = ?1",
        )?
        .query_row(params![company_id, user_id], |row| row.get(0))
        .optional()?;
    Ok(found.map(|role| role.map(|role| CompanyRole::parse(&role).unwrap_or(CompanyRole::Member))))
}

fn role_seen_by(
    viewer: Viewer,
    membership: Option<Option<CompanyRole>>,
) -> StoreResult<CompanyRole> {
    match membership {
        Some(Some(role)) => Ok(role),
        Some(None) if viewer.is_admin => Ok(CompanyRole::Owner),
        _ => Err(StoreError::NotFound("Company not found".into())),
    }
}

static VISIBLE_THREAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE t.thread_id = ?1 AND (?2 IS NULL OR t.company_id = ?2) AND (?3 OR EXISTS \
         (SELECT 1 FROM company_members m WHERE m.company_id = t.company_id AND m.user_id = ?4))",
        *SELECT_THREADS
    )
});

/// The thread, if the viewer may see it (and it is in `company_id` when given).
pub(super) fn visible_thread(
    conn: &Connection,
    viewer: Viewer,
    thread_id: &ThreadId,
    company_id: Option<CompanyId>,
) -> StoreResult<ThreadRow> {
    conn.prepare_cached(&VISIBLE_THREAD)?
        .query_row(
            params![thread_id, company_id, viewer.is_admin, viewer.user_id],
            |row| thread_from_row(row),
        )
        .or_not_found(|| thread_not_found().to_string())
}

/// The company of the draft, if the viewer may see it; NotFound otherwise, exactly as for a
/// draft that does not exist.
pub(super) fn visible_draft(
    conn: &Connection,
    viewer: Viewer,
    draft_id: DraftId,
) -> StoreResult<CompanyId> {
    conn.prepare_cached(
        "SELECT d.company_id FROM campaign_drafts d WHERE d.id = ?1 AND (?2 OR EXISTS \
         (SELECT 1 FROM company_members m WHERE m.company_id = d.company_id AND m.user_id = ?3))",
    )?
    .query_row(params![draft_id, viewer.is_admin, viewer.user_id], |row| {
        Ok(CompanyId(row.get(0)?))
    })
    .or_not_found(|| "Campaign draft not found".into())
}
