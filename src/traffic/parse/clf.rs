//! Access logs in the nginx/Apache combined format, the Apache common
//! format, and either with trailing fields (nginx `$request_time` first):
//!
//! ```text
//! remote ident user [time] "request" status bytes ["referer" "agent"] [request_time ...]
//! ```
//!
//! The same shape covers Traefik's default ("common": after the agent, the
//! request count, the router, the server URL and `12ms`), Python
//! `http.server` (`[27/Nov/2026 10:00:00]`, no offset: read as UTC) and
//! gunicorn's default. Where the duration is read from is
//! [`request_time`]'s rule; a bare integer there is never taken for one.
//! A line starting with `[` is Envoy's default format (`envoy`); one with
//! the bracketed date right after the client, HAProxy's (`haproxy`); one
//! with ` - "` right after the client, uvicorn's (`uvicorn`).
//!
//! A hand-written parser over bytes: no regex, no allocation beyond the
//! record's method and path, and the timestamp parsed once per distinct
//! `[..]` text (consecutive lines share it). Escapes are undone in the path:
//! nginx's `\xHH` and Apache's `\"` / `\\`. A request line with raw spaces
//! in the target (`GET /a b HTTP/1.1`) keeps them: the protocol is the last
//! word. The time stamps the end of the request to the second; with a
//! request time the start is estimated as the middle of that second minus
//! the request time, so a request that took 4 ms and ended in second S is
//! counted in S (not in S-1, as `time - request_time` would have it).

use super::{Reason, time};
use crate::domain::traffic::Record;

/// Parses lines, caching the last timestamp.
#[derive(Debug, Default)]
pub struct ClfParser {
    cached_text: Vec<u8>,
    cached_ms: i64,
}

impl ClfParser {
    /// One line (no newline; a trailing `\r` is the caller's to strip).
    /// A line starting with `[` is Envoy's default format (`envoy`), one
    /// with the date right after the client HAProxy's (`haproxy`), one
    /// with ` - "` there uvicorn's (`uvicorn`), which writes no time: it is
    /// placed at `time_ms`, the engine's stamp, if given.
    pub fn parse(
        &mut self,
        line: &[u8],
        line_no: u64,
        time_ms: Option<i64>,
    ) -> Result<Record, Reason> {
        if super::uvicorn::matches(line) {
            return super::uvicorn::parse(line, line_no, time_ms);
        }
        if line.first() == Some(&b'[') {
            return super::envoy::parse(line, line_no);
        }
        if super::haproxy::matches(line) {
            return super::haproxy::parse(line, line_no);
        }
        let sp = memchr(b' ', line, 0).ok_or(Reason::NoTime)?;
        let open = find2(line, *b" [", sp).ok_or(Reason::NoTime)? + 2;
        let close = memchr(b']', line, open).ok_or(Reason::BadTime)?;
        let end_ms = self.time(&line[open..close])?;
        let mut i = close + 1;
        if line.get(i..i + 2) != Some(b" \"") {
            return Err(Reason::NoRequestLine);
        }
        i += 2;
        let (request_line, after) = quoted(line, i).ok_or(Reason::BadRequestLine)?;
        let request_line = split_request(request_line)?;
        i = after;
        let status = status(line, &mut i)?;
        let bytes = body_bytes(line, &mut i)?;
        let duration_ms = request_time(line, i);
        // `$time_local` truncates to the second: the end lies anywhere in
        // [end_ms, end_ms + 1000), so take its middle before subtracting.
        let start_ms = duration_ms.map_or(end_ms, |d| end_ms + 500 - d.round() as i64);
        Ok(Record {
            bytes,
            duration_ms,
            ..request(line_no, start_ms, request_line, status)
        })
    }

    fn time(&mut self, text: &[u8]) -> Result<i64, Reason> {
        if !self.cached_text.is_empty() && self.cached_text == text {
            return Ok(self.cached_ms);
        }
        let ms = time::parse_clf(text).ok_or(Reason::BadTime)?;
        self.cached_text.clear();
        self.cached_text.extend_from_slice(text);
        self.cached_ms = ms;
        Ok(ms)
    }
}

pub(super) fn memchr(needle: u8, hay: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(needle, hay.get(from..)?).map(|p| p + from)
}

