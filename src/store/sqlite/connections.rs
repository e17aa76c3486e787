//! A company's Google Ads customers and Google Business Profile locations.

use std::collections::HashMap;

use rusqlite::{params, Connection, Row};

use super::access::visible_company;
use super::rows::{customer, location};
use super::write::Write;
use super::{is_unique_violation, SqliteStore, StoreError, StoreResult};
use crate::schema::{
    CompanyId, CompanyWithConnections, GoogleAdsCustomer, GoogleAdsCustomerCreate,
    GoogleAdsCustomerUpdate, GoogleBusinessLocation, GoogleBusinessLocationUpdate, Timestamp,
    UserId,
};
use crate::store::layouts::{CUSTOMER_COLUMNS, LOCATION_COLUMNS};
use crate::store::parameters::{address_text, patch_params};
use crate::store::row_readers::{company_from_row, customer_at, location_at};
use crate::store::{still_used, ConnectionStore, Viewer};

/// What tells Google Ads customers from Business Profile locations where the two are handled
/// alike.
struct Kind<T> {
    /// The table of the connections.
    table: &'static str,
    /// Their columns, as `read` reads them.
    columns: &'static str,
    /// Reads one from `columns` starting at the given column.
    read: fn(&Row, usize) -> rusqlite::Result<T>,
    /// The column of `chat_threads` that scopes a thread to one of them.
    thread_column: &'static str,
    /// The column of `campaign_drafts` that names one of them, if drafts do.
    draft_column: Option<&'static str>,
    /// What one of them is called in messages, before its id.
    name: &'static str,
    /// The SQL condition of those the connections endpoints list: the published connections
    /// guide leaves out what is inactive or deleted, while the company's own lists show all.
    connected: &'static str,
}

const CUSTOMERS: Kind<GoogleAdsCustomer> = Kind {
    table: "google_ads_customers",
    columns: CUSTOMER_COLUMNS,
    read: |row, at| customer_at(row, at),
    thread_column: "customer_id",
    draft_column: Some("google_ads_customer_id"),
    name: "Google Ads customer",
    // Google Ads' CustomerStatus values for an account that no longer serves.
    connected: "is_active = 1 AND is_deleted = 0 AND coalesce(upper(trim(status)), '') \
                NOT IN ('CANCELED', 'SUSPENDED', 'CLOSED')",
};

const LOCATIONS: Kind<GoogleBusinessLocation> = Kind {
    table: "google_business_locations",
    columns: LOCATION_COLUMNS,
    read: |row, at| location_at(row, at),
    thread_column: "location_id",
    draft_column: None,
    name: "Google Business location",
    // A location has no state of its own: registered is connected.
    connected: "1",
};

/// How many of the company's threads are scoped to the customer or location `id`.
fn threads_using<T>(
    conn: &Connection,
    kind: &Kind<T>,
    company_id: CompanyId,
    id: &dyn rusqlite::ToSql,
) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM chat_threads WHERE company_id = ?1 AND {} = ?2",
            kind.thread_column
        ))?
        .query_row(params![company_id, id], |row| row.get(0))?)
}

/// Deletes the customer or location `id` of the company, a Conflict while threads are scoped to
/// it or campaign drafts are made for it.
fn delete_unused<T, Id: rusqlite::ToSql + std::fmt::Display>(
    conn: &mut Write,
    kind: &Kind<T>,
    company_id: CompanyId,
    id: &Id,
) -> StoreResult<()> {
    let threads = threads_using(conn, kind, company_id, id)?;
    if threads > 0 {
        return Err(still_used(format!("{} {id}", kind.name), threads));
    }
    if let Some(column) = kind.draft_column {
        let drafts: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM campaign_drafts WHERE company_id = ?1 AND {column} = ?2"
            ))?
            .query_row(params![company_id, id], |row| row.get(0))?;
        if drafts > 0 {
            return Err(StoreError::Conflict(format!(
                "{} {id} is used by {drafts} campaign draft(s); delete those drafts first",
                kind.name
            )));
        }
    }
    // No thread shows it, but list pages filtered by it are remembered only while it exists.
    conn.company_threads_changed(company_id);
    conn.prepare_cached(&format!(
        "DELETE FROM {} WHERE company_id = ?1 AND id = ?2",
        kind.table
    ))?
    .execute(params![company_id, id])?;
    Ok(())
}

