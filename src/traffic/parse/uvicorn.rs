//! uvicorn's access log (FastAPI and Starlette apps), on stdout:
//!
//! ```text
//! INFO:     172.18.0.1:54400 - "GET /a?x=1 HTTP/1.1" 200 OK
//! ```
//!
//! The line writes no time, no size and no duration: its time is the one
//! the engine stamped the line with when a container's log is read (the
//! caller's `time_ms`), and a file of such lines has none (rejected: no
//! time). A request read so has a rate and a status, no latency.

use super::Reason;
use super::clf::{memchr, quoted, request, split_request, status};
use crate::domain::traffic::Record;

/// Whether `line` has uvicorn's shape: an optional `LEVEL:` and padding,
/// the client, then ` - "` (a combined line has ` - - [` there).
pub fn matches(line: &[u8]) -> bool {
    let body = after_level(line);
    memchr(b' ', body, 0).is_some_and(|sp| body[sp..].starts_with(b" - \""))
}

/// One uvicorn access line, at `time_ms` (the engine's stamp).
pub fn parse(line: &[u8], line_no: u64, time_ms: Option<i64>) -> Result<Record, Reason> {
    let body = after_level(line);
    let sp = memchr(b' ', body, 0).ok_or(Reason::NoRequestLine)?;
    let (request_line, after) = quoted(body, sp + 4).ok_or(Reason::BadRequestLine)?;
    let request_line = split_request(request_line)?;
    let mut i = after;
    let status = status(body, &mut i)?;
    let start_ms = time_ms.ok_or(Reason::NoTime)?;
    Ok(request(line_no, start_ms, request_line, status))
}

/// `line` after `INFO:` and its padding, if it starts so.
fn after_level(line: &[u8]) -> &[u8] {
    let level = line.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if level == 0 || line.get(level) != Some(&b':') {
        return line;
    }
    let rest = &line[level + 1..];
    let pad = rest.iter().take_while(|&&b| b == b' ').count();
    &rest[pad..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z in ms.
    const T0: i64 = 1_795_773_600_000;

    #[test]
    fn as_uvicorn_0_55_writes_them() {
        let lines: [&[u8]; 2] = [
            br#"INFO:     127.0.0.1:54400 - "GET /a?x=1 HTTP/1.1" 200 OK"#,
            br#"INFO:     127.0.0.1:54406 - "POST /nope HTTP/1.1" 404 Not Found"#,
        ];
        assert!(lines.iter().all(|l| matches(l)));
        let read: Vec<_> = lines
            .iter()
            .map(|l| {
                let r = parse(l, 1, Some(T0)).unwrap();
                (r.start_ms, r.method, r.path, r.status, r.duration_ms)
            })
            .collect();
        assert_eq!(
            read,
            vec![
                (T0, "GET".into(), "/a?x=1".into(), 200, None),
                (T0, "POST".into(), "/nope".into(), 404, None),
            ]
        );
    }

    #[test]
    fn without_a_stamp_or_a_request_it_is_rejected() {
        let line = br#"INFO:     127.0.0.1:54400 - "GET / HTTP/1.1" 200 OK"#;
        assert_eq!(parse(line, 1, None).unwrap_err(), Reason::NoTime);
        let no_level = br#"127.0.0.1:54400 - "GET / HTTP/1.1" 503 Service Unavailable"#;
        assert_eq!(parse(no_level, 1, Some(T0)).unwrap().status, 503);
        assert_eq!(
            parse(br#"INFO:     1.2.3.4:5 - "GET / HTTP/1.1" OK"#, 1, Some(T0)).unwrap_err(),
            Reason::BadStatus
        );
        assert!(!matches(
            b"INFO:     Uvicorn running on http://0.0.0.0:8000"
        ));
        assert!(!matches(
            br#"1.2.3.4 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5"#
        ));
    }
}
