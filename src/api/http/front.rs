//! What every request meets around its route, in one pass (one layer, one future, the request
//! moved once): the limits (`limits.rs`), a panic answered 500, poem's rejections put in the
//! API's shape with the document's parameter names and `Allow` (`paths.rs`), CORS for the
//! allowed origins and the security headers (`browser.rs`), and the access-log line.
//!
//! Outermost first: access log, security headers, CORS (preflights are answered there, with
//! the security headers), then `Guarded`: limits, panics, errors, the route.
//!
//! The access log has one line per request, at info level: the client (as `ClientAddress`
//! tells it: behind a trusted proxy, the address it forwarded; nobody else's
//! `X-Forwarded-For`), version, method, target, status and duration in microseconds. It
//! opens no span unless something listens at debug level; what a request logs meanwhile is rare
//! (warnings, errors) and sits next to its access line.

use std::any::Any;
use std::fmt::{self, Display};
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use poem::http::header::ALLOW;
use poem::http::{Method, StatusCode, Uri, Version};
use poem::middleware::CorsEndpoint;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::ParsePathError;
use tracing::Instrument;

use super::browser::{AllowedOrigins, SecurityHeaders};
use super::client::ClientAddress;
use super::error::{into_api_response, ApiError};
use super::limits::Limits;
use super::paths::DocumentPaths;
use crate::api::AppState;

/// The parts of the front, each built once at start-up.
pub struct Front {
    pub limits: Limits,
    pub paths: DocumentPaths,
    pub security_headers: SecurityHeaders,
    pub origins: AllowedOrigins,
}

impl Front {
    /// The front around `routes`, which reach `state` through `Request::data`.
    pub fn around<E: Endpoint + 'static>(self, routes: E, state: AppState) -> FrontEndpoint<E> {
        let guarded = Arc::new(Guarded {
            routes,
            limits: self.limits,
            paths: self.paths,
        });
        FrontEndpoint {
            state,
            with_cors: self.origins.cors(guarded.clone()),
            guarded,
            origins: self.origins,
            security_headers: self.security_headers,
        }
    }
}

pub struct FrontEndpoint<E> {
    state: AppState,
    guarded: Arc<Guarded<E>>,
    /// None when no origin is allowed.
    with_cors: Option<CorsEndpoint<Arc<Guarded<E>>>>,
    origins: AllowedOrigins,
    security_headers: SecurityHeaders,
}

impl<E: Endpoint + 'static> Endpoint for FrontEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        request.extensions_mut().insert(self.state.clone());
        let method = request.method().clone();
        let uri = request.uri().clone();
        let version = request.version();
        let ClientAddress(remote_addr) = ClientAddress::of(&request);
        // Only when something listens at debug level: the context of what the request logs.
        let span = tracing::debug_span!("request", %method, %uri);
        let answered = async {
            match &self.with_cors {
                Some(with_cors) if self.origins.allow(&request) => with_cors.call(request).await,
                _ => self.guarded.call(request).await,
            }
        }
        .instrument(span)
        .await;
        // Guarded answers every error itself; CORS's own refusals are the only ones left.
        let mut response = match answered {
            Ok(response) => response,
            Err(err) => into_api_response(err).await,
        };
        self.security_headers.apply(response.headers_mut());
        tracing::info!(
            "{}",
            AccessLine {
                remote_addr,
                version,
                method: &method,
                uri: &uri,
                status: response.status(),
                duration: started.elapsed(),
            }
        );
        Ok(response)
    }
}

/// `response remote_addr=127.0.0.1 version=HTTP/1.1 method=GET uri=/healthz status=200
/// duration_us=41`: written as one message in one pass, not as six fields each formatted on its
/// own (which cost a request more than its routing).
struct AccessLine<'a> {
    remote_addr: IpAddr,
    version: Version,
    method: &'a Method,
    uri: &'a Uri,
    status: StatusCode,
    duration: Duration,
}

impl Display for AccessLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "response remote_addr={} version={:?} method={} uri={} status={} duration_us={}",
            self.remote_addr,
            self.version,
            self.method,
            self.uri,
            self.status.as_u16(),
            self.duration.as_micros()
        )
    }
}

/// The limits, panics and errors around the routes.
pub struct Guarded<E> {
    routes: E,
    limits: Limits,
    paths: DocumentPaths,
}

impl<E: Endpoint> Guarded<E> {
    async fn limited(&self, request: Request) -> poem::Result<Response> {
        let limits = &self.limits;
        if let Some(refused) = limits.refuse_headers(&request) {
            return Err(refused);
        }
        let timeout = limits.timeout_for(request.uri().path());
        // A write already handed to the database writer still commits when its request times
        // out; only the answer is lost, as when the client disconnects.
        let routed = async {
            let request = limits.capped(request).await?;
            self.routes
                .call(request)
                .await
                .map(IntoResponse::into_response)
        };
        match tokio::time::timeout(timeout, routed).await {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::request_timeout(timeout.as_secs()).reject()),
        }
    }
}

impl<E: Endpoint> Endpoint for Guarded<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let answered = AssertUnwindSafe(self.limited(request))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Ok(answer_panic(&method, &uri, panic)));
        let mut response = match answered {
            Ok(response) => response,
            Err(err) => {
                let renamed = err
                    .downcast_ref::<ParsePathError>()
                    .and_then(|error| self.paths.path_error(uri.path(), error));
                match renamed {
                    Some(response) => response,
                    None => into_api_response(err).await,
                }
            }
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(methods) = self.paths.methods(uri.path()) {
                response.headers_mut().insert(ALLOW, methods);
            }
        }
        Ok(response)
    }
}

/// A panic anywhere inside is answered 500 in the API's shape; its message and place were
/// logged by the panic hook (see `server::logging`), and which request hit it is logged here.
fn answer_panic(method: &Method, uri: &Uri, _panic: Box<dyn Any + Send>) -> Response {
    tracing::error!(%method, %uri, "the request's handler panicked");
    ApiError::internal().into_response()
}
