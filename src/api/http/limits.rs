//! Limits every request meets before any handler runs: header size (431), body size for every
//! body, with or without Content-Length (413), and time (408). `front.rs` applies them.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use poem::error::ReadBodyError;
use poem::http::header::CONTENT_LENGTH;
use poem::http::Uri;
use poem::Request;

use crate::api::http::error::ApiError;
use crate::config::Config;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    max_header_bytes: usize,
    max_body_bytes: usize,
    timeout: Duration,
    /// For the chat message endpoints, which wait for the model (several calls per message).
    model_timeout: Duration,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        let timeout = Duration::from_secs(config.server.request_timeout_secs);
        let model_calls = u64::from(config.llm.max_tool_rounds) + 1;
        Limits {
            max_header_bytes: config.server.max_header_bytes,
            max_body_bytes: config.server.max_body_bytes,
            timeout,
            model_timeout: timeout + Duration::from_secs(config.llm.timeout_secs * model_calls),
        }
    }

    /// How long a request for `path` may take.
    pub fn timeout_for(&self, path: &str) -> Duration {
        if is_chat_message_path(path) {
            self.model_timeout
        } else {
            self.timeout
        }
    }
}

/// Reads and drops what is left of a refused body, up to a few times the limit and for a
/// moment at most: closing a connection with unread data makes the kernel reset it, and the
/// client would then lose the 413 it is about to be sent.
async fn discard(body: &mut (impl Stream<Item = std::io::Result<Bytes>> + Unpin), limit: usize) {
    let mut budget = limit.saturating_mul(4);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while budget > 0 {
            match body.next().await {
                Some(Ok(chunk)) => budget = budget.saturating_sub(chunk.len()),
                Some(Err(_)) | None => break,
            }
        }
    })
    .await;
}

/// `/api/v1/chat/{thread_id}/messages` and everything under it.
fn is_chat_message_path(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    segments.next() == Some("api")
        && segments.next() == Some("v1")
        && segments.next() == Some("chat")
        && segments.next().is_some_and(|thread| !thread.is_empty())
        && segments.next() == Some("messages")
}

/// The length of the request target as `Uri`'s `Display` writes it, without writing it.
fn target_len(uri: &Uri) -> usize {
    let scheme = uri.scheme_str().map_or(0, |scheme| scheme.len() + 3);
    let authority = uri
        .authority()
        .map_or(0, |authority| authority.as_str().len());
    let query = uri.query().map_or(0, |query| query.len() + 1);
    scheme + authority + uri.path().len() + query
}

impl Limits {
    /// The request line and headers as they came on the wire, give or take separators.
    fn header_bytes(request: &Request) -> usize {
        let line = request.method().as_str().len() + target_len(request.uri()) + 12;
        request.headers().iter().fold(line, |total, (name, value)| {
            total + name.as_str().len() + value.len() + 4
        })
    }

    /// The 431 for a request whose line and headers are over the limit.
    pub fn refuse_headers(&self, request: &Request) -> Option<poem::Error> {
        (Self::header_bytes(request) > self.max_header_bytes)
            .then(|| ApiError::headers_too_large(self.max_header_bytes).reject())
    }

    /// Reads the whole body, up to the limit, so that every extractor after this one (JSON,
    /// forms, anything added later) sees a body that is known to fit. A request without a
    /// body (every GET) is passed on as it is.
    pub async fn capped(&self, mut request: Request) -> poem::Result<Request> {
        let body = request.take_body();
        if body.is_empty() {
            return Ok(request);
        }
        let limit = self.max_body_bytes;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let mut body = std::pin::pin!(body.into_bytes_stream());
        if declared.is_some_and(|length| length > limit as u64) {
            discard(&mut body, limit).await;
            return Err(ApiError::payload_too_large(limit).reject());
        }
        let mut bytes = BytesMut::with_capacity(declared.map_or(0, |length| length as usize));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| poem::Error::from(ReadBodyError::Io(err)))?;
            if bytes.len() + chunk.len() > limit {
                discard(&mut body, limit).await;
                return Err(ApiError::payload_too_large(limit).reject());
            }
            bytes.extend_from_slice(&chunk);
        }
        request.set_body(bytes.freeze());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chat_message_endpoints_get_the_model_timeout() {
        assert!(is_chat_message_path("/api/v1/chat/thr_1/messages"));
        assert!(is_chat_message_path("/api/v1/chat/thr_1/messages/stream"));
        assert!(!is_chat_message_path("/api/v1/chat/threads"));
        assert!(!is_chat_message_path("/api/v1/chat/threads/thr_1"));
        assert!(!is_chat_message_path("/api/v1/chat//messages"));
        assert!(!is_chat_message_path("/api/v1/companies/1/messages"));
    }

    #[test]
    fn the_target_is_counted_as_it_is_written() {
        for target in [
            "/",
            "/healthz",
            "/api/v1/chat/threads?company_id=2&limit=50",
            "/a?",
            "http://example.com:8080/x/y?z=1",
            "http://example.com",
            "example.com:443",
            "*",
        ] {
            let uri: Uri = target.parse().unwrap();
            assert_eq!(target_len(&uri), uri.to_string().len(), "{target}");
        }
    }
}
