//! Who may see what, on PostgreSQL: as `sqlite/access.rs` answers it, read from the database
//! every time, since another process may have just changed a company's members.

use deadpool_postgres::GenericClient;

use super::statements::optional_row;
use crate::schema::{CompanyId, CompanyRole, DraftId, ThreadId};
use crate::store::layouts::SELECT_THREADS;
use crate::store::row_readers::{thread_from_row, ThreadRow};
use crate::store::{thread_not_found, StoreError, StoreResult, Viewer};

/// Whether the check also locks the company's row until the transaction ends: writes that
/// change a company's members take it, so that they run one after another (two owners
/// removing each other at once cannot leave the company with none).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Members {
    Read,
    Change,
}

/// The viewer's role in a company, or NotFound. Admins act as owners everywhere.
pub(super) async fn visible_company(
    client: &impl GenericClient,
    viewer: Viewer,
    company_id: CompanyId,
    members: Members,
) -> StoreResult<CompanyRole> {
    let lock = match members {
        Members::Read => "",
        Members::Change => " FOR NO KEY UPDATE OF c",
    };
    let found = optional_row(
        client,
        &format!(
            "SELECT m.role FROM companies c LEFT JOIN company_members m \
             ON m.company_id = c.id AND m.user_id = $2 WHERE c.id = $1{lock}"
        ),
        &[&company_id.0, &viewer.user_id.0],
    )
    .await?;
    let role: Option<String> = match found {
        None => return Err(company_not_found()),
        Some(row) => row.try_get(0)?,
    };
    match role.as_deref().map(CompanyRole::parse) {
        Some(role) => Ok(role.unwrap_or(CompanyRole::Member)),
        None if viewer.is_admin => Ok(CompanyRole::Owner),
        None => Err(company_not_found()),
    }
}

fn company_not_found() -> StoreError {
    StoreError::NotFound("Company not found".into())
}

/// The thread, if the viewer may see it (and it is in `company_id` when given); `lock` is
/// appended to the query (`FOR UPDATE OF t` to hold it until the transaction ends).
pub(super) async fn visible_thread(
    client: &impl GenericClient,
    viewer: Viewer,
    thread_id: &ThreadId,
    company_id: Option<CompanyId>,
    lock: &str,
) -> StoreResult<ThreadRow> {
    let found = optional_row(
        client,
        &format!(
            "{} WHERE t.thread_id = $1 AND ($2::BIGINT IS NULL OR t.company_id = $2) \
             AND ($3 OR EXISTS (SELECT 1 FROM company_members m \
                                WHERE m.company_id = t.company_id AND m.user_id = $4)){lock}",
            *SELECT_THREADS
        ),
        &[
            &thread_id.0,
            &company_id.map(|id| id.0),
            &viewer.is_admin,
            &viewer.user_id.0,
        ],
    )
    .await?;
    Ok(thread_from_row(&found.ok_or_else(thread_not_found)?)?)
}

/// For [`visible_draft`]: holds the draft's row until the transaction ends, so that the draft's
/// writers (edits, generation) go one after another.
pub(super) const HOLD_DRAFT: &str = " FOR NO KEY UPDATE OF d";

/// The company of a draft the viewer may see, or NotFound; `lock` is appended to the query
/// ([`HOLD_DRAFT`], or nothing to read).
pub(super) async fn visible_draft(
    client: &impl GenericClient,
    viewer: Viewer,
    draft_id: DraftId,
    lock: &str,
) -> StoreResult<CompanyId> {
    let found = optional_row(
        client,
        &format!(
            "SELECT d.company_id FROM campaign_drafts d WHERE d.id = $1 AND ($2 OR EXISTS \
             (SELECT 1 FROM company_members m WHERE m.company_id = d.company_id \
              AND m.user_id = $3)){lock}"
        ),
        &[&draft_id.0, &viewer.is_admin, &viewer.user_id.0],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound("Campaign draft not found".into()))?;
    Ok(CompanyId(found.try_get(0)?))
}