fn find2(hay: &[u8], pair: [u8; 2], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(p) = memchr(pair[0], hay, i) {
        if hay.get(p + 1) == Some(&pair[1]) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The text of a quoted field starting after its opening quote, and the
/// index after the closing quote. A backslash escapes the next byte.
pub(super) fn quoted(line: &[u8], start: usize) -> Option<(&[u8], usize)> {
    let mut i = start;
    while let Some(p) = memchr::memchr2(b'"', b'\\', line.get(i..)?) {
        i += p;
        if line[i] == b'"' {
            return Some((&line[start..i], i + 1));
        }
        i += 2;
    }
    None
}

/// `METHOD target [HTTP/x.y]`.
pub(super) fn split_request(request: &[u8]) -> Result<(&[u8], &[u8]), Reason> {
    if request.is_empty() || request == b"-" {
        return Err(Reason::NoRequestLine);
    }
    let sp = memchr(b' ', request, 0).ok_or(Reason::BadRequestLine)?;
    let method = method_word(&request[..sp])?;
    let mut target = &request[sp + 1..];
    if let Some(last) = target.iter().rposition(|&b| b == b' ') {
        if target[last + 1..].starts_with(b"HTTP/") {
            target = &target[..last];
        }
    }
    // `GET HTTP/1.1`: the only word is the protocol.
    if target.is_empty() || (target.starts_with(b"HTTP/") && !target.contains(&b' ')) {
        return Err(Reason::NoPath);
    }
    Ok((method, target))
}

/// ` NNN`: three digits, 100..=599 ([`status_word`]), then a space or the
/// end (its place is known: no search on this hot path).
pub(super) fn status(line: &[u8], i: &mut usize) -> Result<u16, Reason> {
    let spaced = line.get(*i) == Some(&b' ') && line.get(*i + 4).is_none_or(|b| *b == b' ');
    let word = line
        .get(*i + 1..*i + 4)
        .filter(|_| spaced)
        .ok_or(Reason::BadStatus)?;
    let v = status_word(word)?;
    *i += 4;
    Ok(v)
}

/// ` N` or ` -` (nothing sent; [`bytes_word`]).
pub(super) fn body_bytes(line: &[u8], i: &mut usize) -> Result<u64, Reason> {
    let word = next_word(line, i).ok_or(Reason::BadBytes)?;
    bytes_word(word)
}

/// The word after the space at `*i` (to the next space or the end), moving
/// `*i` past it; `None` without that space.
fn next_word<'a>(line: &'a [u8], i: &mut usize) -> Option<&'a [u8]> {
    if line.get(*i) != Some(&b' ') {
        return None;
    }
    let start = *i + 1;
    *i = memchr(b' ', line, start).unwrap_or(line.len());
    Some(&line[start..*i])
}

/// A method: letters, `-` or `_`, at most 24.
pub(super) fn method_word(word: &[u8]) -> Result<&[u8], Reason> {
    let ok = !word.is_empty()
        && word.len() <= 24
        && word
            .iter()
            .all(|b| b.is_ascii_alphabetic() || *b == b'-' || *b == b'_');
    if ok { Ok(word) } else { Err(Reason::BadMethod) }
}

/// A status: three digits, 100..=599.
pub(super) fn status_word(word: &[u8]) -> Result<u16, Reason> {
    if word.len() != 3 || !word.iter().all(u8::is_ascii_digit) {
        return Err(Reason::BadStatus);
    }
    let v = word.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
    if (100..=599).contains(&v) {
        Ok(v)
    } else {
        Err(Reason::BadStatus)
    }
}

/// A size: digits, or `-` for nothing sent.
pub(super) fn bytes_word(word: &[u8]) -> Result<u64, Reason> {
    if word == b"-" {
        return Ok(0);
    }
    if word.is_empty() || word.len() > 19 || !word.iter().all(u8::is_ascii_digit) {
        return Err(Reason::BadBytes);
    }
    Ok(word.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0')))
}

/// A plain decimal number (digits and `.`, no sign or exponent).
pub(super) fn decimal(word: &[u8]) -> Option<f64> {
    if word.is_empty() || !word.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return None;
    }
    std::str::from_utf8(word).ok()?.parse().ok()
}

/// After the bytes: skips `"referer" "agent"` if present, then reads the
/// request's duration from the words after them (quoted ones skipped):
/// the first word as seconds when it has a decimal point (nginx
/// `$request_time`, always printed to the millisecond), any word `12ms`
/// (Traefik's last field) or `rt=0.004` / `request_time=0.004` (nginx's
/// key=value formats). A bare integer is no duration: Traefik's request
/// count, or Apache's `%D` (microseconds) or `%T` (seconds), which the line
/// does not tell apart.
fn request_time(line: &[u8], mut i: usize) -> Option<f64> {
    for _ in 0..2 {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        if line.get(i) == Some(&b'"') {
            i = quoted(line, i + 1)?.1;
        }
    }
    let mut first = true;
    loop {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        if line.get(i) == Some(&b'"') {
            i = quoted(line, i + 1)?.1;
            first = false;
            continue;
        }
        let end = memchr(b' ', line, i).unwrap_or(line.len());
        let word = line.get(i..end).filter(|w| !w.is_empty())?;
        if let Some(ms) = duration_word(word, first) {
            return Some(ms);
        }
        first = false;
        i = end;
    }
}

