//! Typed ids, so a company id cannot be passed where a user id is expected. On the wire and in
//! the OpenAPI document each is exactly its inner type: serde is transparent and poem-openapi's
//! `NewType` describes and parses it as the inner type. Their comments are plain ones because
//! a doc comment would become a `title` in the document.

use poem_openapi::NewType;
use serde::Serialize;

// A company's row id. `Default` only serves `ThreadFilter`'s, which tests build on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, NewType, Serialize)]
#[serde(transparent)]
pub struct CompanyId(pub i64);

// A user's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, NewType, Serialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

// A thread's public id (`thr_`, the creation time and random bits, in hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, NewType, Serialize)]
#[serde(transparent)]
pub struct ThreadId(pub String);

// A campaign draft's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, NewType, Serialize)]
#[serde(transparent)]
pub struct DraftId(pub i64);
