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
//! At most `max_series` distinct metrics per target (a cardinality guard:
//! an exporter with a label per user would fill the store); the rest are
//! counted as dropped. Not owned: fetching pages (`scrape`), the series
//! keys' environment and service (`watch`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::prom_text::{Exposition, MetricType, PromSample};

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

/// One target's conversion state: the previous counters and buckets.
#[derive(Debug, Clone)]
pub struct PageConverter {
    max_series: usize,
    /// Counter name -> (scrape time, value).
    counters: HashMap<String, (i64, f64)>,
    /// Histogram name -> bucket upper bounds and cumulative counts.
    buckets: HashMap<String, Vec<(f64, f64)>>,
    known: HashSet<String>,
}

impl Default for PageConverter {
    fn default() -> Self {
        Self::new(MAX_SERIES)
    }
}

/// `name{a="x",b="y"}`, labels in the order given, `/` as `%2F`.
fn render(name: &str, labels: &[&(String, String)]) -> String {
    let mut out = name.replace('/', "%2F");
    if !labels.is_empty() {
        let pairs: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('/', "%2F")))
            .collect();
        out.push('{');
        out.push_str(&pairs.join(","));
        out.push('}');
    }
    out
}

fn labels_without<'a>(s: &'a PromSample, skip: &str) -> Vec<&'a (String, String)> {
    s.labels.iter().filter(|(k, _)| k != skip).collect()
}

fn is_counter(s: &PromSample) -> bool {
    match s.kind {
        MetricType::Counter => true,
        MetricType::Untyped => s.name.ends_with("_total"),
        _ => false,
    }
}

/// `histogram_quantile(q)` over cumulative `(upper bound, count)` pairs
/// sorted by bound; `None` without observations.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for (i, &(bound, count)) in buckets.iter().enumerate() {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower.0);
            }
            if i == 0 && bound <= 0.0 {
                return Some(bound);
            }
            let width = count - lower.1;
            if width <= 0.0 {
                return Some(bound);
            }
            return Some(lower.0 + (bound - lower.0) * (rank - lower.1) / width);
        }
        lower = (bound, count);
    }
    Some(lower.0)
}

impl PageConverter {
    pub fn new(max_series: usize) -> Self {
        PageConverter {
            max_series,
            counters: HashMap::new(),
            buckets: HashMap::new(),
            known: HashSet::new(),
        }
    }

    /// Converts one page scraped at `t_ms`.
    pub fn convert(&mut self, page: &Exposition, t_ms: i64) -> Converted {
        let mut out = Converted::default();
        // Histogram name (family + labels without `le`) -> buckets.
        let mut histograms: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        let mut sums: HashMap<String, f64> = HashMap::new();
        let mut counts: HashMap<String, f64> = HashMap::new();
        for s in &page.samples {
            if !s.value.is_finite() {
                out.not_finite += 1;
                continue;
            }
            match s.kind {
                MetricType::Histogram => {
                    let base = render(&s.family, &labels_without(s, "le"));
                    if s.name.ends_with("_bucket") {
                        let bound = match s.label("le") {
                            Some("+Inf") => f64::INFINITY,
                            Some(le) => match le.parse::<f64>() {
                                Ok(b) => b,
                                Err(_) => continue,
                            },
                            None => continue,
                        };
                        histograms.entry(base).or_default().push((bound, s.value));
                    } else if s.name.ends_with("_sum") {
                        sums.insert(base, s.value);
                    } else if s.name.ends_with("_count") {
                        counts.insert(base, s.value);
                        let name = render(&s.name, &s.labels.iter().collect::<Vec<_>>());
                        self.counter(&mut out, &name, t_ms, s.value);
                    }
                }
                MetricType::Summary if s.name.ends_with("_sum") => {}
                MetricType::Summary if s.name.ends_with("_count") => {
                    let name = render(&s.name, &s.labels.iter().collect::<Vec<_>>());
                    self.counter(&mut out, &name, t_ms, s.value);
                }
                _ if is_counter(s) => {
                    let name = render(&s.name, &s.labels.iter().collect::<Vec<_>>());
                    self.counter(&mut out, &name, t_ms, s.value);
                }
                _ => {
                    let name = render(&s.name, &s.labels.iter().collect::<Vec<_>>());
                    self.emit(&mut out, name, s.value);
                }
            }
        }
        for (base, mut now) in histograms {
            now.sort_by(|a, b| a.0.total_cmp(&b.0));
            self.histogram(
                &mut out,
                &base,
                &now,
                t_ms,
                sums.get(&base),
                counts.get(&base),
            );
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

    fn counter(&mut self, out: &mut Converted, name: &str, t_ms: i64, value: f64) {
        let previous = self.counters.insert(name.to_owned(), (t_ms, value));
        if let Some((t0, v0)) = previous
            && t_ms > t0
            && value >= v0
        {
            let rate = (value - v0) * 1000.0 / (t_ms - t0) as f64;
            self.emit(out, format!("{name}:rate"), rate);
        }
    }

    fn histogram(
        &mut self,
        out: &mut Converted,
        base: &str,
        now: &[(f64, f64)],
        t_ms: i64,
        sum: Option<&f64>,
        count: Option<&f64>,
    ) {
        let sum_key = format!("{base}\u{0}sum");
        let before = self.buckets.insert(base.to_owned(), now.to_vec());
        let sum_before = sum.and_then(|&s| {
            let old = self.counters.insert(sum_key.clone(), (t_ms, s));
            old.map(|(_, v)| v)
        });
        let Some(before) = before else { return };
        let same_bounds = before.len() == now.len()
            && before
                .iter()
                .zip(now)
                .all(|(a, b)| a.0.total_cmp(&b.0).is_eq());
        if !same_bounds {
            return;
        }
        let increase: Vec<(f64, f64)> = now
            .iter()
            .zip(before.iter())
            .map(|(n, b)| (n.0, n.1 - b.1))
            .collect();
        if increase.iter().any(|(_, c)| *c < 0.0) {
            return; // reset
        }
        for (q, label) in QUANTILES {
            if let Some(v) = histogram_quantile(q, &increase) {
                self.emit(out, format!("{base}:{label}"), v);
            }
        }
        let observed = increase.last().map_or(0.0, |(_, c)| *c);
        if let (Some(s0), Some(&s1), Some(_)) = (sum_before, sum, count)
            && observed > 0.0
            && s1 >= s0
        {
            self.emit(out, format!("{base}:mean"), (s1 - s0) / observed);
        }
    }
}

#[cfg(test)]
mod tests;
