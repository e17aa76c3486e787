//! Columns and row readers of what several modules read: companies, a company's customers and
//! locations (in their own lists and embedded in threads), and threads (in lists and in the
//! access check).

use std::sync::LazyLock;

use rusqlite::{params, Connection, Row};

use super::{OptionalRow, StoreResult};
use crate::schema::{
    Assistant, AssistantChatThread, AssistantType, Company, CompanyId, GoogleAdsCustomer,
    GoogleBusinessLocation, JsonObject, Nullable, StorefrontAddress, Timestamp, WebUrl,
};

/// A company from `id, name, date_added, date_updated`.
pub(super) fn company_from_row(row: &Row) -> rusqlite::Result<Company> {
    Ok(Company {
        id: row.get(0)?,
        name: row.get(1)?,
        date_added: Timestamp(row.get(2)?),
        date_updated: Timestamp(row.get(3)?),
    })
}

pub(crate) const CUSTOMER_COLUMNS: &str = "id, date_added, date_updated, descriptive_name, \
    currency_code, time_zone, status, manager, is_active, is_deleted";
pub(crate) const LOCATION_COLUMNS: &str = "id, title, store_code, maps_uri, storefront_address";

/// Reads a customer from `CUSTOMER_COLUMNS` starting at column `at`.
pub(super) fn customer_at(row: &Row, at: usize) -> rusqlite::Result<GoogleAdsCustomer> {
    Ok(GoogleAdsCustomer {
        id: row.get(at)?,
        date_added: Timestamp(row.get(at + 1)?),
        date_updated: Timestamp(row.get(at + 2)?),
        descriptive_name: Nullable(row.get(at + 3)?),
        currency_code: Nullable(row.get(at + 4)?),
        time_zone: Nullable(row.get(at + 5)?),
        status: Nullable(row.get(at + 6)?),
        manager: row.get(at + 7)?,
        is_active: row.get(at + 8)?,
        is_deleted: row.get(at + 9)?,
    })
}

/// Reads a location from `LOCATION_COLUMNS` starting at column `at`.
pub(super) fn location_at(row: &Row, at: usize) -> rusqlite::Result<GoogleBusinessLocation> {
    let address: Option<String> = row.get(at + 4)?;
    Ok(GoogleBusinessLocation {
        id: row.get(at)?,
        title: Nullable(row.get(at + 1)?),
        store_code: Nullable(row.get(at + 2)?),
        maps_uri: Nullable(row.get::<_, Option<String>>(at + 3)?.map(WebUrl)),
        storefront_address: Nullable(
            address.and_then(|text| serde_json::from_str::<StorefrontAddress>(&text).ok()),
        ),
    })
}

/// A customer registered in the company, or NotFound.
pub(super) fn customer(
    conn: &Connection,
    company_id: CompanyId,
    customer_id: i64,
) -> StoreResult<GoogleAdsCustomer> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| one_of_company("google_ads_customers", CUSTOMER_COLUMNS));
    one_row(conn, &SQL, params![company_id, customer_id], customer_at).or_not_found(|| {
        format!("Google Ads customer {customer_id} is not registered in this company")
    })
}

/// A location registered in the company, or NotFound.
pub(super) fn location(
    conn: &Connection,
    company_id: CompanyId,
    location_id: &str,
) -> StoreResult<GoogleBusinessLocation> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| one_of_company("google_business_locations", LOCATION_COLUMNS));
    one_row(conn, &SQL, params![company_id, location_id], location_at).or_not_found(|| {
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

fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns 0-12: thread and assistant; then the customer (after its id in the thread, 10
/// columns), the location (likewise, 5 columns), and last the thread's company.
pub(crate) static SELECT_THREADS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT t.seq, t.thread_id, t.is_completed, t.date_added, t.date_updated, t.name, \
         t.description, t.extra_data, t.login_customer_id, a.id, a.assistant_type, \
         a.date_added, a.date_updated, t.customer_id, {customer}, t.location_id, {location}, \
         t.company_id FROM chat_threads t JOIN assistants a ON a.id = t.assistant_id \
         LEFT JOIN google_ads_customers c ON c.company_id = t.company_id AND c.id = t.customer_id \
         LEFT JOIN google_business_locations l \
           ON l.company_id = t.company_id AND l.id = t.location_id",
        customer = prefixed(CUSTOMER_COLUMNS, "c"),
        location = prefixed(LOCATION_COLUMNS, "l"),
    )
});

pub(crate) const CUSTOMER_AT: usize = 14;
pub(crate) const LOCATION_AT: usize = CUSTOMER_AT + 11;
pub(crate) const COMPANY_AT: usize = LOCATION_AT + 5;

/// A thread as stored: the API's shape and the two keys it leaves out.
pub(crate) struct ThreadRow {
    /// The thread's row id: the list's order and cursor, and the key of its messages.
    pub seq: i64,
    pub company_id: CompanyId,
    pub thread: AssistantChatThread,
}

/// A thread from a row of `SELECT_THREADS`.
pub(super) fn thread_from_row(row: &Row) -> rusqlite::Result<ThreadRow> {
    let assistant_type: String = row.get(10)?;
    let has_customer = row.get_ref(CUSTOMER_AT - 1)?.as_i64_or_null()?.is_some();
    let has_location = row.get_ref(LOCATION_AT - 1)?.as_str_or_null()?.is_some();
    let thread = AssistantChatThread {
        thread_id: row.get(1)?,
        is_completed: row.get(2)?,
        date_added: Timestamp(row.get(3)?),
        date_updated: Timestamp(row.get(4)?),
        name: Nullable(row.get(5)?),
        description: Nullable(row.get(6)?),
        extra_data: JsonObject::from_stored(row.get(7)?),
        google_ads_login_customer_id: Nullable(row.get(8)?),
        assistant: Assistant {
            id: row.get(9)?,
            assistant_type: AssistantType::parse(&assistant_type).unwrap_or(AssistantType::General),
            date_added: Timestamp(row.get(11)?),
            date_updated: Timestamp(row.get(12)?),
        },
        google_ads_customer: Nullable(
            has_customer
                .then(|| customer_at(row, CUSTOMER_AT))
                .transpose()?,
        ),
        google_business_location: Nullable(
            has_location
                .then(|| location_at(row, LOCATION_AT))
                .transpose()?,
        ),
    };
    Ok(ThreadRow {
        seq: row.get(0)?,
        company_id: row.get(COMPANY_AT)?,
        thread,
    })
}
