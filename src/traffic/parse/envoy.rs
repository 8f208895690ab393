//! Envoy's default access-log line (also what Istio and Ambassador print
//! unless configured otherwise):
//!
//! ```text
//! [START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM_TIME "XFF" "AGENT" "ID" "AUTHORITY" "UPSTREAM"
//! ```
//!
//! The time is the request's start (RFC 3339, to the millisecond) and the
//! duration is in milliseconds, so no estimate is needed. A response code
//! of 0 (the client left before any response) is rejected as a bad status:
//! there is no status to replay or to count as an error kind.

use super::clf::{body_bytes, memchr, quoted, request, split_request, status};
use super::{Reason, time};
use crate::domain::traffic::Record;

/// One line starting with `[` (no newline).
pub fn parse(line: &[u8], line_no: u64) -> Result<Record, Reason> {
    let close = memchr(b']', line, 1).ok_or(Reason::BadTime)?;
    let start_ms = std::str::from_utf8(&line[1..close])
        .ok()
        .and_then(time::parse_rfc3339)
        .ok_or(Reason::BadTime)?;
    let mut i = close + 1;
    if line.get(i..i + 2) != Some(b" \"") {
        return Err(Reason::NoRequestLine);
    }
    let (request_line, after) = quoted(line, i + 2).ok_or(Reason::BadRequestLine)?;
    let request_line = split_request(request_line)?;
    i = after;
    let status = status(line, &mut i)?;
    // FLAGS: `-` or letters such as `UH`, `UF,URX`.
    if line.get(i) != Some(&b' ') {
        return Err(Reason::BadBytes);
    }
    i = memchr(b' ', line, i + 1).ok_or(Reason::BadBytes)?;
    let request_bytes = body_bytes(line, &mut i)?;
    let bytes = body_bytes(line, &mut i)?;
    let duration_ms = line
        .get(i + 1..)
        .and_then(|rest| rest.split(|&b| b == b' ').next())
        .and_then(|w| std::str::from_utf8(w).ok()?.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0);
    Ok(Record {
        bytes,
        request_bytes: Some(request_bytes),
        duration_ms,
        ..request(line_no, start_ms, request_line, status)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z in ms.
    const T0: i64 = 1_795_773_600_000;

    #[test]
    fn the_default_format() {
        let r = parse(
            br#"[2026-11-27T10:00:00.310Z] "POST /api/v1/orders HTTP/1.1" 201 - 154 12 226 100 "10.0.35.28" "curl/8.0" "cc21d9b0-cf5c" "shop" "172.18.0.3:8080""#,
            3,
        )
        .unwrap();
        assert_eq!(
            r,
            Record {
                line: 3,
                start_ms: T0 + 310,
                method: "POST".into(),
                path: "/api/v1/orders".into(),
                status: 201,
                bytes: 12,
                request_bytes: Some(154),
                duration_ms: Some(226.0),
                body: None,
            }
        );
    }

    #[test]
    fn flags_dashes_and_a_client_that_left() {
        let r = parse(
            br#"[2026-11-27T10:00:00.000Z] "GET /a HTTP/2" 503 UF,URX 0 91 3 - "-" "-" "-" "shop" "-""#,
            1,
        )
        .unwrap();
        assert_eq!((r.status, r.bytes, r.duration_ms), (503, 91, Some(3.0)));
        let no_duration = parse(
            br#"[2026-11-27T10:00:00.000Z] "GET /a HTTP/2" 200 - 0 5 - - "-""#,
            1,
        )
        .unwrap();
        assert_eq!(no_duration.duration_ms, None);
        let left = parse(
            br#"[2026-11-27T10:00:00.000Z] "GET /a HTTP/2" 0 DC 0 0 9 - "-""#,
            1,
        );
        assert_eq!(left.unwrap_err(), Reason::BadStatus);
        let bad_time = parse(br#"[yesterday] "GET /a HTTP/2" 200 - 0 5 1 - "-""#, 1);
        assert_eq!(bad_time.unwrap_err(), Reason::BadTime);
    }
}
