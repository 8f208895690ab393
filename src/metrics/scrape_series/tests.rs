use super::*;
use crate::domain::series::{Environment, SeriesKey};
use crate::metrics::prom_text::parse;

const DEMO_API: &str = include_str!("../../../tests/fixtures/prometheus/demo_api.txt");
const NODE: &str = include_str!("../../../tests/fixtures/prometheus/node_exporter.txt");
const EDGE: &str = include_str!("../../../tests/fixtures/prometheus/edge_cases.txt");

fn value(c: &Converted, metric: &str) -> Option<f64> {
    c.points.iter().find(|(m, _)| m == metric).map(|(_, v)| *v)
}

const HISTOGRAM: &str = "# TYPE d histogram
d_bucket{le=\"0.1\"} BUCKET1
d_bucket{le=\"0.5\"} BUCKET2
d_bucket{le=\"1\"} BUCKET3
d_bucket{le=\"+Inf\"} BUCKET3
d_sum SUM
d_count BUCKET3
";

fn histogram_page(b1: u32, b2: u32, b3: u32, sum: f64) -> Exposition {
    parse(
        &HISTOGRAM
            .replace("BUCKET1", &b1.to_string())
            .replace("BUCKET2", &b2.to_string())
            .replace("BUCKET3", &b3.to_string())
            .replace("SUM", &sum.to_string()),
    )
}

#[test]
fn a_histogram_gives_quantiles_of_what_happened_between_two_scrapes() {
    let mut c = PageConverter::default();
    let first = c.convert(&histogram_page(100, 100, 100, 5.0), 0);
    assert!(first.points.iter().all(|(m, _)| !m.ends_with(":p50")));
    // Since then: 50 new observations, all in (0.1, 0.5].
    let second = c.convert(&histogram_page(100, 150, 150, 20.0), 2_000);
    let p50 = value(&second, "d:p50").unwrap();
    assert!((p50 - 0.3).abs() < 1e-9, "{p50}");
    let p99 = value(&second, "d:p99").unwrap();
    assert!((p99 - 0.496).abs() < 1e-9, "{p99}");
    assert!((value(&second, "d:mean").unwrap() - 0.3).abs() < 1e-9);
    assert!((value(&second, "d_count:rate").unwrap() - 25.0).abs() < 1e-9);
    // A restarted process: counts went down, no quantile that scrape.
    let reset = c.convert(&histogram_page(1, 1, 1, 0.1), 4_000);
    assert_eq!(value(&reset, "d:p50"), None);
}

#[test]
fn counters_become_rates_and_a_reset_gives_no_point() {
    let page = |v: u32| {
        parse(&format!(
            "# TYPE hits_total counter\nhits_total {v}\nraw_total {v}\n"
        ))
    };
    let mut c = PageConverter::default();
    assert!(c.convert(&page(100), 10_000).points.is_empty());
    let second = c.convert(&page(130), 15_000);
    assert_eq!(value(&second, "hits_total:rate"), Some(6.0));
    // Untyped but named *_total: a counter too.
    assert_eq!(value(&second, "raw_total:rate"), Some(6.0));
    let reset = c.convert(&page(3), 20_000);
    assert!(reset.points.is_empty(), "{:?}", reset.points);
    assert_eq!(
        value(&c.convert(&page(13), 25_000), "hits_total:rate"),
        Some(2.0)
    );
}

#[test]
fn the_demo_api_page_gives_gauges_and_rates_as_series_key_segments() {
    let mut c = PageConverter::default();
    let page = parse(DEMO_API);
    let first = c.convert(&page, 0);
    assert_eq!(value(&first, "api_queue_depth"), Some(0.0));
    let second = c.convert(&page, 1_000);
    assert_eq!(
        value(
            &second,
            "http_requests_total{route=\"%2Fapi%2Fproducts%2F{id}\",method=\"GET\",status=\"200\"}:rate"
        ),
        Some(0.0)
    );
    // Every metric is a valid series-key segment.
    for (metric, _) in &second.points {
        let key = format!("prod/api/{metric}");
        let parsed: SeriesKey = key.parse().unwrap();
        assert_eq!(
            parsed,
            SeriesKey::service(Environment::Prod, "api", metric.clone())
        );
    }
    // No buckets as series.
    assert!(second.points.iter().all(|(m, _)| !m.contains("_bucket")));
}

#[test]
fn node_exporter_counters_and_gauges_convert_and_the_guard_caps_cardinality() {
    let page = parse(NODE);
    let mut all = PageConverter::new(usize::MAX);
    all.convert(&page, 0);
    let full = all.convert(&page, 1_000);
    assert!(full.points.len() > 10, "{}", full.points.len());
    let mut capped = PageConverter::new(5);
    capped.convert(&page, 0);
    let few = capped.convert(&page, 1_000);
    assert_eq!(few.points.len(), 5);
    assert_eq!(few.dropped, full.points.len() - 5);
    // The readings it remembers are capped too.
    assert!(capped.tracked() <= 5, "{}", capped.tracked());
    assert!(all.tracked() > 5);
}

#[test]
fn not_finite_values_are_counted_not_charted() {
    let mut c = PageConverter::default();
    let out = c.convert(&parse(EDGE), 0);
    assert!(out.not_finite >= 4, "{}", out.not_finite);
    assert!(out.points.iter().all(|(_, v)| v.is_finite()));
}
