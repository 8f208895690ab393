//! The bounded in-memory series store (pure: no tokio, no rusqlite).
//!
//! Owns: per [`SeriesKey`], a ring of 1-second buckets (the mean of the
//! samples in each second; 3600 by default: one hour) and rings of 10-second
//! and 1-minute rollups (count, sum, min, max, last; 360 and 60 buckets by
//! default: the same hour), input hygiene with per-series counts
//! ([`Stats`]), range queries, eviction of idle series, the rollups to
//! persist ([`SeriesStore::take_rollups`]), and memory accounting
//! ([`SeriesStore::bytes`]). Not owned: collecting samples (`metrics::*`
//! collectors, `scrape`), writing rollups to SQLite (`store`), history
//! older than the rings (read it back from `store`).
//!
//! # Input hygiene
//!
//! A sample is *accepted* when its second is at or after the newest second
//! of its series: samples arriving out of order within the current second
//! are merged into it. Otherwise it is dropped and counted: not finite
//! (`nan`: NaN or ±infinity), `duplicate` (the same timestamp as the newest
//! accepted sample), `out_of_order` (an earlier second). A `gap` (counted,
//! accepted) is an interval above `gap_factor` times the typical interval
//! (an EWMA of accepted intervals).
//!
//! # Memory
//!
//! Rings are allocated at full capacity when a series first appears, so a
//! series costs the same from its first sample on: with the default
//! configuration [`per_series_bytes`] is 43,920 bytes of rings plus the key
//! and the map slot (about 44.2 KB). The store holds at most `max_series`
//! series (10,000 by default; more are rejected and counted), so memory is
//! bounded by `max_series * per_series_bytes` plus names. Test
//! `five_hundred_series_for_an_hour_fit_in_23_mb` measures 500 series x 1 h.

mod ring;

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::series::{Bucket, Resolution, Rollup, RollupRow, Sample, SeriesKey};

use ring::{RawRing, RollupRing};

/// Errors of the series store.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    #[error("series store: {field} must be at least 1, got {value}")]
    ZeroCapacity { field: &'static str, value: u64 },
    #[error("series store: gap_factor must be above 1, got {0}")]
    GapFactor(f64),
}

/// Sizes of the store.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// 1-second buckets kept per series; also the idle time after which
    /// [`SeriesStore::evict_idle`] drops a series.
    pub raw_seconds: u32,
    /// 10-second rollup buckets kept per series.
    pub ten_second_buckets: u32,
    /// 1-minute rollup buckets kept per series.
    pub minute_buckets: u32,
    /// Series beyond this many are rejected (counted in [`Totals`]).
    pub max_series: usize,
    /// An interval above this many typical intervals counts as a gap.
    pub gap_factor: f64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::with_retention(Duration::from_secs(3600))
    }
}

impl StoreConfig {
    /// Every resolution covers `retention` (at least one bucket each).
    pub fn with_retention(retention: Duration) -> Self {
        let secs = retention.as_secs().clamp(1, u64::from(u32::MAX)) as u32;
        StoreConfig {
            raw_seconds: secs,
            ten_second_buckets: secs.div_ceil(10),
            minute_buckets: secs.div_ceil(60),
            max_series: 10_000,
            gap_factor: 3.0,
        }
    }

    fn validate(&self) -> Result<(), SeriesError> {
        for (field, value) in [
            ("raw_seconds", u64::from(self.raw_seconds)),
            ("ten_second_buckets", u64::from(self.ten_second_buckets)),
            ("minute_buckets", u64::from(self.minute_buckets)),
            ("max_series", self.max_series as u64),
        ] {
            if value == 0 {
                return Err(SeriesError::ZeroCapacity { field, value });
            }
        }
        if self.gap_factor.is_nan() || self.gap_factor <= 1.0 {
            return Err(SeriesError::GapFactor(self.gap_factor));
        }
        Ok(())
    }
}

/// Bytes of rings one series holds under `config`.
pub fn per_series_bytes(config: &StoreConfig) -> usize {
    config.raw_seconds as usize * size_of::<f64>()
        + (config.ten_second_buckets as usize + config.minute_buckets as usize)
            * RollupRing::BUCKET_BYTES
}

/// What the store did with a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Stored as the newest sample of its series.
    Accepted,
    /// Stored: earlier than the newest sample, but in the same second.
    Merged,
    NotFinite,
    Duplicate,
    OutOfOrder,
    /// A new series while the store holds `max_series`.
    Rejected,
}

