//! Capture parsers (pure): text in, [`Record`]s and [`Completeness`] out.
//! A bad line never aborts a parse: it is counted with its reason and line
//! number. Formats: access logs (`combined`, which also reads Apache
//! common, Traefik's and Envoy's defaults, HAProxy's HTTP log, Python
//! `http.server` and uvicorn), JSON
//! lines (`jsonl`, Traefik's and Caddy's among them) and HAR (`har`, a
//! whole document); `auto` detects from the content ([`detect`]).
//!
//! Line numbers are 1-based positions in the source. Blank lines are
//! skipped and not counted; a trailing `\r` (CRLF files) is ignored.
//! Owns no I/O: reading files, stdin and container logs is `capture`'s.

mod clf;
mod envoy;
mod haproxy;
mod har;
mod jsonl;
pub mod log_format;
pub mod time;
mod uvicorn;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::domain::traffic::{Completeness, Record};
pub use log_format::{LogTemplate, TemplateError};

/// A UTF-8 byte order mark, ignored at the start of a source.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// At most this many rejected line numbers are kept.
pub const FIRST_REJECTED: usize = 20;

/// A source format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the content.
    #[default]
    Auto,
    /// nginx/Apache combined or common, optionally with a request time.
    Combined,
    /// One JSON object per line.
    Jsonl,
    /// A HAR 1.2 document.
    Har,
    /// An access log in a format the user named (nginx `log_format` or
    /// Apache `LogFormat` syntax).
    Template(Arc<LogTemplate>),
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Combined => "combined",
            Self::Jsonl => "jsonl",
            Self::Har => "har",
            Self::Template(t) => match t.syntax() {
                log_format::Syntax::Nginx => "nginx log_format",
                log_format::Syntax::Apache => "Apache LogFormat",
            },
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ParseError;

    /// A name, or a log format (text with a `$` or `%`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(['$', '%']) {
            return Ok(Self::Template(Arc::new(LogTemplate::compile(s)?)));
        }
        match s {
            "auto" => Ok(Self::Auto),
            "combined" | "common" | "clf" | "nginx" | "apache" => Ok(Self::Combined),
            "jsonl" | "json" | "ndjson" => Ok(Self::Jsonl),
            "har" => Ok(Self::Har),
            other => Err(ParseError::UnknownFormat(other.to_owned())),
        }
    }
}

/// Why a line was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    NotJson,
    NoTime,
    BadTime,
    NoRequestLine,
    BadRequestLine,
    BadMethod,
    NoMethod,
    NoPath,
    NoStatus,
    BadStatus,
    BadBytes,
    /// A HAR entry whose request never got an answer (status 0).
    NoResponse,
    /// A literal of a named log format is not where the format puts it.
    NotInFormat,
    /// A named log format's duration field holds no number.
    BadDuration,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotJson => "not JSON",
            Self::NoTime => "no time",
            Self::BadTime => "bad time",
            Self::NoRequestLine => "no request line",
            Self::BadRequestLine => "bad request line",
            Self::BadMethod => "bad method",
            Self::NoMethod => "no method",
            Self::NoPath => "no path",
            Self::NoStatus => "no status",
            Self::BadStatus => "bad status",
            Self::BadBytes => "bad bytes",
            Self::NoResponse => "no response",
            Self::NotInFormat => "not in the log format",
            Self::BadDuration => "bad duration",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors that concern a whole source, not one line.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(
        "unknown format {0:?}; use auto, combined, jsonl, har, or the log format itself \
         (nginx: '$remote_addr - [$time_local] \"$request\" $status ...', \
         Apache: '%h %l %u %t \"%r\" %>s %b %D')"
    )]
    UnknownFormat(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("line {line}, column {column}: not a JSON document: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not a HAR file: no \"log\".\"entries\" array")]
    NotHar,
    #[error("a HAR file is one document; it cannot be read line by line")]
    HarNotStreamable,
}

