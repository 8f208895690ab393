//! A rate curve from Prometheus: the answer of a `query_range` (a matrix)
//! whose values are a request *rate* in req/s, as from
//! `sum(rate(http_requests_total[1m]))`. Several series are summed. Each
//! sample holds from its timestamp until the next one (the last for one
//! step), and the per-second counts are rounded cumulatively so the total
//! matches the rate's integral. This gives the curve alone: no mix.
//!
//! [`rate_curve`] is pure; [`fetch`] GETs the URL with hyper over plain
//! HTTP (no TLS) and parses the answer.

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::http::uri::PathAndQuery;
use serde::Deserialize;

use crate::domain::units::{format_duration, parse_duration};
use crate::http_get::{self, Target};
use crate::traffic::profile::MAX_CURVE_S;

/// The largest answer read.
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("invalid Prometheus URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// Resolving, connecting or the HTTP exchange failed.
    #[error(transparent)]
    Get(#[from] http_get::GetError),
    #[error("Prometheus did not answer within {}", format_duration(*.0))]
    Timeout(Duration),
    #[error("Prometheus answered HTTP {status}: {body:?}")]
    Status { status: u16, body: String },
    #[error("not a Prometheus answer (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("Prometheus answered an error ({error_type}): {error}")]
    Api { error_type: String, error: String },
    #[error("expected a matrix (the answer of /api/v1/query_range), got resultType {0:?}")]
    NotMatrix(String),
    #[error("the query returned no samples")]
    Empty,
}

#[derive(Debug, Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<Series>,
}

#[derive(Debug, Deserialize)]
struct Series {
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// A per-second curve built from a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct PromCurve {
    /// Unix second of `rate[0]`.
    pub start_s: i64,
    pub rate: Vec<u32>,
    pub series: usize,
    /// Samples read (all series).
    pub samples: u64,
    /// Samples that were not a finite, non-negative number.
    pub skipped: u64,
}

/// `(start unix second, per-second counts)` of a `query_range` answer.
pub fn rate_curve(json: &str) -> Result<(i64, Vec<u32>), PromError> {
    parse_curve(json, None).map(|c| (c.start_s, c.rate))
}

/// The curve of a `query_range` answer; `step_hint` (seconds) is the
/// query's step, used for the last sample (else the smallest spacing).
pub fn parse_curve(json: &str, step_hint: Option<u32>) -> Result<PromCurve, PromError> {
    let answer: Answer = serde_json::from_str(json).map_err(|e| PromError::Json {
        line: e.line(),
        column: e.column(),
        message: crate::traffic::parse::json_message(&e),
    })?;
    if answer.status != "success" {
        return Err(PromError::Api {
            error_type: answer.error_type.unwrap_or_else(|| "unknown".to_owned()),
            error: answer
                .error
                .unwrap_or_else(|| format!("status {:?}", answer.status)),
        });
    }
    let data = answer.data.ok_or(PromError::Empty)?;
    if data.result_type != "matrix" {
        return Err(PromError::NotMatrix(data.result_type));
    }
    let mut sum: BTreeMap<i64, f64> = BTreeMap::new();
    let (mut samples, mut skipped) = (0, 0);
    for series in &data.result {
        for (ts, v) in &series.values {
            samples += 1;
            match v.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 && ts.is_finite() => {
                    *sum.entry((ts * 1000.0).round() as i64).or_default() += v;
                }
                _ => skipped += 1,
            }
        }
    }
    let points: Vec<(i64, f64)> = sum.into_iter().collect();
    let (start_s, rate) = expand(&points, step_hint).ok_or(PromError::Empty)?;
    Ok(PromCurve {
        start_s,
        rate,
        series: data.result.len(),
        samples,
        skipped,
    })
}

/// Holds each (ms, rate) point until the next; rounds cumulatively.
fn expand(points: &[(i64, f64)], step_hint: Option<u32>) -> Option<(i64, Vec<u32>)> {
    let first = points.first()?.0;
    let start_s = first.div_euclid(1000);
    let spacing = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0)
        .min()
        .map(|ms| (ms / 1000).max(1));
    let step = step_hint.map(i64::from).or(spacing).unwrap_or(1).max(1);
    let second = |ms: i64| (ms.div_euclid(1000) - start_s) as usize;
    let last = points[points.len() - 1].0;
    let len = (second(last) + step as usize).min(MAX_CURVE_S);
    let mut exact = vec![0.0f64; len];
    for (i, &(ms, v)) in points.iter().enumerate() {
        let from = second(ms).min(len);
        let to = points
            .get(i + 1)
            .map_or(from + step as usize, |n| second(n.0))
            .min(len);
        for x in &mut exact[from..to] {
            *x = v;
        }
    }
    let mut cum = 0.0;
    let mut prev = 0i64;
    let rate = exact
        .iter()
        .map(|v| {
            cum += v;
            let now = cum.round() as i64;
            let n = (now - prev).max(0) as u32;
            prev = now;
            n
        })
        .collect();
    Some((start_s, rate))
}

/// The `step` parameter of a query_range URL, in seconds.
fn step_of(path: &PathAndQuery) -> Option<u32> {
    let query = path.query()?;
    let value = query.split('&').find_map(|kv| kv.strip_prefix("step="))?;
    if let Ok(secs) = value.parse::<f64>() {
        return Some(secs.max(1.0).round() as u32);
    }
    parse_duration(value)
        .ok()
        .map(|d| d.as_secs().max(1) as u32)
}

/// GETs a `query_range` URL and parses its curve.
pub async fn fetch(url: &str, timeout: Duration) -> Result<PromCurve, PromError> {
    let target = Target::parse(url, "http://HOST:PORT/api/v1/query_range?...").map_err(|e| {
        PromError::BadUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let answer = tokio::time::timeout(
        timeout,
        http_get::get(&target, "application/json", MAX_ANSWER_BYTES),
    )
    .await
    .map_err(|_| PromError::Timeout(timeout))??;
    if !(200..300).contains(&answer.status) {
        // Prometheus explains 4xx/5xx in its JSON envelope.
        return Err(match parse_curve(&answer.body, None) {
            Err(e @ PromError::Api { .. }) => e,
            _ => PromError::Status {
                status: answer.status,
                body: answer.body.chars().take(200).collect(),
            },
        });
    }
    parse_curve(&answer.body, step_of(&target.path))
}

#[cfg(test)]
mod tests;
