//! Profile extraction (pure): records in, a [`TrafficProfile`] out — the
//! per-second rate curve, the request mix by method and path template
//! (with status and size distributions, example paths and bodies), the
//! peaks ([`peaks`] documents the rule) and the edge cases ([`edges`]).
//!
//! [`Extractor`] consumes records one at a time, so a capture never needs
//! to hold them all; [`extract`] wraps it for an iterator. The curve's
//! second 0 is the floor of the earliest request start; seconds without
//! requests are zeros. It spans at most [`MAX_CURVE_S`] (31 days): requests
//! whose time would stretch it further count in the mix but not the curve.

pub mod edges;
pub mod peaks;
pub mod render;

use std::collections::{BTreeMap, HashMap};

use crate::domain::traffic::{
    Completeness, MixEntry, PROFILE_SCHEMA, Record, Summary, TrafficProfile,
};
use crate::traffic::parse::time::format_rfc3339;
use crate::traffic::template::template_into;

/// Distinct concrete paths kept per mix entry.
pub const MAX_EXAMPLES: usize = 20;
/// Distinct request bodies kept per mix entry.
pub const MAX_BODIES: usize = 10;
/// The longest rate curve, in seconds.
pub const MAX_CURVE_S: usize = 31 * 86_400;

/// Per-template accumulator.
#[derive(Debug)]
pub(crate) struct Acc {
    pub method: String,
    pub template: String,
    pub count: u64,
    examples: Vec<String>,
    bodies: Vec<String>,
    status: Vec<(u16, u64)>,
    bytes: Vec<u64>,
    latency: Vec<f64>,
    /// The first request seen.
    pub first: Record,
    /// The slowest request (by duration).
    pub slowest: Option<Record>,
    /// The request with the largest body (response or request).
    pub largest: Option<Record>,
    /// The first request of each error status.
    pub errors: Vec<Record>,
}

/// Whether a status is an edge-case error: 5xx, or 4xx other than 404.
pub fn is_error(status: u16) -> bool {
    status >= 500 || ((400..500).contains(&status) && status != 404)
}

/// A record's body size for ranking: the larger of response and request.
pub(crate) fn body_size(r: &Record) -> u64 {
    r.bytes.max(r.request_bytes.unwrap_or(0))
}

impl Acc {
    fn new(method: &str, template: &str, r: &Record) -> Self {
        Self {
            method: method.to_owned(),
            template: template.to_owned(),
            count: 0,
            examples: Vec::new(),
            bodies: Vec::new(),
            status: Vec::new(),
            bytes: Vec::new(),
            latency: Vec::new(),
            first: r.clone(),
            slowest: None,
            largest: None,
            errors: Vec::new(),
        }
    }

