//! JSON (and form) bodies read and written with serde. Reading (capped earlier, for every body,
//! by the `Limits` middleware) checks the body's own rules (`Validate`) and reports each problem
//! in FastAPI's shape with its path (`["body", "extra_data"]`); writing skips poem-openapi's
//! intermediate JSON tree.

use std::marker::PhantomData;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use poem::{Body, IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{
    MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::api::http::error::{ApiError, ValidationIssue};
use crate::schema::rules::Validate;

const JSON: &str = "application/json; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";

fn is_json(content_type: &str) -> bool {
    matches!(content_type.parse::<mime::Mime>(), Ok(mime)
        if mime.type_() == "application"
            && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
}

/// A JSON request body of type `T`, checked against its rules (`Validate`) unless `VALIDATED` is
/// false: see `JsonBodyCheckedLater`.
pub struct JsonBody<T, const VALIDATED: bool = true>(pub T);

/// A JSON body whose rules the handler checks itself (with `acceptable`), after what must
/// answer first: a chat message to a thread the caller cannot see is 404, and user management
/// is 403 for non-administrators, whatever the body says.
pub type JsonBodyCheckedLater<T> = JsonBody<T, false>;

impl<T: Type, const VALIDATED: bool> Payload for JsonBody<T, VALIDATED> {
    const CONTENT_TYPE: &'static str = JSON;

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Validate + Send, const VALIDATED: bool> ParsePayload
    for JsonBody<T, VALIDATED>
{
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_whole(body).await?;
        if is_object_schema::<T>() {
            require_object(&bytes).map_err(ApiError::reject)?;
        }
        let body = parse_json(&bytes).map_err(ApiError::reject)?;
        let body = if VALIDATED {
            acceptable(body).map_err(ApiError::reject)?
        } else {
            body
        };
        Ok(JsonBody(body))
    }
}

/// The body once it meets its own rules, or a 422 naming each field at fault.
pub fn acceptable<T: Validate>(body: T) -> Result<T, ApiError> {
    let problems = body.validate();
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(ApiError::invalid_body(problems))
    }
}

/// Whether the document describes `T` as an object (every named schema here is one).
fn is_object_schema<T: Type>() -> bool {
    match T::schema_ref() {
        MetaSchemaRef::Reference(_) => true,
        MetaSchemaRef::Inline(schema) => schema.ty == "object",
    }
}

/// serde fills a struct from a JSON array too (`[null, null]`, field by field); the document
/// promises an object, so anything else is refused.
fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) => Err(ApiError::invalid_field(
            &["body"],
            "Input should be an object",
            "type_error",
        )),
    }
}

/// The whole body; the `Limits` middleware has already refused one past
/// `server.max_body_bytes` and holds the rest in memory.
async fn read_whole(body: &mut RequestBody) -> poem::Result<Vec<u8>> {
    Ok(body.take()?.into_vec().await?)
}

/// A form-encoded (`application/x-www-form-urlencoded`) request body of type `T`, read with
/// serde and reporting problems as JSON bodies do.
pub struct FormBody<T>(pub T);

impl<T: Type> Payload for FormBody<T> {
    const CONTENT_TYPE: &'static str = FORM;

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(mime)
            if mime.essence_str() == mime::APPLICATION_WWW_FORM_URLENCODED.essence_str())
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Validate + Send> ParsePayload for FormBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_whole(body).await?;
        serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| ApiError::invalid_field(&["body"], err.to_string(), "value_error"))
            .and_then(acceptable)
            .map(FormBody)
            .map_err(ApiError::reject)
    }
}

poem_openapi::impl_apirequest_for_payload!(FormBody<T>, T: Type + DeserializeOwned + Validate + Send);

impl<'a, T: Type + DeserializeOwned + Validate + Send, const VALIDATED: bool> ApiExtractor<'a>
    for JsonBody<T, VALIDATED>
{
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: JSON,
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if is_json(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_string(),
            }
            .into()),
            None => Err(poem_openapi::error::ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// Parses `bytes` as `T`, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_field(
            &["body"],
            "Field required",
            "missing",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| ApiError::invalid(vec![issue(&err)]))?;
    deserializer
        .end()
        .map_err(|err| ApiError::invalid(vec![syntax_issue(&err)]))?;
    Ok(value)
}

