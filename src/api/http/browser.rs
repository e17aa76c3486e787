//! What browsers are told: security headers on every response (Swagger UI, the admin page and
//! the API alike), and CORS only for the origins the configuration names.
//!
//! A page added to `app()` gets the headers with nothing to do. Its scripts should be files
//! served from this server (`script-src 'self'`); a page with inline `<script>`s passes its
//! HTML to `SecurityHeaders::new` beside Swagger UI's, so they are allowed by hash; a page that
//! needs another policy sets its own `Content-Security-Policy`, which is then left alone.

use std::collections::HashSet;

use base64::Engine;
use poem::http::header::{self, Entry, HeaderMap, HeaderName, HeaderValue};
use poem::middleware::{Cors, CorsEndpoint};
use poem::{Endpoint, Middleware, Request};
use sha2::{Digest, Sha256};

/// Sets the security headers a response does not set itself: a page with its own
/// `Content-Security-Policy` keeps it. The values are made once, at start-up, and every
/// response gets a copy of the same static bytes (no allocation, no reference count).
#[derive(Clone)]
pub struct SecurityHeaders {
    /// For HTML pages: what Swagger UI needs and no more.
    page_policy: HeaderValue,
    headers: [(HeaderName, HeaderValue); 3],
}

/// For everything that is not a page (JSON, scripts, styles): nothing may run, nothing may
/// frame it. A tenth of the page policy's bytes, on the answers that are most of the traffic.
const POLICY_FOR_NON_PAGES: &str = "default-src 'none'; frame-ancestors 'none'";

impl SecurityHeaders {
    /// `pages` are the HTML documents served with inline `<script>`s (Swagger UI's); the
    /// policy allows exactly those scripts, by hash, and scripts served from this server.
    pub fn new(pages: &[&str]) -> Self {
        // Made once per application: kept for the life of the process, like the application.
        let policy: &'static str = Box::leak(content_security_policy(pages).into_boxed_str());
        SecurityHeaders {
            page_policy: HeaderValue::from_static(policy),
            headers: [
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
            ],
        }
    }

    /// Adds each header `headers` does not have yet.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let is_page = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|content_type| content_type.as_bytes().starts_with(b"text/html"));
        if let Entry::Vacant(entry) = headers.entry(header::CONTENT_SECURITY_POLICY) {
            entry.insert(if is_page {
                self.page_policy.clone()
            } else {
                HeaderValue::from_static(POLICY_FOR_NON_PAGES)
            });
        }
        for (name, value) in &self.headers {
            if let Entry::Vacant(entry) = headers.entry(name) {
                entry.insert(value.clone());
            }
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

impl AllowedOrigins {
    /// Whether the request comes from a page of an allowed origin.
    pub fn allow(&self, request: &Request) -> bool {
        !self.origins.is_empty()
            && request
                .headers()
                .get(header::ORIGIN)
                .and_then(|origin| origin.to_str().ok())
                .is_some_and(|origin| self.origins.contains(origin))
    }

    /// poem's CORS around `inner`, for the allowed origins; None when no origin is allowed.
    pub fn cors<E: Endpoint>(&self, inner: E) -> Option<CorsEndpoint<E>> {
        (!self.origins.is_empty()).then(|| {
            Cors::new()
                .allow_origins(self.origins.iter().cloned())
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([header::LINK, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
                .allow_credentials(false)
                .max_age(600)
                .transform(inner)
        })
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
