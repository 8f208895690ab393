//! Series, samples, alerts and judge verdicts as plain data (serde).
//!
//! Owns: the identity of a series (`environment/service/instance/metric`),
//! the standard metric names, one sample, the aggregate of a time bucket,
//! an [`Alert`] and its lifecycle events, and the judge's configuration and
//! [`Verdict`]. Not owned: storing samples (`metrics::series`), persisting
//! them (`store`), scoring them (`detect`), or alert hysteresis
//! (`metrics::alerting`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which side of the rehearsal a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Prod,
    Shadow,
    /// The machine that runs the engine (shared by both sides).
    Host,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Shadow => "shadow",
            Environment::Host => "host",
        }
    }

    /// The environment named `text` (as [`Environment::as_str`] writes it).
    pub fn parse(text: &str) -> Option<Environment> {
        [Environment::Prod, Environment::Shadow, Environment::Host]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard metric names every collector uses.
pub mod metric {
    pub const CPU_PERCENT: &str = "cpu_percent";
    pub const MEMORY_BYTES: &str = "memory_bytes";
    pub const NET_RX_BPS: &str = "net_rx_bps";
    pub const NET_TX_BPS: &str = "net_tx_bps";
    pub const BLK_READ_BPS: &str = "blk_read_bps";
    pub const BLK_WRITE_BPS: &str = "blk_write_bps";
    pub const RPS: &str = "rps";
    pub const LATENCY_P50_MS: &str = "latency_p50_ms";
    pub const LATENCY_P99_MS: &str = "latency_p99_ms";
    pub const ERROR_RATE: &str = "error_rate";
    /// The host's one-minute load average.
    pub const LOAD1: &str = "load1";

    /// All of the above, in display order.
    pub const STANDARD: [&str; 10] = [
        CPU_PERCENT,
        MEMORY_BYTES,
        NET_RX_BPS,
        NET_TX_BPS,
        BLK_READ_BPS,
        BLK_WRITE_BPS,
        RPS,
        LATENCY_P50_MS,
        LATENCY_P99_MS,
        ERROR_RATE,
    ];
}

/// Why a series key did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesKeyError {
    #[error("series key {0:?}: expected ENV/SERVICE/METRIC or ENV/SERVICE/INSTANCE/METRIC")]
    Shape(String),
    #[error("series key {key:?}: environment {env:?} is not \"prod\", \"shadow\" or \"host\"")]
    Environment { key: String, env: String },
    #[error("series key {key:?}: empty segment")]
    Empty { key: String },
}

/// The identity of a series: `(environment, service, instance, metric)`.
/// `instance: None` is a service-level series (summed or merged over the
/// replicas). Displays as `shadow/api/api-1/cpu_percent`, or
/// `shadow/api/rps` at service level; [`FromStr`] reads both back. Names
/// must not contain `/` (Compose service and container names cannot).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub environment: Environment,
    pub service: String,
    pub instance: Option<String>,
    pub metric: String,
}

impl SeriesKey {
    /// An instance-level key.
    pub fn instance(
        environment: Environment,
        service: impl Into<String>,
        instance: impl Into<String>,
        metric: impl Into<String>,
    ) -> Self {
        SeriesKey {
            environment,
            service: service.into(),
            instance: Some(instance.into()),
            metric: metric.into(),
        }
    }

    /// A service-level key.
    pub fn service(
        environment: Environment,
        service: impl Into<String>,
        metric: impl Into<String>,
    ) -> Self {
        SeriesKey {
            environment,
            service: service.into(),
            instance: None,
            metric: metric.into(),
        }
    }

    /// Heap bytes held by the names (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.service.capacity()
            + self.instance.as_ref().map_or(0, String::capacity)
            + self.metric.capacity()
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/", self.environment, self.service)?;
        if let Some(instance) = &self.instance {
            write!(f, "{instance}/")?;
        }
        f.write_str(&self.metric)
    }
}

impl FromStr for SeriesKey {
    type Err = SeriesKeyError;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = key.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(SeriesKeyError::Empty {
                key: key.to_owned(),
            });
        }
        // `split` yields at least one part.
        let environment =
            Environment::parse(parts[0]).ok_or_else(|| SeriesKeyError::Environment {
                key: key.to_owned(),
                env: parts[0].to_owned(),
            })?;
        match parts[1..] {
            [service, metric] => Ok(SeriesKey::service(environment, service, metric)),
            [service, instance, metric] => {
                Ok(SeriesKey::instance(environment, service, instance, metric))
            }
            _ => Err(SeriesKeyError::Shape(key.to_owned())),
        }
    }
}

/// One observation: Unix milliseconds and a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_ms: i64,
    pub value: f64,
}

impl Sample {
    pub fn new(t_ms: i64, value: f64) -> Self {
        Sample { t_ms, value }
    }
}

/// A rollup resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Rollup {
    /// 10-second buckets.
    TenSeconds,
    /// 1-minute buckets.
    OneMinute,
}

