//! What the load engine counts (pure): latency histograms, outcomes by
//! kind, and the per-second buckets they are recorded into.
//!
//! Owns: [`Latency`] (an HdrHistogram of microseconds, 1 µs to 60 s, 3
//! significant digits; longer values are clamped to 60 s), [`ErrorCounts`]
//! (connect, timeout, 4xx, 5xx, io), [`Bucket`] (everything recorded in one
//! second, or a whole run, mergeable), and [`WindowRing`], the buckets a
//! worker keeps until each second is handed over. Does not own clocks,
//! sockets or the report's shape (`report`).

use std::collections::VecDeque;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The largest latency tracked, in microseconds (60 s).
pub const HIGHEST_US: u64 = 60_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;
/// Status codes tracked exactly (100..=599); others count as `io`.
const STATUS_SLOTS: usize = 600;

/// A latency histogram in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Self {
        match Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS) {
            Ok(h) => Self(h),
            Err(e) => unreachable!("constant histogram bounds are valid: {e}"),
        }
    }

    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(us.min(HIGHEST_US));
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, so adding cannot overflow the range.
        if let Err(e) = self.0.add(&other.0) {
            unreachable!("histograms with equal bounds always add: {e}");
        }
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// Percentiles in milliseconds (zeros when empty).
    pub fn summary(&self) -> Percentiles {
        if self.0.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(self.0.value_at_quantile(0.5)),
            p90: ms(self.0.value_at_quantile(0.9)),
            p99: ms(self.0.value_at_quantile(0.99)),
            p999: ms(self.0.value_at_quantile(0.999)),
            max: ms(self.0.max()),
            // Whole microseconds, like the percentiles.
            mean: self.0.mean().round() / 1000.0,
        }
    }

    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// Why a request produced no usable response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection could not be opened (refused, unreachable, or
    /// not within the timeout).
    Connect,
    /// Connected, but no complete response within the timeout.
    Timeout,
    /// Reset, closed early, or an unparseable response.
    Io,
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response with this status (4xx and 5xx count as errors
    /// but are responses: their latency is recorded).
    Status(u16),
    Failed(Failure),
}

/// Errors by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    #[serde(rename = "4xx")]
    pub client: u64,
    #[serde(rename = "5xx")]
    pub server: u64,
    pub io: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.client + self.server + self.io
    }

    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Status(400..=499) => self.client += 1,
            Outcome::Status(500..=599) => self.server += 1,
            Outcome::Status(_) => {}
            Outcome::Failed(Failure::Connect) => self.connect += 1,
            Outcome::Failed(Failure::Timeout) => self.timeout += 1,
            Outcome::Failed(Failure::Io) => self.io += 1,
        }
    }

    pub fn merge(&mut self, other: &Self) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.client += other.client;
        self.server += other.server;
        self.io += other.io;
    }
}

/// One endpoint's share of a bucket.
#[derive(Debug, Clone, Default)]
pub struct EndpointBucket {
    pub requests: u64,
    pub errors: ErrorCounts,
    pub corrected: Latency,
    pub uncorrected: Latency,
}

/// Everything recorded over one second (or, merged, a whole run).
///
/// `requests` are finished exchanges: responses of any status plus
/// failures. Latency is recorded for responses only. In the closed model
/// there is no intended schedule: only `uncorrected` is recorded, and it is
/// also the corrected latency.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub requests: u64,
    pub errors: ErrorCounts,
    pub corrected: Latency,
    pub uncorrected: Latency,
    /// Open model: arrivals intended in this second.
    pub intended: u64,
    /// Sent more than 1 ms after their intended time.
    pub late: u64,
    /// Never sent (backlog full, or still queued when the run ended).
    pub dropped: u64,
    /// Responses by status code (index = code).
    pub status: Vec<u64>,
    /// Per endpoint (empty unless requested).
    pub endpoints: Vec<EndpointBucket>,
}

impl Bucket {
    /// An empty bucket tracking `endpoints` endpoints separately (0 for none).
    pub fn new(endpoints: usize) -> Self {
        Self {
            requests: 0,
            errors: ErrorCounts::default(),
            corrected: Latency::new(),
            uncorrected: Latency::new(),
            intended: 0,
            late: 0,
            dropped: 0,
            status: vec![0; STATUS_SLOTS],
            endpoints: (0..endpoints).map(|_| EndpointBucket::default()).collect(),
        }
    }

