//! Row readers of what both backends read the same way: users, companies, a company's
//! customers and locations (in their own lists and embedded in threads), threads (in lists and
//! in the access check), the assistant a thread is made with, and chat messages. Written once
//! over `Columns`, from the columns of `layouts.rs`.

use super::columns::Columns;
use super::layouts::{COMPANY_AT, CUSTOMER_AT, LOCATION_AT};
use super::HistoryMessage;
use crate::schema::{
    Assistant, AssistantChatMessage, AssistantChatThread, AssistantType, Company, CompanyId,
    GoogleAdsCustomer, GoogleBusinessLocation, JsonObject, Nullable, StorefrontAddress, ThreadId,
    Timestamp, User, UserId, UserProfile, WebUrl,
};

/// A thread as stored: the API's shape and the two keys it leaves out.
pub(crate) struct ThreadRow {
    /// The thread's row id: the list's order and cursor, and the key of its messages.
    pub seq: i64,
    pub company_id: CompanyId,
    pub thread: AssistantChatThread,
}

/// A user from `USER_COLUMNS`.
pub(crate) fn user_from_row<R: Columns + ?Sized>(row: &R) -> Result<User, R::Error> {
    Ok(User {
        id: UserId(row.int(0)?),
        email: row.text(1)?,
        is_admin: row.flag(2)?,
        is_active: row.flag(3)?,
        profile: UserProfile {
            first_name: Nullable(row.opt_text(4)?),
            last_name: Nullable(row.opt_text(5)?),
            phone_number: Nullable(row.opt_text(6)?),
        },
        date_added: Timestamp(row.text(7)?),
        date_updated: Timestamp(row.text(8)?),
    })
}

/// A company from `COMPANY_COLUMNS`.
pub(crate) fn company_from_row<R: Columns + ?Sized>(row: &R) -> Result<Company, R::Error> {
    Ok(Company {
        id: CompanyId(row.int(0)?),
        name: row.text(1)?,
        date_added: Timestamp(row.text(2)?),
        date_updated: Timestamp(row.text(3)?),
    })
}

/// Reads a customer from `CUSTOMER_COLUMNS` starting at column `at`.
pub(crate) fn customer_at<R: Columns + ?Sized>(
    row: &R,
    at: usize,
) -> Result<GoogleAdsCustomer, R::Error> {
    Ok(GoogleAdsCustomer {
        id: row.int(at)?,
        date_added: Timestamp(row.text(at + 1)?),
        date_updated: Timestamp(row.text(at + 2)?),
        descriptive_name: Nullable(row.opt_text(at + 3)?),
        currency_code: Nullable(row.opt_text(at + 4)?),
        time_zone: Nullable(row.opt_text(at + 5)?),
        status: Nullable(row.opt_text(at + 6)?),
        manager: row.flag(at + 7)?,
        is_active: row.flag(at + 8)?,
        is_deleted: row.flag(at + 9)?,
    })
}

/// Reads a location from `LOCATION_COLUMNS` starting at column `at`.
pub(crate) fn location_at<R: Columns + ?Sized>(
    row: &R,
    at: usize,
) -> Result<GoogleBusinessLocation, R::Error> {
    let address = row.opt_text(at + 4)?;
    Ok(GoogleBusinessLocation {
        id: row.text(at)?,
        title: Nullable(row.opt_text(at + 1)?),
        store_code: Nullable(row.opt_text(at + 2)?),
        maps_uri: Nullable(row.opt_text(at + 3)?.map(WebUrl)),
        storefront_address: Nullable(
            address.and_then(|text| serde_json::from_str::<StorefrontAddress>(&text).ok()),
        ),
    })
}

/// The assistant of type `kind` from `id, date_added, date_updated`.
pub(crate) fn assistant_from_row<R: Columns + ?Sized>(
    row: &R,
    kind: AssistantType,
) -> Result<Assistant, R::Error> {
    Ok(Assistant {
        id: row.text(0)?,
        assistant_type: kind,
        date_added: Timestamp(row.text(1)?),
        date_updated: Timestamp(row.text(2)?),
    })
}

/// A thread from a row of `SELECT_THREADS`.
pub(crate) fn thread_from_row<R: Columns + ?Sized>(row: &R) -> Result<ThreadRow, R::Error> {
    let assistant_type = row.text(10)?;
    let has_customer = !row.is_null(CUSTOMER_AT - 1)?;
    let has_location = !row.is_null(LOCATION_AT - 1)?;
    let thread = AssistantChatThread {
        thread_id: ThreadId(row.text(1)?),
        is_completed: row.flag(2)?,
        date_added: Timestamp(row.text(3)?),
        date_updated: Timestamp(row.text(4)?),
        name: Nullable(row.opt_text(5)?),
        description: Nullable(row.opt_text(6)?),
        extra_data: JsonObject::from_stored(row.text(7)?),
        google_ads_login_customer_id: Nullable(row.opt_int(8)?),
        assistant: Assistant {
            id: row.text(9)?,
            assistant_type: AssistantType::parse(&assistant_type).unwrap_or(AssistantType::General),
            date_added: Timestamp(row.text(11)?),
            date_updated: Timestamp(row.text(12)?),
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
        seq: row.int(0)?,
        company_id: CompanyId(row.int(COMPANY_AT)?),
        thread,
    })
}

/// A message as a thread's list shows it, from `role, content, frontend_actions, date_added,
/// date_updated`.
pub(crate) fn listed_message_from_row<R: Columns + ?Sized>(
    row: &R,
) -> Result<AssistantChatMessage, R::Error> {
    let actions = row.text(2)?;
    Ok(AssistantChatMessage {
        role: row.text(0)?,
        content: row.text(1)?,
        frontend_actions: serde_json::from_str(&actions).unwrap_or_default(),
        date_added: Timestamp(row.text(3)?),
        date_updated: Timestamp(row.text(4)?),
    })
}

/// A message as an assistant reads it, from `role, content, tool_calls, tool_call_id`.
pub(crate) fn history_message_from_row<R: Columns + ?Sized>(
    row: &R,
) -> Result<HistoryMessage, R::Error> {
    Ok(HistoryMessage {
        role: row.text(0)?,
        content: row.text(1)?,
        tool_calls: row.opt_text(2)?,
        tool_call_id: row.opt_text(3)?,
    })
}
