//! A company's customer or location by id, as several modules check it; the readers and
//! columns are the neutral ones of `store/row_readers.rs` and `store/layouts.rs`.

use std::sync::LazyLock;

use rusqlite::{params, Connection, Row};

use super::{OptionalRow, StoreResult};
use crate::schema::{CompanyId, GoogleAdsCustomer, GoogleBusinessLocation};
use crate::store::layouts::{CUSTOMER_COLUMNS, LOCATION_COLUMNS};
use crate::store::row_readers::{customer_at, location_at};

/// A customer registered in the company, or NotFound.
pub(super) fn customer(
    conn: &Connection,
    company_id: CompanyId,
    customer_id: i64,
) -> StoreResult<GoogleAdsCustomer> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| one_of_company("google_ads_customers", CUSTOMER_COLUMNS));
    one_row(conn, &SQL, params![company_id, customer_id], |row, at| {
        customer_at(row, at)
    })
    .or_not_found(|| format!("Google Ads customer {customer_id} is not registered in this company"))
}

/// A location registered in the company, or NotFound.
pub(super) fn location(
    conn: &Connection,
    company_id: CompanyId,
    location_id: &str,
) -> StoreResult<GoogleBusinessLocation> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| one_of_company("google_business_locations", LOCATION_COLUMNS));
    one_row(conn, &SQL, params![company_id, location_id], |row, at| {
        location_at(row, at)
    })
    .or_not_found(|| {
        format!("Google Business location {location_id} is not registered in this company")
    })
}

/// Selects `columns` of the row of `table` with company `?1` and id `?2`.
fn one_of_company(table: &str, columns: &str) -> String {
    format!("SELECT {columns} FROM {table} WHERE company_id = ?1 AND id = ?2")
}

/// The one row `sql` selects by `key`, read by `read` from its first column.
fn one_row<T>(
    conn: &Connection,
    sql: &str,
    key: impl rusqlite::Params,
    read: fn(&Row, usize) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(key, |row| read(row, 0))
}
