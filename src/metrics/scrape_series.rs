//! Scraped Prometheus pages as watch series (pure).
//!
//! Owns: what a sample becomes. The watch wants values that mean something
//! per second, as an SRE would graph them in Prometheus:
//!
//! - a gauge (or an untyped sample) is its value: `name{labels}`;
//! - a counter (typed `counter`, or untyped and named `*_total`) is its
//!   per-second rate between two scrapes, `name{labels}:rate`; a counter
//!   that went down was reset and gives no point that scrape;
//! - a histogram is `histogram_quantile` over the buckets' increase since
//!   the last scrape, `family{labels}:p50` and `:p99` (linear within a
//!   bucket, the +Inf bucket answers with the highest finite bound, as
//!   Prometheus does), its mean `:mean` (increase of `_sum` over increase
//!   of `_count`) and its request rate `family_count{labels}:rate`; the
//!   raw buckets are not series;
//! - a summary's quantile samples are gauges, its `_count` a rate.
//!
//! Label values may hold `/` (`route="/api"`), which a series key cannot:
//! it is written `%2F`. NaN and infinite values give no point (counted).
//! At most `max_series` distinct metrics per target, and as many counters
//! and histograms remembered (a cardinality guard: an exporter with a
//! label per user would fill the store and this state); the rest are
//! counted as dropped. Not owned: fetching pages (`scrape`), the series
//! keys' environment and service (`watch`), the arithmetic of histograms
//! and counter rates (`prom_text`'s `histograms`, `Histogram::delta`,
//! `histogram_quantile`, `counter_rate`).

use std::collections::{HashMap, HashSet};

use super::prom_text::{Exposition, Histogram, MetricType, PromSample, counter_rate, histograms};

/// Default cardinality guard per target.
pub const MAX_SERIES: usize = 256;

/// The quantiles taken of every histogram.
const QUANTILES: [(f64, &str); 2] = [(0.5, "p50"), (0.99, "p99")];

/// What one page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// `(metric, value)`; `metric` is a valid series-key segment.
    pub points: Vec<(String, f64)>,
    /// Samples over the cardinality guard.
    pub dropped: usize,
    /// Samples whose value was NaN or infinite.
    pub not_finite: usize,
}

/// One target's conversion state: the previous counters and histograms.
#[derive(Debug, Clone)]
pub struct PageConverter {
    max_series: usize,
    /// Counter name -> (scrape time, value).
    counters: HashMap<String, (i64, f64)>,
    /// Histogram name (family and labels) -> its last reading.
    histograms: HashMap<String, Histogram>,
    known: HashSet<String>,
}

impl Default for PageConverter {
    fn default() -> Self {
        Self::new(MAX_SERIES)
    }
}

/// `name{a="x",b="y"}`, labels in the order given, `/` as `%2F`.
fn render<'a>(name: &str, labels: impl IntoIterator<Item = &'a (String, String)>) -> String {
    let pairs: Vec<String> = labels
        .into_iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('/', "%2F")))
        .collect();
    let mut out = name.replace('/', "%2F");
    if !pairs.is_empty() {
        out.push('{');
        out.push_str(&pairs.join(","));
        out.push('}');
    }
    out
}

fn is_counter(s: &PromSample) -> bool {
    match s.kind {
        MetricType::Counter => true,
        MetricType::Untyped => s.name.ends_with("_total"),
        _ => false,
    }
}

impl PageConverter {
    pub fn new(max_series: usize) -> Self {
        PageConverter {
            max_series,
            counters: HashMap::new(),
            histograms: HashMap::new(),
            known: HashSet::new(),
        }
    }

    /// Converts one page scraped at `t_ms`.
    pub fn convert(&mut self, page: &Exposition, t_ms: i64) -> Converted {
        let mut out = Converted::default();
        for s in &page.samples {
            if !s.value.is_finite() {
                out.not_finite += 1;
                continue;
            }
            let name = || render(&s.name, &s.labels);
            let counts = s.name.ends_with("_count");
            match s.kind {
                // Buckets and sums are read as histograms below.
                MetricType::Histogram | MetricType::Summary if counts => {
                    self.counter(&mut out, &name(), t_ms, s.value);
                }
                MetricType::Histogram => {}
                MetricType::Summary if s.name.ends_with("_sum") => {}
                _ if is_counter(s) => self.counter(&mut out, &name(), t_ms, s.value),
                _ => self.emit(&mut out, name(), s.value),
            }
        }
        for h in histograms(&page.samples) {
            self.histogram(&mut out, h);
        }
        out
    }

    fn emit(&mut self, out: &mut Converted, metric: String, value: f64) {
        if !self.known.contains(&metric) {
            if self.known.len() >= self.max_series {
                out.dropped += 1;
                return;
            }
            self.known.insert(metric.clone());
        }
        out.points.push((metric, value));
    }

    /// A counter's rate since the last scrape; none the first time or after
    /// a reset (the counter went down). A counter first seen when the
    /// target already has `max_series` tracked is dropped, so the state
    /// stays bounded too.
    fn counter(&mut self, out: &mut Converted, name: &str, t_ms: i64, value: f64) {
        if !self.counters.contains_key(name) && self.tracked() >= self.max_series {
            out.dropped += 1;
            return;
        }
        let previous = self.counters.insert(name.to_owned(), (t_ms, value));
        if let Some(rate) = previous.and_then(|earlier| counter_rate(earlier, (t_ms, value))) {
            self.emit(out, format!("{name}:rate"), rate);
        }
    }

    /// Counters and histograms whose last reading is kept.
    fn tracked(&self) -> usize {
        self.counters.len() + self.histograms.len()
    }

    /// A histogram's quantiles and mean over what it observed since the
    /// last scrape; none the first time, after a reset or a change of
    /// bucket bounds.
    fn histogram(&mut self, out: &mut Converted, now: Histogram) {
        let base = render(&now.family, &now.labels);
        if !self.histograms.contains_key(&base) && self.tracked() >= self.max_series {
            out.dropped += 1;
            return;
        }
        let increase = self
            .histograms
            .get(&base)
            .and_then(|before| now.delta(before));
        self.histograms.insert(base.clone(), now);
        let Some(increase) = increase else {
            return;
        };
        for (q, label) in QUANTILES {
            if let Some(v) = increase.quantile(q) {
                self.emit(out, format!("{base}:{label}"), v);
            }
        }
        if let (Some(sum), Some(count)) = (increase.sum, increase.count)
            && count > 0.0
            && sum >= 0.0
        {
            self.emit(out, format!("{base}:mean"), sum / count);
        }
    }
}

#[cfg(test)]
mod tests;
