//! JSON-lines request logs with the common field names. Each field is
//! looked up under several names, first as a literal key (`"http.method"`,
//! as flattened ECS writes it) and then as a nested path
//! (`{"http":{"method":..}}`):
//!
//! | field | names | unit |
//! | --- | --- | --- |
//! | time (end) | `time`, `timestamp`, `@timestamp`, `ts`, `time_iso8601`, `time_local`, `msec` | RFC 3339, epoch s/ms/us/ns, or `27/Nov/2026:10:00:00 +0000` |
//! | time (start) | `start_time`, `startedDateTime`, `StartUTC` | as above |
//! | method | `method`, `request_method`, `http.method`, `http_method`, `request.method`, `http.request.method`, `RequestMethod` | |
//! | path | `request_uri`, `path`, `uri`, `url`, `request.uri`, `request.path`, `request.url`, `url.original`, `url.path`, `http.url`, `http.target`, `RequestPath`, or the request line in `request` (`GET /x HTTP/1.1`) | a query in `query`, `query_string`, `args`, `url.query` is appended |
//! | status | `status`, `status_code`, `statusCode`, `http.status_code`, `response.status`, `response.status_code`, `http.response.status_code`, `response_code`, `DownstreamStatus` | number or numeric text |
//! | bytes | `bytes`, `body_bytes_sent`, `size`, `response_size`, `bytes_sent`, `response.size`, `response.bytes`, `http.response.body.bytes`, `DownstreamContentSize` | missing: 0 |
//! | duration | `request_time` (s), `duration_ms`, `latency_ms`, `elapsed_ms`, `response_time_ms` (ms), `duration`, `elapsed`, `latency` (s, or text with a unit: `12ms`), `event.duration`, `duration_ns`, `Duration` (ns) | |
//! | body | `body`, `request_body`, `request.body` | text, or JSON re-serialized |
//!
//! An end time becomes a start by subtracting the duration when known;
//! `start_time` is already the start. Absolute URLs are reduced to their
//! path and query.

use serde_json::{Map, Value};

use super::{Reason, time};
use crate::domain::traffic::Record;
use crate::traffic::template::origin_form;

const END_TIME: [&str; 7] = [
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "time_iso8601",
    "time_local",
    "msec",
];
const START_TIME: [&str; 3] = ["start_time", "startedDateTime", "StartUTC"];
const METHOD: [&str; 7] = [
    "method",
    "request_method",
    "http.method",
    "http_method",
    "request.method",
    "http.request.method",
    "RequestMethod",
];
const PATH: [&str; 12] = [
    "request_uri",
    "path",
    "uri",
    "url",
    "request.uri",
    "request.path",
    "request.url",
    "url.original",
    "url.path",
    "http.url",
    "http.target",
    "RequestPath",
];
const QUERY: [&str; 4] = ["query", "query_string", "args", "url.query"];
const STATUS: [&str; 9] = [
    "status",
    "status_code",
    "statusCode",
    "http.status_code",
    "response.status",
    "response.status_code",
    "http.response.status_code",
    "response_code",
    "DownstreamStatus",
];
const BYTES: [&str; 9] = [
    "bytes",
    "body_bytes_sent",
    "size",
    "response_size",
    "bytes_sent",
    "response.size",
    "response.bytes",
    "http.response.body.bytes",
    "DownstreamContentSize",
];
const BODY: [&str; 3] = ["body", "request_body", "request.body"];
const REQUEST_BYTES: [&str; 3] = ["request_bytes", "request_size", "http.request.body.bytes"];

/// How a duration field is written.
#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Millis,
    Nanos,
    /// Seconds as a number, or text with a unit (`12ms`, `1.5s`).
    SecondsOrText,
}

const DURATION: [(&str, Unit); 12] = [
    ("request_time", Unit::Seconds),
    ("duration_ms", Unit::Millis),
    ("latency_ms", Unit::Millis),
    ("elapsed_ms", Unit::Millis),
    ("response_time_ms", Unit::Millis),
    ("duration", Unit::SecondsOrText),
    ("elapsed", Unit::SecondsOrText),
    ("latency", Unit::SecondsOrText),
    ("event.duration", Unit::Nanos),
    ("duration_ns", Unit::Nanos),
    ("time_ms", Unit::Millis),
    ("Duration", Unit::Nanos),
];

/// One JSON line.
pub fn parse(line: &[u8], line_no: u64) -> Result<Record, Reason> {
    let value: Value = serde_json::from_slice(line).map_err(|_| Reason::NotJson)?;
    let Value::Object(obj) = value else {
        return Err(Reason::NotJson);
    };
    record(&obj, line_no)
}