impl Rollup {
    pub const ALL: [Rollup; 2] = [Rollup::TenSeconds, Rollup::OneMinute];

    /// Bucket width in milliseconds.
    pub fn width_ms(self) -> i64 {
        match self {
            Rollup::TenSeconds => 10_000,
            Rollup::OneMinute => 60_000,
        }
    }

    /// Bucket width in seconds (the `resolution` column of the store).
    pub fn seconds(self) -> u32 {
        (self.width_ms() / 1000) as u32
    }

    /// The rollup of a width in seconds, if it is one.
    pub fn from_seconds(seconds: u32) -> Option<Rollup> {
        Rollup::ALL.into_iter().find(|r| r.seconds() == seconds)
    }
}

/// The resolution of a range query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Resolution {
    /// 1-second buckets (the mean of the samples in each second).
    Raw,
    Rollup(Rollup),
}

/// The aggregate of the samples in one time bucket; the mean is
/// `sum / count`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket, Unix milliseconds (a multiple of its width).
    pub start_ms: i64,
    pub count: u32,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// The value of the latest sample.
    pub last: f64,
}

impl Bucket {
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / f64::from(self.count)
        }
    }
}

/// One rollup bucket of one series, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollupRow {
    pub key: SeriesKey,
    pub rollup: Rollup,
    pub bucket: Bucket,
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An anomaly on a series, or a prod/shadow divergence. `score` and
/// `explanation` are those of the alert's peak; `end_ms` is `None` while
/// the alert is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique within a run.
    pub id: u64,
    pub series: SeriesKey,
    pub score: f64,
    pub severity: Severity,
    pub explanation: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
}

/// A change in an alert's life, as published on the run's event channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "alert", rename_all = "lowercase")]
pub enum AlertEvent {
    Opened(Alert),
    /// The severity changed while open.
    Updated(Alert),
    Closed(Alert),
}

impl AlertEvent {
    pub fn alert(&self) -> &Alert {
        match self {
            AlertEvent::Opened(a) | AlertEvent::Updated(a) | AlertEvent::Closed(a) => a,
        }
    }
}

/// Which change of a metric is harmful (Kayenta's `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is worse (latency, errors, CPU).
    #[default]
    Increase,
    /// Lower is worse (throughput).
    Decrease,
    /// Any change is suspicious.
    Either,
}

/// Per-metric judge configuration (Kayenta's canary config, reduced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricConfig {
    pub name: String,
    #[serde(default)]
    pub direction: Direction,
    /// A failing critical metric fails the whole verdict.
    #[serde(default)]
    pub critical: bool,
    /// Smallest |Cliff's delta| that counts as a real difference (0..1);
    /// a significant but smaller difference passes. 0.147 is "small"
    /// (Romano et al. 2006).
    #[serde(default = "default_min_effect")]
    pub min_effect: f64,
    /// A failure also needs the medians to differ by at least this factor
    /// either way (1.2: 20 %); 1.0 (the default) asks nothing. Keeps a
    /// consistent but tiny difference (a proxy hop's 0.1 ms) from failing.
    #[serde(default = "default_min_ratio")]
    pub min_ratio: f64,
}

fn default_min_ratio() -> f64 {
    1.0
}

fn default_min_effect() -> f64 {
    0.147
}

impl MetricConfig {
    pub fn new(name: impl Into<String>, direction: Direction) -> Self {
        MetricConfig {
            name: name.into(),
            direction,
            critical: false,
            min_effect: default_min_effect(),
            min_ratio: default_min_ratio(),
        }
    }

    #[must_use]
    pub fn critical(mut self) -> Self {
        self.critical = true;
        self
    }

    #[must_use]
    pub fn min_ratio(mut self, min_ratio: f64) -> Self {
        self.min_ratio = min_ratio;
        self
    }

    #[must_use]
    pub fn min_effect(mut self, min_effect: f64) -> Self {
        self.min_effect = min_effect;
        self
    }
}

/// Where the shadow's values sit relative to the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shift {
    Higher,
    Lower,
    Same,
}

/// The classification of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricOutcome {
    Pass,
    Fail,
    /// Too few samples on one side to judge.
    NoData,
}

/// The judge's result for one metric at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub name: String,
    pub critical: bool,
    pub outcome: MetricOutcome,
    pub shift: Shift,
    /// Sample sizes: the shadow's window and the reference's (production,
    /// or the shadow's own pre-fault baseline).
    pub n_shadow: usize,
    pub n_reference: usize,
    /// Mann-Whitney U of the shadow (pairs where shadow > reference, ties
    /// counting one half).
    pub u: f64,
    /// Tie- and continuity-corrected standard normal statistic.
    pub z: f64,
    /// Fixed-horizon p-value of this look alone (in the harmful direction);
    /// not valid under repeated looks.
    pub p_fixed: f64,
    /// Anytime-valid p-value over all looks so far (in the harmful direction).
    pub p_anytime: f64,
    /// Cliff's delta = rank-biserial correlation = 2 P(S > R) - 1, in -1..1.
    pub cliffs_delta: f64,
    /// Median of the shadow over median of the reference (NaN when the
    /// reference median is 0).
    pub median_ratio: f64,
}

