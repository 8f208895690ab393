//! The combined streaming detector: one per series, O(1) time and under
//! 2 KB of state per point pushed.
//!
//! Owns the pipeline from a raw `(t, value)` to a [`Scored`]: input hygiene
//! (NaN, out-of-order, duplicate timestamps, gaps: counted), the choice of
//! forecaster (level or time-of-day, whichever has predicted better lately),
//! the five statistics (spike, shift, drift, flapping, the still run), their novelty for this
//! series, the alarm budget, the refractory hold, and the explanation. The
//! pieces live in `baseline`, `change` and `novelty`.

use super::baseline::{self, Level, Seasonal};
use super::change::{Decorrelation, Shift, Spans};
use super::explain::{Cause, Explanation};
use super::novelty::{Budget, Hold, Record, Typical};
use super::{Config, Series};

/// One scored point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Anomaly score in 0..1: 0 is ordinary; 0.5 means the point beat the
    /// series' record (for its kind of deviation) by a factor of two.
    pub score: f64,
    /// Why, in numbers; render it with [`Detector::explain`].
    pub explanation: Explanation,
}

/// What the detector has seen, by kind. Skipped points do not change the
/// detector's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Points learned (and scored once warm).
    pub points: u64,
    /// Skipped: value NaN or infinite, or timestamp not finite.
    pub not_finite: u64,
    /// Skipped: timestamp earlier than the previous one.
    pub out_of_order: u64,
    /// Learned, timestamp equal to the previous one.
    pub duplicates: u64,
    /// Learned, after a gap of more than `Config::gap_factor` typical intervals.
    pub gaps: u64,
}

/// The combined detector for one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Detector {
    config: Config,
    series: Series,
    counts: Counts,
    /// Points learned before scoring starts: `config.warmup`, or fewer when
    /// [`Detector::end_warmup`] cut the learning short.
    warm_at: u64,
    first_t: f64,
    last_t: f64,
    /// EWMA of the interval between points, seconds.
    interval: f64,
    level: Level,
    seasonal: Seasonal,
    /// Mean absolute one-step-ahead error of each forecaster.
    level_error: f64,
    seasonal_error: f64,
    shift: Shift,
    /// The residuals' lag-1 autocorrelation chart (learned only while on).
    decorrelation: Decorrelation,
    records: [Record; 6],
    /// Typical block maximum of `|z|`, a floor on the spike's record.
    typical: Typical,
    hold: Hold,
    /// The series' earlier alarms, which make the next one harder.
    budget: Budget,
    /// Start of the current run of same-signed large residuals.
    run_start: f64,
    run_sign: i8,
    /// The previous value, and the still run: points in a row equal to
    /// the one before, since `still_since` (counted once the series has
    /// changed at all: a series constant from its start is not stuck).
    previous: f64,
    still: f64,
    still_since: f64,
    changed: bool,
}

/// Two values closer than this (relative, at least 1 absolute) are equal
/// for the still run: a gauge that is rendered and parsed back.
const STILL_EPSILON: f64 = 1e-12;

/// Residuals beyond this many spreads start (or continue) a deviation run,
/// whose length the explanation reports.
const RUN_Z: f64 = 2.0;

/// A forecast: the predicted value, its spread, and whether it is seasonal.
#[derive(Debug, Clone, Copy)]
struct Forecast {
    value: f64,
    spread: f64,
    seasonal: bool,
}

impl Detector {
    /// A detector for `series` with `config` (use `Config::default()`: one
    /// configuration serves every series).
    pub fn new(series: Series, config: Config) -> Self {
        Detector {
            warm_at: u64::from(config.warmup),
            config,
            series,
            counts: Counts::default(),
            first_t: f64::NAN,
            last_t: f64::NEG_INFINITY,
            interval: 0.0,
            level: Level::default(),
            seasonal: Seasonal::default(),
            level_error: 0.0,
            seasonal_error: 0.0,
            shift: Shift::default(),
            decorrelation: Decorrelation::default(),
            records: Default::default(),
            typical: Typical::default(),
            hold: Hold::default(),
            budget: Budget::default(),
            run_start: f64::NAN,
            run_sign: 0,
            previous: f64::NAN,
            still: 0.0,
            still_since: f64::NAN,
            changed: false,
        }
    }

    /// The series this detector watches.
    pub fn series(&self) -> &Series {
        &self.series
    }

