//! How the watch reads an entry container's live output (pure): each
//! line as an access-log request, its format decided per line
//! (an access-log line, `traffic::parse`'s dialects, or a JSON line, as
//! `traffic profile` reads them) unless one is named (`--log-format`: every
//! line in that nginx or Apache format),
//! and the one notice a log deserves when it gives lines but no request,
//! or nothing at all for [`SILENT_AFTER`].
//!
//! Both streams are read, as `docker logs` shows them: nginx and Apache
//! write requests to stdout and errors to stderr, Caddy writes its JSON
//! access log to stderr. A stdout line that is not a request counts
//! against the log (it was to be the access log); a stderr line that is
//! not one is the error log's and passes unremarked.
//!
//! An entry whose access log is off, goes to a file, or has a format not
//! read would otherwise leave its environment's request metrics empty
//! without a word, and the judge would read production's load as none.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::series::Environment;
use crate::domain::traffic::Record;
use crate::traffic::parse::{Format, Line, LineParser, LogTemplate, Reason};

/// Lines read, none a request, before the log is called unread.
pub const UNREAD_AFTER_LINES: u64 = 20;

/// An entry that writes nothing to stdout for this long from the watch's
/// start is named once.
pub const SILENT_AFTER: Duration = Duration::from_secs(60);

/// The longest quoted line in the notice (characters).
const QUOTED_CHARS: usize = 120;

/// One followed entry's log.
#[derive(Debug)]
pub struct EntryLog {
    stdout: LineParser,
    stderr: LineParser,
    first_rejected: Option<(String, Reason)>,
    told: bool,
}

impl Default for EntryLog {
    fn default() -> Self {
        Self {
            stdout: LineParser::per_line(),
            stderr: LineParser::per_line(),
            first_rejected: None,
            told: false,
        }
    }
}

impl EntryLog {
    /// An entry log whose lines are all in `format` (`--log-format`).
    pub fn in_format(format: Arc<LogTemplate>) -> Self {
        Self {
            stdout: LineParser::in_format(format.clone()),
            stderr: LineParser::in_format(format),
            ..Self::default()
        }
    }

    /// The request on stdout `line`, if it is one; `time_ms`, the engine's
    /// stamp, is the time of a line that writes none (uvicorn's).
    pub fn push(&mut self, line: &str, time_ms: Option<i64>) -> Option<Record> {
        match self.stdout.read(line.as_bytes(), time_ms) {
            Line::Blank => None,
            Line::Parsed(record) => Some(record),
            Line::Rejected(reason) => {
                if self.first_rejected.is_none() {
                    self.first_rejected = Some((quoted(line), reason));
                }
                None
            }
        }
    }

    /// The request on stderr `line`, if it is one (`time_ms` as for
    /// [`EntryLog::push`]).
    pub fn push_stderr(&mut self, line: &str, time_ms: Option<i64>) -> Option<Record> {
        match self.stderr.read(line.as_bytes(), time_ms) {
            Line::Parsed(record) => Some(record),
            Line::Blank | Line::Rejected(_) => None,
        }
    }

    /// Once, when stdout has given [`UNREAD_AFTER_LINES`] lines and
    /// neither stream one request: what was seen and what is missing for it.
    pub fn unread_notice(&mut self, instance: &str) -> Option<String> {
        let read = self.stdout.completeness();
        let requests = read.parsed + self.stderr.completeness().parsed;
        if self.told || requests > 0 || read.lines < UNREAD_AFTER_LINES {
            return None;
        }
        self.told = true;
        let (first, reason) = self.first_rejected.as_ref()?;
        if let Format::Template(format) = self.stdout.format() {
            return Some(format!(
                "the access log of {instance} gave {} lines and none in the log format \
                 given (--log-format '{format}'); the first: \"{first}\" ({reason}). \
                 Its request metrics (rate, latency, errors) stay empty and its load reads \
                 as none",
                read.lines
            ));
        }
        Some(format!(
            "the access log of {instance} gave {} lines and no request \
             (understudy reads nginx/Apache combined or common, Traefik, Envoy, \
             HAProxy, Python http.server and uvicorn lines, and JSON lines); \
             the first: \"{first}\" ({reason}). Its request metrics (rate, latency, \
             errors) stay empty and its load reads as none",
            read.lines
        ))
    }
}

/// What to say of an entry of `environment` that wrote nothing in the
/// watch's first `silent`: idle, or its requests are not logged where the
/// watch reads them. Production's load then reads as none.
pub fn silent_notice(instance: &str, environment: Environment, silent: Duration) -> String {
    let side = side(environment);
    format!(
        "{instance} ({side} entry) logged nothing in the watch's first {} s: it is \
         idle, or its access log is off or written to a file (understudy reads requests \
         from an entry's stdout and stderr); {side} request metrics stay empty and its \
         load reads as none until it logs",
        silent.as_secs()
    )
}

