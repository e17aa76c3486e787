//! The log: what the server says and the access log (one line per request, written in
//! `api::http::front`), on standard output.
//!
//! Lines at info level and below go through a non-blocking writer: a request only formats its
//! line and hands it to a thread that writes whatever has queued up in one go, so requests
//! neither wait for the write nor for each other at the lock of standard output. When that
//! queue is full (a stalled disk), requests wait rather than lose lines. Warnings and errors
//! are written at once, by the thread that logs them: they matter most when the process is
//! about to end, and a reader of the log finds them there as soon as they are told.

use std::io::{BufWriter, IsTerminal};

use tracing::Level;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Written in one go by the log's thread: enough for hundreds of lines.
const BATCH_BYTES: usize = 64 * 1024;

/// Keeps the log's thread; dropping it writes what is still queued.
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// Starts the log, once per process (later calls change nothing); `ADTHREAD_LOG` sets what is
/// logged (`info` by default).
pub fn init_logging() -> LogGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADTHREAD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (queued, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::with_capacity(BATCH_BYTES, std::io::stdout()));
    let writer = std::io::stdout.with_max_level(Level::WARN).or_else(queued);
    // Colour codes only help a person at a terminal; in a log file they are noise.
    let started = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer)
        .try_init()
        .is_ok();
    // A panic is answered 500 (a request) or an error (a write) and the server goes on; its
    // message and place go to the log, and the request that hit it is logged beside it.
    std::panic::set_hook(Box::new(|panic| tracing::error!(%panic, "panic")));
    LogGuard {
        _writer: started.then_some(guard),
    }
}
