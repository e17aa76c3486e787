//! A company's customer or location by id, on PostgreSQL, as several modules check it; the
//! readers and columns are the neutral ones of `store/row_readers.rs` and `store/layouts.rs`.

use deadpool_postgres::GenericClient;

use super::statements::optional_row;
use crate::schema::{CompanyId, GoogleAdsCustomer, GoogleBusinessLocation};
use crate::store::layouts::{CUSTOMER_COLUMNS, LOCATION_COLUMNS};
use crate::store::row_readers::{customer_at, location_at};
use crate::store::{StoreError, StoreResult};

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
    Ok(customer_at(&row, 0)?)
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
    Ok(location_at(&row, 0)?)
}
