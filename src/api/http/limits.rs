//! Limits every request meets before any handler runs: header size (431), body size for every
//! body, with or without Content-Length (413), and time (408).

use std::time::Duration;

use poem::error::ReadBodyError;
use poem::http::header::CONTENT_LENGTH;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt};

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

    fn timeout_for(&self, path: &str) -> Duration {
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
async fn discard(body: &mut (impl AsyncRead + Unpin), limit: usize) {
    let mut budget = limit.saturating_mul(4);
    let mut chunk = vec![0; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while budget > 0 {
            match body.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => budget = budget.saturating_sub(read),
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

/// The request line and headers as they came on the wire, give or take separators.
fn header_bytes(request: &Request) -> usize {
    let line = request.method().as_str().len() + request.uri().to_string().len() + 12;
    request.headers().iter().fold(line, |total, (name, value)| {
        total + name.as_str().len() + value.len() + 4
    })
}

impl<E: Endpoint> Middleware<E> for Limits {
    type Output = LimitsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        LimitsEndpoint {
            inner,
            limits: *self,
        }
    }
}

pub struct LimitsEndpoint<E> {
    inner: E,
    limits: Limits,
}

impl<E: Endpoint> LimitsEndpoint<E> {
    /// Reads the whole body, up to the limit, so that every extractor after this one (JSON,
    /// forms, anything added later) sees a body that is known to fit.
    async fn capped(&self, mut request: Request) -> poem::Result<Request> {
        let limit = self.limits.max_body_bytes;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let mut body = request.take_body().into_async_read();
        if declared.is_some_and(|length| length > limit as u64) {
            discard(&mut body, limit).await;
            return Err(ApiError::payload_too_large(limit).reject());
        }
        let mut bytes = Vec::new();
        let mut chunk = vec![0; 16 * 1024];
        loop {
            let read = body
                .read(&mut chunk)
                .await
                .map_err(|err| poem::Error::from(ReadBodyError::Io(err)))?;
            if read == 0 {
                break;
            }
            if bytes.len() + read > limit {
                discard(&mut body, limit).await;
                return Err(ApiError::payload_too_large(limit).reject());
            }
            bytes.extend_from_slice(&chunk[..read]);
        }
        request.set_body(bytes);
        Ok(request)
    }

    async fn call_capped(&self, request: Request) -> poem::Result<Response> {
        let request = self.capped(request).await?;
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}

impl<E: Endpoint> Endpoint for LimitsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if header_bytes(&request) > self.limits.max_header_bytes {
            return Err(ApiError::headers_too_large(self.limits.max_header_bytes).reject());
        }
        let timeout = self.limits.timeout_for(request.uri().path());
        // A write already handed to the database writer still commits when its request times
        // out; only the answer is lost, as when the client disconnects.
        match tokio::time::timeout(timeout, self.call_capped(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::request_timeout(timeout.as_secs()).reject()),
        }
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
}