/// A Conflict when the company already has the customer or location `id`.
fn conflict_on_duplicate<T>(
    err: rusqlite::Error,
    kind: &Kind<T>,
    id: &dyn std::fmt::Display,
) -> StoreError {
    if is_unique_violation(&err) {
        StoreError::Conflict(format!(
            "{} {id} is already registered in this company",
            kind.name
        ))
    } else {
        err.into()
    }
}

impl ConnectionStore for SqliteStore {
    async fn add_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: GoogleAdsCustomerCreate,
    ) -> StoreResult<GoogleAdsCustomer> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            let now = Timestamp::now();
            conn.prepare_cached(
                "INSERT INTO google_ads_customers (company_id, id, descriptive_name, currency_code, \
                 time_zone, status, manager, is_active, is_deleted, date_added, date_updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?
            .execute(params![
                company_id,
                new.id,
                new.descriptive_name.0,
                new.currency_code.0,
                new.time_zone.0,
                new.status.0,
                new.manager.unwrap_or(false),
                new.is_active.unwrap_or(true),
                new.is_deleted.unwrap_or(false),
                now.0
            ])
            .map_err(|err| conflict_on_duplicate(err, &CUSTOMERS, &new.id))?;
            customer(conn, company_id, new.id)
        })
        .await
    }

    async fn customers(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<GoogleAdsCustomer>> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            of_company(conn, &CUSTOMERS, company_id)
        })
        .await
    }

    async fn add_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        new: GoogleBusinessLocation,
    ) -> StoreResult<GoogleBusinessLocation> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            let now = Timestamp::now();
            let address = address_text(new.storefront_address.0.as_ref());
            conn.prepare_cached(
                "INSERT INTO google_business_locations (company_id, id, title, store_code, \
                 maps_uri, storefront_address, date_added, date_updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                company_id,
                new.id,
                new.title.0,
                new.store_code.0,
                new.maps_uri.0.map(|uri| uri.0),
                address,
                now.0
            ])
            .map_err(|err| conflict_on_duplicate(err, &LOCATIONS, &new.id))?;
            location(conn, company_id, &new.id)
        })
        .await
    }

    async fn locations(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
    ) -> StoreResult<Vec<GoogleBusinessLocation>> {
        self.read(move |conn| {
            visible_company(conn, viewer, company_id)?;
            of_company(conn, &LOCATIONS, company_id)
        })
        .await
    }

    async fn member_connections(
        &self,
        user_id: UserId,
    ) -> StoreResult<Vec<CompanyWithConnections>> {
        self.read(move |conn| member_connections(conn, user_id, None))
            .await
    }

    async fn member_company_connections(
        &self,
        user_id: UserId,
        company_id: CompanyId,
    ) -> StoreResult<CompanyWithConnections> {
        self.read(move |conn| {
            member_connections(conn, user_id, Some(company_id))?
                .pop()
                .ok_or_else(|| StoreError::NotFound("Company not found".into()))
        })
        .await
    }

    async fn update_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        customer_id: i64,
        change: GoogleAdsCustomerUpdate,
    ) -> StoreResult<GoogleAdsCustomer> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            customer(conn, company_id, customer_id)?;
            conn.company_threads_changed(company_id);
            let (name_sent, name) = patch_params(change.descriptive_name);
            let (currency_sent, currency) = patch_params(change.currency_code);
            let (zone_sent, zone) = patch_params(change.time_zone);
            let (status_sent, status) = patch_params(change.status);
            conn.prepare_cached(
                "UPDATE google_ads_customers SET \
                   descriptive_name = CASE WHEN ?3 THEN ?4 ELSE descriptive_name END, \
                   currency_code = CASE WHEN ?5 THEN ?6 ELSE currency_code END, \
                   time_zone = CASE WHEN ?7 THEN ?8 ELSE time_zone END, \
                   status = CASE WHEN ?9 THEN ?10 ELSE status END, \
                   manager = coalesce(?11, manager), is_active = coalesce(?12, is_active), \
                   is_deleted = coalesce(?13, is_deleted), date_updated = ?14 \
                 WHERE company_id = ?1 AND id = ?2",
            )?
            .execute(params![
                company_id,
                customer_id,
                name_sent,
                name,
                currency_sent,
                currency,
                zone_sent,
                zone,
                status_sent,
                status,
                change.manager,
                change.is_active,
                change.is_deleted,
                Timestamp::now().0
            ])?;
            customer(conn, company_id, customer_id)
        })
        .await
    }

    async fn delete_customer(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        customer_id: i64,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            customer(conn, company_id, customer_id)?;
            delete_unused(conn, &CUSTOMERS, company_id, &customer_id)
        })
        .await
    }

    async fn update_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        location_id: String,
        change: GoogleBusinessLocationUpdate,
    ) -> StoreResult<GoogleBusinessLocation> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            location(conn, company_id, &location_id)?;
            conn.company_threads_changed(company_id);
            let (title_sent, title) = patch_params(change.title);
            let (code_sent, code) = patch_params(change.store_code);
            let (uri_sent, uri) = patch_params(change.maps_uri.map(|uri| uri.0));
            let (address_sent, address) = patch_params(change.storefront_address);
            let address = address_text(address.as_ref());
            conn.prepare_cached(
                "UPDATE google_business_locations SET \
                   title = CASE WHEN ?3 THEN ?4 ELSE title END, \
                   store_code = CASE WHEN ?5 THEN ?6 ELSE store_code END, \
                   maps_uri = CASE WHEN ?7 THEN ?8 ELSE maps_uri END, \
                   storefront_address = CASE WHEN ?9 THEN ?10 ELSE storefront_address END, \
                   date_updated = ?11 \
                 WHERE company_id = ?1 AND id = ?2",
            )?
            .execute(params![
                company_id,
                location_id,
                title_sent,
                title,
                code_sent,
                code,
                uri_sent,
                uri,
                address_sent,
                address,
                Timestamp::now().0
            ])?;
            location(conn, company_id, &location_id)
        })
        .await
    }

    async fn delete_location(
        &self,
        viewer: Viewer,
        company_id: CompanyId,
        location_id: String,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            visible_company(conn, viewer, company_id)?;
            location(conn, company_id, &location_id)?;
            delete_unused(conn, &LOCATIONS, company_id, &location_id)
        })
        .await
    }
}

