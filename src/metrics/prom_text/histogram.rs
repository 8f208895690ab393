//! Classic Prometheus histograms from parsed samples: grouping the
//! `_bucket`/`_sum`/`_count` lines of one label set, quantiles as
//! PromQL's `histogram_quantile` computes them, the increase between two
//! scrapes, and per-second counter rates across resets.

use serde::{Deserialize, Serialize};

use super::{MetricType, PromSample};

/// One histogram: a family and a label set (without `le`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub family: String,
    pub labels: Vec<(String, String)>,
    /// `(upper bound, cumulative count)`, ascending bounds, `+Inf` last.
    pub buckets: Vec<(f64, f64)>,
    pub sum: Option<f64>,
    pub count: Option<f64>,
}

impl Histogram {
    /// The `q`-quantile (0..=1) of the observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        histogram_quantile(q, &self.buckets)
    }

    /// The observations between an earlier scrape and this one. `None`
    /// when the bucket bounds differ or after a reset (a count went down):
    /// what happened between the two scrapes is then unknown, and the
    /// watch would rather skip one point than chart a guess.
    pub fn delta(&self, earlier: &Histogram) -> Option<Histogram> {
        if self.buckets.len() != earlier.buckets.len()
            || self
                .buckets
                .iter()
                .zip(&earlier.buckets)
                .any(|(a, b)| a.0.total_cmp(&b.0).is_ne())
        {
            return None;
        }
        let reset = self
            .buckets
            .iter()
            .zip(&earlier.buckets)
            .any(|(a, b)| a.1 < b.1);
        if reset {
            return None;
        }
        let minus = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
        Some(Histogram {
            family: self.family.clone(),
            labels: self.labels.clone(),
            buckets: self
                .buckets
                .iter()
                .zip(&earlier.buckets)
                .map(|(a, b)| (a.0, a.1 - b.1))
                .collect(),
            sum: minus(self.sum, earlier.sum),
            count: minus(self.count, earlier.count),
        })
    }
}

/// Groups the samples of histogram families by label set, in order of
/// first appearance. Samples with a missing or unreadable `le` are skipped.
pub fn histograms(samples: &[PromSample]) -> Vec<Histogram> {
    let mut out: Vec<Histogram> = Vec::new();
    for s in samples.iter().filter(|s| s.kind == MetricType::Histogram) {
        let labels: Vec<(String, String)> = s
            .labels
            .iter()
            .filter(|(n, _)| n != "le")
            .cloned()
            .collect();
        let found = out
            .iter()
            .position(|h| h.family == s.family && h.labels == labels);
        let i = if let Some(i) = found {
            i
        } else {
            out.push(Histogram {
                family: s.family.clone(),
                labels,
                buckets: Vec::new(),
                sum: None,
                count: None,
            });
            out.len() - 1
        };
        let h = &mut out[i];
        match s.name.strip_prefix(s.family.as_str()) {
            Some("_bucket") => {
                if let Some(le) = s.label("le").and_then(|le| le.parse::<f64>().ok()) {
                    h.buckets.push((le, s.value));
                }
            }
            Some("_sum") => h.sum = Some(s.value),
            Some("_count") => h.count = Some(s.value),
            _ => {}
        }
    }
    for h in &mut out {
        h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// PromQL's `histogram_quantile` on cumulative buckets `(le, count)`
/// sorted by `le`: linear interpolation inside the bucket holding the
/// rank, 0 as the lower bound of the first bucket (when its bound is
/// positive), and the largest finite bound when the rank falls in `+Inf`.
/// `None` for `q` outside 0..=1, fewer than two buckets, no `+Inf` bucket,
/// or no observations.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) || buckets.len() < 2 {
        return None;
    }
    let last = buckets.len() - 1;
    if buckets[last].0 != f64::INFINITY {
        return None;
    }
    // Counts must not decrease; repair as Prometheus does.
    let mut counts: Vec<f64> = Vec::with_capacity(buckets.len());
    for &(_, c) in buckets {
        let prev = counts.last().copied().unwrap_or(0.0);
        counts.push(c.max(prev));
    }
    let total = counts[last];
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let b = counts.iter().position(|&c| c >= rank).unwrap_or(last);
    if b == last {
        return Some(buckets[last - 1].0);
    }
    let end = buckets[b].0;
    if b == 0 && end <= 0.0 {
        return Some(end);
    }
    let (start, below) = if b == 0 {
        (0.0, 0.0)
    } else {
        (buckets[b - 1].0, counts[b - 1])
    };
    let in_bucket = counts[b] - below;
    if in_bucket <= 0.0 {
        return Some(end);
    }
    Some(start + (end - start) * (rank - below) / in_bucket)
}

/// Per-second rate of a counter between two readings `(t_ms, value)`.
/// `None` after a reset (the value went down: the increase is unknown, as
/// for [`Histogram::delta`]), when time did not advance, or when a value is
/// not finite.
pub fn counter_rate(earlier: (i64, f64), later: (i64, f64)) -> Option<f64> {
    let seconds = (later.0 - earlier.0) as f64 / 1000.0;
    if seconds <= 0.0 || !earlier.1.is_finite() || !later.1.is_finite() || later.1 < earlier.1 {
        return None;
    }
    Some((later.1 - earlier.1) / seconds)
}
