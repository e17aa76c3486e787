//! A company's Google Ads customers and Google Business Profile locations, on PostgreSQL.
//! What SQLite's single writer gives, here by the statements themselves: a new one is inserted
//! `ON CONFLICT DO NOTHING` (two processes adding the same one at once: one row, the other a
//! Conflict), a change is one `UPDATE` (the row's lock orders two changes, neither is lost),
//! and a delete locks the row before counting its users, so that no thread can be scoped to it
//! between the count and the delete.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::access::{visible_company, Members};
use super::statements::{execute, optional_row, row, rows, snapshot};
use super::PostgresDatabase;
use crate::schema::{
    CompanyId, CompanyWithConnections, GoogleAdsCustomer, GoogleAdsCustomerCreate,
    GoogleAdsCustomerUpdate, GoogleBusinessLocation, GoogleBusinessLocationUpdate, Timestamp,
    UserId,
};
use crate::store::layouts::{COMPANY_COLUMNS, CUSTOMER_COLUMNS, LOCATION_COLUMNS};
use crate::store::parameters::{address_text, patch_params};
use crate::store::row_readers::{company_from_row, customer_at, location_at};
use crate::store::ConnectionStore;
use crate::store::{still_used, StoreError, StoreResult, Viewer};

/// What tells customers from locations where the two are handled alike.
struct Kind<T> {
    table: &'static str,
    columns: &'static str,
    /// Reads one from `columns` starting at the given column.
    read: fn(&Row, usize) -> Result<T, tokio_postgres::Error>,
    /// Their order: by id, text compared byte by byte as SQLite's BINARY collation does.
    order: &'static str,
    /// The column of `chat_threads` that scopes a thread to one of them.
    thread_column: &'static str,
    /// The column of `campaign_drafts` that names one of them, if drafts do.
    draft_column: Option<&'static str>,
    /// What one of them is called in messages, before its id.
    name: &'static str,
    /// Those the connections endpoints list (the SQLite store's `connected`, which says why).
    connected: &'static str,
}

const CUSTOMERS: Kind<GoogleAdsCustomer> = Kind {
    table: "google_ads_customers",
    columns: CUSTOMER_COLUMNS,
    read: customer_at,
    order: "id",
    thread_column: "customer_id",
    draft_column: Some("google_ads_customer_id"),
    name: "Google Ads customer",
    connected: "is_active AND NOT is_deleted AND coalesce(upper(trim(status)), '') \
                NOT IN ('CANCELED', 'SUSPENDED', 'CLOSED')",
};

const LOCATIONS: Kind<GoogleBusinessLocation> = Kind {
    table: "google_business_locations",
    columns: LOCATION_COLUMNS,
    read: location_at,
    order: "id COLLATE \"C\"",
    thread_column: "location_id",
    draft_column: None,
    name: "Google Business location",
    connected: "true",
};

fn already_registered<T>(kind: &Kind<T>, id: &dyn std::fmt::Display) -> StoreError {
    StoreError::Conflict(format!(
        "{} {id} is already registered in this company",
        kind.name
    ))
}

fn not_registered<T>(kind: &Kind<T>, id: &dyn std::fmt::Display) -> StoreError {
    StoreError::NotFound(format!(
        "{} {id} is not registered in this company",
        kind.name
    ))
}

/// The one row an `INSERT ... ON CONFLICT DO NOTHING RETURNING` answered, a Conflict for none.
fn inserted<T>(found: Option<Row>, kind: &Kind<T>, id: &dyn std::fmt::Display) -> StoreResult<T> {
    Ok((kind.read)(
        &found.ok_or_else(|| already_registered(kind, id))?,
        0,
    )?)
}

/// How many of the company's rows of `table` name the customer or location `id` in `column`.
async fn users_of(
    client: &impl GenericClient,
    table: &str,
    column: &str,
    company_id: CompanyId,
    id: &(dyn tokio_postgres::types::ToSql + Sync),
) -> StoreResult<i64> {
    Ok(row(
        client,
        &format!("SELECT count(*) FROM {table} WHERE company_id = $1 AND {column} = $2"),
        &[&company_id.0, id],
    )
    .await?
    .try_get(0)?)
}