    /// What has been seen so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Bytes of state: the struct plus the heap it owns (name and unit).
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.series.name.capacity() + self.series.unit.capacity()
    }

    /// Whether this detector still learns its baseline (scores nothing).
    pub fn learning(&self) -> bool {
        self.counts.points < self.warm_at
    }

    /// Ends the warm-up now, when at least `min_learned` points have been
    /// learned: a known change is about to start (a fault injected into
    /// the shadow), and it should be scored against what came before it
    /// instead of being learned as the series' normal. The baseline is as
    /// thin as the points learned. Returns whether scoring starts now
    /// (`false`: already scoring, or too few points to score against).
    pub fn end_warmup(&mut self, min_learned: u64) -> bool {
        let n = self.counts.points;
        if !self.learning() || n < min_learned.max(2) {
            return false;
        }
        self.warm_at = n;
        true
    }

    /// Scores `value` observed at `t` (seconds) and learns it. The score
    /// depends only on this point and earlier ones.
    pub fn push(&mut self, t: f64, value: f64) -> Scored {
        if !value.is_finite() || !t.is_finite() {
            self.counts.not_finite += 1;
            return Scored::quiet(Cause::Skipped, value);
        }
        if t < self.last_t {
            self.counts.out_of_order += 1;
            return Scored::quiet(Cause::Skipped, value);
        }
        self.track_still(value);
        self.track_time(t);
        let n = self.counts.points;
        self.counts.points += 1;
        let slot = baseline::slot(t, self.config.period);
        let forecast = self.forecast(t, value, slot);
        let z = if n < 2 {
            0.0
        } else {
            (value - forecast.value) / forecast.spread
        };
        self.learn(value, slot, n);
        self.shift.update(
            z,
            self.config.z_clip,
            Spans {
                fast: self.config.shift_span,
                slow: self.config.drift_span,
                flap: self.config.flap_span.max(1.0),
            },
        );
        // Its drop below the long-run value; none (not scored) while the
        // seasonal forecast is used or the chart is off.
        let decorrelation = if self.config.decorrelation_span > 0.0 && n >= 2 {
            let c = &self.config;
            let zc = z.clamp(-c.z_clip, c.z_clip);
            let drop = self.decorrelation.update(
                zc,
                n - 2,
                c.decorrelation_span,
                c.decorrelation_var_floor,
            );
            // A seasonal forecast's residuals change their correlation as
            // the profile learns: not scored there.
            (!forecast.seasonal).then_some(drop)
        } else {
            None
        };
        self.track_run(t, z);
        let explanation = Explanation {
            cause: Cause::Normal,
            value,
            baseline: forecast.value,
            spread: forecast.spread,
            z,
            duration: if self.run_sign == 0 {
                0.0
            } else {
                t - self.run_start
            },
            seasonal: forecast.seasonal,
        };
        if n < self.warm_at {
            return Scored {
                score: 0.0,
                explanation: Explanation {
                    cause: Cause::Warmup,
                    ..explanation
                },
            };
        }
        let (ratio, cause) = self.novelty(z, decorrelation);
        let c = &self.config;
        let out = self.hold.pass(
            (ratio - 1.0).max(0.0) / self.budget.divisor(c.budget_gain),
            c.hold_decay,
            c.hold_gain,
        );
        let score = out / (out + 1.0);
        self.budget.learn(score, c.budget_alarm, c.budget_decay);
        let cause = if out > 0.0 { cause } else { Cause::Normal };
        let duration = if cause == Cause::Still {
            t - self.still_since
        } else {
            explanation.duration
        };
        Scored {
            score,
            explanation: Explanation {
                cause,
                duration,
                ..explanation
            },
        }
    }

    /// The explanation as one line, with the series' name and unit.
    pub fn explain(&self, scored: &Scored) -> String {
        scored.explanation.render(&self.series)
    }

    fn track_time(&mut self, t: f64) {
        if self.first_t.is_nan() {
            self.first_t = t;
        } else {
            let dt = t - self.last_t;
            if dt == 0.0 {
                self.counts.duplicates += 1;
            } else if self.interval > 0.0 && dt > self.config.gap_factor * self.interval {
                self.counts.gaps += 1;
            }
            if dt > 0.0 {
                let a = baseline::weight(self.counts.points, 100.0);
                let capped = if self.interval > 0.0 {
                    dt.min(10.0 * self.interval)
                } else {
                    dt
                };
                self.interval += a * (capped - self.interval);
            }
        }
        self.last_t = t;
    }

    /// The better forecaster's prediction for `t`.
    fn forecast(&self, t: f64, value: f64, slot: usize) -> Forecast {
        let c = &self.config;
        let level = Forecast {
            value: self.level.mean(),
            spread: self.level.scale(c.mad_floor),
            seasonal: false,
        };
        let Some((mean, dev)) = self.seasonal.predict(slot) else {
            return level;
        };
        let grown = t - self.first_t > 1.5 * c.period;
        if grown && self.seasonal_error < c.season_gain * self.level_error {
            let floor = (0.5 * self.seasonal_error).max(baseline::epsilon(value, dev));
            return Forecast {
                value: mean,
                spread: dev.max(floor),
                seasonal: true,
            };
        }
        level
    }

    /// Updates both forecasters and their error averages with `value`.
    fn learn(&mut self, value: f64, slot: usize, n: u64) {
        let c = &self.config;
        let level_spread = self.level.scale(c.mad_floor);
        if n >= 2 {
            let a = baseline::weight(n, c.error_span);
            let level_residual = value - self.level.mean();
            let seasonal_residual = self
                .seasonal
                .predict(slot)
                .map_or(level_residual, |(mean, _)| value - mean);
            self.level_error += a * (level_residual.abs() - self.level_error);
            self.seasonal_error += a * (seasonal_residual.abs() - self.seasonal_error);
        }
        self.level.update(value, c.level_span, c.clip);
        self.seasonal
            .update(slot, value, c.season_alpha, c.clip, level_spread);
    }

    fn track_run(&mut self, t: f64, z: f64) {
        let sign = if z >= RUN_Z {
            1
        } else if z <= -RUN_Z {
            -1
        } else {
            0
        };
        if sign != self.run_sign {
            self.run_start = t;
            self.run_sign = sign;
        }
    }

    /// Counts the still run: a value equal to the previous one extends it
    /// (once the series has changed), any other ends it. Called before
    /// `track_time`, so `last_t` is still the previous point's time.
    fn track_still(&mut self, value: f64) {
        let same = (value - self.previous).abs() <= STILL_EPSILON * value.abs().max(1.0);
        if same && self.changed {
            if self.still == 0.0 {
                self.still_since = self.last_t;
            }
            self.still += 1.0;
        } else if !same {
            self.changed |= self.previous.is_finite();
            self.still = 0.0;
        }
        self.previous = value;
    }

    /// The largest record ratio among the statistics, and its cause;
    /// `decorrelation` is the decorrelation chart's value, if scored.
    fn novelty(&mut self, z: f64, decorrelation_drop: Option<f64>) -> (f64, Cause) {
        let c = &self.config;
        let [spike, shift, drift, flap, still, decorrelation] = &mut self.records;
        let spike_floor = c.spike_floor.max(c.spike_typical * self.typical.value());
        self.typical.update(z.abs(), c.typical_block);
        let candidates = [
            (
                spike.point(z.abs(), spike_floor, c.spike_decay) / c.spike_margin,
                Cause::Spike,
            ),
            (
                shift.episode(self.shift.fast().abs(), c.shift_floor, c.record_decay),
                Cause::Shift,
            ),
            (
                drift.episode(self.shift.slow().abs(), c.drift_floor, c.record_decay),
                Cause::Drift,
            ),
            (
                if c.flap_span > 0.0 {
                    flap.episode(self.shift.flap(), c.flap_floor, c.record_decay)
                } else {
                    0.0
                },
                Cause::Flapping,
            ),
            (
                if c.still_floor > 0.0 {
                    still.episode(self.still, c.still_floor, c.record_decay) / c.still_margin
                } else {
                    0.0
                },
                Cause::Still,
            ),
            (
                decorrelation_drop.map_or(0.0, |drop| {
                    decorrelation.episode(drop, c.decorrelation_floor, c.record_decay)
                }),
                Cause::Flapping,
            ),
        ];
        candidates
            .into_iter()
            .fold((0.0, Cause::Normal), |best, cand| {
                if cand.0 > best.0 { cand } else { best }
            })
    }
}

impl Scored {
    fn quiet(cause: Cause, value: f64) -> Self {
        Scored {
            score: 0.0,
            explanation: Explanation {
                cause,
                value,
                baseline: f64::NAN,
                spread: f64::NAN,
                z: 0.0,
                duration: 0.0,
                seasonal: false,
            },
        }
    }
}