/// What to say of an entry whose log the engine would not give (a logging
/// driver it cannot read back, such as `none`): `error` is the engine's.
pub fn unreadable_notice(instance: &str, environment: Environment, error: &str) -> String {
    let side = side(environment);
    format!(
        "the log of {instance} ({side} entry) cannot be read: {error}; {side} request \
         metrics stay empty (a logging driver Docker cannot read back, such as `none`, \
         hides an entry's requests from the watch)"
    )
}

fn side(environment: Environment) -> &'static str {
    match environment {
        Environment::Prod => "production's",
        Environment::Shadow | Environment::Host => "the shadow's",
    }
}

/// `line` without its line end, cut to [`QUOTED_CHARS`] characters.
fn quoted(line: &str) -> String {
    let line = line.trim_end();
    match line.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{EntryLog, UNREAD_AFTER_LINES, silent_notice};
    use crate::domain::series::Environment;

    const ACCESS: &str = r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/cart HTTP/1.1" 200 15 "-" "curl/8.0" 0.004"#;
    const JSON: &str =
        r#"{"ts":1795773600000,"method":"GET","path":"/a","status":500,"latency_ms":12}"#;

    #[test]
    fn requests_in_either_format_are_read_after_other_lines() {
        let mut log = EntryLog::default();
        assert!(log.push("server starting, pid 7", None).is_none());
        assert_eq!(log.push(JSON, None).map(|r| r.status), Some(500));
        assert_eq!(
            log.push(ACCESS, None).map(|r| r.path),
            Some("/api/cart".into())
        );
        for _ in 0..UNREAD_AFTER_LINES {
            log.push("debug: cache warm", None);
        }
        assert_eq!(
            log.unread_notice("shop_gateway_1"),
            None,
            "it read requests"
        );
    }

    #[test]
    fn a_log_without_requests_is_told_once_with_its_first_line() {
        let mut log = EntryLog::default();
        log.push("", None);
        log.push("level=info msg=\"GET /api/cart 200 4ms\"\n", None);
        for n in 2..UNREAD_AFTER_LINES {
            assert!(
                log.push(&format!("level=info msg=\"tick {n}\""), None)
                    .is_none()
            );
            assert_eq!(log.unread_notice("shop_gateway_1"), None, "after {n} lines");
        }
        log.push("level=info msg=\"tick 20\"", None);
        assert_eq!(
            log.unread_notice("shop_gateway_1").unwrap(),
            "the access log of shop_gateway_1 gave 20 lines and no request \
             (understudy reads nginx/Apache combined or common, Traefik, Envoy, \
             HAProxy, Python http.server and uvicorn lines, and JSON lines); \
             the first: \"level=info msg=\"GET /api/cart 200 4ms\"\" (no time). \
             Its request metrics (rate, latency, errors) stay empty and its load \
             reads as none"
        );
        log.push("level=info msg=\"tick 21\"", None);
        assert_eq!(log.unread_notice("shop_gateway_1"), None, "told once");
    }

    #[test]
    fn a_long_first_line_is_cut_at_a_character() {
        let mut log = EntryLog::default();
        let long = "é".repeat(200);
        for _ in 0..UNREAD_AFTER_LINES {
            log.push(&long, None);
        }
        let notice = log.unread_notice("api").unwrap();
        assert!(
            notice.contains(&format!("\"{}…\"", "é".repeat(120))),
            "{notice}"
        );
    }

    #[test]
    fn a_silent_entry_is_named_with_its_side() {
        let text = silent_notice("shop_gateway_1", Environment::Prod, Duration::from_secs(60));
        assert_eq!(
            text,
            "shop_gateway_1 (production's entry) logged nothing in the watch's first \
             60 s: it is idle, or its access log is off or written to a file (understudy \
             reads requests from an entry's stdout and stderr); production's request \
             metrics stay empty and its load reads as none until it logs"
        );
        let shadow = silent_notice("gw", Environment::Shadow, Duration::from_secs(60));
        assert!(shadow.starts_with("gw (the shadow's entry)"), "{shadow}");
    }

    #[test]
    fn requests_on_stderr_are_read_and_its_other_lines_pass_unremarked() {
        let mut log = EntryLog::default();
        let caddy = r#"{"level":"info","ts":1795773600.25,"logger":"http.log.access","msg":"handled request","request":{"method":"GET","host":"shop","uri":"/api/cart?x=1"},"duration":0.0042,"size":15,"status":200}"#;
        assert!(
            log.push_stderr(
                "2026/12/07 10:00:00 [notice] 1#1: start worker processes",
                None
            )
            .is_none()
        );
        let record = log.push_stderr(caddy, None).unwrap();
        assert_eq!(
            (record.path.as_str(), record.status),
            ("/api/cart?x=1", 200)
        );
        for _ in 0..UNREAD_AFTER_LINES {
            log.push("server ready", None);
        }
        assert_eq!(log.unread_notice("caddy"), None, "stderr carried a request");

        let mut errors_only = EntryLog::default();
        for _ in 0..UNREAD_AFTER_LINES {
            errors_only.push_stderr("[error] upstream timed out", None);
        }
        assert_eq!(
            errors_only.unread_notice("gw"),
            None,
            "stderr lines do not count"
        );
    }
}
