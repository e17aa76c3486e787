//! The benchmark's ceiling: the smallest server the project's own poem makes, built with the
//! same release profile. `bench/run` starts it next to adthread and reports every phase as a
//! share of its requests per second, so that what a request pays before its handler shows
//! (adthread's own `/healthz` is not a ceiling: it goes through every middleware and a
//! database ping).
//!
//! `/` answers a constant string. `/bytes/{n}` answers `n` constant bytes (a shared buffer,
//! nothing copied per request): the ceiling for an answer as long as a list page, whose cost
//! is mostly moving its bytes through the kernel and the client, whatever the server does.
//!
//!     cargo run --release --example ceiling -- 127.0.0.1:18081

use bytes::Bytes;
use poem::listener::TcpListener;
use poem::web::Path;
use poem::{get, handler, Body, Response, Route, Server};

/// The most `/bytes/{n}` answers; more is answered 404.
const MOST_BYTES: usize = 4 << 20;

#[handler]
fn hello() -> &'static str {
    "ok"
}

#[handler]
fn sized(Path(length): Path<usize>) -> Response {
    static FILLER: [u8; MOST_BYTES] = [b'x'; MOST_BYTES];
    if length > MOST_BYTES {
        return Response::builder()
            .status(poem::http::StatusCode::NOT_FOUND)
            .finish();
    }
    Response::builder()
        .content_type("application/json")
        .body(Body::from_bytes(Bytes::from_static(&FILLER[..length])))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_string());
    Server::new(TcpListener::bind(address))
        .run(
            Route::new()
                .at("/", get(hello))
                .at("/bytes/:length", get(sized)),
        )
        .await
}