/// The format of `sample` (the start of the source): content starting with
/// `{` is a HAR document when its first line is a lone `{` (pretty-printed
/// JSON) or opens with a `"log"` key, else JSON lines (a malformed first
/// line is then one rejected line, not a failed document); anything else is
/// an access log.
pub fn detect(sample: &[u8]) -> Format {
    let sample = sample.strip_prefix(BOM).unwrap_or(sample);
    let start = sample.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Format::Combined;
    };
    let rest = &sample[start..];
    if rest[0] != b'{' {
        return Format::Combined;
    }
    let line = rest
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or(rest)
        .trim_ascii();
    let after_brace = line[1..].trim_ascii_start();
    if after_brace.is_empty() || after_brace.starts_with(b"\"log\"") {
        Format::Har
    } else {
        Format::Jsonl
    }
}

/// A line-at-a-time parser (access logs and JSON lines) that keeps the
/// completeness count; [`LineParser::finish`] returns it.
#[derive(Debug)]
pub struct LineParser {
    /// `Auto` until the first non-blank line decides.
    format: Format,
    /// Each line's format decided by its own shape ([`LineParser::per_line`]).
    per_line: bool,
    clf: clf::ClfParser,
    line_no: u64,
    completeness: Completeness,
}

/// What one line of a source was.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Blank: counted for numbering only.
    Blank,
    Parsed(Record),
    Rejected(Reason),
}

impl LineParser {
    /// `Auto` decides on the first non-blank line (`{`: JSON lines);
    /// `Har` is refused.
    pub fn new(format: Format) -> Result<Self, ParseError> {
        if format == Format::Har {
            return Err(ParseError::HarNotStreamable);
        }
        Ok(Self::reading(format, false))
    }

    /// A parser that decides each line's format by its shape (`{`: JSON
    /// lines, anything else an access-log line), for a container's live
    /// output, where a startup banner or another program's lines can come
    /// before the first request and decide nothing.
    pub fn per_line() -> Self {
        Self::reading(Format::Auto, true)
    }

    /// A parser reading every line in a named log format.
    pub fn in_format(template: Arc<LogTemplate>) -> Self {
        Self::reading(Format::Template(template), false)
    }

    fn reading(format: Format, per_line: bool) -> Self {
        Self {
            format,
            per_line,
            clf: clf::ClfParser::default(),
            line_no: 0,
            completeness: Completeness::default(),
        }
    }

    /// The format in use (`Auto` before the first non-blank line, and
    /// always for a [`LineParser::per_line`] parser).
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The next line of the source (without its `\n`). Blank lines count
    /// for numbering only.
    pub fn push(&mut self, line: &[u8]) -> Option<Record> {
        self.push_at(line, None)
    }

    /// [`LineParser::push`] with the time the engine stamped the line with,
    /// for a line that writes none (uvicorn's).
    pub fn push_at(&mut self, line: &[u8], time_ms: Option<i64>) -> Option<Record> {
        match self.read(line, time_ms) {
            Line::Parsed(r) => Some(r),
            Line::Blank | Line::Rejected(_) => None,
        }
    }

    /// [`LineParser::push_at`], saying why a line was rejected.
    pub fn read(&mut self, line: &[u8], time_ms: Option<i64>) -> Line {
        self.line_no += 1;
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.line_no == 1 {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Line::Blank;
        }
        let parsed = if let Format::Template(template) = &self.format {
            template.parse(line, self.line_no, time_ms)
        } else {
            let json_shaped = line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            if self.format == Format::Auto && !self.per_line {
                self.format = if json_shaped {
                    Format::Jsonl
                } else {
                    Format::Combined
                };
            }
            let json = if self.per_line {
                json_shaped
            } else {
                self.format == Format::Jsonl
            };
            if json {
                jsonl::parse(line, self.line_no)
            } else {
                self.clf.parse(line, self.line_no, time_ms)
            }
        };
        match parsed {
            Ok(r) => {
                accept(&mut self.completeness);
                Line::Parsed(r)
            }
            Err(reason) => {
                reject(&mut self.completeness, self.line_no, reason);
                Line::Rejected(reason)
            }
        }
    }

