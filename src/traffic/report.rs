//! The result of a load run (pure): the per-second [`Window`]s the console
//! charts, and the [`LoadReport`] written as JSON and summarised for people.
//!
//! Does not own measuring (`engine`, `stats`) or terminals (`progress`).
//!
//! # JSON schema `understudy.load/v1`
//!
//! `understudy load --json FILE` writes one object. Times are milliseconds
//! (`*_ms`, percentiles) or seconds (`*_s`); rates are per second. Fields
//! are only ever added within `v1`; a rename or removal bumps the version.
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `schema` | string | `"understudy.load/v1"` |
//! | `target` | string | the URL loaded |
//! | `model` | `"open"` \| `"closed"` | open: arrivals on a schedule, whatever the target does; closed: users that wait for each answer |
//! | `schedule` | string \| null | how arrivals were spread (`constant 100/s`, `stages 30s:100,…`, `max`, `users`), as given |
//! | `seed` | number \| null | the Poisson seed, to repeat the run |
//! | `connections` | number | connection limit of the open model's pool, or the closed model's users |
//! | `think_ms` | number \| null | closed model: pause after each answer |
//! | `threads` | number | load threads (each a single-threaded runtime) |
//! | `duration_s` | number | the load period (planned, or until cancelled) |
//! | `elapsed_s` | number | wall time including the last answers after the period |
//! | `requests` | number | requests finished: responses of any status plus failures |
//! | `intended` | number \| null | open model: arrivals scheduled in the period (`requests + dropped + aborted`) |
//! | `target_rps` | number \| null | open model: `intended / duration_s` |
//! | `achieved_rps` | number | `requests / duration_s` |
//! | `dropped` | number | arrivals never sent: beyond the bounded backlog, or still queued at the end |
//! | `late` | number | requests sent more than 1 ms after their intended time (no free connection) |
//! | `aborted` | number | requests in flight when the run was cancelled |
//! | `connects` | number | TCP connections opened (a failed or closed one is replaced) |
//! | `cancelled` | bool | the run was stopped before its end |
//! | `errors` | object | `{"connect","timeout","4xx","5xx","io"}` counts; `io` is resets, early closes and malformed responses |
//! | `status` | object | status code (string) -> responses |
//! | `latency_ms.corrected` | object | `{"p50","p90","p99","p999","max","mean"}` from the intended send time (coordinated-omission corrected) |
//! | `latency_ms.uncorrected` | object | the same from the actual send time |
//! | `latency_ms.corrected_is_uncorrected` | bool | true in the closed model: there is no intended schedule, both are the same |
//! | `per_second` | array | one [`Window`] per second: `{"t","target_rps","rps","requests","p50","p90","p99","p999","max","uncorrected":{…},"errors":{…},"late","dropped","endpoints"?}`; `t` is the second from the start (`[t, t+1)`), answers after the period count in the last one; percentiles are corrected |
//! | `per_endpoint` | array | with `--per-endpoint`: `{"endpoint","requests","errors","latency_ms":{"corrected","uncorrected"}}` |
//! | `warnings` | array of strings | e.g. the target rate was not reached |
//!
//! Latency is recorded for responses (any status); failures (connect,
//! timeout, io) are counted, not timed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::stats::{Bucket, ErrorCounts, Percentiles};

/// Schema tag of the JSON report.
pub const SCHEMA: &str = "understudy.load/v1";

/// Open or closed workload model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Open,
    Closed,
}

/// One second of a run, as the console charts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Second from the start: covers `[t, t+1)`.
    pub t: u64,
    /// The wall-clock start of that second, ms since the Unix epoch (0 in
    /// reports written before it was recorded).
    #[serde(default)]
    pub at_ms: i64,
    /// Open model: arrivals intended in this second.
    pub target_rps: Option<f64>,
    /// Requests finished in this second, per second.
    pub rps: f64,
    pub requests: u64,
    /// Corrected latency percentiles, ms.
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub uncorrected: Percentiles,
    pub errors: ErrorCounts,
    pub late: u64,
    pub dropped: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<EndpointWindow>,
}

/// One endpoint in one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointWindow {
    pub endpoint: String,
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub errors: u64,
}

