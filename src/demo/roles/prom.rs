//! A small Prometheus registry: counters, gauges, labelled counters and
//! labelled histograms, rendered in the text exposition format (0.0.4).
//! Metrics are registered once at startup; rendering is deterministic
//! (registration order, then label values sorted).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The content type of [`Registry::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency buckets from 1 ms to 10 s, in seconds.
pub const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Something that writes its family (HELP, TYPE, samples) in text format.
pub trait Metric: Send + Sync {
    fn render(&self, out: &mut String);
}

/// The metrics a process exposes on `/metrics`.
#[derive(Default)]
pub struct Registry {
    metrics: Mutex<Vec<Arc<dyn Metric>>>,
}

impl Registry {
    /// Adds a metric and hands it back for use.
    pub fn register<M: Metric + 'static>(&self, metric: M) -> Arc<M> {
        let metric = Arc::new(metric);
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(metric.clone());
        metric
    }

    /// Every metric in text exposition format.
    pub fn render(&self) -> String {
        let metrics = self
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        for metric in metrics {
            metric.render(&mut out);
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `{a="x",b="y"}` with values escaped; empty when there are no labels.
fn labels(names: &[&str], values: &[String], extra: Option<(&str, &str)>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape_label(v)))
        .collect();
    if let Some((n, v)) = extra {
        pairs.push(format!("{n}=\"{v}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A float as Prometheus writes it (`+Inf`, integers without a fraction).
fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

/// A monotonically increasing count.
pub struct Counter {
    name: &'static str,
    help: &'static str,
    value: AtomicU64,
}

impl Counter {
    pub fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            value: AtomicU64::new(0),
        }
    }

    pub fn inc(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl Metric for Counter {
    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "counter");
        let _ = writeln!(out, "{} {}", self.name, self.get());
    }
}

/// A value that goes up and down.
pub struct Gauge {
    name: &'static str,
    help: &'static str,
    value: AtomicI64,
}

impl Gauge {
    pub fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            value: AtomicI64::new(0),
        }
    }

    pub fn inc(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(&self) {
        self.value.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn set(&self, value: i64) {
        self.value.store(value, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl Metric for Gauge {
    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "gauge");
        let _ = writeln!(out, "{} {}", self.name, self.get());
    }
}

/// A counter per combination of label values.
pub struct CounterVec {
    name: &'static str,
    help: &'static str,
    label_names: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl CounterVec {
    pub fn new(
        name: &'static str,
        help: &'static str,
        label_names: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            help,
            label_names,
            values: Mutex::default(),
        }
    }

    /// Adds one to the series; `values` follow the label names' order.
    pub fn inc(&self, values: &[&str]) {
        debug_assert_eq!(values.len(), self.label_names.len());
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        *self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    #[cfg(test)]
    pub fn get(&self, values: &[&str]) -> u64 {
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied()
            .unwrap_or(0)
    }
}

impl Metric for CounterVec {
    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "counter");
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, value) in values.iter() {
            let labels = labels(self.label_names, key, None);
            let _ = writeln!(out, "{}{labels} {value}", self.name);
        }
    }
}

#[derive(Clone, Default)]
struct Series {
    /// Per bucket, not cumulative; the last slot is +Inf.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A histogram per combination of label values.
pub struct HistogramVec {
    name: &'static str,
    help: &'static str,
    label_names: &'static [&'static str],
    bounds: &'static [f64],
    series: Mutex<BTreeMap<Vec<String>, Series>>,
}

impl HistogramVec {
    /// `bounds` are the upper bounds in ascending order (+Inf is implied).
    pub fn new(
        name: &'static str,
        help: &'static str,
        label_names: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Self {
        Self {
            name,
            help,
            label_names,
            bounds,
            series: Mutex::default(),
        }
    }

    pub fn observe(&self, values: &[&str], duration: Duration) {
        let seconds = duration.as_secs_f64();
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let slot = self
            .bounds
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(self.bounds.len());
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = series.entry(key).or_insert_with(|| Series {
            counts: vec![0; self.bounds.len() + 1],
            ..Series::default()
        });
        entry.counts[slot] += 1;
        entry.sum += seconds;
        entry.count += 1;
    }
}

impl Metric for HistogramVec {
    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "histogram");
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, s) in series.iter() {
            let mut cumulative = 0;
            let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
            for (bound, count) in bounds.zip(&s.counts) {
                cumulative += count;
                let labels = labels(self.label_names, key, Some(("le", &number(bound))));
                let _ = writeln!(out, "{}_bucket{labels} {cumulative}", self.name);
            }
            let labels = labels(self.label_names, key, None);
            let _ = writeln!(out, "{}_sum{labels} {}", self.name, number(s.sum));
            let _ = writeln!(out, "{}_count{labels} {}", self.name, s.count);
        }
    }
}