/// A record from a JSON object (also used for HAR-like objects).
fn record(obj: &Map<String, Value>, line_no: u64) -> Result<Record, Reason> {
    let request_line = text(lookup(obj, "request")).and_then(split_request_line);
    let method = first_str(obj, &METHOD)
        .or(request_line.map(|(m, _)| m))
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or(Reason::NoMethod)?;
    let path = first_str(obj, &PATH)
        .or(request_line.map(|(_, p)| p))
        .filter(|p| !p.is_empty() && *p != "-")
        .ok_or(Reason::NoPath)?;
    let mut path = origin_form(path).to_owned();
    if !path.contains('?') {
        if let Some(q) = first_str(obj, &QUERY).filter(|q| !q.is_empty() && *q != "-") {
            path.push('?');
            path.push_str(q.trim_start_matches('?'));
        }
    }
    let status = first(obj, &STATUS).ok_or(Reason::NoStatus)?;
    let status = number(status)
        .filter(|s| (100.0..=599.0).contains(s) && s.fract() == 0.0)
        .ok_or(Reason::BadStatus)? as u16;
    let bytes = first(obj, &BYTES).and_then(number).unwrap_or(0.0).max(0.0) as u64;
    let duration_ms = duration(obj);
    let start_ms = if let Some(t) = first(obj, &START_TIME) {
        time_ms(t)?
    } else {
        let end = time_ms(first(obj, &END_TIME).ok_or(Reason::NoTime)?)?;
        duration_ms.map_or(end, |d| end - d.round() as i64)
    };
    let body = first(obj, &BODY).and_then(|b| match b {
        Value::String(s) if !s.is_empty() && s != "-" => Some(s.clone()),
        Value::Object(_) | Value::Array(_) => serde_json::to_string(b).ok(),
        _ => None,
    });
    let request_bytes = body.as_ref().map(|b| b.len() as u64).or_else(|| {
        first(obj, &REQUEST_BYTES)
            .and_then(number)
            .map(|n| n.max(0.0) as u64)
    });
    Ok(Record {
        line: line_no,
        start_ms,
        method: method.to_ascii_uppercase(),
        path,
        status,
        bytes,
        request_bytes,
        duration_ms,
        body,
    })
}

/// A field by literal key, else by nested path.
fn lookup<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(name) {
        return Some(v);
    }
    if !name.contains('.') {
        return None;
    }
    let mut parts = name.split('.');
    let mut v = obj.get(parts.next()?)?;
    for part in parts {
        v = v.as_object()?.get(part)?;
    }
    Some(v)
}

/// The first of `names` present (and not null).
fn first<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .filter_map(|n| lookup(obj, n))
        .find(|v| !v.is_null())
}

/// The first of `names` that is a string.
fn first_str<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| lookup(obj, n)?.as_str())
}