impl Window {
    /// Summarises second `t` from `bucket`, which covered `length_s`
    /// seconds (1 except a run's last, partial second).
    pub fn from_bucket(
        t: u64,
        length_s: f64,
        bucket: &Bucket,
        model: Model,
        endpoint_names: &[String],
    ) -> Self {
        let length_s = length_s.clamp(1e-3, 1.0);
        let uncorrected = bucket.uncorrected.summary();
        let corrected = match model {
            Model::Open => bucket.corrected.summary(),
            Model::Closed => uncorrected,
        };
        let endpoints = bucket
            .endpoints
            .iter()
            .zip(endpoint_names)
            .map(|(e, name)| {
                let latency = match model {
                    Model::Open => e.corrected.summary(),
                    Model::Closed => e.uncorrected.summary(),
                };
                EndpointWindow {
                    endpoint: name.clone(),
                    rps: e.requests as f64 / length_s,
                    p50: latency.p50,
                    p99: latency.p99,
                    errors: e.errors.total(),
                }
            })
            .collect();
        Self {
            t,
            at_ms: 0,
            target_rps: (model == Model::Open).then(|| bucket.intended as f64 / length_s),
            rps: bucket.requests as f64 / length_s,
            requests: bucket.requests,
            p50: corrected.p50,
            p90: corrected.p90,
            p99: corrected.p99,
            p999: corrected.p999,
            max: corrected.max,
            uncorrected,
            errors: bucket.errors,
            late: bucket.late,
            dropped: bucket.dropped,
            endpoints,
        }
    }
}

/// Corrected and uncorrected latency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    pub corrected: Percentiles,
    pub uncorrected: Percentiles,
    pub corrected_is_uncorrected: bool,
}

/// One endpoint over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointReport {
    pub endpoint: String,
    pub requests: u64,
    pub errors: ErrorCounts,
    pub latency_ms: LatencyReport,
}

/// The whole run; serialises to the `understudy.load/v1` schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub schema: String,
    pub target: String,
    pub model: Model,
    pub schedule: Option<String>,
    pub seed: Option<u64>,
    pub connections: u64,
    pub think_ms: Option<f64>,
    pub threads: u64,
    pub duration_s: f64,
    pub elapsed_s: f64,
    pub requests: u64,
    pub intended: Option<u64>,
    pub target_rps: Option<f64>,
    pub achieved_rps: f64,
    pub dropped: u64,
    pub late: u64,
    pub aborted: u64,
    pub connects: u64,
    pub cancelled: bool,
    pub errors: ErrorCounts,
    pub status: BTreeMap<String, u64>,
    pub latency_ms: LatencyReport,
    pub per_second: Vec<Window>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_endpoint: Vec<EndpointReport>,
    pub warnings: Vec<String>,
}

/// What the engine knows at the end of a run.
#[derive(Debug)]
pub struct RunFacts<'a> {
    pub target: String,
    pub model: Model,
    pub connections: u64,
    pub think_ms: Option<f64>,
    pub threads: u64,
    pub duration_s: f64,
    pub elapsed_s: f64,
    pub aborted: u64,
    pub connects: u64,
    pub cancelled: bool,
    pub total: &'a Bucket,
    pub windows: Vec<Window>,
    pub endpoint_names: &'a [String],
}

impl LoadReport {
    /// Assembles the report (warnings included) from a run's facts.
    pub fn build(facts: RunFacts<'_>) -> Self {
        let total = facts.total;
        let duration_s = facts.duration_s.max(1e-3);
        let latency = |corrected: &super::stats::Latency, uncorrected: &super::stats::Latency| {
            let uncorrected = uncorrected.summary();
            match facts.model {
                Model::Open => LatencyReport {
                    corrected: corrected.summary(),
                    uncorrected,
                    corrected_is_uncorrected: false,
                },
                Model::Closed => LatencyReport {
                    corrected: uncorrected,
                    uncorrected,
                    corrected_is_uncorrected: true,
                },
            }
        };
        let open = facts.model == Model::Open;
        let mut report = Self {
            schema: SCHEMA.to_owned(),
            target: facts.target,
            model: facts.model,
            schedule: None,
            seed: None,
            connections: facts.connections,
            think_ms: facts.think_ms,
            threads: facts.threads,
            duration_s: facts.duration_s,
            elapsed_s: facts.elapsed_s,
            requests: total.requests,
            intended: open.then_some(total.intended),
            target_rps: open.then(|| total.intended as f64 / duration_s),
            achieved_rps: total.requests as f64 / duration_s,
            dropped: total.dropped,
            late: total.late,
            aborted: facts.aborted,
            connects: facts.connects,
            cancelled: facts.cancelled,
            errors: total.errors,
            status: total
                .status_counts()
                .map(|(code, n)| (code.to_string(), n))
                .collect(),
            latency_ms: latency(&total.corrected, &total.uncorrected),
            per_second: facts.windows,
            per_endpoint: total
                .endpoints
                .iter()
                .zip(facts.endpoint_names)
                .map(|(e, name)| EndpointReport {
                    endpoint: name.clone(),
                    requests: e.requests,
                    errors: e.errors,
                    latency_ms: latency(&e.corrected, &e.uncorrected),
                })
                .collect(),
            warnings: Vec::new(),
        };
        report.warnings = warnings(&report);
        report
    }

