#![allow(clippy::float_cmp)] // exact values are the point of these checks

use proptest::prelude::*;

use super::*;

const DEMO_API: &str = include_str!("../../../tests/fixtures/prometheus/demo_api.txt");
const DEMO_STORE: &str = include_str!("../../../tests/fixtures/prometheus/demo_store.txt");
const NODE: &str = include_str!("../../../tests/fixtures/prometheus/node_exporter.txt");
const GO: &str = include_str!("../../../tests/fixtures/prometheus/go_client.txt");
const EDGE: &str = include_str!("../../../tests/fixtures/prometheus/edge_cases.txt");

fn find<'a>(e: &'a Exposition, name: &str, labels: &[(&str, &str)]) -> &'a PromSample {
    e.samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(n, v)| s.label(n) == Some(*v)))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

/// A page captured from the demo's api role (`understudy shop api`).
#[test]
fn parses_the_demo_page() {
    let e = parse(DEMO_API);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    assert_eq!(e.samples.len(), 39);
    let ok = find(
        &e,
        "http_requests_total",
        &[("route", "/api/products/{id}"), ("status", "200")],
    );
    assert_eq!((ok.value, ok.kind), (26.0, MetricType::Counter));
    let h = histograms(&e.samples);
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].family, "http_request_duration_seconds");
    assert_eq!(
        h[0].labels,
        vec![("route".to_owned(), "/api/products/{id}".to_owned())]
    );
    assert_eq!(h[0].buckets.len(), 14);
    assert_eq!(h[0].count, Some(30.0));
    // 28 of 30 in (5 ms, 10 ms]: the median interpolates inside it.
    let p50 = h[0].quantile(0.5).unwrap();
    assert!((p50 - (0.005 + 0.005 * 15.0 / 28.0)).abs() < 1e-12, "{p50}");
    let p99 = h[0].quantile(0.99).unwrap();
    assert!(p99 > 0.01 && p99 <= 0.025, "{p99}");
    let families: Vec<&str> = e.families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(families[0], "api_queue_depth");
    assert_eq!(
        e.family("api_rejected_total").map(|f| f.kind),
        Some(MetricType::Counter)
    );
    // A role without traffic declares families with no samples.
    let store = parse(DEMO_STORE);
    assert!(store.errors.is_empty());
    assert_eq!(store.samples.len(), 3);
    assert_eq!(store.families.len(), 5);
}

#[test]
fn parses_a_node_exporter_page() {
    let e = parse(NODE);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let idle = find(
        &e,
        "node_cpu_seconds_total",
        &[("cpu", "1"), ("mode", "idle")],
    );
    assert_eq!(idle.value, 98410.02);
    assert_eq!(idle.kind, MetricType::Counter);
    let c = find(&e, "node_filesystem_avail_bytes", &[("fstype", "ntfs")]);
    assert_eq!(c.label("device"), Some("C:\\"));
    assert!(
        find(&e, "node_hwmon_temp_celsius", &[("sensor", "temp0")])
            .value
            .is_nan()
    );
    let uname = find(&e, "node_uname_info", &[]);
    assert_eq!(uname.labels.len(), 6);
    assert_eq!(
        uname.label("version"),
        Some("#1 SMP PREEMPT_DYNAMIC Debian 6.1.94-1 (2024-06-21)")
    );
    assert_eq!(
        e.family("node_load1").and_then(|f| f.help.as_deref()),
        Some("1m load average.")
    );
}

