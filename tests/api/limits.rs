//! Limits answered with clear 4xx: body size for every body (with or without Content-Length),
//! header size, request time, `extra_data` nesting; and what browsers are told (security
//! headers, CORS).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{Answer, Server};

/// Sends `body` with `Transfer-Encoding: chunked` (no Content-Length), in small chunks.
fn post_chunked(server: &Server, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let body = reqwest::blocking::Body::new(ChunkedReader(body.into()));
    Answer::from(
        server
            .client
            .post(server.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap(),
    )
}

/// A reader of unknown length, so reqwest sends it chunked.
struct ChunkedReader(std::collections::VecDeque<u8>);

impl ChunkedReader {
    fn take(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.0.len()).min(1000);
        for slot in buf.iter_mut().take(n) {
            *slot = self.0.pop_front().unwrap();
        }
        n
    }
}

impl Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(self.take(buf))
    }
}

#[test]
fn every_body_is_capped_with_or_without_content_length() {
    let server = Server::start_with(&[("ADTHREAD_MAX_BODY_BYTES", "4096")]);
    let token = server.admin_token();
    let big_form = format!(
        "grant_type=password&username=a&password={}",
        "x".repeat(6000)
    );

    // The sign-in form, chunked and with a Content-Length.
    let chunked = post_chunked(
        &server,
        "/api/v1/auth/token",
        "application/x-www-form-urlencoded",
        big_form.clone().into_bytes(),
    )
    .expect(413);
    assert!(chunked.body["detail"].as_str().unwrap().contains("4096"));
    server
        .post_raw(
            "",
            "/api/v1/auth/token",
            "application/x-www-form-urlencoded",
            big_form.into_bytes(),
        )
        .expect(413);

    // A JSON body, chunked.
    let big_json = json!({"name": "x".repeat(6000)}).to_string().into_bytes();
    post_chunked(&server, "/api/v1/companies", "application/json", big_json).expect(413);

    // A body just under the limit is fine, chunked too.
    let small = post_chunked(
        &server,
        "/api/v1/auth/token",
        "application/x-www-form-urlencoded",
        format!(
            "grant_type=password&username=admin@localhost&password={}",
            server.admin_password()
        )
        .into_bytes(),
    );
    assert_eq!(small.status, 200, "{}", small.body);
    assert_eq!(
        server.get(&token, "/api/v1/companies").expect(200).body,
        json!([]),
        "nothing was created by the refused bodies"
    );
}

#[test]
fn oversized_headers_get_431() {
    let server = Server::start_with(&[("ADTHREAD_MAX_HEADER_BYTES", "4096")]);
    let answer = Answer::from(
        server
            .client
            .get(server.url("/healthz"))
            .header("x-padding", "p".repeat(5000))
            .send()
            .unwrap(),
    )
    .expect(431);
    assert!(answer.body["detail"].as_str().unwrap().contains("4096"));
    let token = server.admin_token();
    server.get(&token, "/api/v1/users/me").expect(200);
}

#[test]
fn a_request_that_takes_too_long_gets_408() {
    let server = Server::start_with(&[("ADTHREAD_REQUEST_TIMEOUT_SECS", "1")]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Promises 100 bytes of body and sends 10: the server must not wait forever.
    write!(
        stream,
        "POST /api/v1/companies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\": "
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("longer than the limit of 1 seconds"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `depth` nested objects: 1 is `{}`, 2 is `{"a": {}}`, ...
fn nested(depth: usize) -> Value {
    (1..depth).fold(json!({}), |inner, _| json!({ "a": inner }))
}

#[test]
fn extra_data_nests_at_most_32_levels() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company(&token, "Deep");
    let create = |extra_data: Value| {
        server.post(
            &token,
            &format!("/api/v1/chat/threads?company_id={company}"),
            &json!({"assistant_type": "general", "extra_data": extra_data}),
        )
    };
    let kept = create(nested(32)).expect(200);
    assert_eq!(kept.body["extra_data"], nested(32));
    for depth in [33, 200] {
        let refused = create(nested(depth)).expect(422);
        assert_eq!(
            refused.body["detail"][0]["loc"],
            json!(["body", "extra_data"]),
            "{}",
            refused.body
        );
    }
    // serde_json's own recursion limit (128) is not a 500 either.
    let text = format!(
        "{{\"assistant_type\": \"general\", \"extra_data\": {}{}}}",
        "{\"a\": ".repeat(300),
        "}".repeat(300)
    );
    server
        .post_raw(
            &token,
            &format!("/api/v1/chat/threads?company_id={company}"),
            "application/json",
            text.into_bytes(),
        )
        .expect(422);
    let threads = server
        .get(
            &token,
            &format!("/api/v1/chat/threads?company_id={company}"),
        )
        .expect(200);
    assert_eq!(threads.body.as_array().unwrap().len(), 1);
}

fn inline_script_hashes(page: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        let open = &rest[start..];
        let body = &open[open.find('>').unwrap() + 1..];
        let end = body.find("</script>").unwrap();
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        hashes.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &body[end..];
    }
    hashes
}

#[test]
fn swagger_ui_and_every_other_answer_carry_the_security_headers() {
    let server = Server::start();
    for path in [
        "/docs",
        "/docs/",
        "/openapi.json",
        "/healthz",
        "/no-such-page",
    ] {
        let answer = Answer::from(server.client.get(server.url(path)).send().unwrap());
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
        let policy = answer.header("content-security-policy").unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("'unsafe-eval'"), "{path}: {policy}");
        // What is not a page allows nothing at all.
        if !answer
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
        {
            assert_eq!(
                policy, "default-src 'none'; frame-ancestors 'none'",
                "{path}"
            );
        }
    }
    let page = server.client.get(server.url("/docs")).send().unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let page = page.text().unwrap();
    let hashes = inline_script_hashes(&page);
    assert!(hashes.len() >= 2, "Swagger UI's inline scripts");
    for hash in hashes {
        assert!(policy.contains(&hash), "{hash} is not allowed by {policy}");
    }
    let script_src = policy
        .split(';')
        .find(|directive| directive.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("'unsafe-inline'"), "{script_src}");
}

fn preflight(server: &Server, origin: &str) -> Answer {
    Answer::from(
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/api/v1/companies"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .unwrap(),
    )
}

/// GET /api/v1/users/me as a browser page from `origin` would send it.
fn me_from(server: &Server, token: &str, origin: &str) -> Answer {
    Answer::from(
        server
            .client
            .get(server.url("/api/v1/users/me"))
            .bearer_auth(token)
            .header("origin", origin)
            .send()
            .unwrap(),
    )
    .expect(200)
}

#[test]
fn cors_is_off_by_default_and_allows_only_the_configured_origins() {
    let server = Server::start();
    let token = server.admin_token();
    assert_eq!(
        preflight(&server, "https://evil.example").header("access-control-allow-origin"),
        None
    );
    let plain = me_from(&server, &token, "https://evil.example");
    assert_eq!(plain.header("access-control-allow-origin"), None);
    drop(server);

    let server = Server::start_with(&[(
        "ADTHREAD_CORS_ORIGINS",
        "https://app.example, https://other.example",
    )]);
    let allowed = preflight(&server, "https://app.example");
    assert!(allowed.status.is_success(), "{allowed:?}");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(allowed.header("access-control-allow-credentials"), None);
    assert_eq!(
        preflight(&server, "https://evil.example").header("access-control-allow-origin"),
        None
    );
    let token = server.admin_token();
    let answer = me_from(&server, &token, "https://other.example");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://other.example")
    );
}
