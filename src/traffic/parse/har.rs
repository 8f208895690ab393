//! HAR 1.2 files (`log.entries[]`, as browsers' developer tools and proxies
//! export them). Each entry is one record; its "line" is the 1-based entry
//! number. Fields: `startedDateTime` (the start), `request.method`,
//! `request.url` (reduced to path and query), `request.bodySize` /
//! `request.postData.text`, `response.status` (0, a request that never got
//! an answer, is rejected as `no response`), `response.bodySize` (or
//! `response.content.size` when unknown, -1), and `time` (ms).

use serde_json::Value;

use super::{ParseError, Reason, time};
use crate::domain::traffic::{Completeness, Record};
use crate::traffic::template::origin_form;

/// A whole HAR document: its records and completeness (entries counted as
/// lines). A document that is not a HAR is an error naming where it broke.
pub fn parse(text: &[u8]) -> Result<(Vec<Record>, Completeness), ParseError> {
    let doc: Value = serde_json::from_slice(text).map_err(|e| ParseError::Json {
        line: e.line(),
        column: e.column(),
        message: super::json_message(&e),
    })?;
    let entries = doc
        .get("log")
        .and_then(|l| l.get("entries"))
        .and_then(Value::as_array)
        .ok_or(ParseError::NotHar)?;
    let mut records = Vec::with_capacity(entries.len());
    let mut completeness = Completeness::default();
    for (i, entry) in entries.iter().enumerate() {
        let n = i as u64 + 1;
        match record(entry, n) {
            Ok(r) => {
                super::accept(&mut completeness);
                records.push(r);
            }
            Err(reason) => super::reject(&mut completeness, n, reason),
        }
    }
    Ok((records, completeness))
}

fn record(entry: &Value, n: u64) -> Result<Record, Reason> {
    let request = entry.get("request").ok_or(Reason::NoMethod)?;
    let response = entry.get("response").ok_or(Reason::NoStatus)?;
    let started = entry
        .get("startedDateTime")
        .and_then(Value::as_str)
        .ok_or(Reason::NoTime)?;
    let start_ms = time::parse_rfc3339(started).ok_or(Reason::BadTime)?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or(Reason::NoMethod)?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or(Reason::NoPath)?;
    let status = response
        .get("status")
        .and_then(Value::as_u64)
        .ok_or(Reason::NoStatus)?;
    if status == 0 {
        return Err(Reason::NoResponse);
    }
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or(Reason::BadStatus)?;
    let size = |v: Option<&Value>| {
        v.and_then(Value::as_i64)
            .and_then(|s| u64::try_from(s).ok())
    };
    let bytes = size(response.get("bodySize"))
        .filter(|b| *b > 0)
        .or_else(|| size(response.get("content").and_then(|c| c.get("size"))))
        .unwrap_or(0);
    let body = request
        .get("postData")
        .and_then(|p| p.get("text"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let request_bytes =
        size(request.get("bodySize")).or_else(|| body.as_ref().map(|b| b.len() as u64));
    let duration_ms = entry
        .get("time")
        .and_then(Value::as_f64)
        .filter(|t| *t >= 0.0)
        .map(super::round_us);
    Ok(Record {
        line: n,
        start_ms,
        method: method.to_owned(),
        path: origin_form(url).to_owned(),
        status,
        bytes,
        request_bytes,
        duration_ms,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_records() {
        let har = br#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
          {"startedDateTime":"2026-11-27T10:00:00.500Z","time":42.5,
           "request":{"method":"POST","url":"https://shop.example/api/orders?src=web","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":13,
                      "postData":{"mimeType":"application/json","text":"{\"sku\":\"A1\"}"}},
           "response":{"status":201,"statusText":"Created","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":120,"mimeType":"application/json"},"redirectURL":"","headersSize":-1,"bodySize":-1},
           "cache":{},"timings":{"send":0,"wait":42,"receive":0.5}},
          {"startedDateTime":"2026-11-27T10:00:01Z","time":-1,"request":{"method":"GET","url":"https://shop.example/"},"response":{"status":0}},
          {"startedDateTime":"later","request":{"method":"GET","url":"/x"},"response":{"status":200}}
        ]}}"#;
        let (records, c) = parse(har).unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.line, 1);
        assert_eq!(r.start_ms, 1_795_773_600_500);
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/orders?src=web");
        assert_eq!(r.status, 201);
        assert_eq!(r.bytes, 120);
        assert_eq!(r.request_bytes, Some(13));
        assert_eq!(r.duration_ms, Some(42.5));
        assert_eq!(r.body.as_deref(), Some(r#"{"sku":"A1"}"#));
        assert_eq!((c.lines, c.parsed, c.rejected), (3, 1, 2));
        assert_eq!(c.first_rejected, vec![2, 3]);
        assert_eq!(c.reasons["no response"], 1);
        assert_eq!(c.reasons["bad time"], 1);
    }

    #[test]
    fn a_browser_export() {
        let har = include_bytes!("../../../tests/fixtures/traffic/session.har");
        let (records, c) = parse(har).unwrap();
        assert_eq!((c.lines, c.parsed, c.rejected), (4, 3, 1));
        assert_eq!(c.first_rejected, vec![4]);
        let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["/", "/api/products/42?fields=name,price", "/api/orders"]
        );
        assert_eq!(records[0].bytes, 5333);
        assert_eq!(records[1].bytes, 153);
        assert_eq!(records[2].request_bytes, Some(21));
        assert_eq!(records[2].duration_ms, Some(51.9));
    }

    #[test]
    fn documents_that_are_not_har() {
        let e = parse(b"{\"log\": {\n  \"entries\": [1,}").unwrap_err();
        assert!(matches!(e, ParseError::Json { line: 2, .. }), "{e}");
        assert!(matches!(
            parse(b"{\"entries\":[]}"),
            Err(ParseError::NotHar)
        ));
    }
}