/// Overall classification of a judge look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictOutcome {
    Pass,
    Marginal,
    Fail,
}

/// The prod/shadow (or shadow/baseline) verdict at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: VerdictOutcome,
    /// 0..100: the share of judged metrics that passed (0 when a critical
    /// metric failed).
    pub score: f64,
    pub metrics: Vec<MetricResult>,
    /// One human line per failing metric, and why the outcome is what it is.
    pub reasons: Vec<String>,
    /// Metrics with data that this look left out (not comparable now: e.g.
    /// CPU while the two sides serve different loads); the first reason
    /// says why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

impl Verdict {
    /// Whether this look says something: it judged a metric, or left some
    /// out and says why (else it is still gathering data).
    pub fn judged(&self) -> bool {
        !self.left_out.is_empty()
            || self
                .metrics
                .iter()
                .any(|m| m.outcome != MetricOutcome::NoData)
    }

    /// What the verdict's printed line changes with: its outcome and the
    /// metrics it leaves out (`None` while it still gathers data). Its
    /// reasons' figures move every look; a change of these is news (CPU
    /// judged again once the loads match, under the same outcome).
    pub fn headline(&self) -> Option<(VerdictOutcome, Vec<String>)> {
        self.judged().then(|| (self.outcome, self.left_out.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_display_and_parse_back() {
        let key = SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::CPU_PERCENT);
        assert_eq!(key.to_string(), "shadow/api/api-1/cpu_percent");
        assert_eq!("shadow/api/api-1/cpu_percent".parse(), Ok(key));
        let service = SeriesKey::service(Environment::Prod, "api", metric::RPS);
        assert_eq!(service.to_string(), "prod/api/rps");
        assert_eq!("prod/api/rps".parse(), Ok(service));
    }

    #[test]
    fn a_verdict_headline_is_its_outcome_and_what_it_leaves_out() {
        let result = |outcome| MetricResult {
            name: "api/latency_p99_ms".into(),
            critical: true,
            outcome,
            shift: Shift::Same,
            n_shadow: 30,
            n_reference: 30,
            u: 450.0,
            z: 0.0,
            p_fixed: 1.0,
            p_anytime: 1.0,
            cliffs_delta: 0.0,
            median_ratio: 1.0,
        };
        let verdict = |left_out: &[&str], reason: &str| Verdict {
            outcome: VerdictOutcome::Marginal,
            score: 100.0,
            metrics: vec![result(MetricOutcome::Pass)],
            reasons: vec![reason.into()],
            left_out: left_out.iter().map(|&m| m.to_owned()).collect(),
        };
        let cpu = ["api/cpu_percent"];
        let first = verdict(&cpu, "load differs: gateway serves 20.9 req/s");
        let later = verdict(&cpu, "load differs: gateway serves 21.4 req/s");
        assert_eq!(first.headline(), later.headline(), "a figure moved");
        assert_ne!(first.headline(), verdict(&[], "").headline(), "CPU back");
        assert_eq!(
            first.headline(),
            Some((VerdictOutcome::Marginal, vec!["api/cpu_percent".to_owned()]))
        );
        let gathering = Verdict {
            metrics: vec![result(MetricOutcome::NoData)],
            ..verdict(&[], "")
        };
        assert_eq!(gathering.headline(), None);
    }

    #[test]
    fn bad_keys_say_why() {
        assert!(matches!(
            "stage/api/rps".parse::<SeriesKey>(),
            Err(SeriesKeyError::Environment { .. })
        ));
        assert!(matches!(
            "prod//rps".parse::<SeriesKey>(),
            Err(SeriesKeyError::Empty { .. })
        ));
        assert!(matches!(
            "prod/rps".parse::<SeriesKey>(),
            Err(SeriesKeyError::Shape(_))
        ));
    }

    #[test]
    fn alert_events_serialize_with_a_tag() {
        let alert = Alert {
            id: 1,
            series: SeriesKey::service(Environment::Shadow, "api", metric::ERROR_RATE),
            score: 0.9,
            severity: Severity::Critical,
            explanation: "errors up".into(),
            start_ms: 1000,
            end_ms: None,
        };
        let json = serde_json::to_string(&AlertEvent::Opened(alert.clone())).unwrap_or_default();
        assert!(json.starts_with("{\"event\":\"opened\""), "{json}");
        let back: AlertEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.alert(), &alert);
    }

    #[test]
    fn rollup_widths() {
        assert_eq!(Rollup::from_seconds(10), Some(Rollup::TenSeconds));
        assert_eq!(Rollup::from_seconds(60), Some(Rollup::OneMinute));
        assert_eq!(Rollup::from_seconds(1), None);
    }
}
