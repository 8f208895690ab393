// Sizes and times here are whole numbers held in f64: exact comparison is intended.
#![allow(clippy::float_cmp)]

use super::*;
use crate::domain::traffic::EdgeKind;
use crate::traffic::parse::{Format, parse_text};

/// 2026-11-27T10:00:00Z in ms.
const T0: i64 = 1_795_773_600_000;

fn rec(line: u64, at_ms: i64, method: &str, path: &str, status: u16, bytes: u64) -> Record {
    Record {
        line,
        start_ms: at_ms,
        method: method.into(),
        path: path.into(),
        status,
        bytes,
        request_bytes: None,
        duration_ms: None,
        body: None,
    }
}

#[test]
fn the_rate_curve_starts_at_the_earliest_second_and_has_gaps() {
    let records = vec![
        rec(1, T0 + 2_500, "GET", "/a", 200, 1),
        rec(2, T0 + 900, "GET", "/a", 200, 1), // earlier start (a slow request)
        rec(3, T0 + 2_999, "GET", "/a", 200, 1),
        rec(4, T0 + 6_000, "GET", "/a", 200, 1),
    ];
    let p = extract(records, Completeness::default(), "t");
    assert_eq!(p.start, "2026-11-27T10:00:00Z");
    assert_eq!(p.rate, vec![1, 0, 2, 0, 0, 0, 1]);
    assert_eq!(p.schema, "understudy.profile/v1");
}

#[test]
fn an_empty_capture_is_an_empty_profile() {
    let p = extract(Vec::new(), Completeness::default(), "nothing");
    assert!(p.rate.is_empty() && p.mix.is_empty() && p.peaks.is_empty());
    assert_eq!(p.start, "1970-01-01T00:00:00Z");
}

#[test]
fn the_mix_groups_by_template_with_shares_summing_to_one() {
    let mut records = Vec::new();
    for i in 0..60u64 {
        records.push(rec(
            i + 1,
            T0,
            "GET",
            &format!("/api/products/{}", i % 25),
            200,
            100 + i,
        ));
    }
    for i in 0..30u64 {
        records.push(rec(
            61 + i,
            T0,
            "GET",
            &format!("/api/search?q=w{i}"),
            200,
            10,
        ));
    }
    for i in 0..10u64 {
        let mut r = rec(
            91 + i,
            T0,
            "POST",
            "/api/orders",
            if i < 8 { 201 } else { 503 },
            5,
        );
        r.body = Some(format!("{{\"sku\":{}}}", i % 3));
        r.request_bytes = Some(9);
        r.duration_ms = Some(10.0 * (i + 1) as f64);
        records.push(r);
    }
    let p = extract(records, Completeness::default(), "t");
    let keys: Vec<(&str, &str, u64)> = p
        .mix
        .iter()
        .map(|m| (m.method.as_str(), m.path.as_str(), m.count))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("GET", "/api/products/{id}", 60),
            ("GET", "/api/search", 30),
            ("POST", "/api/orders", 10)
        ]
    );
    let sum: f64 = p.mix.iter().map(|m| m.share).sum();
    assert!((sum - 1.0).abs() < 1e-12, "{sum}");
    assert!((p.mix[0].share - 0.6).abs() < 1e-12);

    let products = &p.mix[0];
    assert_eq!(products.examples.len(), MAX_EXAMPLES);
    assert_eq!(products.examples[0], "/api/products/0");
    assert_eq!(products.bytes.max, 159.0);
    assert_eq!(products.bytes.p50, 129.0);
    assert!(products.latency_ms.is_none() && products.bodies.is_empty());
    // The query is dropped from the template but kept in the examples.
    assert_eq!(p.mix[1].examples[0], "/api/search?q=w0");
    assert_eq!(p.mix[1].examples.len(), 20);

    let orders = &p.mix[2];
    assert_eq!(
        orders.bodies,
        vec![r#"{"sku":0}"#, r#"{"sku":1}"#, r#"{"sku":2}"#]
    );
    assert_eq!(orders.status, [(201, 8), (503, 2)].into());
    let latency = orders.latency_ms.unwrap();
    assert_eq!((latency.p50, latency.p90, latency.max), (50.0, 90.0, 100.0));
    assert_eq!(p.status, [(200, 90), (201, 8), (503, 2)].into());
    assert_eq!(p.bytes.max, 159.0);
}

