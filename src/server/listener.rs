//! Accepting and serving HTTP connections, in place of `poem::Server`, which offers neither a
//! limit on connections nor a deadline for a request's headers: a client that opened
//! connections and sent nothing, or dripped its headers a byte at a time, held each one
//! forever. Here hyper's HTTP/1.1 (what every client and proxy speaks to us) serves the poem
//! endpoint with:
//!
//! - `header_read_timeout`: a request's line and headers must arrive within it, counted from
//!   the moment the connection waits for them, so it also closes idle keep-alive connections;
//! - `max_connections`: past it, new connections wait in the kernel's backlog until one closes.
//!
//! A slow body is bounded by `server.request_timeout_secs` (see `api::http::limits`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// What every connection's task shares.
struct Shared<E> {
    endpoint: E,
    limits: ConnectionLimits,
    local_addr: SocketAddr,
}

/// Serves `endpoint` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (idle connections close at once) and returns.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let shared = Arc::new(Shared {
        endpoint: endpoint.into_endpoint().map_to_response(),
        limits,
        local_addr: listener.local_addr()?,
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let next = async {
            let slot = slots.clone().acquire_owned().await.expect("never closed");
            (slot, listener.accept().await)
        };
        let (slot, accepted) = tokio::select! {
            () = &mut shutdown => break,
            next = next => next,
        };
        match accepted {
            Ok((stream, remote_addr)) => {
                tokio::spawn(serve_connection(
                    stream,
                    remote_addr,
                    shared.clone(),
                    stopping.clone(),
                    slot,
                ));
            }
            Err(err) => {
                // Out of file descriptors, most often: retrying at once would spin.
                tracing::warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it ends: all slots back means all connections ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// `_slot` is given back when the connection ends, letting the next one in.
async fn serve_connection<E: Endpoint<Output = Response> + 'static>(
    stream: TcpStream,
    remote_addr: SocketAddr,
    shared: Arc<Shared<E>>,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let header_read_timeout = shared.limits.header_read_timeout;
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        async move {
            let request = Request::from((
                request,
                LocalAddr(shared.local_addr.into()),
                RemoteAddr(remote_addr.into()),
                Scheme::HTTP,
            ));
            let response = shared.endpoint.get_response(request).await;
            Ok::<_, Infallible>(hyper::Response::from(response))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    // Header timeouts, clients gone mid-request: routine, but worth seeing when looking.
    if let Err(err) = ended {
        tracing::debug!(error = %err, %remote_addr, "connection ended");
    }
}