fn text(v: Option<&Value>) -> Option<&str> {
    v?.as_str()
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `GET /x HTTP/1.1` to (method, target).
fn split_request_line(line: &str) -> Option<(&str, &str)> {
    let (method, rest) = line.split_once(' ')?;
    let target = match rest.rsplit_once(' ') {
        Some((t, proto)) if proto.starts_with("HTTP/") => t,
        _ => rest,
    };
    Some((method, target))
}

fn time_ms(v: &Value) -> Result<i64, Reason> {
    match v {
        Value::Number(n) => n.as_f64().and_then(time::epoch_ms),
        Value::String(s) => time::parse_text(s),
        _ => None,
    }
    .ok_or(Reason::BadTime)
}

/// The first duration field present, in milliseconds.
fn duration(obj: &Map<String, Value>) -> Option<f64> {
    DURATION.iter().find_map(|(name, unit)| {
        let v = lookup(obj, name)?;
        let ms = match (unit, v) {
            (Unit::SecondsOrText, Value::String(s)) if s.ends_with(|c: char| c.is_alphabetic()) => {
                crate::domain::units::parse_duration(s)
                    .ok()
                    .map(|d| d.as_nanos() as f64 / 1e6)
            }
            (Unit::Seconds | Unit::SecondsOrText, v) => number(v).map(|s| s * 1000.0),
            (Unit::Millis, v) => number(v),
            (Unit::Nanos, v) => number(v).map(|n| n / 1e6),
        }?;
        (ms.is_finite() && ms >= 0.0).then_some(super::round_us(ms))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z in ms.
    const T0: i64 = 1_795_773_600_000;

    fn parse_str(line: &str) -> Result<Record, Reason> {
        parse(line.as_bytes(), 3)
    }

    #[test]
    fn flat_nginx_json() {
        let r = parse_str(
            r#"{"time":"2026-11-27T10:00:00+00:00","remote_addr":"10.0.0.1","request_method":"GET","request_uri":"/api/products/42?x=1","status":"200","body_bytes_sent":"153","request_time":"0.004"}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Record {
                line: 3,
                start_ms: T0 - 4,
                method: "GET".into(),
                path: "/api/products/42?x=1".into(),
                status: 200,
                bytes: 153,
                request_bytes: None,
                duration_ms: Some(4.0),
                body: None,
            }
        );
    }

    #[test]
    fn field_name_variants() {
        let lines = [
            r#"{"timestamp":1795773600,"method":"get","path":"/a","status_code":201,"size":5,"duration_ms":12}"#,
            r#"{"@timestamp":"2026-11-27T10:00:00Z","http.method":"GET","url":"https://shop/a","http.status_code":201,"bytes_sent":5,"duration":"12ms"}"#,
            r#"{"ts":1795773600000,"http":{"method":"GET","status_code":201},"uri":"/a","response_size":5,"latency_ms":12}"#,
            r#"{"start_time":"2026-11-27T09:59:59.988Z","request":{"method":"GET","path":"/a"},"response":{"status":201,"size":5},"duration":0.012}"#,
            r#"{"time":"27/Nov/2026:10:00:00 +0000","request":"GET /a HTTP/1.1","status":201,"bytes":5,"elapsed":"12ms"}"#,
            r#"{"ts":1795773600.0,"http_method":"GET","path":"/a","response":{"status":201},"bytes":5,"event":{"duration":12000000}}"#,
            // Traefik's JSON access log.
            r#"{"ClientHost":"172.18.0.1","DownstreamContentSize":5,"DownstreamStatus":201,"Duration":12000000,"OriginStatus":201,"RequestCount":42,"RequestMethod":"GET","RequestPath":"/a","StartUTC":"2026-11-27T09:59:59.988Z","level":"info","msg":"","time":"2026-11-27T10:00:00Z"}"#,
        ];
        for line in lines {
            let r = parse_str(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert_eq!(r.method, "GET", "{line}");
            assert_eq!(r.path, "/a", "{line}");
            assert_eq!(r.status, 201, "{line}");
            assert_eq!(r.bytes, 5, "{line}");
            assert_eq!(r.duration_ms, Some(12.0), "{line}");
            assert_eq!(r.start_ms, T0 - 12, "{line}");
        }
    }

    #[test]
    fn query_and_body_fields() {
        let r = parse_str(
            r#"{"time":"2026-11-27T10:00:00Z","method":"POST","path":"/api/search","query":"q=shoes","status":200,"request_body":{"q":"shoes"}}"#,
        )
        .unwrap();
        assert_eq!(r.path, "/api/search?q=shoes");
        assert_eq!(r.body.as_deref(), Some(r#"{"q":"shoes"}"#));
        assert_eq!(r.request_bytes, Some(13));
        assert_eq!(r.bytes, 0);
        assert_eq!(r.duration_ms, None);
        let r = parse_str(
            r#"{"time":"2026-11-27T10:00:00Z","method":"POST","path":"/x","status":200,"body":"a=1","request_size":"3"}"#,
        )
        .unwrap();
        assert_eq!(r.body.as_deref(), Some("a=1"));
    }

    #[test]
    fn reasons() {
        let cases = [
            ("not json", Reason::NotJson),
            ("[1,2]", Reason::NotJson),
            (
                r#"{"time":"2026-11-27T10:00:00Z","msg":"started"}"#,
                Reason::NoMethod,
            ),
            (
                r#"{"time":"2026-11-27T10:00:00Z","method":"GET","status":200}"#,
                Reason::NoPath,
            ),
            (
                r#"{"time":"2026-11-27T10:00:00Z","method":"GET","path":"/"}"#,
                Reason::NoStatus,
            ),
            (
                r#"{"time":"2026-11-27T10:00:00Z","method":"GET","path":"/","status":"ok"}"#,
                Reason::BadStatus,
            ),
            (
                r#"{"time":"2026-11-27T10:00:00Z","method":"GET","path":"/","status":1000}"#,
                Reason::BadStatus,
            ),
            (
                r#"{"method":"GET","path":"/","status":200}"#,
                Reason::NoTime,
            ),
            (
                r#"{"time":"noonish","method":"GET","path":"/","status":200}"#,
                Reason::BadTime,
            ),
            (
                r#"{"time":true,"method":"GET","path":"/","status":200}"#,
                Reason::BadTime,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(parse_str(line).unwrap_err(), reason, "{line}");
        }
    }
}
