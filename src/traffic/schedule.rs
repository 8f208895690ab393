//! When the open model sends (pure): a rate curve and the intended arrival
//! times it implies.
//!
//! Owns: k6-style stages (`30s:100,1m:500,30s:0` — each stage ramps
//! linearly from the previous target, starting at 0 requests per second, to
//! its own target over its duration), the piecewise-linear [`RateCurve`]
//! (constant rates and stages are special cases; replay builds one from a
//! profile), and [`ArrivalSchedule`], the iterator of [`Arrival`]s the
//! engine consumes: evenly spaced (the k-th arrival is where the curve's
//! cumulative count reaches k) or Poisson (exponential gaps in cumulative
//! count, from a seeded generator, so a run is reproducible). Does not own
//! sending or timing (`engine`).

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::workload::Arrival;
use crate::domain::units::parse_duration;

/// Why a schedule could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid stage {stage:?} at column {column}: {reason}")]
    Stage {
        stage: String,
        /// 1-based column in the whole stage string.
        column: usize,
        reason: String,
    },
    #[error("no stages: write DURATION:TARGET[,DURATION:TARGET...], e.g. 30s:100,1m:500,30s:0")]
    NoStages,
    #[error("invalid rate {0}: must be a finite number of requests per second, 0 or more")]
    Rate(f64),
}

/// One k6 stage: ramp linearly to `target` requests per second over
/// `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

/// Parses `30s:100,1m:500,30s:0`. Errors name the stage in quotes and the
/// 1-based column of the offending character in `text`.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, ScheduleError> {
    if text.trim().is_empty() {
        return Err(ScheduleError::NoStages);
    }
    let mut stages = Vec::new();
    let mut offset = 0;
    for raw in text.split(',') {
        stages.push(parse_stage(raw, offset)?);
        offset += raw.chars().count() + 1;
    }
    Ok(stages)
}

fn parse_stage(raw: &str, offset: usize) -> Result<Stage, ScheduleError> {
    // `offset` counts the characters before `raw`; errors point at byte `i`.
    let fail = |i: usize, reason: String| ScheduleError::Stage {
        stage: raw.to_owned(),
        column: offset + text_column(raw, i) + 1,
        reason,
    };
    let leading = raw.len() - raw.trim_start().len();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(fail(0, "empty stage; write DURATION:TARGET".to_owned()));
    }
    let Some(colon) = raw.find(':') else {
        return Err(fail(
            leading + trimmed.len(),
            "expected DURATION:TARGET (a colon then a target rate)".to_owned(),
        ));
    };
    let duration_text = &raw[..colon];
    let target_text = &raw[colon + 1..];
    let d_lead = duration_text.len() - duration_text.trim_start().len();
    if duration_text.trim().is_empty() {
        return Err(fail(colon, "missing duration before ':'".to_owned()));
    }
    if let Some(i) = duration_text
        .trim_end()
        .char_indices()
        .skip(d_lead)
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '.' || c == '\u{b5}'))
        .map(|(i, _)| i)
    {
        return Err(fail(i, "not part of a duration".to_owned()));
    }
    let duration = parse_duration(duration_text)
        .map_err(|e| fail(d_lead, format!("duration {:?}: {}", e.input, e.reason)))?;
    let t_lead = target_text.len() - target_text.trim_start().len();
    let target_start = colon + 1 + t_lead;
    let target_trimmed = target_text.trim();
    if target_trimmed.is_empty() {
        return Err(fail(
            colon + 1,
            "missing target rate (requests per second) after ':'".to_owned(),
        ));
    }
    if let Some(i) = target_trimmed
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map(|(i, _)| i)
    {
        return Err(fail(
            target_start + i,
            "the target must be a number of requests per second".to_owned(),
        ));
    }
    let target: f64 = target_trimmed.parse().map_err(|_| {
        fail(
            target_start,
            "the target must be a number of requests per second".to_owned(),
        )
    })?;
    Ok(Stage { duration, target })
}

/// The character column of byte index `i` in `s` (0-based).
fn text_column(s: &str, i: usize) -> usize {
    s.char_indices().take_while(|&(b, _)| b < i).count()
}

/// A piece of a rate curve: the rate goes linearly from `from` to `to`
/// requests per second over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub duration: Duration,
    pub from: f64,
    pub to: f64,
}

/// A piecewise-linear rate over time, starting at t = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct RateCurve {
    segments: Vec<Segment>,
}

impl RateCurve {
    /// `rate` requests per second for `duration`.
    pub fn constant(rate: f64, duration: Duration) -> Result<Self, ScheduleError> {
        Self::new(vec![Segment {
            duration,
            from: rate,
            to: rate,
        }])
    }

    /// k6 stages: ramps from 0, each stage from the previous target.
    pub fn from_stages(stages: &[Stage]) -> Result<Self, ScheduleError> {
        let mut previous = 0.0;
        let segments = stages
            .iter()
            .map(|s| {
                let segment = Segment {
                    duration: s.duration,
                    from: previous,
                    to: s.target,
                };
                previous = s.target;
                segment
            })
            .collect();
        Self::new(segments)
    }

