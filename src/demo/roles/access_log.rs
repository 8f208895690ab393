//! The gateway's access log: nginx "combined" format plus `$request_time`,
//! one line per request, written to stdout (or any injected writer) by a
//! dedicated thread so a slow reader never blocks the runtime.
//!
//! ```text
//! $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time
//! 172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/products/42 HTTP/1.1" 200 153 "-" "curl/8.0" 0.004
//! ```
//!
//! Escaping follows nginx: `"`, `\`, control bytes and bytes >= 0x7f in the
//! request line, referer and user agent become `\xHH`. A missing header is
//! `-`. Times are UTC (a scratch container has no zone database).

use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::format_description;

/// One finished request, as the access log needs it.
#[derive(Debug, Clone)]
pub struct AccessRecord<'a> {
    pub remote: IpAddr,
    /// When the response was finished.
    pub time: OffsetDateTime,
    pub method: &'a str,
    /// The request target as received (path and query).
    pub target: &'a [u8],
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub protocol: &'a str,
    pub status: u16,
    pub body_bytes: u64,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub request_time: Duration,
}

/// Formats one line (without the newline).
pub fn format_line(r: &AccessRecord<'_>) -> String {
    let time = r
        .time
        .format(format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
        ))
        .unwrap_or_else(|_| "-".to_owned());
    let mut request = Vec::with_capacity(r.method.len() + r.target.len() + 10);
    request.extend_from_slice(r.method.as_bytes());
    request.push(b' ');
    request.extend_from_slice(r.target);
    request.push(b' ');
    request.extend_from_slice(r.protocol.as_bytes());
    let mut line = String::with_capacity(160);
    let _ = write!(
        line,
        "{} - - [{time}] \"{}\" {} {} \"{}\" \"{}\" {}",
        r.remote,
        escape(&request),
        r.status,
        r.body_bytes,
        r.referer.map_or_else(|| "-".to_owned(), escape),
        r.user_agent.map_or_else(|| "-".to_owned(), escape),
        seconds_millis(r.request_time),
    );
    line
}

/// `0.004`: seconds with millisecond precision, as nginx writes it.
fn seconds_millis(d: Duration) -> String {
    let millis = d.as_millis();
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

/// nginx's log escaping: `"`, `\`, bytes < 0x20 and >= 0x7f as `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Lines waiting for the writer thread before new ones are dropped.
const QUEUE: usize = 16 * 1024;

/// A clonable handle that queues lines for the writer thread. Dropping every
/// handle ends the thread once it has written and flushed what was queued.
#[derive(Clone)]
pub struct AccessLog {
    tx: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

/// The writer thread; [`AccessLogWriter::join`] waits until it has flushed
/// everything and stopped (after the last handle is dropped).
pub struct AccessLogWriter {
    thread: Option<JoinHandle<()>>,
}

impl AccessLog {
    /// Spawns the writer thread over `sink`.
    pub fn spawn(sink: impl Write + Send + 'static) -> std::io::Result<(Self, AccessLogWriter)> {
        let (tx, rx) = mpsc::sync_channel::<String>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("access-log".to_owned())
            .spawn(move || write_lines(&rx, sink))?;
        let log = Self {
            tx,
            dropped: Arc::default(),
        };
        Ok((
            log,
            AccessLogWriter {
                thread: Some(thread),
            },
        ))
    }

    /// To standard output.
    pub fn stdout() -> std::io::Result<(Self, AccessLogWriter)> {
        Self::spawn(std::io::stdout())
    }

    /// Queues a line; never blocks. If the writer is hopelessly behind the
    /// line is dropped and counted.
    pub fn write(&self, line: String) {
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "access log writer is behind; lines dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::warn!("access log writer has stopped");
            }
        }
    }
}

impl AccessLogWriter {
    /// Waits for the thread (call after dropping every [`AccessLog`]).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("access log writer panicked");
            }
        }
    }
}

/// Writes everything available, then flushes, so each line is out as soon
/// as the queue is momentarily empty.
fn write_lines(rx: &mpsc::Receiver<String>, sink: impl Write) {
    let mut out = std::io::BufWriter::new(sink);
    while let Ok(line) = rx.recv() {
        let mut result = writeln!(out, "{line}");
        while let Ok(more) = rx.try_recv() {
            result = result.and_then(|()| writeln!(out, "{more}"));
        }
        if let Err(e) = result.and_then(|()| out.flush()) {
            tracing::error!(error = %e, "cannot write the access log");
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use time::macros::datetime;

    use super::*;

    fn record() -> AccessRecord<'static> {
        AccessRecord {
            remote: "172.18.0.1".parse().unwrap(),
            time: datetime!(2026-11-27 10:00:00 UTC),
            method: "GET",
            target: b"/api/products/42",
            protocol: "HTTP/1.1",
            status: 200,
            body_bytes: 153,
            referer: None,
            user_agent: Some(b"curl/8.0"),
            request_time: Duration::from_micros(4_200),
        }
    }

    #[test]
    fn formats_combined_plus_request_time() {
        assert_eq!(
            format_line(&record()),
            "172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] \"GET /api/products/42 HTTP/1.1\" 200 153 \"-\" \"curl/8.0\" 0.004"
        );
    }

    #[test]
    fn escapes_like_nginx() {
        let mut r = record();
        r.target = b"/api/search?q=\"x\"\\\x01\xc3\xa9";
        r.referer = Some(b"http://a/b");
        r.user_agent = Some(b"say \"hi\"");
        r.request_time = Duration::from_millis(12_345);
        r.time = datetime!(2026-01-05 23:59:58 +01:00);
        assert_eq!(
            format_line(&r),
            "172.18.0.1 - - [05/Jan/2026:23:59:58 +0100] \"GET /api/search?q=\\x22x\\x22\\x5C\\x01\\xC3\\xA9 HTTP/1.1\" 200 153 \"http://a/b\" \"say \\x22hi\\x22\" 12.345"
        );
    }

    #[test]
    fn ipv6_peers_and_zero_times() {
        let mut r = record();
        r.remote = "::1".parse().unwrap();
        r.request_time = Duration::ZERO;
        r.user_agent = None;
        let line = format_line(&r);
        assert!(line.starts_with("::1 - - ["), "{line}");
        assert!(line.ends_with(" \"-\" \"-\" 0.000"), "{line}");
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_writer_thread_writes_every_line_in_order() {
        let sink = Shared::default();
        let (log, writer) = AccessLog::spawn(sink.clone()).unwrap();
        let other = log.clone();
        for i in 0..100 {
            if i % 2 == 0 { &log } else { &other }.write(format!("line {i}"));
        }
        drop((log, other));
        writer.join();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[99], "line 99");
    }
}
