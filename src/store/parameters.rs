//! Values both backends bind to their statements the same way.

use super::{StoreError, StoreResult};
use crate::schema::{Patch, StorefrontAddress};

/// A change's field as the two parameters of `col = CASE WHEN ?sent THEN ?value ELSE col END`:
/// whether it changes, and its new value (`None` clears it).
pub(crate) fn patch_params<T>(patch: Patch<T>) -> (bool, Option<T>) {
    match patch {
        Patch::Keep => (false, None),
        Patch::Clear => (true, None),
        Patch::Set(value) => (true, Some(value)),
    }
}

/// The first instant of the current calendar month (UTC), as stored dates compare.
pub(crate) fn month_start() -> String {
    chrono::Utc::now().format("%Y-%m-01T00:00:00").to_string()
}

/// The address as stored: its JSON (both backends).
pub(crate) fn address_text(address: Option<&StorefrontAddress>) -> Option<String> {
    address.map(|address| serde_json::to_string(address).expect("address serializes"))
}

/// A JSON column's text: `None` writes NULL.
pub(crate) fn json_text<T: serde::Serialize>(value: Option<&T>) -> StoreResult<Option<String>> {
    value
        .map(|value| serde_json::to_string(value).map_err(StoreError::from))
        .transpose()
}

/// `patch_params` of a JSON column: its value as the column's text.
pub(crate) fn json_patch_params<T: serde::Serialize>(
    patch: &Patch<T>,
) -> StoreResult<(bool, Option<String>)> {
    Ok((!patch.is_keep(), json_text(patch.new_value())?))
}
