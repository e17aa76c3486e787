//! What browsers are told: security headers on every response (Swagger UI, the admin page and
//! the API alike), and CORS only for the origins the configuration names.
//!
//! A page added to `app()` gets the headers with nothing to do. Its scripts should be files
//! served from this server (`script-src 'self'`); a page with inline `<script>`s passes its
//! HTML to `SecurityHeaders::new` beside Swagger UI's, so they are allowed by hash; a page that
//! needs another policy sets its own `Content-Security-Policy`, which is then left alone.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use poem::http::header::{self, HeaderName, HeaderValue};
use poem::middleware::Cors;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use sha2::{Digest, Sha256};

/// Sets the security headers a response does not set itself: a page with its own
/// `Content-Security-Policy` keeps it.
#[derive(Clone)]
pub struct SecurityHeaders {
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl SecurityHeaders {
    /// `pages` are the HTML documents served with inline `<script>`s (Swagger UI's); the
    /// policy allows exactly those scripts, by hash, and scripts served from this server.
    pub fn new(pages: &[&str]) -> Self {
        let policy = content_security_policy(pages);
        let headers = [
            (header::CONTENT_SECURITY_POLICY, policy.as_str()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ]
        .into_iter()
        .map(|(name, value)| {
            let value = HeaderValue::from_str(value).expect("a valid header value");
            (name, value)
        })
        .collect();
        SecurityHeaders {
            headers: Arc::new(headers),
        }
    }
}

/// Nothing from elsewhere, no framing by anyone (`frame-ancestors 'none'`), scripts only from
/// this server or inline ones whose hash is listed; inline styles are allowed because Swagger
/// UI sets them on its elements.
pub fn content_security_policy(pages: &[&str]) -> String {
    let hashes: Vec<String> = pages
        .iter()
        .flat_map(|page| inline_scripts(page))
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'",
        hashes.join(" ")
    )
}

/// The text of each `<script>` element with no `src`.
fn inline_scripts(page: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(tag_end) = after_tag.find('>') else {
            break;
        };
        let body = &after_tag[tag_end + 1..];
        let Some(end) = body.find("</script>") else {
            break;
        };
        if !after_tag[..tag_end].contains("src=") {
            scripts.push(&body[..end]);
        }
        rest = &body[end..];
    }
    scripts
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            headers: self.clone(),
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    headers: SecurityHeaders,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let mut response = self.inner.call(request).await?.into_response();
        let headers = response.headers_mut();
        for (name, value) in self.headers.headers.iter() {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        Ok(response)
    }
}

/// CORS for the configured origins only. A request from any other origin is served without
/// CORS headers, so the browser keeps it from the page that made it; requests without an
/// `Origin` (curl, servers, same-origin GETs) are not affected at all. Never `Cors::new()`
/// alone: with no origins listed, poem's Cors allows every origin.
pub struct AllowedOrigins {
    origins: HashSet<String>,
}

impl AllowedOrigins {
    /// With no origins, CORS is off: every request passes through untouched.
    pub fn new(origins: &[String]) -> Self {
        AllowedOrigins {
            origins: origins.iter().cloned().collect(),
        }
    }
}

impl<E: Endpoint + 'static> Middleware<E> for AllowedOrigins {
    type Output = AllowedOriginsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        let inner = Arc::new(inner);
        let with_cors = (!self.origins.is_empty()).then(|| {
            Cors::new()
                .allow_origins(self.origins.iter().cloned())
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([header::LINK, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
                .allow_credentials(false)
                .max_age(600)
                .transform(inner.clone())
        });
        AllowedOriginsEndpoint {
            origins: self.origins.clone(),
            with_cors,
            inner,
        }
    }
}

pub struct AllowedOriginsEndpoint<E: Endpoint> {
    origins: HashSet<String>,
    inner: Arc<E>,
    /// None when no origin is allowed.
    with_cors: Option<poem::middleware::CorsEndpoint<Arc<E>>>,
}

impl<E: Endpoint + 'static> Endpoint for AllowedOriginsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let allowed = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|origin| origin.to_str().ok())
            .is_some_and(|origin| self.origins.contains(origin));
        match &self.with_cors {
            Some(with_cors) if allowed => with_cors.call(request).await,
            _ => self
                .inner
                .call(request)
                .await
                .map(IntoResponse::into_response),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lists_each_inline_script_by_hash_and_skips_external_ones() {
        let page =
            "<script>a()</script><script src=\"/x.js\"></script><script charset=\"x\">b</script>";
        assert_eq!(inline_scripts(page), ["a()", "b"]);
        let policy = content_security_policy(&[page]);
        // printf 'a()' | openssl dgst -sha256 -binary | base64
        assert!(
            policy.contains("'sha256-qVpDBgj7bpq5hMAcGp3AOc79J3Y1Z4HvySTwKrWDoy4='"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }
}