/// One trailing word as milliseconds, if it is a duration (see
/// [`request_time`]); `first`: the word right after the agent.
fn duration_word(word: &[u8], first: bool) -> Option<f64> {
    let (number, scale) = if let Some(n) = word.strip_suffix(b"ms") {
        (n, 1.0)
    } else if let Some(n) = word
        .strip_prefix(b"rt=")
        .or_else(|| word.strip_prefix(b"request_time="))
    {
        (n, 1000.0)
    } else if first && word.contains(&b'.') {
        (word, 1000.0)
    } else {
        return None;
    };
    Some(decimal(number)? * scale)
}

/// The record of an access-log line's request (`METHOD`, target as
/// written) at `start_ms`, without size, duration or body: each dialect
/// adds what its line has.
pub(super) fn request(
    line: u64,
    start_ms: i64,
    (method, target): (&[u8], &[u8]),
    status: u16,
) -> Record {
    Record {
        line,
        start_ms,
        method: ascii(method),
        path: unescape(target),
        status,
        bytes: 0,
        request_bytes: None,
        duration_ms: None,
        body: None,
    }
}

/// Checked ASCII (a method) as a String.
fn ascii(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The target as sent: `\xHH`, `\"` and `\\` undone; invalid UTF-8 replaced.
fn unescape(b: &[u8]) -> String {
    if !b.contains(&b'\\') {
        return String::from_utf8_lossy(b).into_owned();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'x') {
                if let Some(v) = b.get(i + 2..i + 4).and_then(hex_byte) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            } else if let Some(&c) = b.get(i + 1) {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    let d = |c: u8| char::from(c).to_digit(16);
    Some((d(h[0])? * 16 + d(h[1])?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z in ms.
    const T0: i64 = 1_795_773_600_000;

    fn parse(line: &str) -> Result<Record, Reason> {
        ClfParser::default().parse(line.as_bytes(), 7, None)
    }

    #[test]
    fn the_demo_gateway_line() {
        let r = parse(
            r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/products/42 HTTP/1.1" 200 153 "-" "curl/8.0" 0.004"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Record {
                line: 7,
                start_ms: T0 + 496,
                method: "GET".into(),
                path: "/api/products/42".into(),
                status: 200,
                bytes: 153,
                request_bytes: None,
                duration_ms: Some(4.0),
                body: None,
            }
        );
    }

    #[test]
    fn escaped_quotes_in_the_agent_and_path() {
        let r = parse(
            r#"10.0.0.5 - - [27/Nov/2026:10:00:01 +0000] "GET /api/search?q=\x22x\x22\xC3\xA9 HTTP/1.1" 200 10 "http://a/b" "say \x22hi\x22 \"there\"" 1.250"#,
        )
        .unwrap();
        assert_eq!(r.path, "/api/search?q=\"x\"é");
        assert_eq!(r.duration_ms, Some(1250.0));
        assert_eq!(r.start_ms, T0 + 1000 + 500 - 1250);
    }

    #[test]
    fn ipv6_remote_dash_bytes_and_no_request_time() {
        let r = parse(
            r#"2001:db8::1 - alice [27/Nov/2026:10:00:00 +0000] "HEAD /healthz HTTP/1.0" 304 - "-" "kube-probe/1.29""#,
        )
        .unwrap();
        assert_eq!((r.method.as_str(), r.status, r.bytes), ("HEAD", 304, 0));
        assert_eq!(r.duration_ms, None);
        assert_eq!(r.start_ms, T0);
    }

    #[test]
    fn apache_common_format() {
        let r = parse(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        )
        .unwrap();
        assert_eq!(r.path, "/apache_pb.gif");
        assert_eq!(r.bytes, 2326);
        assert_eq!(r.start_ms, 971_211_336_000);
    }

    #[test]
    fn spaces_in_the_path_encoded_or_raw() {
        let r = parse(
            r#"::1 - - [27/Nov/2026:10:00:00 +0000] "GET /files/my%20report.pdf HTTP/1.1" 200 5 "-" "-" 0.000"#,
        )
        .unwrap();
        assert_eq!(r.path, "/files/my%20report.pdf");
        let r = parse(
            r#"::1 - - [27/Nov/2026:10:00:00 +0000] "GET /files/my report.pdf HTTP/1.1" 400 5 "-" "-" 0.000"#,
        )
        .unwrap();
        assert_eq!(r.path, "/files/my report.pdf");
        // HTTP/0.9: no protocol.
        let r = parse(r#"::1 - - [27/Nov/2026:10:00:00 +0000] "GET /old" 200 5"#).unwrap();
        assert_eq!(r.path, "/old");
    }

    #[test]
    fn trailing_fields_that_are_not_a_time_are_ignored() {
        let r = parse(
            r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "POST /api/orders HTTP/1.1" 201 88 "-" "Go-http-client/1.1" "-" upstream=1"#,
        )
        .unwrap();
        assert_eq!(r.duration_ms, None);
        assert_eq!(r.method, "POST");
    }

    #[test]
    fn traefik_nginx_key_value_and_apache_durations() {
        let traefik = parse(
            r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/products HTTP/1.1" 200 153 "-" "curl/8.0" 42 "shop@docker" "http://172.18.0.3:8080" 3ms"#,
        )
        .unwrap();
        assert_eq!(
            traefik.duration_ms,
            Some(3.0),
            "the request count is no time"
        );
        assert_eq!(traefik.start_ms, T0 + 497);
        // What follows the agent, and the duration read from it.
        let cases = [
            (
                r#"rt=0.250 uct="0.001" urt="0.249""#,
                Some(250.0),
                "nginx's key=value",
            ),
            ("5012", None, "microseconds or seconds: not told"),
            ("7 2.50", None, "only the first word is nginx's"),
        ];
        for (tail, duration, why) in cases {
            let line = format!(
                r#"10.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-" {tail}"#
            );
            assert_eq!(parse(&line).unwrap().duration_ms, duration, "{why}");
        }
    }

    #[test]
    fn python_http_server_lines() {
        // As `python3 -m http.server` 3.11 writes them to stderr.
        let r =
            parse(r#"127.0.0.1 - - [27/Nov/2026 10:00:02] "GET /nope HTTP/1.1" 404 -"#).unwrap();
        assert_eq!((r.start_ms, r.status, r.bytes), (T0 + 2000, 404, 0));
        assert_eq!(r.path, "/nope");
        assert_eq!(
            parse(r"127.0.0.1 - - [27/Nov/2026 10:00:02] code 404, message File not found"),
            Err(Reason::NoRequestLine)
        );
    }

    #[test]
    fn apache_milliseconds_with_a_unit() {
        let r = parse(
            r#"10.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-" 12ms"#,
        )
        .unwrap();
        assert_eq!(r.duration_ms, Some(12.0));
    }

    #[test]
    fn garbage_gets_a_reason() {
        let cases = [
            ("", Reason::NoTime),
            ("hello world", Reason::NoTime),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000 "GET / HTTP/1.1" 200 1"#,
                Reason::BadTime,
            ),
            (
                r#"1.2.3.4 - - [yesterday] "GET / HTTP/1.1" 200 1"#,
                Reason::BadTime,
            ),
            (
                r"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] 200 1",
                Reason::NoRequestLine,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "-" 400 0 "-" "-""#,
                Reason::NoRequestLine,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1 200 1"#,
                Reason::BadRequestLine,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "\x16\x03\x01 x" 400 0"#,
                Reason::BadMethod,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET HTTP/1.1" 200 1"#,
                Reason::NoPath,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 2000 1"#,
                Reason::BadStatus,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" OK 1"#,
                Reason::BadStatus,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 099 1"#,
                Reason::BadStatus,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12k"#,
                Reason::BadBytes,
            ),
            (
                r#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200"#,
                Reason::BadBytes,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(parse(line).unwrap_err(), reason, "{line}");
        }
    }

    #[test]
    fn the_timestamp_cache_follows_changes() {
        let mut parser = ClfParser::default();
        let line = |t: &str| format!(r#"1.2.3.4 - - [{t}] "GET / HTTP/1.1" 200 1"#);
        let mut start = |t: &str, n| {
            parser
                .parse(line(t).as_bytes(), n, None)
                .map(|r| r.start_ms)
        };
        assert_eq!(start("27/Nov/2026:10:00:00 +0000", 1), Ok(T0));
        assert_eq!(start("27/Nov/2026:10:00:00 +0000", 2), Ok(T0));
        assert_eq!(start("27/Nov/2026:10:00:05 +0000", 3), Ok(T0 + 5000));
        assert_eq!(start("27/Nov/2026:10:00:0x +0000", 4), Err(Reason::BadTime));
        assert_eq!(start("27/Nov/2026:10:00:05 +0000", 5), Ok(T0 + 5000));
    }
}