/// Deletes the customer or location `id` of the company, a Conflict while threads are scoped to
/// it or campaign drafts are made for it; NotFound when it is not there. Its row is locked
/// first: a thread or draft naming it must lock it too (its foreign key), so it waits for the
/// delete, and one that came first is counted.
async fn delete_unused<T, Id>(
    database: &PostgresDatabase,
    viewer: Viewer,
    kind: &Kind<T>,
    company_id: CompanyId,
    id: Id,
) -> StoreResult<()>
where
    Id: tokio_postgres::types::ToSql + Sync + std::fmt::Display,
{
    let mut client = database.connection().await?;
    let tx = client.transaction().await?;
    visible_company(&tx, viewer, company_id, Members::Read).await?;
    optional_row(
        &tx,
        &format!(
            "SELECT 1 FROM {} WHERE company_id = $1 AND id = $2 FOR UPDATE",
            kind.table
        ),
        &[&company_id.0, &id],
    )
    .await?
    .ok_or_else(|| not_registered(kind, &id))?;
    let threads = users_of(&tx, "chat_threads", kind.thread_column, company_id, &id).await?;
    if threads > 0 {
        return Err(still_used(format!("{} {id}", kind.name), threads));
    }
    if let Some(column) = kind.draft_column {
        let drafts = users_of(&tx, "campaign_drafts", column, company_id, &id).await?;
        if drafts > 0 {
            return Err(StoreError::Conflict(format!(
                "{} {id} is used by {drafts} campaign draft(s); delete those drafts first",
                kind.name
            )));
        }
    }
    execute(
        &tx,
        &format!(
            "DELETE FROM {} WHERE company_id = $1 AND id = $2",
            kind.table
        ),
        &[&company_id.0, &id],
    )
    .await?;
    Ok(tx.commit().await?)
}

/// The company's customers or locations, by id, once the viewer may see the company (the two
/// statements go out together; a list the viewer may not see is read but never answered).
async fn of_company<T>(
    database: &PostgresDatabase,
    viewer: Viewer,
    kind: &Kind<T>,
    company_id: CompanyId,
) -> StoreResult<Vec<T>> {
    let client = database.connection().await?;
    let sql = format!(
        "SELECT {} FROM {} WHERE company_id = $1 ORDER BY {}",
        kind.columns, kind.table, kind.order
    );
    let company: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&company_id.0];
    let (access, found) = tokio::join!(
        visible_company(&client, viewer, company_id, Members::Read),
        rows(&client, &sql, &company),
    );
    access?;
    Ok(found?
        .iter()
        .map(|row| (kind.read)(row, 0))
        .collect::<Result<_, _>>()?)
}

/// The ids of the companies `$1` (a user id) is a member of; only `$2` when it is not NULL.
const MEMBER_COMPANIES: &str = "SELECT company_id FROM company_members \
                                WHERE user_id = $1 AND ($2::BIGINT IS NULL OR company_id = $2)";

/// The connected customers or locations of the member's companies, each with its company id.
async fn rows_by_company<T>(
    client: &impl GenericClient,
    kind: &Kind<T>,
    user_id: UserId,
    only: Option<CompanyId>,
) -> StoreResult<Vec<(CompanyId, T)>> {
    let sql = format!(
        "SELECT company_id, {} FROM {} \
         WHERE company_id IN ({MEMBER_COMPANIES}) AND {} ORDER BY company_id, {}",
        kind.columns, kind.table, kind.connected, kind.order
    );
    rows(client, &sql, &[&user_id.0, &only.map(|id| id.0)])
        .await?
        .iter()
        .map(|row| Ok((CompanyId(row.try_get(0)?), (kind.read)(row, 1)?)))
        .collect()
}

