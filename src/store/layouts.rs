//! The columns both backends select, in the order the readers of `row_readers.rs` and
//! `drafts.rs` read them, and the SELECT of threads with what they embed. The SQL is the same
//! on both databases; only the placeholders (`?1`, `$1`) that callers append differ.

use std::sync::LazyLock;

pub(crate) const USER_COLUMNS: &str = "id, email, is_admin, is_active, first_name, last_name, \
    phone_number, date_added, date_updated";
pub(crate) const COMPANY_COLUMNS: &str = "id, name, date_added, date_updated";
pub(crate) const CUSTOMER_COLUMNS: &str = "id, date_added, date_updated, descriptive_name, \
    currency_code, time_zone, status, manager, is_active, is_deleted";
pub(crate) const LOCATION_COLUMNS: &str = "id, title, store_code, maps_uri, storefront_address";
pub(crate) const DRAFT_COLUMNS: &str =
    "id, name, google_ads_customer_id, date_added, date_updated, \
    market_analysis_id, campaign_name, website_url, daily_budget_micros, bidding_strategy, \
    default_match_type, language_ids, location_targets, network_settings, ad_schedule, \
    start_date, end_date, conversion_goals, phone, is_published, published_at, \
    published_campaign_id";

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
