//! How one line of the log reads: `2026-12-05T07:07:28.837528Z  INFO message key=value ...`,
//! the layout of tracing-subscriber's own format without colours (and with the spans a debug
//! log adds: `request{method=GET uri=/x}: ...`).
//!
//! Written here by hand because the access log writes one line per request: the stock format
//! spent about a quarter of a 404's instructions on it (a calendar date computed per line,
//! colour wrappers that write nothing). The date and time to the second are computed once a
//! second per thread; the rest is copied.
//!
//! Values are written as they are, but for control characters (a line break, an escape):
//! those are written escaped (`\n`, `\u{1b}`), so no value can forge a line of its own or
//! drive a terminal.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

pub struct LogLine;

impl<S, N> FormatEvent<S, N> for LogLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write_now(&mut writer)?;
        write!(writer, " {:>5} ", event.metadata().level().as_str())?;
        if let Some(scope) = context.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "{{{fields}}}")?;
                    }
                }
                writer.write_str(": ")?;
            }
        }
        let mut fields = Fields {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The event's fields, space-separated: the message first as it is, then `name=value` each.
struct Fields<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// `Visit` cannot answer an error: the first one is kept, and nothing is written after it.
    fn field(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_ok() {
            self.result = self.write_field(field, value);
        }
    }

    fn write_field(&mut self, field: &Field, value: fmt::Arguments<'_>) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        if field.name() != "message" {
            write!(self.writer, "{}=", field.name())?;
        }
        write_escaped(self.writer, value)
    }
}

impl Visit for Fields<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, format_args!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.field(field, format_args!("{value}"));
        } else {
            self.field(field, format_args!("{value:?}"));
        }
    }
}

thread_local! {
    /// A value as it is formatted, before it is looked at.
    static VALUE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Writes `value`, its control characters escaped. Formatted first, then looked at in one pass
/// (a value is formatted in many small pieces: looking at each cost more than the rest).
fn write_escaped(writer: &mut Writer<'_>, value: fmt::Arguments<'_>) -> fmt::Result {
    VALUE.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut text) => escape_into(writer, &mut text, value),
        // A value whose formatting logs (tracing drops such lines, but in case it did not).
        Err(_) => escape_into(writer, &mut String::new(), value),
    })
}

fn escape_into(
    writer: &mut Writer<'_>,
    text: &mut String,
    value: fmt::Arguments<'_>,
) -> fmt::Result {
    text.clear();
    text.write_fmt(value)?;
    // 0xC2 starts every C1 control (U+0080 to U+009F) in UTF-8.
    if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return writer.write_str(text);
    }
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| c.is_control()) {
        writer.write_str(&rest[..at])?;
        let control = rest[at..].chars().next().unwrap_or_default();
        write!(writer, "{}", control.escape_default())?;
        rest = &rest[at + control.len_utf8()..];
    }
    writer.write_str(rest)
}

/// `2026-12-05T07:07:28.837528Z`, in UTC.
fn write_now(writer: &mut Writer<'_>) -> fmt::Result {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let second = since_epoch.as_secs();
    CURRENT_SECOND.with_borrow_mut(|current| {
        if current.0 != second || current.1.is_empty() {
            *current = (second, calendar_second(second));
        }
        write!(writer, "{}.{:06}Z", current.1, since_epoch.subsec_micros())
    })
}

thread_local! {
    /// The second last written by this thread, and how it reads.
    static CURRENT_SECOND: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

fn calendar_second(second: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(second).unwrap_or(i64::MAX), 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Written {
        type Writer = Written;

        fn make_writer(&'a self) -> Written {
            self.clone()
        }
    }

    /// What `log` writes, through the server's format.
    fn logged(log: impl FnOnce()) -> String {
        let written = Written::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .event_format(LogLine)
            .with_writer(written.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = written.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_line_has_the_time_the_level_the_message_and_the_fields() {
        let before = chrono::Utc::now();
        let line = logged(|| {
            let status = 404_u16;
            let uri: poem::http::Uri = "/no/such/path?q=1".parse().unwrap();
            tracing::info!(remote_addr = %"127.0.0.1", %uri, status, duration_us = 12_u64, "response");
        });
        let after = chrono::Utc::now();
        let (time, rest) = line.split_once(' ').unwrap();
        let time = chrono::DateTime::parse_from_rfc3339(time).unwrap();
        assert!(before <= time && time <= after, "{line}");
        assert_eq!(
            rest,
            " INFO response remote_addr=127.0.0.1 uri=/no/such/path?q=1 status=404 duration_us=12\n"
        );
    }

    #[test]
    fn a_value_cannot_break_the_line_or_reach_the_terminal() {
        let line = logged(|| {
            tracing::warn!(error = %"refused\nFAKE  INFO forged\u{1b}[31m", "upstream\r\nsaid");
        });
        assert_eq!(line.lines().count(), 1, "{line:?}");
        assert!(line.contains(r"upstream\r\nsaid"), "{line:?}");
        assert!(
            line.contains(r"error=refused\nFAKE  INFO forged\u{1b}[31m"),
            "{line:?}"
        );
        assert!(line.contains(" WARN "), "{line:?}");
        let line = logged(|| tracing::info!(csi = %"a\u{9b}31mb", accented = %"é ü"));
        assert!(
            line.ends_with(" INFO csi=a\\u{9b}31mb accented=é ü\n"),
            "{line:?}"
        );
    }

    #[test]
    fn a_span_is_named_with_its_fields_before_the_message() {
        let line = logged(|| {
            let span = tracing::debug_span!("request", method = %"GET", uri = %"/x");
            span.in_scope(|| tracing::debug!(answer = 42_i64, "inside"));
        });
        assert!(
            line.ends_with(" DEBUG request{method=GET uri=/x}: inside answer=42\n"),
            "{line:?}"
        );
    }

    #[test]
    fn the_time_reads_as_the_calendar_says() {
        assert_eq!(calendar_second(0), "1970-01-01T00:00:00");
        assert_eq!(calendar_second(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(calendar_second(1_796_460_448), "2026-12-05T08:47:28");
    }
}
