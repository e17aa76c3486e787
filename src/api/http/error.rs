//! The API's errors, in the published API's (FastAPI's) shape, and the one place where the
//! store's errors and poem's own rejections become them.

use bytes::Bytes;
use poem::error::{NotFoundError, ResponseError};
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde_json::Value;

use crate::assistant::AssistantError;
use crate::auth::{AccountError, PasswordError, SignInError};
use crate::schema::rules::FieldProblem;
use crate::store::StoreError;

/// `{"detail": "..."}`
#[derive(Debug, Clone, Object)]
#[oai(rename = "HTTPError")]
pub struct Detail {
    pub detail: String,
}

/// One problem with a request: where (`["body", "assistant_type"]`), what, and its kind.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ValidationError")]
pub struct ValidationIssue {
    pub loc: Vec<Value>,
    pub msg: String,
    #[oai(rename = "type")]
    pub kind: String,
}

impl ValidationIssue {
    pub fn new(loc: &[&str], msg: impl Into<String>, kind: &str) -> Self {
        ValidationIssue {
            loc: loc.iter().map(|part| Value::from(*part)).collect(),
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// `{"detail": [ValidationError, ...]}`
#[derive(Debug, Clone, Object)]
#[oai(rename = "HTTPValidationError")]
pub struct ValidationErrors {
    pub detail: Vec<ValidationIssue>,
}

#[derive(Debug, Clone, ApiResponse)]
pub enum ApiError {
    /// Missing, unknown, expired or revoked access token.
    #[oai(status = 401)]
    Unauthorized(Json<Detail>, #[oai(header = "WWW-Authenticate")] String),
    /// Signed in, but not allowed to do this.
    #[oai(status = 403)]
    Forbidden(Json<Detail>),
    /// Does not exist, or belongs to a company the caller is not a member of.
    #[oai(status = 404)]
    NotFound(Json<Detail>),
    #[oai(status = 405)]
    MethodNotAllowed(Json<Detail>),
    /// The request took longer than `server.request_timeout_secs`.
    #[oai(status = 408)]
    RequestTimeout(Json<Detail>),
    #[oai(status = 409)]
    Conflict(Json<Detail>),
    /// The body is larger than `server.max_body_bytes`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<Detail>),
    #[oai(status = 415)]
    UnsupportedMediaType(Json<Detail>),
    /// The request failed validation: one entry per problem.
    #[oai(status = 422)]
    Unprocessable(Json<ValidationErrors>),
    /// The request line and headers are larger than `server.max_header_bytes`.
    #[oai(status = 431)]
    HeadersTooLarge(Json<Detail>),
    /// Too many failed sign-ins; try again after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<Detail>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 500)]
    Internal(Json<Detail>),
    /// The language model's server failed or answered an error.
    #[oai(status = 502)]
    BadGateway(Json<Detail>),
    /// The database is busy, the server's disk is full (then with `Retry-After`), or the
    /// assistant has no model configured.
    #[oai(status = 503)]
    Unavailable(Json<Detail>, #[oai(header = "Retry-After")] Option<u64>),
    /// The language model did not answer in time.
    #[oai(status = 504)]
    GatewayTimeout(Json<Detail>),
}

/// Freeing disk space takes an operator; asking clients back sooner only adds load.
const DISK_FULL_RETRY_AFTER_SECS: u64 = 30;

fn detail(message: impl Into<String>) -> Json<Detail> {
    Json(Detail {
        detail: message.into(),
    })
}

impl ApiError {
    pub fn not_authenticated() -> Self {
        ApiError::Unauthorized(detail("Not authenticated"), "Bearer".into())
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(detail(message), "Bearer".into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(detail(message))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(detail(message))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::Conflict(detail(message))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::Unavailable(detail(message), None)
    }

    /// A write refused for lack of disk space: nothing was changed, and it will work again
    /// once an operator frees space.
    pub fn disk_full() -> Self {
        ApiError::Unavailable(
            detail("The server's disk is full; the change was not saved. Try again later"),
            Some(DISK_FULL_RETRY_AFTER_SECS),
        )
    }

    pub fn bad_gateway(message: impl Into<String>) -> Self {
        ApiError::BadGateway(detail(message))
    }

    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        ApiError::GatewayTimeout(detail(message))
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError::TooManyRequests(detail(message), retry_after_secs)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::PayloadTooLarge(detail(format!(
            "The request body is larger than the limit of {limit} bytes"
        )))
    }

    pub fn headers_too_large(limit: usize) -> Self {
        ApiError::HeadersTooLarge(detail(format!(
            "The request headers are larger than the limit of {limit} bytes"
        )))
    }

    pub fn request_timeout(limit_secs: u64) -> Self {
        ApiError::RequestTimeout(detail(format!(
            "The request took longer than the limit of {limit_secs} seconds"
        )))
    }

    pub fn internal() -> Self {
        ApiError::Internal(detail("Internal server error"))
    }

    pub fn invalid(issues: Vec<ValidationIssue>) -> Self {
        ApiError::Unprocessable(Json(ValidationErrors { detail: issues }))
    }

    pub fn invalid_field(loc: &[&str], msg: impl Into<String>, kind: &str) -> Self {
        Self::invalid(vec![ValidationIssue::new(loc, msg, kind)])
    }

    /// A 422 naming each body field at fault.
    pub fn invalid_body(problems: Vec<FieldProblem>) -> Self {
        Self::invalid(
            problems
                .into_iter()
                .map(|problem| {
                    ValidationIssue::new(&["body", problem.field], problem.message, problem.kind)
                })
                .collect(),
        )
    }

    /// The `detail` text of an error, for errors that travel inside an event stream.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unprocessable(errors) => errors
                .0
                .detail
                .iter()
                .map(|issue| issue.msg.clone())
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::Unauthorized(detail, _)
            | ApiError::TooManyRequests(detail, _)
            | ApiError::Forbidden(detail)
            | ApiError::NotFound(detail)
            | ApiError::MethodNotAllowed(detail)
            | ApiError::Conflict(detail)
            | ApiError::RequestTimeout(detail)
            | ApiError::PayloadTooLarge(detail)
            | ApiError::HeadersTooLarge(detail)
            | ApiError::UnsupportedMediaType(detail)
            | ApiError::Internal(detail)
            | ApiError::BadGateway(detail)
            | ApiError::Unavailable(detail, _)
            | ApiError::GatewayTimeout(detail) => detail.0.detail.clone(),
        }
    }

    /// Lets extractors (body, bearer checker) raise an ApiError through poem.
    pub fn reject(self) -> poem::Error {
        poem::Error::from(Rejected(self))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(message) => ApiError::not_found(message),
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::Forbidden(message) => ApiError::forbidden(message),
            StoreError::Invalid { loc, message } => ApiError::invalid(vec![ValidationIssue {
                loc,
                msg: message,
                kind: "value_error".into(),
            }]),
            StoreError::Busy | StoreError::NoConnection(_) => {
                tracing::warn!(error = %err, "database busy");
                ApiError::unavailable("The database is busy; try again")
            }
            StoreError::DiskFull => {
                tracing::error!("a write was refused: the disk is full");
                ApiError::disk_full()
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<PasswordError> for ApiError {
    fn from(err: PasswordError) -> Self {
        tracing::error!(error = %err, "password hashing failed");
        ApiError::internal()
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Password(err) => err.into(),
            AccountError::Store(err) => err.into(),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(err: SignInError) -> Self {
        match err {
            SignInError::Store(err) => err.into(),
            SignInError::Throttled(retry_after) => ApiError::too_many_requests(
                "Too many failed sign-ins; try again later",
                retry_after.0,
            ),
        }
    }
}

impl From<AssistantError> for ApiError {
    fn from(err: AssistantError) -> Self {
        match err {
            AssistantError::Store(err) => err.into(),
            AssistantError::InvalidMessage(problem) => ApiError::invalid_body(vec![problem]),
            err @ AssistantError::ThreadCompleted => ApiError::conflict(err.to_string()),
            AssistantError::NoModel(message) => ApiError::unavailable(message),
            AssistantError::Provider { public, detail } => {
                tracing::warn!(error = %detail, "language model failed");
                ApiError::bad_gateway(public)
            }
            err @ AssistantError::Timeout(_) => {
                tracing::warn!(error = %err, "language model timed out");
                ApiError::gateway_timeout(err.to_string())
            }
            err @ (AssistantError::QuotaSpent {
                retry_after_secs, ..
            }
            | AssistantError::Busy {
                retry_after_secs, ..
            }) => ApiError::too_many_requests(err.to_string(), retry_after_secs),
        }
    }
}

/// An ApiError carried inside a poem::Error.
#[derive(Debug)]
pub struct Rejected(pub ApiError);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request rejected")
    }
}

impl std::error::Error for Rejected {}

impl ResponseError for Rejected {
    fn status(&self) -> StatusCode {
        self.0.clone().into_response().status()
    }

    fn as_response(&self) -> Response {
        self.0.clone().into_response()
    }
}

/// Turns what poem or an extractor raised (a parameter that did not parse, a missing token,
/// an unknown path, ...) into the API's error.
fn from_rejection(err: poem::Error) -> ApiError {
    if let Some(Rejected(api_error)) = err.downcast_ref::<Rejected>() {
        return api_error.clone();
    }
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return param_issue("query", param.name, &param.reason);
    }
    if let Some(param) = err.downcast_ref::<ParsePathError>() {
        return param_issue("path", param.name, &param.reason);
    }
    if err.is::<AuthorizationError>() {
        return ApiError::not_authenticated();
    }
    if let Some(content_type) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::UnsupportedMediaType(detail(content_type.to_string()));
    }
    if let Some(payload) = err.downcast_ref::<ParseRequestPayloadError>() {
        return ApiError::invalid_field(&["body"], payload.reason.clone(), "value_error");
    }
    match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge(detail("The request body is too large"))
        }
        StatusCode::NOT_FOUND => ApiError::not_found("Not Found"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(detail("Method Not Allowed")),
        status if status.is_server_error() => {
            tracing::error!(error = %err, "request failed");
            ApiError::internal()
        }
        _ => ApiError::invalid_field(&["body"], err.to_string(), "value_error"),
    }
}

pub fn param_issue(location: &str, name: &str, reason: &str) -> ApiError {
    if reason.contains("expects an input value") || reason.contains("expected input") {
        ApiError::invalid_field(&[location, name], "Field required", "missing")
    } else {
        ApiError::invalid_field(&[location, name], reason.to_string(), "value_error")
    }
}

/// Every error on its way out: the API's own pass as they are, the rest are put in its shape.
pub async fn into_api_response(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    if err.is::<NotFoundError>() {
        return no_route();
    }
    from_rejection(err).into_response()
}

/// A path no route matches: what `ApiError::not_found("Not Found")` answers, with its body made
/// once (the one error a scanner asks for thousands of times).
fn no_route() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type("application/json; charset=utf-8")
        .body(Bytes::from_static(br#"{"detail":"Not Found"}"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_made_once_404_is_the_one_the_api_error_makes() {
        let made = ApiError::not_found("Not Found").into_response();
        let once = no_route();
        assert_eq!(once.status(), made.status());
        assert_eq!(once.content_type(), made.content_type());
        let made = made.into_body().into_string().await.unwrap();
        assert_eq!(once.into_body().into_string().await.unwrap(), made);
    }
}