/// The HTTP metrics every role exposes.
pub struct HttpMetrics {
    pub requests: Arc<CounterVec>,
    pub duration: Arc<HistogramVec>,
    pub in_flight: Arc<Gauge>,
}

impl HttpMetrics {
    pub fn register(registry: &Registry) -> Self {
        Self {
            requests: registry.register(CounterVec::new(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
                &["route", "method", "status"],
            )),
            duration: registry.register(HistogramVec::new(
                "http_request_duration_seconds",
                "Time from request head to response, by route template.",
                &["route"],
                &LATENCY_BUCKETS,
            )),
            in_flight: registry.register(Gauge::new(
                "http_requests_in_flight",
                "Requests being handled now.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let registry = Registry::default();
        let hits = registry.register(Counter::new("hits_total", "Hits."));
        let depth = registry.register(Gauge::new("depth", "Queue depth."));
        let by_route = registry.register(CounterVec::new(
            "req_total",
            "Requests.",
            &["route", "status"],
        ));
        let latency = registry.register(HistogramVec::new(
            "lat_seconds",
            "Latency.",
            &["route"],
            &[0.01, 0.1],
        ));
        hits.inc();
        hits.inc();
        depth.inc();
        depth.inc();
        depth.dec();
        by_route.inc(&["/b", "200"]);
        by_route.inc(&["/a \"q\"\\", "500"]);
        by_route.inc(&["/b", "200"]);
        latency.observe(&["/a"], Duration::from_millis(5));
        latency.observe(&["/a"], Duration::from_millis(50));
        latency.observe(&["/a"], Duration::from_secs(1));
        let expected = "\
# HELP hits_total Hits.
# TYPE hits_total counter
hits_total 2
# HELP depth Queue depth.
# TYPE depth gauge
depth 1
# HELP req_total Requests.
# TYPE req_total counter
req_total{route=\"/a \\\"q\\\"\\\\\",status=\"500\"} 1
req_total{route=\"/b\",status=\"200\"} 2
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{route=\"/a\",le=\"0.01\"} 1
lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 2
lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3
lat_seconds_sum{route=\"/a\"} 1.055
lat_seconds_count{route=\"/a\"} 3
";
        assert_eq!(registry.render(), expected);
        assert_eq!(by_route.get(&["/b", "200"]), 2);
        assert_eq!(by_route.get(&["/c", "200"]), 0);
    }

    #[test]
    fn http_metrics_use_the_standard_names_and_buckets() {
        let registry = Registry::default();
        let http = HttpMetrics::register(&registry);
        http.requests.inc(&["/healthz", "GET", "200"]);
        http.duration
            .observe(&["/healthz"], Duration::from_micros(300));
        let text = registry.render();
        assert!(
            text.contains(
                "http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"
            )
        );
        assert!(
            text.contains(
                "http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 1\n"
            )
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/healthz\",le=\"10\"} 1\n")
        );
        assert!(text.contains("http_request_duration_seconds_count{route=\"/healthz\"} 1\n"));
        assert!(text.contains("# TYPE http_requests_in_flight gauge\nhttp_requests_in_flight 0\n"));
    }
}