    /// Completeness so far.
    pub fn completeness(&self) -> &Completeness {
        &self.completeness
    }

    pub fn finish(self) -> Completeness {
        self.completeness
    }
}

/// Parses a whole source held in memory. `Auto` detects the format.
pub fn parse_bytes(data: &[u8], format: Format) -> Result<(Vec<Record>, Completeness), ParseError> {
    let mut records = Vec::new();
    let completeness = parse_bytes_with(data, format, |r| records.push(r))?;
    Ok((records, completeness))
}

/// [`parse_bytes`] handing each record to `sink` (no record vector).
pub fn parse_bytes_with(
    data: &[u8],
    format: Format,
    mut sink: impl FnMut(Record),
) -> Result<Completeness, ParseError> {
    let format = if format == Format::Auto {
        detect(data)
    } else {
        format
    };
    if format == Format::Har {
        let (records, completeness) = har::parse(data)?;
        records.into_iter().for_each(sink);
        return Ok(completeness);
    }
    let mut parser = LineParser::new(format)?;
    let mut rest = data;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if let Some(r) = parser.push(line) {
            sink(r);
        }
        rest = next;
    }
    Ok(parser.finish())
}

/// [`parse_bytes`] on text.
pub fn parse_text(text: &str, format: Format) -> Result<(Vec<Record>, Completeness), ParseError> {
    parse_bytes(text.as_bytes(), format)
}

pub(crate) fn accept(c: &mut Completeness) {
    c.lines += 1;
    c.parsed += 1;
}

pub(crate) fn reject(c: &mut Completeness, line: u64, reason: Reason) {
    c.lines += 1;
    c.rejected += 1;
    match c.reasons.get_mut(reason.as_str()) {
        Some(n) => *n += 1,
        None => {
            c.reasons.insert(reason.as_str().to_owned(), 1);
        }
    }
    if c.first_rejected.len() < FIRST_REJECTED {
        c.first_rejected.push(line);
    }
}

