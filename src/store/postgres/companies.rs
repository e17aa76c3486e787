//! Companies and their members, on PostgreSQL.

use deadpool_postgres::GenericClient;

use super::access::{visible_company, Members};
use super::error::on_unique;
use super::statements::{execute, optional_row, row, rows};
use super::PostgresDatabase;
use crate::schema::{Company, CompanyId, CompanyMember, CompanyRole, Timestamp, UserId};
use crate::store::layouts::COMPANY_COLUMNS;
use crate::store::row_readers::company_from_row;
use crate::store::CompanyStore;
use crate::store::{StoreError, StoreResult, Viewer};

pub(super) async fn company_by_id(
    client: &impl GenericClient,
    company_id: CompanyId,
) -> StoreResult<Company> {
    let found = optional_row(
        client,
        &format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = $1"),
        &[&company_id.0],
    )
    .await?;
    let found = found.ok_or_else(|| StoreError::NotFound("Company not found".into()))?;
    Ok(company_from_row(&found)?)
}

impl CompanyStore for PostgresDatabase {
    /// Creates a company with the viewer as its owner.
    async fn create_company(&self, viewer: Viewer, name: String) -> StoreResult<Company> {
        let now = Timestamp::now();
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let company = company_from_row(
            &row(
                &tx,
                &format!(
                    "INSERT INTO companies (name, date_added, date_updated) VALUES ($1, $2, $2) \
                     RETURNING {COMPANY_COLUMNS}"
                ),
                &[&name, &now.0],
            )
            .await?,
        )?;
        execute(
            &tx,
            "INSERT INTO company_members (company_id, user_id, role, date_added) \
             VALUES ($1, $2, 'owner', $3)",
            &[&company.id.0, &viewer.user_id.0, &now.0],
        )
        .await?;
        tx.commit().await?;
        Ok(company)
    }

    /// The companies the viewer belongs to; for an admin, every company.
    async fn companies(&self, viewer: Viewer) -> StoreResult<Vec<Company>> {
        let client = self.connection().await?;
        rows(
            &client,
            &format!(
                "SELECT {COMPANY_COLUMNS} FROM companies c \
                 WHERE $2 OR EXISTS (SELECT 1 FROM company_members m \
                                     WHERE m.company_id = c.id AND m.user_id = $1) \
                 ORDER BY id"
            ),
            &[&viewer.user_id.0, &viewer.is_admin],
        )
        .await?
        .iter()
        .map(|row| Ok(company_from_row(row)?))
        .collect()
    }

    async fn company(&self, viewer: Viewer, company_id: CompanyId) -> StoreResult<Company> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        company_by_id(&client, company_id).await
    }

    /// Adds a member by email; only owners (and admins) may.
    async fn add_member(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        email: String,
        role: CompanyRole,
    ) -> StoreResult<CompanyMember> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        if visible_company(&tx, viewer, company_id, Members::Change).await? != CompanyRole::Owner {
            return Err(StoreError::Forbidden(
                "Only the company's owners can add members".into(),
            ));
        }
        let user = optional_row(
            &tx,
            "SELECT id FROM users WHERE lower(email) = lower($1)",
            &[&email],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("No user with the email {email}")))?;
        let user_id = UserId(user.try_get(0)?);
        let now = Timestamp::now();
        execute(
            &tx,
            "INSERT INTO company_members (company_id, user_id, role, date_added) \
             VALUES ($1, $2, $3, $4)",
            &[&company_id.0, &user_id.0, &role.as_str(), &now.0],
        )
        .await
        .map_err(|err| {
            on_unique(err, || {
                format!("{email} is already a member of this company")
            })
        })?;
        tx.commit().await?;
        Ok(CompanyMember {
            company_id,
            user_id,
            email,
            role,
            date_added: now,
        })
    }

    /// The company's members, owners first, then by email compared as SQLite's NOCASE does
    /// (ASCII letters folded, then byte by byte).
    async fn members(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<CompanyMember>> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        rows(
            &client,
            "SELECT m.company_id, m.user_id, u.email, m.role, m.date_added \
             FROM company_members m JOIN users u ON u.id = m.user_id \
             WHERE m.company_id = $1 ORDER BY m.role = 'member', lower(u.email COLLATE \"C\")",
            &[&company_id.0],
        )
        .await?
        .iter()
        .map(|row| {
            let role: String = row.try_get(3)?;
            Ok(CompanyMember {
                company_id: CompanyId(row.try_get(0)?),
                user_id: UserId(row.try_get(1)?),
                email: row.try_get(2)?,
                role: CompanyRole::parse(&role).unwrap_or(CompanyRole::Member),
                date_added: Timestamp(row.try_get(4)?),
            })
        })
        .collect()
    }

    /// Removes a member. Owners (and admins) remove anyone; a member may remove only themself.
    /// The last owner stays, so that someone can still manage the company: the company's row
    /// is locked while its owners are counted.
    async fn remove_member(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        user_id: UserId,
    ) -> StoreResult<()> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let viewer_role = visible_company(&tx, viewer, company_id, Members::Change).await?;
        if viewer_role != CompanyRole::Owner && user_id != viewer.user_id {
            return Err(StoreError::Forbidden(
                "Only the company's owners can remove other members".into(),
            ));
        }
        let role: String = optional_row(
            &tx,
            "SELECT role FROM company_members WHERE company_id = $1 AND user_id = $2",
            &[&company_id.0, &user_id.0],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("This user is not a member of this company".into()))?
        .try_get(0)?;
        if role == CompanyRole::Owner.as_str() {
            let owners: i64 = row(
                &tx,
                "SELECT count(*) FROM company_members WHERE company_id = $1 AND role = 'owner'",
                &[&company_id.0],
            )
            .await?
            .try_get(0)?;
            if owners == 1 {
                return Err(StoreError::Conflict(
                    "This is the company's last owner; add another owner first".into(),
                ));
            }
        }
        execute(
            &tx,
            "DELETE FROM company_members WHERE company_id = $1 AND user_id = $2",
            &[&company_id.0, &user_id.0],
        )
        .await?;
        Ok(tx.commit().await?)
    }
}