    /// Any piecewise-linear curve (replay: one segment per second of a
    /// profile).
    pub fn new(segments: Vec<Segment>) -> Result<Self, ScheduleError> {
        for s in &segments {
            for rate in [s.from, s.to] {
                if !rate.is_finite() || rate < 0.0 {
                    return Err(ScheduleError::Rate(rate));
                }
            }
        }
        Ok(Self { segments })
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The curve's length.
    pub fn duration(&self) -> Duration {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// The rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        let mut start = 0.0;
        for s in &self.segments {
            let len = s.duration.as_secs_f64();
            if t < start + len {
                return s.from + (s.to - s.from) * (t - start) / len;
            }
            start += len;
        }
        self.segments.last().map_or(0.0, |s| s.to)
    }

    /// Expected arrivals in `[0, t)` seconds: the integral of the rate.
    pub fn cumulative(&self, t: f64) -> f64 {
        let mut start = 0.0;
        let mut total = 0.0;
        for s in &self.segments {
            let len = s.duration.as_secs_f64();
            let within = (t - start).clamp(0.0, len);
            if within > 0.0 {
                let end_rate = s.from + (s.to - s.from) * within / len;
                total += f64::midpoint(s.from, end_rate) * within;
            }
            start += len;
        }
        total
    }

    /// Total expected arrivals.
    pub fn total(&self) -> f64 {
        self.cumulative(self.duration().as_secs_f64())
    }

    /// The arrivals of this curve, cycling over `requests` request indexes.
    pub fn arrivals(&self, spacing: Spacing, requests: usize) -> ArrivalSchedule {
        let mut base = 0.0;
        let mut start = 0.0;
        let pieces = self
            .segments
            .iter()
            .map(|s| {
                let len = s.duration.as_secs_f64();
                let piece = Piece {
                    start,
                    len,
                    rate: s.from,
                    slope: if len > 0.0 {
                        (s.to - s.from) / len
                    } else {
                        0.0
                    },
                    count_before: base,
                    count: f64::midpoint(s.from, s.to) * len,
                };
                base += piece.count;
                start += len;
                piece
            })
            .collect();
        ArrivalSchedule {
            pieces,
            piece: 0,
            next_count: 0.0,
            index: 0,
            requests: requests.max(1),
            poisson: match spacing {
                Spacing::Even => None,
                Spacing::Poisson { seed } => Some(StdRng::seed_from_u64(seed)),
            },
        }
    }
}

/// How arrivals are spread along the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// The k-th arrival where the cumulative count reaches k (exact
    /// spacing `1/rate` at a constant rate).
    Even,
    /// A Poisson process of the curve's rate (exponential gaps), seeded.
    Poisson { seed: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    start: f64,
    len: f64,
    rate: f64,
    slope: f64,
    count_before: f64,
    count: f64,
}

/// The intended arrivals of a [`RateCurve`], in time order.
#[derive(Debug, Clone)]
pub struct ArrivalSchedule {
    pieces: Vec<Piece>,
    piece: usize,
    /// Cumulative count at which the next arrival falls.
    next_count: f64,
    index: u64,
    requests: usize,
    poisson: Option<StdRng>,
}

impl ArrivalSchedule {
    fn advance_count(&mut self) {
        self.next_count += match &mut self.poisson {
            None => 1.0,
            // Exp(1) by inversion; 1 - u is in (0, 1].
            Some(rng) => -(1.0 - rng.random::<f64>()).ln(),
        };
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        if self.index == 0 && self.poisson.is_some() {
            // A Poisson process's first arrival is a gap after 0.
            self.advance_count();
        }
        loop {
            let piece = self.pieces.get(self.piece)?;
            let within = self.next_count - piece.count_before;
            if within >= piece.count || piece.count <= 0.0 {
                self.piece += 1;
                continue;
            }
            // Solve rate*s + slope/2*s^2 = within for s >= 0, in the form
            // that stays exact when the slope is 0.
            let disc = (piece.rate * piece.rate + 2.0 * piece.slope * within).max(0.0);
            let denom = piece.rate + disc.sqrt();
            let s = if denom > 0.0 {
                2.0 * within / denom
            } else {
                0.0
            };
            let at = Duration::from_secs_f64((piece.start + s.min(piece.len)).max(0.0));
            let request = (self.index % self.requests as u64) as usize;
            self.index += 1;
            self.advance_count();
            return Some(Arrival { at, request });
        }
    }
}

/// The arrivals of `curve` with `spacing`, as the engine takes them.
pub fn open_arrivals(
    curve: &RateCurve,
    spacing: Spacing,
    requests: usize,
) -> super::workload::Arrivals {
    super::workload::Arrivals::Open(Box::new(curve.arrivals(spacing, requests)))
}

/// A random seed for `--poisson` without `--seed` (reported, so the run
/// can be repeated).
pub fn fresh_seed() -> u64 {
    rand::rng().random()
}

#[cfg(test)]
mod tests;