#[test]
fn edge_cases_are_present_and_bounded() {
    let mut records = Vec::new();
    let mut line = 0;
    let mut push = |r: Record| records.push(r);
    for i in 0..500u64 {
        line += 1;
        let mut r = rec(
            line,
            T0 + i as i64 * 10,
            "GET",
            &format!("/api/products/{i}"),
            200,
            150,
        );
        r.duration_ms = Some(2.0);
        push(r);
    }
    line += 1;
    let mut export = rec(line, T0, "GET", "/api/export?all=1", 200, 9_000_000);
    export.duration_ms = Some(4_200.0);
    push(export);
    line += 1;
    push(rec(line, T0, "DELETE", "/admin/cache", 204, 0));
    for status in [500, 500, 404, 429] {
        line += 1;
        push(rec(line, T0, "GET", "/api/checkout", status, 20));
    }
    for _ in 0..100 {
        line += 1;
        push(rec(line, T0, "GET", "/api/cart", 200, 40));
    }
    let p = extract(records, Completeness::default(), "t");
    let of = |k: EdgeKind| {
        p.edge_cases
            .iter()
            .filter(|e| e.kind == k)
            .collect::<Vec<_>>()
    };

    let largest = of(EdgeKind::LargestBody);
    assert_eq!(largest[0].path, "/api/export?all=1");
    assert_eq!(largest[0].bytes, 9_000_000);
    assert!(largest.len() <= edges::MAX_LARGEST);

    let slowest = of(EdgeKind::Slowest);
    assert_eq!(slowest[0].path, "/api/export?all=1");
    assert_eq!(slowest[0].duration_ms, Some(4_200.0));
    assert_eq!(slowest[0].line, 501);
    assert_eq!(slowest.len(), 2, "one per endpoint");

    let rare: Vec<&str> = of(EdgeKind::RareEndpoint)
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(
        rare,
        vec!["/admin/cache", "/api/export?all=1", "/api/checkout"]
    );

    let errors: Vec<(u16, u64)> = of(EdgeKind::Error)
        .iter()
        .map(|e| (e.status, e.line))
        .collect();
    assert_eq!(
        errors,
        vec![(500, 503), (429, 506)],
        "404 is not an edge-case error"
    );
}

#[test]
fn completeness_passes_through() {
    let text = "junk\n172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\" 0.001\n";
    let (records, c) = parse_text(text, Format::Auto).unwrap();
    let p = extract(records, c, "access.log");
    assert_eq!(p.completeness.lines, 2);
    assert_eq!(p.completeness.parsed, 1);
    assert_eq!(p.completeness.rejected, 1);
    assert_eq!(p.completeness.first_rejected, vec![1]);
    assert_eq!(p.source, "access.log");
    assert_eq!(p.start, "2026-11-27T10:00:00Z");
}

#[test]
fn peaks_come_from_the_curve() {
    // 10 minutes at 5 rps with a 2 s burst of 60 at second 300.
    let mut records = Vec::new();
    let mut line = 0;
    for s in 0..600i64 {
        let n = if s == 300 || s == 301 { 60 } else { 5 };
        for k in 0..n {
            line += 1;
            records.push(rec(line, T0 + s * 1000 + k, "GET", "/", 200, 1));
        }
    }
    let p = extract(records, Completeness::default(), "t");
    assert_eq!(p.rate.len(), 600);
    assert_eq!(p.peaks.len(), 1);
    let k = &p.peaks[0];
    assert_eq!(
        (k.start_s, k.duration_s, k.peak_rps, k.shape.as_str()),
        (300, 2, 60, "spike")
    );
}

#[test]
fn a_prometheus_curve_replaces_the_rate() {
    let records = vec![rec(1, T0, "GET", "/a", 200, 1)];
    let p = with_rate(
        extract(records, Completeness::default(), "t"),
        T0 / 1000 + 60,
        vec![3, 4],
    );
    assert_eq!(p.start, "2026-11-27T10:01:00Z");
    assert_eq!(p.rate, vec![3, 4]);
    assert_eq!(p.mix.len(), 1);
    let only = rate_only(T0 / 1000, vec![1, 2, 3], "prom", Completeness::default());
    assert!(only.mix.is_empty());
    assert_eq!(only.rate, vec![1, 2, 3]);
}

#[test]
fn percentiles_are_nearest_rank() {
    let mut v: Vec<u64> = (1..=100).collect();
    let s = summary_u64(&mut v);
    assert_eq!((s.p50, s.p90, s.p99, s.max), (50.0, 90.0, 99.0, 100.0));
    assert_eq!(summary_u64(&mut []), Summary::default());
    let mut one = vec![7.5];
    assert_eq!(summary_f64(&mut one).p99, 7.5);
}

#[test]
fn the_profile_serializes_to_the_schema() {
    let p = extract(
        vec![rec(1, T0, "GET", "/a/1", 500, 3)],
        Completeness::default(),
        "t",
    );
    let v = serde_json::to_value(&p).unwrap();
    for key in [
        "schema",
        "start",
        "rate",
        "mix",
        "peaks",
        "edge_cases",
        "completeness",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["mix"][0]["path"], "/a/{id}");
    let kinds: Vec<&str> = v["edge_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["largest-body", "error"]);
    let back: TrafficProfile = serde_json::from_value(v).unwrap();
    assert_eq!(back, p);
}
