//! Baselines learned per series: what a value "should" be and how far it
//! usually strays.
//!
//! Owns two forecasters, each O(1) per point:
//! - [`Level`]: a robust exponentially weighted level and spread (winsorized
//!   updates, so one outlier barely moves it), with the unclipped mean
//!   absolute deviation as a floor on the spread (so a spiky series does not
//!   collapse to a zero spread between its spikes).
//! - [`Seasonal`]: a time-of-day profile, [`SLOTS`] slots over the period,
//!   each with its own level and spread. Slots are addressed by timestamp, so
//!   gaps and irregular sampling do not shift the phase.
//!
//! Choosing between them and turning residuals into scores is `detector`'s
//! job, not this module's.

/// Number of time-of-day slots of the seasonal profile (15 minutes each for a
/// daily period).
pub const SLOTS: usize = 96;

/// A spread never drops below this fraction of the level's magnitude (plus an
/// absolute epsilon), so a flat series divides by something finite.
const RELATIVE_EPSILON: f64 = 1e-9;
const ABSOLUTE_EPSILON: f64 = 1e-12;

/// The smallest spread worth dividing by for a series around `level`.
pub fn epsilon(level: f64, spread: f64) -> f64 {
    RELATIVE_EPSILON * (level.abs() + spread) + ABSOLUTE_EPSILON
}

/// EWMA weight for a span, starting as a running mean: `max(2/(span+1), 1/(n+1))`.
pub fn weight(n: u64, span: f64) -> f64 {
    (2.0 / (span + 1.0)).max(1.0 / (n as f64 + 1.0))
}

/// Robust exponentially weighted level and spread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Level {
    mean: f64,
    /// Winsorized mean absolute deviation.
    dev: f64,
    /// Unclipped mean absolute deviation.
    mad: f64,
    n: u64,
}

impl Level {
    /// The current level.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The spread used to standardize residuals: the robust deviation, at
    /// least `mad_floor` times the unclipped one, never zero.
    pub fn scale(&self, mad_floor: f64) -> f64 {
        self.dev
            .max(mad_floor * self.mad)
            .max(epsilon(self.mean, self.dev))
    }

    /// Learns `x` with span `span` points; residuals beyond `clip` spreads
    /// are clipped (after the first few points, which seed the spread).
    pub fn update(&mut self, x: f64, span: f64, clip: f64) {
        if self.n == 0 {
            self.mean = x;
        }
        let a = weight(self.n, span);
        let r = x - self.mean;
        let limit = clip * self.dev.max(epsilon(self.mean, self.dev));
        let rc = if self.n < 10 {
            r
        } else {
            r.clamp(-limit, limit)
        };
        self.mean += a * rc;
        self.dev += a * (rc.abs() - self.dev);
        self.mad += a * (r.abs() - self.mad);
        self.n += 1;
    }
}

/// A time-of-day profile: per slot a level and a spread.
#[derive(Debug, Clone, PartialEq)]
pub struct Seasonal {
    mean: [f32; SLOTS],
    dev: [f32; SLOTS],
    visits: [u8; SLOTS],
}

impl Default for Seasonal {
    fn default() -> Self {
        Seasonal {
            mean: [0.0; SLOTS],
            dev: [0.0; SLOTS],
            visits: [0; SLOTS],
        }
    }
}

/// The slot of timestamp `t` (seconds) for a period of `period` seconds.
pub fn slot(t: f64, period: f64) -> usize {
    let phase = t.rem_euclid(period) / period;
    ((phase * SLOTS as f64) as usize).min(SLOTS - 1)
}

impl Seasonal {
    /// The slot's level and spread, once it has been visited.
    pub fn predict(&self, slot: usize) -> Option<(f64, f64)> {
        (self.visits[slot] > 0).then(|| (f64::from(self.mean[slot]), f64::from(self.dev[slot])))
    }

    /// Learns `x` in `slot` with per-visit weight `alpha` (a running mean
    /// for the first visits). `seed_spread` starts a new slot's spread; the
    /// level update is clipped at `clip` spreads, the spread is not (a slot
    /// where the value jumps every day must learn that it is volatile).
    pub fn update(&mut self, slot: usize, x: f64, alpha: f64, clip: f64, seed_spread: f64) {
        let visits = self.visits[slot];
        if visits == 0 {
            self.mean[slot] = x as f32;
            self.dev[slot] = (0.5 * seed_spread) as f32;
        } else {
            let mean = f64::from(self.mean[slot]);
            let dev = f64::from(self.dev[slot]);
            let a = alpha.max(1.0 / (f64::from(visits) + 1.0));
            let r = x - mean;
            let limit = clip * dev.max(epsilon(mean, dev));
            self.mean[slot] = (mean + a * r.clamp(-limit, limit)) as f32;
            self.dev[slot] = (dev + a * (r.abs() - dev)) as f32;
        }
        self.visits[slot] = visits.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_follows_a_shift_and_ignores_one_outlier() {
        let mut level = Level::default();
        for i in 0..500 {
            level.update(10.0 + if i % 2 == 0 { 1.0 } else { -1.0 }, 100.0, 4.0);
        }
        assert!((level.mean() - 10.0).abs() < 0.2, "{level:?}");
        assert!((level.scale(0.5) - 1.0).abs() < 0.2, "{level:?}");
        level.update(1000.0, 100.0, 4.0);
        assert!(
            (level.mean() - 10.0).abs() < 0.5,
            "one outlier moved it: {level:?}"
        );
        for _ in 0..2000 {
            level.update(50.0, 100.0, 4.0);
        }
        assert!(
            (level.mean() - 50.0).abs() < 1.0,
            "did not follow: {level:?}"
        );
    }

    #[test]
    fn spread_of_a_spiky_series_keeps_the_mad_floor() {
        let mut level = Level::default();
        for i in 0..3000 {
            level.update(if i % 100 == 0 { 20.0 } else { 0.0 }, 500.0, 4.0);
        }
        assert!(level.scale(0.5) > 0.05, "{level:?}");
    }

    #[test]
    fn slots_are_addressed_by_time_of_day() {
        assert_eq!(slot(0.0, 86_400.0), 0);
        assert_eq!(slot(86_400.0 + 900.0, 86_400.0), 1);
        assert_eq!(slot(-1.0, 86_400.0), SLOTS - 1);
        assert_eq!(slot(86_399.999, 86_400.0), SLOTS - 1);
    }

    #[test]
    fn seasonal_profile_learns_each_slot() {
        let mut s = Seasonal::default();
        assert_eq!(s.predict(3), None);
        for day in 0..20 {
            let noise = if day % 2 == 0 { 0.5 } else { -0.5 };
            s.update(3, 80.0 + noise, 0.1, 4.0, 1.0);
            s.update(4, 20.0 + noise, 0.1, 4.0, 1.0);
        }
        let (m3, d3) = s.predict(3).unwrap();
        let (m4, _) = s.predict(4).unwrap();
        assert!((m3 - 80.0).abs() < 0.5 && (m4 - 20.0).abs() < 0.5);
        assert!(d3 > 0.2 && d3 < 1.0, "{d3}");
    }
}