/// The ids of the companies `?1` (a user id) is a member of; only `?2` when it is not NULL.
const MEMBER_COMPANIES: &str =
    "SELECT company_id FROM company_members WHERE user_id = ?1 AND (?2 IS NULL OR company_id = ?2)";

/// The member's companies with their connections, in three queries whatever their number, read
/// in one transaction so that the three agree.
fn member_connections(
    conn: &Connection,
    user_id: UserId,
    only: Option<CompanyId>,
) -> StoreResult<Vec<CompanyWithConnections>> {
    let snapshot = conn.unchecked_transaction()?;
    let mut companies: Vec<CompanyWithConnections> = snapshot
        .prepare_cached(&format!(
            "SELECT id, name, date_added, date_updated FROM companies \
             WHERE id IN ({MEMBER_COMPANIES}) ORDER BY id"
        ))?
        .query_map(params![user_id, only], |row| company_from_row(row))?
        .map(|company| company.map(CompanyWithConnections::without_connections))
        .collect::<rusqlite::Result<_>>()?;
    let position: HashMap<CompanyId, usize> = companies
        .iter()
        .enumerate()
        .map(|(at, company)| (company.id, at))
        .collect();
    let customers = rows_by_company(&snapshot, &CUSTOMERS, user_id, only)?;
    for (company_id, customer) in customers {
        if let Some(&at) = position.get(&company_id) {
            companies[at].google_ads_customers.push(customer);
        }
    }
    let locations = rows_by_company(&snapshot, &LOCATIONS, user_id, only)?;
    for (company_id, location) in locations {
        if let Some(&at) = position.get(&company_id) {
            companies[at].google_business_locations.push(location);
        }
    }
    Ok(companies)
}

/// The connected customers or locations of the member's companies, each with its company id, in
/// one query.
fn rows_by_company<T>(
    conn: &Connection,
    kind: &Kind<T>,
    user_id: UserId,
    only: Option<CompanyId>,
) -> StoreResult<Vec<(CompanyId, T)>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT company_id, {} FROM {} \
         WHERE company_id IN ({MEMBER_COMPANIES}) AND {} ORDER BY company_id, id",
        kind.columns, kind.table, kind.connected
    ))?;
    let rows = statement.query_map(params![user_id, only], |row| {
        Ok((row.get(0)?, (kind.read)(row, 1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The company's customers or locations, by id.
fn of_company<T>(conn: &Connection, kind: &Kind<T>, company_id: CompanyId) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE company_id = ?1 ORDER BY id",
        kind.columns, kind.table
    ))?;
    let rows = statement.query_map([company_id], |row| (kind.read)(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
