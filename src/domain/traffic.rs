//! Traffic as data: one captured request ([`Record`]), and the
//! [`TrafficProfile`] extracted from many (the rate curve, the request mix,
//! peaks, edge cases, capture completeness). Profiles are files
//! (`understudy.profile/v1` JSON) so a game day can be replayed later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema tag of profile files.
pub const PROFILE_SCHEMA: &str = "understudy.profile/v1";

/// One request as captured from production (access log line, JSON log
/// line, HAR entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 1-based line (or entry) number in the source.
    pub line: u64,
    /// When the request started, Unix milliseconds. Access logs stamp the
    /// end of a request; parsers subtract the request time when known.
    pub start_ms: i64,
    pub method: String,
    /// Path and query as sent (`/api/products/42?x=1`).
    pub path: String,
    pub status: u16,
    /// Response body bytes.
    pub bytes: u64,
    /// Request body bytes, when the source records them.
    pub request_bytes: Option<u64>,
    /// Time to serve, when the source records it.
    pub duration_ms: Option<f64>,
    /// The request body, when the source carries it (HAR, some JSON logs).
    pub body: Option<String>,
}

/// Percentiles of a size or time distribution.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// One entry of the request mix: a method and path template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixEntry {
    pub method: String,
    /// The path with ids, numbers, UUIDs and hex collapsed to `{id}`.
    pub path: String,
    /// Share of all parsed requests, 0..=1.
    pub share: f64,
    pub count: u64,
    /// Concrete paths seen for this template (a bounded sample), which
    /// replay draws from so ids stay real.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Request bodies seen (a bounded sample), when the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<String>,
    /// Status code -> count.
    #[serde(default)]
    pub status: BTreeMap<u16, u64>,
    /// Response body bytes.
    #[serde(default)]
    pub bytes: Summary,
    /// Serving time, when the source records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Summary>,
}

/// A peak in the rate curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Second of the curve where the peak starts.
    pub start_s: u32,
    pub duration_s: u32,
    pub peak_rps: u32,
    /// The typical rate around it.
    pub baseline_rps: f64,
    /// `spike` (short and sharp), `plateau` (sustained), `ramp` (a slow climb).
    pub shape: String,
}

/// What makes a request an edge case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    LargestBody,
    Slowest,
    RareEndpoint,
    Error,
}

/// One concrete edge-case request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeCase {
    pub kind: EdgeKind,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Source line (entry) number.
    pub line: u64,
}

/// How much of the source could be used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Completeness {
    pub lines: u64,
    pub parsed: u64,
    pub rejected: u64,
    /// Reason -> count.
    #[serde(default)]
    pub reasons: BTreeMap<String, u64>,
    /// The first rejected line numbers (at most 20).
    pub first_rejected: Vec<u64>,
}

/// A traffic profile (`understudy.profile/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficProfile {
    pub schema: String,
    /// What it was extracted from (file, container, URL).
    pub source: String,
    /// RFC 3339 time of second 0 of `rate`.
    pub start: String,
    /// Requests in second 0, 1, 2, ...
    pub rate: Vec<u32>,
    pub mix: Vec<MixEntry>,
    pub peaks: Vec<Peak>,
    pub edge_cases: Vec<EdgeCase>,
    /// Status code -> count over all requests.
    #[serde(default)]
    pub status: BTreeMap<u16, u64>,
    /// Response body bytes over all requests.
    #[serde(default)]
    pub bytes: Summary,
    pub completeness: Completeness,
}
