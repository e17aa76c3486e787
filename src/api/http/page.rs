//! The admin page: the files of `static/`, compiled into the binary and served under `/admin`.

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, Request, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Files;

/// Scripts and styles only from this server, no inline code, never inside a frame: stricter
/// than the policy `SecurityHeaders` gives every other answer (no inline styles), so it is set
/// here and kept; nosniff and the rest come from `SecurityHeaders`.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

pub struct AdminPage;

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

impl Endpoint for AdminPage {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Err(StatusCode::METHOD_NOT_ALLOWED.into());
        }
        // Nested under /admin: "" for /admin, "/" for /admin/, "/app.js" for an asset.
        let path = match request.uri().path().trim_start_matches('/') {
            "" => "index.html",
            path => path,
        };
        let file = Files::get(path).ok_or(StatusCode::NOT_FOUND)?;
        let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
        let unchanged = request
            .headers()
            .get(header::IF_NONE_MATCH)
            .is_some_and(|value| value.as_bytes() == etag.as_bytes());
        let response = Response::builder()
            .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
            // Revalidated every time: a new binary's page is seen at once.
            .header(header::CACHE_CONTROL, "no-cache")
            .header(
                header::ETAG,
                HeaderValue::from_str(&etag).expect("hex etag"),
            );
        if unchanged {
            return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
        }
        Ok(response
            .content_type(content_type(path))
            .body(file.data.into_owned()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
