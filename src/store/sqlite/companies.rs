//! Companies and their members.

use rusqlite::{params, Connection};

use super::access::visible_company;
use super::{is_unique_violation, OptionalRow, SqliteStore, StoreError, StoreResult};
use crate::schema::{Company, CompanyId, CompanyMember, CompanyRole, Timestamp, UserId};
use crate::store::row_readers::company_from_row;
use crate::store::{CompanyStore, Viewer};

pub(super) fn company_by_id(conn: &Connection, company_id: CompanyId) -> StoreResult<Company> {
    conn.prepare_cached("SELECT id, name, date_added, date_updated FROM companies WHERE id = ?1")?
        .query_row([company_id], |row| company_from_row(row))
        .or_not_found(|| "Company not found".into())
}

impl CompanyStore for SqliteStore {
    async fn create_company(&self, viewer: Viewer, name: String) -> StoreResult<Company> {
        self.write(move |conn| {
            let now = Timestamp::now();
            conn.prepare_cached(
                "INSERT INTO companies (name, date_added, date_updated) VALUES (?1, ?2, ?2)",
            )?
            .execute(params![name, now.0])?;
            let company_id = CompanyId(conn.last_insert_rowid());
            conn.prepare_cached(
                "INSERT INTO company_members (company_id, user_id, role, date_added) \
                 VALUES (?1, ?2, 'owner', ?3)",
            )?
            .execute(params![company_id, viewer.user_id, now.0])?;
            company_by_id(conn, company_id)
        })
        .await
    }

    async fn companies(&self, viewer: Viewer) -> StoreResult<Vec<Company>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, name, date_added, date_updated FROM companies c \
                 WHERE ?2 OR EXISTS (SELECT 1 FROM company_members m \
                                     WHERE m.company_id = c.id AND m.user_id = ?1) \
                 ORDER BY id",
            )?;
            let rows = statement.query_map(params![viewer.user_id, viewer.is_admin], |row| {
                company_from_row(row)
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn company(&self, viewer: Viewer, company_id: CompanyId) -> StoreResult<Company> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            company_by_id(conn, company_id)
        })
        .await
    }

    async fn add_member(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        email: String,
        role: CompanyRole,
    ) -> StoreResult<CompanyMember> {
        self.write(move |conn| {
            if visible_company(conn, viewer, company_id)? != CompanyRole::Owner {
                return Err(StoreError::Forbidden(
                    "Only the company's owners can add members".into(),
                ));
            }
            let user_id: UserId = conn
                .prepare_cached("SELECT id FROM users WHERE email = ?1")?
                .query_row([&email], |row| row.get(0))
                .or_not_found(|| format!("No user with the email {email}"))?;
            conn.company_members_changed(company_id);
            let now = Timestamp::now();
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO company_members (company_id, user_id, role, date_added) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![company_id, user_id, role.as_str(), now.0]);
            match inserted {
                Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict(format!(
                    "{email} is already a member of this company"
                ))),
                Err(err) => Err(err.into()),
                Ok(_) => Ok(CompanyMember {
                    company_id,
                    user_id,
                    email: email.clone(),
                    role,
                    date_added: now,
                }),
            }
        })
        .await
    }

    async fn members(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<CompanyMember>> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            let mut statement = conn.prepare_cached(
                "SELECT m.company_id, m.user_id, u.email, m.role, m.date_added \
                 FROM company_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.company_id = ?1 ORDER BY m.role = 'member', u.email",
            )?;
            let rows = statement.query_map([company_id], |row| {
                let role: String = row.get(3)?;
                Ok(CompanyMember {
                    company_id: row.get(0)?,
                    user_id: row.get(1)?,
                    email: row.get(2)?,
                    role: CompanyRole::parse(&role).unwrap_or(CompanyRole::Member),
                    date_added: Timestamp(row.get(4)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn remove_member(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        user_id: UserId,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            let viewer_role = visible_company(conn, viewer, company_id)?;
            if viewer_role != CompanyRole::Owner && user_id != viewer.user_id {
                return Err(StoreError::Forbidden(
                    "Only the company's owners can remove other members".into(),
                ));
            }
            let role: String = conn
                .prepare_cached(
                    "SELECT role FROM company_members WHERE company_id = ?1 AND user_id = ?2",
                )?
                .query_row(params![company_id, user_id], |row| row.get(0))
                .or_not_found(|| "This user is not a member of this company".into())?;
            if role == CompanyRole::Owner.as_str() {
                let owners: i64 = conn
                    .prepare_cached(
                        "SELECT count(*) FROM company_members \
                         WHERE company_id = ?1 AND role = 'owner'",
                    )?
                    .query_row([company_id], |row| row.get(0))?;
                if owners == 1 {
                    return Err(StoreError::Conflict(
                        "This is the company's last owner; add another owner first".into(),
                    ));
                }
            }
            conn.company_members_changed(company_id);
            conn.prepare_cached(
                "DELETE FROM company_members WHERE company_id = ?1 AND user_id = ?2",
            )?
            .execute(params![company_id, user_id])?;
            Ok(())
        })
        .await
    }
}