/// serde_json's message without its trailing `at line L column C` (the
/// errors here name the place themselves).
pub fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Milliseconds rounded to the microsecond (no `12.000000000000002`).
pub(crate) fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/products/42 HTTP/1.1" 200 153 "-" "curl/8.0" 0.004"#;

    #[test]
    fn a_per_line_parser_reads_json_and_access_lines_after_a_banner() {
        let json =
            r#"{"ts":1795773600000,"method":"GET","path":"/a","status":201,"latency_ms":12}"#;
        let mut auto = LineParser::new(Format::Auto).unwrap();
        let mut each = LineParser::per_line();
        let mut read = Vec::new();
        for line in ["listening on :8080", "", json, GOOD] {
            assert_eq!(
                auto.push(line.as_bytes()).is_some(),
                line == GOOD,
                "auto: the banner decides access log for {line:?}"
            );
            read.push(each.read(line.as_bytes(), None));
        }
        assert_eq!(read[0], Line::Rejected(Reason::NoTime));
        assert_eq!(read[1], Line::Blank);
        assert!(matches!(&read[2], Line::Parsed(r) if r.path == "/a" && r.status == 201));
        assert!(matches!(&read[3], Line::Parsed(r) if r.path == "/api/products/42"));
        assert_eq!(*each.format(), Format::Auto);
        let c = each.finish();
        assert_eq!((c.lines, c.parsed, c.rejected), (3, 2, 1));
    }

    #[test]
    fn garbage_lines_are_counted_with_reasons_and_numbers() {
        let text = format!(
            "{GOOD}\r\nthis is not a log line\r\n\r\n{GOOD}\r\n1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" abc 1\r\n{GOOD}\r\n"
        );
        let (records, c) = parse_text(&text, Format::Auto).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 4, 6]
        );
        assert!(records.iter().all(|r| r.path == "/api/products/42"));
        assert_eq!((c.lines, c.parsed, c.rejected), (5, 3, 2));
        assert_eq!(c.first_rejected, vec![2, 5]);
        assert_eq!(c.reasons["no time"], 1);
        assert_eq!(c.reasons["bad status"], 1);
    }

    #[test]
    fn at_most_twenty_rejected_line_numbers() {
        let text = "junk\n".repeat(30);
        let (_, c) = parse_text(&text, Format::Combined).unwrap();
        assert_eq!(c.rejected, 30);
        assert_eq!(c.first_rejected, (1..=20).collect::<Vec<u64>>());
    }

    #[test]
    fn detection() {
        assert_eq!(detect(GOOD.as_bytes()), Format::Combined);
        assert_eq!(
            detect(b"\n\n{\"time\":1,\"path\":\"/\"}\n{}"),
            Format::Jsonl
        );
        assert_eq!(detect(b"{\n  \"log\": {\"entries\": []}}"), Format::Har);
        assert_eq!(detect(b"{\"log\":{\"entries\":[]}}"), Format::Har);
        assert_eq!(detect(b"\xEF\xBB\xBF{\"a\":1}"), Format::Jsonl);
        assert_eq!(detect(b"{ \"log\" : {\n"), Format::Har);
        // A broken first JSON line is still JSON lines (that line is rejected).
        assert_eq!(detect(b"{\"time\":1,\"path\n{\"time\":2}"), Format::Jsonl);
        assert_eq!(detect(b""), Format::Combined);
    }

    #[test]
    fn json_lines_with_garbage() {
        let text = "{\"time\":\"2026-11-27T10:00:00Z\",\"method\":\"GET\",\"path\":\"/a\",\"status\":200}\n{oops\n";
        let (records, c) = parse_text(text, Format::Auto).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(c.reasons["not JSON"], 1);
        assert_eq!(c.first_rejected, vec![2]);
    }

    #[test]
    fn formats_parse_and_unknown_ones_are_named() {
        assert_eq!("har".parse::<Format>().unwrap(), Format::Har);
        assert_eq!("common".parse::<Format>().unwrap(), Format::Combined);
        let e = "xml".parse::<Format>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown format \"xml\"; use auto, combined, jsonl, har, or the log format itself \
             (nginx: '$remote_addr - [$time_local] \"$request\" $status ...', \
             Apache: '%h %l %u %t \"%r\" %>s %b %D')"
        );
        assert!(LineParser::new(Format::Har).is_err());
    }

    proptest::proptest! {
        /// No input panics the parsers, and every non-blank line is counted
        /// once, as parsed or rejected.
        #[test]
        fn any_bytes_are_counted_never_panic(
            lines in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
                0..20,
            ),
            prefix in proptest::sample::select(vec![
                "",
                "1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] \"GET /",
                "1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 ",
                "{\"time\":1795773600,\"method\":\"GET\",\"path\":\"/\",",
            ]),
        ) {
            let mut text = Vec::new();
            let mut blank = 0;
            for l in &lines {
                let mut line = prefix.as_bytes().to_vec();
                line.extend(l.iter().filter(|b| **b != b'\n'));
                if line.iter().all(u8::is_ascii_whitespace) {
                    blank += 1;
                }
                text.extend_from_slice(&line);
                text.push(b'\n');
            }
            for format in [Format::Auto, Format::Combined, Format::Jsonl] {
                let Ok((records, c)) = parse_bytes(&text, format) else {
                    // Only a HAR document fails whole.
                    proptest::prop_assert_eq!(detect(&text), Format::Har);
                    continue;
                };
                proptest::prop_assert_eq!(c.lines, lines.len() as u64 - blank);
                proptest::prop_assert_eq!(c.parsed + c.rejected, c.lines);
                proptest::prop_assert_eq!(records.len() as u64, c.parsed);
            }
        }
    }
}