    /// The JSON document (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The human summary printed at the end of `understudy load`.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let model = match self.model {
            Model::Open => format!("open model, pool of {} connections", self.connections),
            Model::Closed => match self.think_ms {
                Some(think) if think > 0.0 => format!(
                    "closed model, {} users, think {}",
                    self.connections,
                    ms(think)
                ),
                _ => format!("closed model, {} connections", self.connections),
            },
        };
        let schedule = self
            .schedule
            .as_deref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default();
        let seed = self
            .seed
            .map(|s| format!(" (seed {s})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} — {model}{schedule}{seed}, {:.1}s",
            self.target, self.duration_s
        );
        let rate = match self.target_rps {
            Some(target) => format!("{:.1}/s of {target:.1}/s", self.achieved_rps),
            None => format!("{:.1}/s", self.achieved_rps),
        };
        let _ = write!(out, "  requests   {} at {rate}", self.requests);
        if let Some(intended) = self.intended {
            let _ = write!(
                out,
                " (intended {intended}, dropped {}, late {})",
                self.dropped, self.late
            );
        }
        if self.aborted > 0 {
            let _ = write!(out, ", {} aborted", self.aborted);
        }
        out.push('\n');
        let e = &self.errors;
        let _ = writeln!(
            out,
            "  errors     {} (connect {}, timeout {}, 4xx {}, 5xx {}, io {})",
            e.total(),
            e.connect,
            e.timeout,
            e.client,
            e.server,
            e.io
        );
        let status: Vec<String> = self
            .status
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        if !status.is_empty() {
            let _ = writeln!(out, "  status     {}", status.join(", "));
        }
        let _ = writeln!(out, "  connects   {}", self.connects);
        latency_table(&mut out, "", &self.latency_ms);
        for endpoint in &self.per_endpoint {
            let _ = writeln!(
                out,
                "  {}: {} requests, {} errors",
                endpoint.endpoint,
                endpoint.requests,
                endpoint.errors.total()
            );
            latency_table(&mut out, "  ", &endpoint.latency_ms);
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        out
    }
}

fn latency_table(out: &mut String, indent: &str, latency: &LatencyReport) {
    let _ = writeln!(
        out,
        "{indent}  latency ms   {:>9} {:>9} {:>9} {:>9} {:>9}",
        "p50", "p90", "p99", "p99.9", "max"
    );
    let mut row = |label: &str, p: &Percentiles| {
        let _ = writeln!(
            out,
            "{indent}  {label:<12} {:>9} {:>9} {:>9} {:>9} {:>9}",
            num(p.p50),
            num(p.p90),
            num(p.p99),
            num(p.p999),
            num(p.max)
        );
    };
    row("corrected", &latency.corrected);
    row("uncorrected", &latency.uncorrected);
    if latency.corrected_is_uncorrected {
        let _ = writeln!(
            out,
            "{indent}  (closed model: no intended schedule, corrected = uncorrected)"
        );
    }
}

/// A latency in ms with three significant digits.
pub fn num(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{}s", value / 1000.0)
    } else {
        format!("{value}ms")
    }
}

/// What a reader must not miss: a rate that was not reached, late sends,
/// a cancelled run.
fn warnings(report: &LoadReport) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(target), Some(intended)) = (report.target_rps, report.intended) {
        let short = report.achieved_rps < target * 0.95;
        if short || report.dropped > 0 {
            out.push(format!(
                "the target rate was not reached: achieved {:.1}/s of {target:.1}/s; \
                 {} of {intended} intended requests dropped, {} sent late \
                 (the target or this machine cannot keep up; raise --concurrency if the pool was the limit)",
                report.achieved_rps, report.dropped, report.late
            ));
        } else if report.late * 100 > report.requests.max(1) {
            out.push(format!(
                "{} of {} requests were sent more than 1 ms late (no free connection in time); \
                 corrected latency includes the wait",
                report.late, report.requests
            ));
        }
    }
    if report.cancelled {
        out.push(format!(
            "the run was cancelled after {:.1}s; {} requests in flight were abandoned",
            report.duration_s, report.aborted
        ));
    }
    out
}

#[cfg(test)]
impl Window {
    /// (Tests) second `t` of `requests` finished requests, all answered
    /// well: p50 half of `p99`, p90 0.8 of it, the tail at `p99` (ms).
    pub fn steady(t: u64, requests: u64, p99: f64) -> Self {
        Window {
            t,
            at_ms: 0,
            target_rps: Some(requests as f64),
            rps: requests as f64,
            requests,
            p50: p99 / 2.0,
            p90: p99 * 0.8,
            p99,
            p999: p99,
            max: p99,
            uncorrected: Percentiles::default(),
            errors: ErrorCounts::default(),
            late: 0,
            dropped: 0,
            endpoints: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
