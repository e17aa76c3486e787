//! Row readers of what several modules read, on PostgreSQL: a company's customers and
//! locations (alone and embedded in threads) and threads, from the same columns as on SQLite
//! (`store/rows.rs`).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::statements::optional_row;
use crate::schema::{
    Assistant, AssistantChatThread, AssistantType, CompanyId, GoogleAdsCustomer,
    GoogleBusinessLocation, JsonObject, Nullable, StorefrontAddress, Timestamp, WebUrl,
};
use crate::store::sqlite::rows::{
    ThreadRow, COMPANY_AT, CUSTOMER_AT, CUSTOMER_COLUMNS, LOCATION_AT, LOCATION_COLUMNS,
};
use crate::store::{StoreError, StoreResult};

/// Reads a customer from `CUSTOMER_COLUMNS` starting at column `at`.
pub(super) fn customer_at(row: &Row, at: usize) -> StoreResult<GoogleAdsCustomer> {
    Ok(GoogleAdsCustomer {
        id: row.try_get(at)?,
        date_added: Timestamp(row.try_get(at + 1)?),
        date_updated: Timestamp(row.try_get(at + 2)?),
        descriptive_name: Nullable(row.try_get(at + 3)?),
        currency_code: Nullable(row.try_get(at + 4)?),
        time_zone: Nullable(row.try_get(at + 5)?),
        status: Nullable(row.try_get(at + 6)?),
        manager: row.try_get(at + 7)?,
        is_active: row.try_get(at + 8)?,
        is_deleted: row.try_get(at + 9)?,
    })
}

/// Reads a location from `LOCATION_COLUMNS` starting at column `at`.
pub(super) fn location_at(row: &Row, at: usize) -> StoreResult<GoogleBusinessLocation> {
    let address: Option<String> = row.try_get(at + 4)?;
    Ok(GoogleBusinessLocation {
        id: row.try_get(at)?,
        title: Nullable(row.try_get(at + 1)?),
        store_code: Nullable(row.try_get(at + 2)?),
        maps_uri: Nullable(row.try_get::<_, Option<String>>(at + 3)?.map(WebUrl)),
        storefront_address: Nullable(
            address.and_then(|text| serde_json::from_str::<StorefrontAddress>(&text).ok()),
        ),
    })
}

/// A customer registered in the company, or NotFound.
pub(super) async fn customer(
    client: &impl GenericClient,
    company_id: CompanyId,
    customer_id: i64,
) -> StoreResult<GoogleAdsCustomer> {
    let found = optional_row(
        client,
        &format!(
            "SELECT {CUSTOMER_COLUMNS} FROM google_ads_customers WHERE company_id = $1 AND id = $2"
        ),
        &[&company_id.0, &customer_id],
    )
    .await?;
    let row = found.ok_or_else(|| {
        StoreError::NotFound(format!(
            "Google Ads customer {customer_id} is not registered in this company"
        ))
    })?;
    customer_at(&row, 0)
}

/// A location registered in the company, or NotFound.
pub(super) async fn location(
    client: &impl GenericClient,
    company_id: CompanyId,
    location_id: &str,
) -> StoreResult<GoogleBusinessLocation> {
    let found = optional_row(
        client,
        &format!(
            "SELECT {LOCATION_COLUMNS} FROM google_business_locations \
             WHERE company_id = $1 AND id = $2"
        ),
        &[&company_id.0, &location_id],
    )
    .await?;
    let row = found.ok_or_else(|| {
        StoreError::NotFound(format!(
            "Google Business location {location_id} is not registered in this company"
        ))
    })?;
    location_at(&row, 0)
}

/// A thread from a row of `SELECT_THREADS`.
pub(super) fn thread_from_row(row: &Row) -> StoreResult<ThreadRow> {
    let assistant_type: String = row.try_get(10)?;
    let has_customer = row.try_get::<_, Option<i64>>(CUSTOMER_AT - 1)?.is_some();
    let has_location = row.try_get::<_, Option<&str>>(LOCATION_AT - 1)?.is_some();
    let thread = AssistantChatThread {
        thread_id: crate::schema::ThreadId(row.try_get(1)?),
        is_completed: row.try_get(2)?,
        date_added: Timestamp(row.try_get(3)?),
        date_updated: Timestamp(row.try_get(4)?),
        name: Nullable(row.try_get(5)?),
        description: Nullable(row.try_get(6)?),
        extra_data: JsonObject::from_stored(row.try_get(7)?),
        google_ads_login_customer_id: Nullable(row.try_get(8)?),
        assistant: Assistant {
            id: row.try_get(9)?,
            assistant_type: AssistantType::parse(&assistant_type).unwrap_or(AssistantType::General),
            date_added: Timestamp(row.try_get(11)?),
            date_updated: Timestamp(row.try_get(12)?),
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
        seq: row.try_get(0)?,
        company_id: CompanyId(row.try_get(COMPANY_AT)?),
        thread,
    })
}