    fn add(&mut self, r: &Record) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES && !self.examples.contains(&r.path) {
            self.examples.push(r.path.clone());
        }
        if let Some(body) = &r.body {
            if self.bodies.len() < MAX_BODIES && !self.bodies.iter().any(|b| b == body) {
                self.bodies.push(body.clone());
            }
        }
        if let Some((_, n)) = self.status.iter_mut().find(|(s, _)| *s == r.status) {
            *n += 1;
        } else {
            self.status.push((r.status, 1));
            if is_error(r.status) {
                self.errors.push(r.clone());
            }
        }
        self.bytes.push(r.bytes);
        if let Some(d) = r.duration_ms {
            self.latency.push(d);
            if self
                .slowest
                .as_ref()
                .is_none_or(|s| s.duration_ms.is_some_and(|sd| d > sd))
            {
                self.slowest = Some(r.clone());
            }
        }
        let size = body_size(r);
        if size > 0 && self.largest.as_ref().is_none_or(|l| size > body_size(l)) {
            self.largest = Some(r.clone());
        }
    }

    pub(crate) fn status_count(&self, status: u16) -> u64 {
        self.status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// Requests per second, growing in both directions up to [`MAX_CURVE_S`].
#[derive(Debug, Default)]
struct Curve {
    base: i64,
    counts: Vec<u32>,
    outside: u64,
}

impl Curve {
    fn add(&mut self, start_ms: i64) {
        let s = start_ms.div_euclid(1000);
        if self.counts.is_empty() {
            self.base = s;
            self.counts.push(1);
            return;
        }
        if s < self.base {
            let grow = (self.base - s) as usize;
            if grow + self.counts.len() > MAX_CURVE_S {
                self.outside += 1;
                return;
            }
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.base = s;
        }
        let i = (s - self.base) as usize;
        if i >= self.counts.len() {
            if i >= MAX_CURVE_S {
                self.outside += 1;
                return;
            }
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
    }
}

/// Builds a profile from records pushed one at a time.
#[derive(Debug, Default)]
pub struct Extractor {
    key: String,
    index: HashMap<String, usize>,
    entries: Vec<Acc>,
    curve: Curve,
    total: u64,
}

impl Extractor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, r: &Record) {
        self.total += 1;
        self.curve.add(r.start_ms);
        self.key.clear();
        self.key.push_str(&r.method);
        self.key.push(' ');
        template_into(&r.path, &mut self.key);
        let i = if let Some(&i) = self.index.get(self.key.as_str()) {
            i
        } else {
            let template = &self.key[r.method.len() + 1..];
            self.entries.push(Acc::new(&r.method, template, r));
            self.index.insert(self.key.clone(), self.entries.len() - 1);
            self.entries.len() - 1
        };
        self.entries[i].add(r);
    }

    /// Requests pushed so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The profile. `completeness` is the parse's; `source` names what was
    /// read.
    pub fn finish(mut self, completeness: Completeness, source: &str) -> TrafficProfile {
        if self.curve.outside > 0 {
            tracing::warn!(
                requests = self.curve.outside,
                "requests outside the {}-day rate curve window are in the mix only",
                MAX_CURVE_S / 86_400
            );
        }
        let total = self.total.max(1) as f64;
        self.entries.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.template.cmp(&b.template))
                .then_with(|| a.method.cmp(&b.method))
        });
        let edge_cases = edges::collect(&self.entries, self.total);
        let mut status: BTreeMap<u16, u64> = BTreeMap::new();
        let mut all_bytes: Vec<u64> = Vec::with_capacity(self.total as usize);
        let mix = self
            .entries
            .into_iter()
            .map(|mut a| {
                for &(s, n) in &a.status {
                    *status.entry(s).or_default() += n;
                }
                all_bytes.extend_from_slice(&a.bytes);
                a.status.sort_unstable();
                MixEntry {
                    share: a.count as f64 / total,
                    count: a.count,
                    status: a.status.into_iter().collect(),
                    bytes: summary_u64(&mut a.bytes),
                    latency_ms: (!a.latency.is_empty()).then(|| summary_f64(&mut a.latency)),
                    examples: a.examples,
                    bodies: a.bodies,
                    method: a.method,
                    path: a.template,
                }
            })
            .collect();
        let rate = self.curve.counts;
        TrafficProfile {
            schema: PROFILE_SCHEMA.to_owned(),
            source: source.to_owned(),
            start: format_rfc3339(if rate.is_empty() { 0 } else { self.curve.base }),
            peaks: peaks::detect(&rate),
            rate,
            mix,
            edge_cases,
            status,
            bytes: summary_u64(&mut all_bytes),
            completeness,
        }
    }
}

/// A profile from records (pure).
pub fn extract(
    records: impl IntoIterator<Item = Record>,
    completeness: Completeness,
    source: &str,
) -> TrafficProfile {
    let mut x = Extractor::new();
    for r in records {
        x.push(&r);
    }
    x.finish(completeness, source)
}

/// Replaces a profile's rate curve (e.g. with one from Prometheus, while
/// the mix comes from logs) and detects its peaks again.
pub fn with_rate(mut profile: TrafficProfile, start_unix_s: i64, rate: Vec<u32>) -> TrafficProfile {
    profile.start = format_rfc3339(start_unix_s);
    profile.peaks = peaks::detect(&rate);
    profile.rate = rate;
    profile
}

/// A profile with only a rate curve (Prometheus).
pub fn rate_only(
    start_unix_s: i64,
    rate: Vec<u32>,
    source: &str,
    completeness: Completeness,
) -> TrafficProfile {
    let empty = Extractor::new().finish(completeness, source);
    with_rate(empty, start_unix_s, rate)
}

/// Nearest-rank percentile index for quantile `q` of `n` values.
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// p50/p90/p99/max of sizes (sorts in place).
pub fn summary_u64(v: &mut [u64]) -> Summary {
    if v.is_empty() {
        return Summary::default();
    }
    v.sort_unstable();
    let at = |q: f64| v[rank(q, v.len())] as f64;
    Summary {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: v[v.len() - 1] as f64,
    }
}

/// p50/p90/p99/max of times (sorts in place).
pub fn summary_f64(v: &mut [f64]) -> Summary {
    if v.is_empty() {
        return Summary::default();
    }
    v.sort_unstable_by(f64::total_cmp);
    let at = |q: f64| v[rank(q, v.len())];
    Summary {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: v[v.len() - 1],
    }
}

#[cfg(test)]
mod tests;