    /// Records a finished request of the open model.
    pub fn record_open(
        &mut self,
        endpoint: usize,
        outcome: Outcome,
        corrected: Duration,
        uncorrected: Duration,
    ) {
        if let Outcome::Status(_) = self.record_outcome(endpoint, outcome) {
            self.corrected.record(corrected);
            self.uncorrected.record(uncorrected);
            if let Some(e) = self.endpoints.get_mut(endpoint) {
                e.corrected.record(corrected);
                e.uncorrected.record(uncorrected);
            }
        }
    }

    /// Records a finished request of the closed model (one latency).
    pub fn record_closed(&mut self, endpoint: usize, outcome: Outcome, latency: Duration) {
        if let Outcome::Status(_) = self.record_outcome(endpoint, outcome) {
            self.uncorrected.record(latency);
            if let Some(e) = self.endpoints.get_mut(endpoint) {
                e.uncorrected.record(latency);
            }
        }
    }

    /// Counts `outcome`; a status outside 100..=599 counts as an io error
    /// and is returned as one.
    fn record_outcome(&mut self, endpoint: usize, mut outcome: Outcome) -> Outcome {
        if let Outcome::Status(code) = outcome {
            match self.status.get_mut(usize::from(code)) {
                Some(slot) if code >= 100 => *slot += 1,
                _ => outcome = Outcome::Failed(Failure::Io),
            }
        }
        self.requests += 1;
        self.errors.count(outcome);
        if let Some(e) = self.endpoints.get_mut(endpoint) {
            e.requests += 1;
            e.errors.count(outcome);
        }
        outcome
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Self) {
        self.requests += other.requests;
        self.errors.merge(&other.errors);
        self.corrected.merge(&other.corrected);
        self.uncorrected.merge(&other.uncorrected);
        self.intended += other.intended;
        self.late += other.late;
        self.dropped += other.dropped;
        for (mine, theirs) in self.status.iter_mut().zip(&other.status) {
            *mine += theirs;
        }
        if self.endpoints.len() < other.endpoints.len() {
            self.endpoints
                .resize_with(other.endpoints.len(), EndpointBucket::default);
        }
        for (mine, theirs) in self.endpoints.iter_mut().zip(&other.endpoints) {
            mine.requests += theirs.requests;
            mine.errors.merge(&theirs.errors);
            mine.corrected.merge(&theirs.corrected);
            mine.uncorrected.merge(&theirs.uncorrected);
        }
    }

    /// Status code -> count, for the codes seen.
    pub fn status_counts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.status
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(code, &n)| (code as u16, n))
    }
}

/// The buckets of consecutive seconds a worker records into, handed over
/// oldest first. Second `t` covers `[t, t+1)` from the start; everything
/// recorded at or after the last second lands in the last one (the
/// stragglers of a run), and everything recorded for a second already
/// handed over lands in the oldest one still held.
#[derive(Debug)]
pub struct WindowRing {
    /// Index of `held[0]`.
    first: u64,
    /// Index of the last window of the run.
    last: u64,
    held: VecDeque<Bucket>,
    endpoints: usize,
}

impl WindowRing {
    /// A ring for a run of `seconds` windows (at least one).
    pub fn new(seconds: u64, endpoints: usize) -> Self {
        Self {
            first: 0,
            last: seconds.max(1) - 1,
            held: VecDeque::new(),
            endpoints,
        }
    }

    /// The window index of an instant `elapsed` after the start.
    pub fn index_of(&self, elapsed: Duration) -> u64 {
        elapsed.as_secs().min(self.last)
    }

    /// The bucket for second `index` (clamped to what is still held and to
    /// the run).
    pub fn at(&mut self, index: u64) -> &mut Bucket {
        // Never panics: after the last window is handed over (`first` past
        // `last`) a late record goes to a bucket nobody takes.
        let index = index.min(self.last).max(self.first);
        let offset = (index - self.first) as usize;
        while self.held.len() <= offset {
            self.held.push_back(Bucket::new(self.endpoints));
        }
        &mut self.held[offset]
    }

    /// The bucket for an instant `elapsed` after the start.
    pub fn at_elapsed(&mut self, elapsed: Duration) -> &mut Bucket {
        self.at(self.index_of(elapsed))
    }

    /// Hands over the windows up to and including `index` (clamped to the
    /// run), empty ones too, in order.
    pub fn take_through(&mut self, index: u64) -> Vec<(u64, Bucket)> {
        let index = index.min(self.last);
        let mut out = Vec::new();
        while self.first <= index {
            let bucket = self
                .held
                .pop_front()
                .unwrap_or_else(|| Bucket::new(self.endpoints));
            out.push((self.first, bucket));
            self.first += 1;
        }
        out
    }

    /// Index of the last window of the run.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Index of the oldest window not yet handed over.
    pub fn first(&self) -> u64 {
        self.first
    }
}

#[cfg(test)]
mod tests;