/// Per-series counts of samples by fate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Stored (accepted and merged).
    pub accepted: u64,
    /// Dropped: value NaN or infinite.
    pub nan: u64,
    /// Dropped: an earlier second than the newest sample.
    pub out_of_order: u64,
    /// Dropped: the timestamp of the newest sample again.
    pub duplicate: u64,
    /// Stored, after an interval above `gap_factor` typical intervals.
    pub gaps: u64,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.accepted += other.accepted;
        self.nan += other.nan;
        self.out_of_order += other.out_of_order;
        self.duplicate += other.duplicate;
        self.gaps += other.gaps;
    }
}

/// Store-wide counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub series: usize,
    /// Summed over the series held now.
    pub samples: Stats,
    /// Samples of new series refused because the store was full.
    pub rejected: u64,
    /// Series dropped by [`SeriesStore::evict_idle`].
    pub evicted: u64,
}

#[derive(Debug, Clone)]
struct SeriesBuf {
    raw: RawRing,
    ten: RollupRing,
    minute: RollupRing,
    last: Option<Sample>,
    /// EWMA of accepted intervals, ms (0 until the second sample).
    interval_ms: f64,
    stats: Stats,
}

impl SeriesBuf {
    fn new(config: &StoreConfig) -> Self {
        SeriesBuf {
            raw: RawRing::new(config.raw_seconds as usize),
            ten: RollupRing::new(
                Rollup::TenSeconds.width_ms(),
                config.ten_second_buckets as usize,
            ),
            minute: RollupRing::new(Rollup::OneMinute.width_ms(), config.minute_buckets as usize),
            last: None,
            interval_ms: 0.0,
            stats: Stats::default(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.raw.heap_bytes() + self.ten.heap_bytes() + self.minute.heap_bytes()
    }

    fn ring(&self, rollup: Rollup) -> &RollupRing {
        match rollup {
            Rollup::TenSeconds => &self.ten,
            Rollup::OneMinute => &self.minute,
        }
    }

    fn classify(&mut self, sample: Sample, gap_factor: f64) -> Admit {
        if !sample.value.is_finite() {
            self.stats.nan += 1;
            return Admit::NotFinite;
        }
        let Some(last) = self.last else {
            return Admit::Accepted;
        };
        let second = sample.t_ms.div_euclid(1000);
        if sample.t_ms == last.t_ms {
            self.stats.duplicate += 1;
            return Admit::Duplicate;
        }
        if self.raw.head().is_some_and(|head| second < head) {
            self.stats.out_of_order += 1;
            return Admit::OutOfOrder;
        }
        if sample.t_ms < last.t_ms {
            return Admit::Merged;
        }
        let interval = (sample.t_ms - last.t_ms) as f64;
        if self.interval_ms > 0.0 && interval > gap_factor * self.interval_ms {
            self.stats.gaps += 1;
        } else if self.interval_ms == 0.0 {
            self.interval_ms = interval;
        } else {
            self.interval_ms += 0.1 * (interval - self.interval_ms);
        }
        Admit::Accepted
    }

    fn push(&mut self, sample: Sample, gap_factor: f64) -> Admit {
        let admit = self.classify(sample, gap_factor);
        if !matches!(admit, Admit::Accepted | Admit::Merged) {
            return admit;
        }
        let latest = admit == Admit::Accepted;
        self.stats.accepted += 1;
        self.raw.push(sample.t_ms.div_euclid(1000), sample.value);
        self.ten.push(sample.t_ms, sample.value, latest);
        self.minute.push(sample.t_ms, sample.value, latest);
        if latest {
            self.last = Some(sample);
        }
        admit
    }
}

/// The store: one [`SeriesBuf`] per key.
#[derive(Debug, Clone)]
pub struct SeriesStore {
    config: StoreConfig,
    series: HashMap<SeriesKey, SeriesBuf>,
    rejected: u64,
    evicted: u64,
}

impl SeriesStore {
    pub fn new(config: StoreConfig) -> Result<Self, SeriesError> {
        config.validate()?;
        Ok(SeriesStore {
            config,
            series: HashMap::new(),
            rejected: 0,
            evicted: 0,
        })
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Adds one sample; O(1) (amortised over elapsed time: a head move
    /// clears the buckets skipped).
    pub fn push(&mut self, key: &SeriesKey, sample: Sample) -> Admit {
        if let Some(buf) = self.series.get_mut(key) {
            return buf.push(sample, self.config.gap_factor);
        }
        if self.series.len() >= self.config.max_series {
            self.rejected += 1;
            return Admit::Rejected;
        }
        let mut buf = SeriesBuf::new(&self.config);
        let admit = buf.push(sample, self.config.gap_factor);
        self.series.insert(key.clone(), buf);
        admit
    }

    /// The newest accepted sample of a series.
    pub fn latest(&self, key: &SeriesKey) -> Option<Sample> {
        self.series.get(key)?.last
    }

    pub fn stats(&self, key: &SeriesKey) -> Option<Stats> {
        self.series.get(key).map(|s| s.stats)
    }

    pub fn totals(&self) -> Totals {
        let mut samples = Stats::default();
        for buf in self.series.values() {
            samples.add(&buf.stats);
        }
        Totals {
            series: self.series.len(),
            samples,
            rejected: self.rejected,
            evicted: self.evicted,
        }
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The keys held, sorted.
    pub fn keys(&self) -> Vec<SeriesKey> {
        let mut keys: Vec<SeriesKey> = self.series.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The mean of every non-empty bucket overlapping `[from_ms, to_ms)`,
    /// stamped with the bucket's start, oldest first.
    pub fn range(
        &self,
        key: &SeriesKey,
        from_ms: i64,
        to_ms: i64,
        resolution: Resolution,
    ) -> Vec<Sample> {
        let Some(buf) = self.series.get(key) else {
            return Vec::new();
        };
        match resolution {
            Resolution::Raw => {
                let (lo, hi) = overlapping(1000, from_ms, to_ms);
                buf.raw
                    .range(lo, hi)
                    .into_iter()
                    .map(|(i, value)| Sample::new(i * 1000, value))
                    .collect()
            }
            Resolution::Rollup(rollup) => self
                .buckets(key, from_ms, to_ms, rollup)
                .iter()
                .map(|b| Sample::new(b.start_ms, b.mean()))
                .collect(),
        }
    }

    /// The rollup buckets overlapping `[from_ms, to_ms)`, oldest first.
    pub fn buckets(
        &self,
        key: &SeriesKey,
        from_ms: i64,
        to_ms: i64,
        rollup: Rollup,
    ) -> Vec<Bucket> {
        let Some(buf) = self.series.get(key) else {
            return Vec::new();
        };
        let (lo, hi) = overlapping(rollup.width_ms(), from_ms, to_ms);
        buf.ring(rollup).range(lo, hi)
    }

    /// The rollup buckets sealed since the last call (a bucket is sealed
    /// once a later bucket of its series has a sample), plus the open ones
    /// when `include_open` (at shutdown). Persist them with an upsert: an
    /// open bucket comes again once sealed. Call more often than the
    /// rollup rings' span, or buckets fall out unwritten.
    pub fn take_rollups(&mut self, include_open: bool) -> Vec<RollupRow> {
        let mut rows = Vec::new();
        for (key, buf) in &mut self.series {
            for (rollup, ring) in [
                (Rollup::TenSeconds, &mut buf.ten),
                (Rollup::OneMinute, &mut buf.minute),
            ] {
                rows.extend(ring.take(include_open).into_iter().map(|bucket| RollupRow {
                    key: key.clone(),
                    rollup,
                    bucket,
                }));
            }
        }
        rows
    }

    /// Drops the series whose newest sample is older than `raw_seconds`
    /// before `now_ms`, and returns their keys (sorted).
    pub fn evict_idle(&mut self, now_ms: i64) -> Vec<SeriesKey> {
        let horizon = now_ms - i64::from(self.config.raw_seconds) * 1000;
        let mut gone: Vec<SeriesKey> = self
            .series
            .iter()
            .filter(|(_, buf)| buf.last.is_none_or(|s| s.t_ms < horizon))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &gone {
            self.series.remove(key);
        }
        self.evicted += gone.len() as u64;
        gone.sort();
        gone
    }

    /// Bytes held: the map's slots (at capacity) plus every series' rings
    /// and names, computed from capacities.
    pub fn bytes(&self) -> usize {
        let slot = size_of::<(SeriesKey, SeriesBuf)>() + 1;
        let slots = self.series.capacity() * slot;
        let heap: usize = self
            .series
            .iter()
            .map(|(k, buf)| k.heap_bytes() + buf.heap_bytes())
            .sum();
        size_of::<Self>() + slots + heap
    }

    /// Removes one series (e.g. its container left the group).
    pub fn remove(&mut self, key: &SeriesKey) -> bool {
        self.series.remove(key).is_some()
    }
}

/// Bucket indices of width `width` overlapping `[from, to)`.
fn overlapping(width: i64, from: i64, to: i64) -> (i64, i64) {
    if to <= from {
        return (1, 0);
    }
    (from.div_euclid(width), (to - 1).div_euclid(width))
}

#[cfg(test)]
mod tests;