#[test]
fn parses_a_go_client_page() {
    let e = parse(GO);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let q = find(&e, "go_gc_duration_seconds", &[("quantile", "0.5")]);
    assert_eq!((q.value, q.kind), (6.0125e-05, MetricType::Summary));
    let count = find(&e, "go_gc_duration_seconds_count", &[]);
    assert_eq!(
        (count.family.as_str(), count.value),
        ("go_gc_duration_seconds", 312.0)
    );
    assert_eq!(find(&e, "process_max_fds", &[]).value, 1_048_576.0);
    // go_memstats_alloc_bytes_total is its own counter family, not a
    // `_total` of the gauge go_memstats_alloc_bytes.
    let total = find(&e, "go_memstats_alloc_bytes_total", &[]);
    assert_eq!(
        (total.family.as_str(), total.kind),
        ("go_memstats_alloc_bytes_total", MetricType::Counter)
    );
    let h = &histograms(&e.samples)[0];
    assert_eq!(
        h.quantile(0.5),
        Some(0.01 + 0.015 * (500.0 - 480.0) / 430.0)
    );
    // The rank lands in +Inf: the largest finite bound.
    assert_eq!(h.quantile(1.0), Some(0.1));
}

#[test]
fn edge_cases_parse_and_garbage_is_reported_by_line() {
    let e = parse(EDGE);
    let help = e.family("escaped_help").and_then(|f| f.help.clone());
    assert_eq!(
        help.as_deref(),
        Some("Help with a backslash \\ and a newline \n in it.")
    );
    let esc = find(&e, "escaped_help", &[]);
    assert_eq!(esc.label("path"), Some("C:\\dir\\file"));
    assert_eq!(esc.label("quote"), Some("say \"hi\""));
    assert_eq!(esc.label("nl"), Some("a\nb"));
    let spaced = find(&e, "spaced_out", &[]);
    assert_eq!(spaced.labels.len(), 2);
    assert_eq!(
        (spaced.value, spaced.timestamp_ms),
        (7.0, Some(1_700_000_000_000))
    );
    assert_eq!(
        find(&e, "timestamped", &[]).timestamp_ms,
        Some(1_700_000_000_123)
    );
    assert_eq!(find(&e, "negative_timestamp", &[]).timestamp_ms, Some(-5));
    assert_eq!(
        find(&e, "infinities", &[("sign", "pos")]).value,
        f64::INFINITY
    );
    assert_eq!(
        find(&e, "infinities", &[("sign", "neg")]).value,
        f64::NEG_INFINITY
    );
    assert_eq!(
        find(&e, "infinities", &[("sign", "bare")]).value,
        f64::INFINITY
    );
    assert!(find(&e, "not_a_number", &[]).value.is_nan());
    assert_eq!(find(&e, "scientific", &[]).value, 0.0015);
    assert_eq!(find(&e, "untyped_metric", &[]).kind, MetricType::Untyped);
    assert_eq!(find(&e, "requests_total", &[]).kind, MetricType::Counter);
    assert_eq!(find(&e, "conflicting", &[]).kind, MetricType::Gauge);
    assert_eq!(find(&e, "utf8.metric.name", &[]).label("job"), Some("x"));
    let errors: Vec<(usize, usize, &LineErrorKind)> = e
        .errors
        .iter()
        .map(|x| (x.line, x.column, &x.kind))
        .collect();
    assert_eq!(
        errors,
        vec![
            (17, 6, &LineErrorKind::Value("line".into())),
            (18, 18, &LineErrorKind::Value("twelve".into())),
            (19, 16, &LineErrorKind::Unterminated),
            (20, 16, &LineErrorKind::LabelName),
            (21, 21, &LineErrorKind::MissingValue),
            (22, 19, &LineErrorKind::Trailing("3".into())),
            (24, 8, &LineErrorKind::DuplicateType("conflicting".into())),
        ]
    );
    assert_eq!(
        e.errors[1].to_string(),
        "line 18, column 18: value \"twelve\" is not a number: \"bad_value{a=\\\"b\\\"} twelve\""
    );
}

#[test]
fn unknown_types_and_empty_pages() {
    let e = parse("# TYPE x stateset\nx 1\n\n# just a comment\n");
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].kind, LineErrorKind::Type("stateset".into()));
    assert_eq!(e.samples.len(), 1);
    assert_eq!(parse(""), Exposition::default());
}