fn syntax_issue(inner: &serde_json::Error) -> ValidationIssue {
    ValidationIssue {
        loc: vec![Value::from("body"), Value::from(inner.column())],
        msg: format!("JSON decode error: {inner}"),
        kind: "json_invalid".into(),
    }
}

fn issue(err: &serde_path_to_error::Error<serde_json::Error>) -> ValidationIssue {
    let inner = err.inner();
    if inner.is_syntax() || inner.is_eof() {
        return syntax_issue(inner);
    }
    let mut loc = vec![Value::from("body")];
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(Value::from(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(Value::from(key.as_str())),
            serde_path_to_error::Segment::Enum { variant } => {
                loc.push(Value::from(variant.as_str()))
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = inner.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        loc.push(Value::from(field));
        return ValidationIssue {
            loc,
            msg: "Field required".into(),
            kind: "missing".into(),
        };
    }
    let kind = if message.starts_with("unknown variant") {
        "enum"
    } else if message.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    };
    ValidationIssue {
        loc,
        msg: message,
        kind: kind.into(),
    }
}

/// A 200 JSON answer of type `T`, written with serde.
pub struct JsonOut<T>(pub T);

impl<T: Type> Payload for JsonOut<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

fn json_response(body: impl Into<Body>) -> Response {
    Response::builder().content_type(JSON).body(body)
}

impl<T: Serialize + Send> IntoResponse for JsonOut<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => json_response(bytes),
            Err(err) => {
                tracing::error!(error = %err, "cannot serialize a response");
                ApiError::internal().into_response()
            }
        }
    }
}

/// A 200 answer with a `T` as JSON, in the document.
fn ok_json<T: Type>() -> MetaResponses {
    MetaResponses {
        responses: vec![MetaResponse {
            description: "Successful Response",
            status: Some(200),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: JSON,
                schema: T::schema_ref(),
            }],
            headers: vec![],
        }],
    }
}

impl<T: Type + Serialize + Send> ApiResponse for JsonOut<T> {
    fn meta() -> MetaResponses {
        ok_json::<T>()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A 200 JSON answer of type `T` that is already written (such as a cached page), or written
/// as it is sent.
pub struct JsonBytes<T>(Body, PhantomData<T>);

impl<T> JsonBytes<T> {
    /// `json` must be the JSON of a `T`.
    pub fn new(json: Bytes) -> Self {
        JsonBytes(json.into(), PhantomData)
    }

    /// `pieces`, one after the other, must be the JSON of a `T`; each is sent when the client
    /// can take it. The status is sent before the first: a failure after it is logged and cuts
    /// the connection, so that a client never takes part of the answer for the whole.
    pub fn streamed<E: std::fmt::Display>(
        pieces: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
    ) -> Self {
        let pieces = pieces.map(|piece| {
            piece.map_err(|err| {
                tracing::error!(error = %err, "a streamed answer failed; cutting the connection");
                std::io::Error::other(err.to_string())
            })
        });
        JsonBytes(Body::from_bytes_stream(pieces), PhantomData)
    }
}

impl<T: Type> Payload for JsonBytes<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for JsonBytes<T> {
    fn into_response(self) -> Response {
        json_response(self.0)
    }
}

impl<T: Type + Send> ApiResponse for JsonBytes<T> {
    fn meta() -> MetaResponses {
        ok_json::<T>()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::AssistantChatThreadCreate;

    fn problem(body: &str) -> (Vec<Value>, String) {
        match parse_json::<AssistantChatThreadCreate>(body.as_bytes()) {
            Err(ApiError::Unprocessable(errors)) => {
                let first = &errors.0.detail[0];
                (first.loc.clone(), first.kind.clone())
            }
            other => panic!("expected a 422, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn each_problem_names_its_field() {
        assert_eq!(
            problem("{}"),
            (
                vec!["body".into(), "assistant_type".into()],
                "missing".into()
            )
        );
        assert_eq!(
            problem(r#"{"assistant_type":"wizard"}"#),
            (vec!["body".into(), "assistant_type".into()], "enum".into())
        );
        assert_eq!(
            problem(r#"{"assistant_type":"general","extra_data":[1]}"#).0,
            vec![Value::from("body"), Value::from("extra_data")]
        );
        assert_eq!(problem(r#"{"assistant_type":"#).1, "json_invalid");
        assert_eq!(problem("").1, "missing");
    }
}
