//! The benchmark's ceiling: the smallest server the project's own poem makes, a handler that
//! answers a constant string, built with the same release profile. `bench/run` starts it next
//! to adthread and reports every phase as a share of its requests per second, so that what a
//! request pays before its handler shows (adthread's own `/healthz` is not a ceiling: it goes
//! through every middleware and a database ping).
//!
//!     cargo run --release --example ceiling -- 127.0.0.1:18081

use poem::listener::TcpListener;
use poem::{get, handler, Route, Server};

#[handler]
fn hello() -> &'static str {
    "ok"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_string());
    Server::new(TcpListener::bind(address))
        .run(Route::new().at("/", get(hello)))
        .await
}
