//! The log: what the server says and the access log (one line per request, written in
//! `api::http::front`), on standard output.
//!
//! Info lines and below are appended to a buffer in memory; the log's thread writes what has
//! gathered there at most `GATHER` after its first line, in one write(2). A request thus pays
//! for formatting its line and a short lock, not for a system call, and requests do not queue
//! at the lock of standard output. When the buffer is very full (a stalled disk), requests
//! wait rather than lose lines. A process killed outright (SIGKILL) loses at most the last
//! `GATHER` of info lines; a stop by signal writes them all.
//!
//! Warnings and errors are written at once, by the thread that logs them, after whatever is
//! still gathered (so the log keeps its order): they matter most when the process is about to
//! end, and a reader of the log finds them there as soon as they are told.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

use super::log_line::LogLine;

/// How long the first line of a batch may wait for others.
const GATHER: Duration = Duration::from_millis(10);
/// Past this, the log's thread writes without waiting out `GATHER`.
const WRITE_AT: usize = 64 * 1024;
/// Past this, a line waits until the log's thread has taken the buffer.
const FULL_AT: usize = 4 * 1024 * 1024;

/// Keeps the log's thread; dropping it writes what is still gathered.
pub struct LogGuard {
    log: Option<(Arc<Gathered>, JoinHandle<()>)>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some((gathered, thread)) = self.log.take() {
            gathered.lines().closed = true;
            gathered.changed.notify_all();
            let _ = thread.join();
        }
    }
}

/// Starts the log, once per process (later calls change nothing); `ADTHREAD_LOG` sets what is
/// logged (`info` by default).
pub fn init_logging() -> LogGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADTHREAD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let gathered = Arc::new(Gathered::new(Box::new(std::io::stdout())));
    let started = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(LogLine)
        .with_writer(Log(gathered.clone()))
        .try_init()
        .is_ok();
    // A panic is answered 500 (a request) or an error (a write) and the server goes on; its
    // message and place go to the log, and the request that hit it is logged beside it.
    std::panic::set_hook(Box::new(|panic| tracing::error!(%panic, "panic")));
    LogGuard {
        log: started.then(|| gathered.start()),
    }
}

struct Gathered {
    /// Standard output (a buffer in tests). Taken before `lines` by whoever writes, and held
    /// while writing: the lines reach it in the order they were gathered.
    output: Mutex<Box<dyn Write + Send>>,
    lines: Mutex<Lines>,
    /// A first line, `WRITE_AT` reached or closing (for the log's thread); room again (for
    /// lines waiting on a full buffer).
    changed: Condvar,
}

#[derive(Default)]
struct Lines {
    buffer: Vec<u8>,
    /// The log's thread waits for `changed`: whoever makes it worth waking notifies.
    thread_waits: bool,
    closed: bool,
}

impl Gathered {
    fn new(output: Box<dyn Write + Send>) -> Self {
        Gathered {
            output: Mutex::new(output),
            lines: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    /// Starts the log's thread.
    fn start(self: &Arc<Self>) -> (Arc<Self>, JoinHandle<()>) {
        let writer = self.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer.write_forever())
            .expect("the log's thread");
        (self.clone(), thread)
    }

    fn lines(&self) -> MutexGuard<'_, Lines> {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn output(&self) -> MutexGuard<'_, Box<dyn Write + Send>> {
        self.output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn gather(&self, line: &[u8]) {
        let mut lines = self.lines();
        if lines.closed {
            // The log's thread has ended: nothing would write the line.
            drop(lines);
            return self.write_now(line);
        }
        while lines.buffer.len() >= FULL_AT && !lines.closed {
            lines = self
                .changed
                .wait(lines)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let first = lines.buffer.is_empty();
        lines.buffer.extend_from_slice(line);
        if lines.thread_waits && (first || lines.buffer.len() >= WRITE_AT) {
            self.changed.notify_all();
        }
    }

    /// Writes `urgent` now, after every line gathered before it.
    fn write_now(&self, urgent: &[u8]) {
        let mut out = self.output();
        let gathered = std::mem::take(&mut self.lines().buffer);
        self.changed.notify_all();
        let _ = out.write_all(&gathered);
        let _ = out.write_all(urgent);
        let _ = out.flush();
    }

    fn write_forever(&self) {
        let mut batch = Vec::new();
        loop {
            let mut lines = self.lines();
            lines.thread_waits = true;
            while lines.buffer.is_empty() && !lines.closed {
                lines = self.wait(lines, None);
            }
            if lines.buffer.len() < WRITE_AT && !lines.closed {
                lines = self.wait(lines, Some(GATHER));
            }
            lines.thread_waits = false;
            drop(lines);
            // In this order, as `write_now` takes them: lines cannot pass each other.
            let mut out = self.output();
            let mut lines = self.lines();
            std::mem::swap(&mut lines.buffer, &mut batch);
            let closed = lines.closed;
            drop(lines);
            // Lines waiting for room go on.
            self.changed.notify_all();
            let _ = out.write_all(&batch);
            let _ = out.flush();
            drop(out);
            batch.clear();
            if closed {
                return;
            }
        }
    }

    /// Waits for `changed` (at most `limit`).
    fn wait<'a>(
        &'a self,
        lines: MutexGuard<'a, Lines>,
        limit: Option<Duration>,
    ) -> MutexGuard<'a, Lines> {
        match limit {
            None => self
                .changed
                .wait(lines)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some(limit) => {
                self.changed
                    .wait_timeout(lines, limit)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
        }
    }
}

/// What the formatter writes each line to.
struct Log(Arc<Gathered>);

/// One line (the formatter writes each event whole, in one call).
enum Line<'a> {
    Gathered(&'a Gathered),
    Urgent(&'a Gathered),
}

impl Write for Line<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        match self {
            Line::Gathered(gathered) => gathered.gather(line),
            Line::Urgent(gathered) => gathered.write_now(line),
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Log {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line::Urgent(&self.0)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        if *meta.level() <= Level::WARN {
            Line::Urgent(&self.0)
        } else {
            Line::Gathered(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard output, for the test: what was written, shared.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Written {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn gathered_lines_are_written_in_order_urgent_ones_at_once_the_rest_at_the_end() {
        let written = Written::default();
        let gathered = Arc::new(Gathered::new(Box::new(written.clone())));
        let guard = LogGuard {
            log: Some(gathered.start()),
        };
        let log = Log(gathered);
        let line = |text: &str, urgent: bool| {
            let mut writer = if urgent {
                Line::Urgent(&log.0)
            } else {
                Line::Gathered(&log.0)
            };
            writer.write_all(text.as_bytes()).unwrap();
        };
        line("a\n", false);
        line("b\n", false);
        line("warning\n", true);
        assert_eq!(written.text(), "a\nb\nwarning\n");
        line("c\n", false);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !written.text().ends_with("c\n") {
            assert!(std::time::Instant::now() < deadline, "{}", written.text());
            std::thread::sleep(GATHER);
        }
        line("d\n", false);
        drop(guard);
        assert_eq!(written.text(), "a\nb\nwarning\nc\nd\n");
        // After the end, lines are written at once.
        line("e\n", false);
        assert!(written.text().ends_with("d\ne\n"));
    }
}
