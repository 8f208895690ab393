//! Request metrics from an access log, passively (pure): records in, one
//! summary per second out — rate, error rate, latency p50 / p99. This is how
//! production is watched without ever being driven: the entry container's
//! access-log stream is read, nothing is sent to it.
//!
//! Records are bucketed by the second their request *ended* (the log time),
//! which is when the response was known. A second is emitted once a later
//! second has been seen, or when the caller flushes it after a quiet spell
//! (`flush_before`), so each second is reported exactly once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::traffic::Record;

/// One second of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestSecond {
    /// Unix second.
    pub t: i64,
    pub requests: u64,
    /// 5xx answers.
    pub errors: u64,
    pub error_rate: f64,
    /// `None` when the log carries no request time.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Default)]
struct Bucket {
    requests: u64,
    errors: u64,
    latencies: Vec<f64>,
}

/// Aggregates records into seconds.
#[derive(Debug, Default)]
pub struct RequestAggregator {
    buckets: BTreeMap<i64, Bucket>,
    /// Seconds before this one have been emitted; later records for them
    /// are counted as late and dropped.
    emitted_until: i64,
    pub late: u64,
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

impl Bucket {
    fn summary(mut self, t: i64) -> RequestSecond {
        self.latencies.sort_by(f64::total_cmp);
        RequestSecond {
            t,
            requests: self.requests,
            errors: self.errors,
            error_rate: if self.requests == 0 {
                0.0
            } else {
                self.errors as f64 / self.requests as f64
            },
            p50_ms: quantile(&self.latencies, 0.5),
            p99_ms: quantile(&self.latencies, 0.99),
        }
    }
}

impl RequestAggregator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The second a record is counted in: its end.
    fn second_of(record: &Record) -> i64 {
        let end_ms = record.start_ms + record.duration_ms.map_or(0, |d| d.round() as i64);
        end_ms.div_euclid(1000)
    }

    /// Adds a record; returns the seconds that are now complete (every
    /// second before the record's, which can no longer grow).
    pub fn push(&mut self, record: &Record) -> Vec<RequestSecond> {
        let t = Self::second_of(record);
        if t < self.emitted_until {
            self.late += 1;
            return Vec::new();
        }
        let b = self.buckets.entry(t).or_default();
        b.requests += 1;
        if record.status >= 500 {
            b.errors += 1;
        }
        if let Some(d) = record.duration_ms {
            b.latencies.push(d);
        }
        self.flush_before(t)
    }

    /// Emits every second before `t` (with empty seconds in between as
    /// zero-request seconds, so rates see the quiet).
    pub fn flush_before(&mut self, t: i64) -> Vec<RequestSecond> {
        let mut out = Vec::new();
        let first = self.buckets.keys().next().copied().map_or(t, |k| k.min(t));
        let start = if self.emitted_until == 0 {
            first
        } else {
            self.emitted_until
        };
        for s in start..t {
            let b = self.buckets.remove(&s).unwrap_or_default();
            out.push(b.summary(s));
        }
        if t > self.emitted_until {
            self.emitted_until = t;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(end_s: i64, ms: f64, status: u16) -> Record {
        Record {
            line: 1,
            start_ms: end_s * 1000 + 500 - ms as i64,
            method: "GET".into(),
            path: "/".into(),
            status,
            bytes: 0,
            request_bytes: None,
            duration_ms: Some(ms),
            body: None,
        }
    }

    #[test]
    fn seconds_close_when_a_later_one_starts() {
        let mut a = RequestAggregator::new();
        assert!(a.push(&rec(100, 10.0, 200)).is_empty());
        assert!(a.push(&rec(100, 30.0, 503)).is_empty());
        let done = a.push(&rec(102, 20.0, 200));
        assert_eq!(done.len(), 2, "second 100 and the quiet 101");
        assert_eq!(done[0].t, 100);
        assert_eq!((done[0].requests, done[0].errors), (2, 1));
        assert!((done[0].error_rate - 0.5).abs() < 1e-9);
        assert_eq!(done[0].p99_ms, Some(30.0));
        assert_eq!(done[1].requests, 0);
        assert_eq!(done[1].p50_ms, None);
    }

    #[test]
    fn late_records_are_counted_not_reopened() {
        let mut a = RequestAggregator::new();
        a.push(&rec(100, 1.0, 200));
        a.push(&rec(101, 1.0, 200));
        assert!(a.push(&rec(100, 1.0, 200)).is_empty());
        assert_eq!(a.late, 1);
        let flushed = a.flush_before(105);
        assert_eq!(
            flushed.iter().map(|s| s.t).collect::<Vec<_>>(),
            [101, 102, 103, 104]
        );
        assert_eq!(flushed[0].requests, 1);
    }
}