/// Puts each connection in its company's list (those of other companies cannot be there: all
/// three reads select the same companies).
fn attach<T>(
    companies: &mut [CompanyWithConnections],
    found: Vec<(CompanyId, T)>,
    list: fn(&mut CompanyWithConnections) -> &mut Vec<T>,
) {
    let position: HashMap<CompanyId, usize> = companies
        .iter()
        .enumerate()
        .map(|(at, company)| (company.id, at))
        .collect();
    for (company_id, connection) in found {
        if let Some(&at) = position.get(&company_id) {
            list(&mut companies[at]).push(connection);
        }
    }
}

/// The member's companies with their connections: three reads in one snapshot, so that they
/// agree, sent together (pipelined).
async fn member_connections(
    database: &PostgresDatabase,
    user_id: UserId,
    only: Option<CompanyId>,
) -> StoreResult<Vec<CompanyWithConnections>> {
    let mut client = database.connection().await?;
    let tx = snapshot(&mut client).await?;
    let companies_sql = format!(
        "SELECT {COMPANY_COLUMNS} FROM companies WHERE id IN ({MEMBER_COMPANIES}) ORDER BY id"
    );
    let only_id = only.map(|id| id.0);
    let (companies, customers, locations) = tokio::try_join!(
        async { StoreResult::Ok(rows(&tx, &companies_sql, &[&user_id.0, &only_id]).await?) },
        rows_by_company(&tx, &CUSTOMERS, user_id, only),
        rows_by_company(&tx, &LOCATIONS, user_id, only),
    )?;
    tx.commit().await?;
    let mut companies = companies
        .iter()
        .map(|row| company_from_row(row).map(CompanyWithConnections::without_connections))
        .collect::<Result<Vec<_>, _>>()?;
    attach(&mut companies, customers, |company| {
        &mut company.google_ads_customers
    });
    attach(&mut companies, locations, |company| {
        &mut company.google_business_locations
    });
    Ok(companies)
}