#[test]
fn quantiles_follow_promql() {
    let b = [(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
    assert_eq!(histogram_quantile(0.5, &b), Some(1.0));
    assert_eq!(histogram_quantile(0.25, &b), Some(0.5));
    assert_eq!(histogram_quantile(0.75, &b), Some(1.5));
    assert_eq!(histogram_quantile(1.5, &b), None);
    assert_eq!(histogram_quantile(0.5, &[(1.0, 3.0), (2.0, 4.0)]), None);
    assert_eq!(
        histogram_quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]),
        None
    );
    // Negative first bound: returned as is.
    assert_eq!(
        histogram_quantile(0.1, &[(-1.0, 5.0), (f64::INFINITY, 10.0)]),
        Some(-1.0)
    );
}

#[test]
fn histogram_deltas_and_counter_rates_handle_resets() {
    let h = |counts: [f64; 3]| Histogram {
        family: "lat".into(),
        labels: vec![],
        buckets: vec![
            (0.1, counts[0]),
            (1.0, counts[1]),
            (f64::INFINITY, counts[2]),
        ],
        sum: Some(counts[2]),
        count: Some(counts[2]),
    };
    let d = h([15.0, 30.0, 40.0]).delta(&h([10.0, 20.0, 20.0])).unwrap();
    assert_eq!(d.buckets[1].1, 10.0);
    assert_eq!(d.count, Some(20.0));
    // Reset: what happened between the scrapes is unknown.
    assert_eq!(h([1.0, 2.0, 3.0]).delta(&h([10.0, 20.0, 20.0])), None);
    let mut other = h([1.0, 2.0, 3.0]);
    other.buckets[0].0 = 0.2;
    assert_eq!(h([1.0, 2.0, 3.0]).delta(&other), None);
    assert_eq!(counter_rate((0, 100.0), (10_000, 150.0)), Some(5.0));
    assert_eq!(counter_rate((0, 100.0), (10_000, 20.0)), None);
    assert_eq!(counter_rate((0, 1.0), (0, 2.0)), None);
}

#[test]
fn quantiles_interpolate_within_a_bucket_as_prometheus_does() {
    let buckets = [
        (0.1, 10.0),
        (0.5, 60.0),
        (1.0, 100.0),
        (f64::INFINITY, 100.0),
    ];
    // Rank 50 lies 40 of 50 into (0.1, 0.5].
    let p50 = histogram_quantile(0.5, &buckets).unwrap();
    assert!((p50 - 0.42).abs() < 1e-9, "{p50}");
    // Rank 5 in the first bucket, from 0.
    let p05 = histogram_quantile(0.05, &buckets).unwrap();
    assert!((p05 - 0.05).abs() < 1e-9, "{p05}");
    // Observations only above the last finite bound: that bound.
    let tail = [(0.1, 0.0), (1.0, 0.0), (f64::INFINITY, 7.0)];
    assert_eq!(histogram_quantile(0.99, &tail), Some(1.0));
    assert_eq!(
        histogram_quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]),
        None
    );
}

proptest! {
    /// Any text parses without panicking, and every non-empty line is
    /// either a comment, a sample or an error.
    #[test]
    fn never_panics_and_accounts_for_every_line(text in "[a-z_{}=\",# \\\\.0-9+\\-\n\t]{0,200}") {
        let e = parse(&text);
        let lines = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
        let sample_errors = e.errors.iter().filter(|x| !x.text.trim_start().starts_with('#')).count();
        prop_assert_eq!(e.samples.len() + sample_errors, lines);
    }

    /// Rendered label values with escapes read back unchanged.
    #[test]
    fn label_values_round_trip(value in "[ -~\n]{0,30}") {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let e = parse(&format!("m{{l=\"{escaped}\"}} 1\n"));
        prop_assert_eq!(e.samples.len(), 1);
        prop_assert_eq!(e.samples[0].label("l"), Some(value.as_str()));
    }
}
