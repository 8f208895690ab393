//! HAProxy's HTTP log (`option httplog`), as a container writes it with
//! `log stdout format raw` (an optional syslog header, up to `]: `, is
//! skipped):
//!
//! ```text
//! client:port [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes_read cookie cookie state conns queues [{headers}] "request"
//! ```
//!
//! The accept date is local time to the millisecond without an offset
//! (read as UTC; the watch moves a log whose times run off its clock), and
//! the request's start. The duration is the last timer (`Ta`, or `Tt`
//! before HAProxy 1.9), in milliseconds; a `+` (`option logasap`) is
//! dropped and a negative one (aborted) is none. A status of -1 (no
//! response) is rejected as a bad status, `<BADREQ>` as a bad request line.

use super::clf::{memchr, request, split_request, status_word};
use super::{Reason, time};
use crate::domain::traffic::Record;

/// Whether `line` has HAProxy's shape: a client address followed at once
/// by the bracketed date (a combined line has ident and user between).
pub fn matches(line: &[u8]) -> bool {
    let body = strip_syslog(line);
    memchr(b' ', body, 0).is_some_and(|sp| body.get(sp + 1) == Some(&b'['))
}

/// One HAProxy HTTP log line.
pub fn parse(line: &[u8], line_no: u64) -> Result<Record, Reason> {
    let body = strip_syslog(line);
    let open = memchr(b'[', body, 0).ok_or(Reason::NoTime)? + 1;
    let close = memchr(b']', body, open).ok_or(Reason::BadTime)?;
    let start_ms = time::parse_clf_local(&body[open..close]).ok_or(Reason::BadTime)?;
    let mut words = body[close + 1..]
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty());
    // frontend, backend/server
    words.next();
    words.next();
    let timers = words.next().ok_or(Reason::BadStatus)?;
    let status = status_word(words.next().ok_or(Reason::BadStatus)?)?;
    let bytes = words
        .next()
        .map(|w| w.strip_prefix(b"+").unwrap_or(w))
        .and_then(|w| std::str::from_utf8(w).ok()?.parse::<u64>().ok())
        .ok_or(Reason::BadBytes)?;
    let duration_ms = timers
        .rsplit(|&b| b == b'/')
        .next()
        .map(|t| t.strip_prefix(b"+").unwrap_or(t))
        .and_then(|t| std::str::from_utf8(t).ok()?.parse::<f64>().ok())
        .filter(|d| *d >= 0.0);
    let request_line = last_quoted(body).ok_or(Reason::NoRequestLine)?;
    if request_line == b"<BADREQ>" {
        return Err(Reason::BadRequestLine);
    }
    Ok(Record {
        bytes,
        duration_ms,
        ..request(line_no, start_ms, split_request(request_line)?, status)
    })
}

/// `line` after a syslog header (`<134>Dec  7 12:00:00 haproxy[8]: `).
fn strip_syslog(line: &[u8]) -> &[u8] {
    if line.first() != Some(&b'<') {
        return line;
    }
    line.windows(3)
        .position(|w| w == b"]: ")
        .map_or(line, |p| &line[p + 3..])
}

/// The text of the line's last `"..."` field (HAProxy quotes nothing after
/// the request; headers are in braces).
fn last_quoted(line: &[u8]) -> Option<&[u8]> {
    let end = line.iter().rposition(|&b| b == b'"')?;
    let start = line[..end].iter().rposition(|&b| b == b'"')?;
    Some(&line[start + 1..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z in ms.
    const T0: i64 = 1_795_773_600_000;

    #[test]
    fn the_http_log_format() {
        let line = br#"10.0.1.2:33317 [27/Nov/2026:10:00:00.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html?x=1 HTTP/1.1""#;
        assert!(matches(line));
        assert_eq!(
            parse(line, 4).unwrap(),
            Record {
                line: 4,
                start_ms: T0 + 655,
                method: "GET".into(),
                path: "/index.html?x=1".into(),
                status: 200,
                bytes: 2750,
                request_bytes: None,
                duration_ms: Some(109.0),
                body: None,
            }
        );
    }

    #[test]
    fn as_haproxy_2_6_writes_them() {
        // `log stdout format raw local0`, `option httplog`, in front of
        // Python's http.server (which answers a POST with 501).
        let lines: [&[u8]; 2] = [
            br#"127.0.0.1:50298 [07/Dec/2026:12:14:12.606] fe be/s1 0/0/0/3/3 200 913 - - ---- 1/1/0/0/0 0/0 "GET /?x=1 HTTP/1.1""#,
            br#"127.0.0.1:50314 [07/Dec/2026:12:14:12.626] fe be/s1 0/0/0/3/3 501 535 - - ---- 1/1/0/0/0 0/0 "POST /nope HTTP/1.1""#,
        ];
        let read: Vec<_> = lines
            .iter()
            .map(|l| {
                let r = parse(l, 1).unwrap();
                (
                    r.start_ms - T0,
                    r.method,
                    r.path,
                    r.status,
                    r.bytes,
                    r.duration_ms,
                )
            })
            .collect();
        assert_eq!(
            read,
            vec![
                (
                    872_052_606,
                    "GET".into(),
                    "/?x=1".into(),
                    200,
                    913,
                    Some(3.0)
                ),
                (
                    872_052_626,
                    "POST".into(),
                    "/nope".into(),
                    501,
                    535,
                    Some(3.0)
                ),
            ]
        );
    }

    #[test]
    fn syslog_headers_captured_headers_logasap_and_aborts() {
        let r = parse(
            br#"<134>Nov 27 10:00:00 haproxy[8]: 172.18.0.1:40000 [27/Nov/2026:10:00:00.000] fe be/s1 0/0/1/2/+3 503 +212 - - SC-- 2/2/0/0/0 0/0 {shop.local} {} "POST /api/orders HTTP/1.1""#,
            1,
        )
        .unwrap();
        assert_eq!((r.status, r.bytes, r.duration_ms), (503, 212, Some(3.0)));
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/api/orders")
        );
        let aborted = parse(
            br#"1.2.3.4:1 [27/Nov/2026:10:00:00.000] fe be/s1 5/0/-1/-1/-1 408 212 - - cR-- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
            1,
        )
        .unwrap();
        assert_eq!(aborted.duration_ms, None);
        let cases: [(&[u8], Reason); 3] = [
            (
                br#"1.2.3.4:1 [27/Nov/2026:10:00:00.000] fe be/<NOSRV> -1/-1/-1/-1/0 -1 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>""#,
                Reason::BadStatus,
            ),
            (
                br#"1.2.3.4:1 [27/Nov/2026:10:00:00.000] fe be/<NOSRV> 0/-1/-1/-1/0 400 187 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>""#,
                Reason::BadRequestLine,
            ),
            (
                br#"1.2.3.4:1 [yesterday] fe be/s1 0/0/1/2/3 200 5 - - ---- 1/1/1/1/0 0/0 "GET / HTTP/1.1""#,
                Reason::BadTime,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(parse(line, 1).unwrap_err(), reason);
        }
    }

    #[test]
    fn combined_lines_are_not_haproxy_ones() {
        assert!(!matches(
            br#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5"#
        ));
        assert!(!matches(
            b"[2026-11-27T10:00:00.310Z] \"GET / HTTP/1.1\" 200"
        ));
    }
}
