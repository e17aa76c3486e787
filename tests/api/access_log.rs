//! The access log: one line per request, saying who asked what and how it went, that no client
//! can split into two lines.

use std::time::{Duration, Instant};

use crate::harness::Server;

/// The log's first line containing `needle`, once the log's thread has written it.
fn line_with(server: &Server, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = server.log().lines().find(|line| line.contains(needle)) {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no line with {needle}:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn each_request_has_one_access_line_with_client_method_target_status_and_time() {
    let server = Server::start();
    let answer = server.client.get(server.url("/healthz")).send().unwrap();
    assert_eq!(answer.status(), 200);
    let line = line_with(&server, "uri=/healthz");
    let (time, rest) = line.split_once(' ').unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{line}");
    let rest = rest
        .strip_prefix(
            " INFO response remote_addr=127.0.0.1 version=HTTP/1.1 method=GET uri=/healthz \
             status=200 duration_us=",
        )
        .unwrap_or_else(|| panic!("{line}"));
    assert!(rest.parse::<u64>().is_ok(), "{line}");
}

/// The target is logged as it came, percent-encoded: its encoded line breaks are never decoded
/// into the log (and a raw one never gets past hyper; `server::log_line` escapes any other).
#[test]
fn a_target_full_of_line_breaks_stays_on_its_own_line() {
    let server = Server::start();
    let forged = "/no/such/path?q=%0A2026-01-01T00:00:00.000000Z%20%20INFO%20forged%0D%0A";
    let answer = server.client.get(server.url(forged)).send().unwrap();
    assert_eq!(answer.status(), 404);
    let line = line_with(&server, "uri=/no/such/path");
    assert!(line.contains(" status=404 duration_us="), "{line}");
    assert!(line.contains(forged), "the target as it came: {line}");
    assert!(
        !server
            .log()
            .lines()
            .any(|line| line.contains(" INFO forged")),
        "{}",
        server.log()
    );
}
