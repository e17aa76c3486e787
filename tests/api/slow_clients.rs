//! Slow clients cannot hold connections: headers must arrive within
//! `server.header_read_timeout_secs`, a body within `server.request_timeout_secs`, and past
//! `server.max_connections` new connections wait until one closes.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::Server;

fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://")).unwrap()
}

/// What the server sent within `wait`, and whether it closed the connection by then.
fn read_for(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + wait;
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return (received, true),
            Ok(read) => received.extend_from_slice(&chunk[..read]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(_) => return (received, true), // reset by the server
        }
    }
    (received, false)
}

/// Sends `bytes` one at a time, `pause` apart, until the server answers or closes; returns
/// what it answered and when it stopped listening.
fn drip(stream: &mut TcpStream, bytes: &[u8], pause: Duration) -> (String, Duration) {
    let started = Instant::now();
    for byte in bytes {
        if stream.write_all(&[*byte]).is_err() {
            return (String::new(), started.elapsed());
        }
        let (answer, closed) = read_for(stream, pause);
        if closed || !answer.is_empty() {
            return (String::from_utf8_lossy(&answer).into(), started.elapsed());
        }
    }
    panic!("the server took every byte, {:?} apart", pause);
}

const HEALTH_CHECK: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

#[test]
fn a_client_that_stops_in_the_middle_of_its_headers_is_closed() {
    let server = Server::start_with(&[("ADTHREAD_HEADER_READ_TIMEOUT_SECS", "1")]);
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HT").unwrap();
    let started = Instant::now();
    let (answer, closed) = read_for(&mut stream, Duration::from_secs(20));
    assert!(closed, "still open after 20 s");
    assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn headers_dripped_a_byte_at_a_time_do_not_hold_a_connection() {
    let server = Server::start_with(&[("ADTHREAD_HEADER_READ_TIMEOUT_SECS", "2")]);
    let mut stream = connect(&server);
    let endless_header = format!("GET /healthz HTTP/1.1\r\nX-Slow: {}", "a".repeat(1000));
    let (answer, after) = drip(
        &mut stream,
        endless_header.as_bytes(),
        Duration::from_millis(200),
    );
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(after < Duration::from_secs(15), "held for {after:?}");
}

#[test]
fn a_body_dripped_a_byte_a_second_gets_408() {
    let server = Server::start_with(&[("ADTHREAD_REQUEST_TIMEOUT_SECS", "2")]);
    let mut stream = connect(&server);
    stream
        .write_all(
            b"POST /api/v1/companies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n",
        )
        .unwrap();
    let (answer, after) = drip(&mut stream, &[b' '; 100], Duration::from_secs(1));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("longer than the limit of 2 seconds"),
        "{answer}"
    );
    assert!(after < Duration::from_secs(15), "held for {after:?}");
}

/// A request sent on a new connection: answered within `wait`, or None.
fn health_check_within(server: &Server, wait: Duration) -> (TcpStream, Option<String>) {
    let mut stream = connect(server);
    stream.write_all(HEALTH_CHECK).unwrap();
    let (answer, _) = read_for(&mut stream, wait);
    let answer = (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned());
    (stream, answer)
}

#[test]
fn past_max_connections_new_ones_wait_until_one_is_closed() {
    let header_timeout = Duration::from_secs(6);
    let server = Server::start_with(&[
        ("ADTHREAD_MAX_CONNECTIONS", "3"),
        ("ADTHREAD_HEADER_READ_TIMEOUT_SECS", "6"),
    ]);
    // The harness's own idle keep-alive connection is closed by the header timeout too.
    std::thread::sleep(header_timeout + Duration::from_secs(1));

    // Three connections that never send anything take every place; a fourth waits.
    let idle: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
    let (mut waiting, answer) = health_check_within(&server, Duration::from_millis(1500));
    assert_eq!(answer, None, "answered past the limit");
    // They never close, but the header timeout closes them, and the fourth is served.
    let (answer, _) = read_for(&mut waiting, Duration::from_secs(30));
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    for mut stream in idle {
        assert!(
            read_for(&mut stream, Duration::from_secs(5)).1,
            "still open"
        );
    }

    // Once one of them closes, the next waiting connection is served at once.
    let idle: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
    let (mut waiting, answer) = health_check_within(&server, Duration::from_millis(1500));
    assert_eq!(answer, None, "answered past the limit");
    let closed = Instant::now();
    drop(idle);
    let (answer, _) = read_for(&mut waiting, Duration::from_secs(30));
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    assert!(
        closed.elapsed() < Duration::from_secs(3),
        "served only after {:?}",
        closed.elapsed()
    );
}