impl ConnectionStore for PostgresDatabase {
    async fn add_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: GoogleAdsCustomerCreate,
    ) -> StoreResult<GoogleAdsCustomer> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let found = optional_row(
            &client,
            &format!(
                "INSERT INTO google_ads_customers (company_id, id, descriptive_name, \
                 currency_code, time_zone, status, manager, is_active, is_deleted, date_added, \
                 date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
                 ON CONFLICT (company_id, id) DO NOTHING RETURNING {CUSTOMER_COLUMNS}"
            ),
            &[
                &company_id.0,
                &new.id,
                &new.descriptive_name.0,
                &new.currency_code.0,
                &new.time_zone.0,
                &new.status.0,
                &new.manager.unwrap_or(false),
                &new.is_active.unwrap_or(true),
                &new.is_deleted.unwrap_or(false),
                &Timestamp::now().0,
            ],
        )
        .await?;
        inserted(found, &CUSTOMERS, &new.id)
    }

    async fn customers(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<GoogleAdsCustomer>> {
        of_company(self, viewer, &CUSTOMERS, company_id).await
    }

    async fn add_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: GoogleBusinessLocation,
    ) -> StoreResult<GoogleBusinessLocation> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let found = optional_row(
            &client,
            &format!(
                "INSERT INTO google_business_locations (company_id, id, title, store_code, \
                 maps_uri, storefront_address, date_added, date_updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (company_id, id) DO NOTHING RETURNING {LOCATION_COLUMNS}"
            ),
            &[
                &company_id.0,
                &new.id,
                &new.title.0,
                &new.store_code.0,
                &new.maps_uri.0.as_ref().map(|uri| uri.0.as_str()),
                &address_text(new.storefront_address.0.as_ref()),
                &Timestamp::now().0,
            ],
        )
        .await?;
        inserted(found, &LOCATIONS, &new.id)
    }

    async fn locations(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<GoogleBusinessLocation>> {
        of_company(self, viewer, &LOCATIONS, company_id).await
    }

    /// Every company the user is a member of, with its connections (membership only, as on
    /// SQLite: an administrator sees the companies they belong to).
    async fn member_connections(
        &self,
        user_id: UserId,
    ) -> StoreResult<Vec<CompanyWithConnections>> {
        member_connections(self, user_id, None).await
    }

    async fn member_company_connections(
        &self,
        user_id: UserId,
        company_id: CompanyId,
    ) -> StoreResult<CompanyWithConnections> {
        member_connections(self, user_id, Some(company_id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound("Company not found".into()))
    }

    /// One statement: two processes changing different fields at once keep both changes.
    async fn update_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        customer_id: i64,
        change: GoogleAdsCustomerUpdate,
    ) -> StoreResult<GoogleAdsCustomer> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let (name_sent, name) = patch_params(change.descriptive_name);
        let (currency_sent, currency) = patch_params(change.currency_code);
        let (zone_sent, zone) = patch_params(change.time_zone);
        let (status_sent, status) = patch_params(change.status);
        let updated = optional_row(
            &client,
            &format!(
                "UPDATE google_ads_customers SET \
                   descriptive_name = CASE WHEN $3 THEN $4 ELSE descriptive_name END, \
                   currency_code = CASE WHEN $5 THEN $6 ELSE currency_code END, \
                   time_zone = CASE WHEN $7 THEN $8 ELSE time_zone END, \
                   status = CASE WHEN $9 THEN $10 ELSE status END, \
                   manager = coalesce($11, manager), is_active = coalesce($12, is_active), \
                   is_deleted = coalesce($13, is_deleted), date_updated = $14 \
                 WHERE company_id = $1 AND id = $2 RETURNING {CUSTOMER_COLUMNS}"
            ),
            &[
                &company_id.0,
                &customer_id,
                &name_sent,
                &name,
                &currency_sent,
                &currency,
                &zone_sent,
                &zone,
                &status_sent,
                &status,
                &change.manager,
                &change.is_active,
                &change.is_deleted,
                &Timestamp::now().0,
            ],
        )
        .await?;
        match updated {
            Some(row) => Ok(customer_at(&row, 0)?),
            None => Err(not_registered(&CUSTOMERS, &customer_id)),
        }
    }

    async fn delete_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        customer_id: i64,
    ) -> StoreResult<()> {
        delete_unused(self, viewer, &CUSTOMERS, company_id, customer_id).await
    }

    /// One statement, as `update_customer`.
    async fn update_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        location_id: String,
        change: GoogleBusinessLocationUpdate,
    ) -> StoreResult<GoogleBusinessLocation> {
        let client = self.connection().await?;
        visible_company(&client, viewer, company_id, Members::Read).await?;
        let (title_sent, title) = patch_params(change.title);
        let (code_sent, code) = patch_params(change.store_code);
        let (uri_sent, uri) = patch_params(change.maps_uri.map(|uri| uri.0));
        let (address_sent, address) = patch_params(change.storefront_address);
        let updated = optional_row(
            &client,
            &format!(
                "UPDATE google_business_locations SET \
                   title = CASE WHEN $3 THEN $4 ELSE title END, \
                   store_code = CASE WHEN $5 THEN $6 ELSE store_code END, \
                   maps_uri = CASE WHEN $7 THEN $8 ELSE maps_uri END, \
                   storefront_address = CASE WHEN $9 THEN $10 ELSE storefront_address END, \
                   date_updated = $11 \
                 WHERE company_id = $1 AND id = $2 RETURNING {LOCATION_COLUMNS}"
            ),
            &[
                &company_id.0,
                &location_id,
                &title_sent,
                &title,
                &code_sent,
                &code,
                &uri_sent,
                &uri,
                &address_sent,
                &address_text(address.as_ref()),
                &Timestamp::now().0,
            ],
        )
        .await?;
        match updated {
            Some(row) => Ok(location_at(&row, 0)?),
            None => Err(not_registered(&LOCATIONS, &location_id)),
        }
    }

    async fn delete_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        location_id: String,
    ) -> StoreResult<()> {
        delete_unused(self, viewer, &LOCATIONS, company_id, location_id).await
    }
}
