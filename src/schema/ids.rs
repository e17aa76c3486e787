//! Typed ids, so a company id cannot be passed where a user id is expected. On the wire and in
//! the OpenAPI document each is exactly its inner type: serde is transparent and poem-openapi's
//! `NewType` describes and parses it as the inner type.

use poem_openapi::NewType;
use serde::{Deserialize, Serialize};

// A company's row id (a plain comment: a doc comment would become a title in the document).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, NewType, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompanyId(pub i64);

// A user's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, NewType, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

// A thread's public id (`thr_`, the creation time and random bits, in hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, NewType, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadId(pub String);
