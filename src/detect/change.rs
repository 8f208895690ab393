//! Change detection for sustained shifts: EWMA control charts on the
//! standardized residual.
//!
//! Owns [`Shift`]: two exponentially weighted means of the clipped residual
//! `z` (Roberts' EWMA chart), a fast one for level shifts (a dozen points)
//! and a slow one for drifts too small to see point by point. Clipping keeps
//! a lone spike from looking like a shift; it is the spike detector's job.
//! Whether a chart value is unusual for *this* series is `novelty`'s job.

/// Fast and slow EWMA charts of the clipped standardized residual.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shift {
    fast: f64,
    slow: f64,
}

/// Weight of an EWMA with the given span in points.
fn alpha(span: f64) -> f64 {
    2.0 / (span + 1.0)
}

impl Shift {
    /// Learns the residual `z` (in spreads); `clip` bounds its influence.
    pub fn update(&mut self, z: f64, clip: f64, fast_span: f64, slow_span: f64) {
        let zc = z.clamp(-clip, clip);
        self.fast += alpha(fast_span) * (zc - self.fast);
        self.slow += alpha(slow_span) * (zc - self.slow);
    }

    /// The fast chart: mean residual over the last dozen points or so.
    pub fn fast(&self) -> f64 {
        self.fast
    }

    /// The slow chart: mean residual over the last ~`slow_span` points.
    pub fn slow(&self) -> f64 {
        self.slow
    }
}

#[cfg(test)]
mod tests {
    use super::Shift;

    #[test]
    fn a_shift_moves_the_fast_chart_first_and_the_slow_one_later() {
        let mut s = Shift::default();
        for _ in 0..100 {
            s.update(0.0, 8.0, 12.0, 64.0);
        }
        assert_eq!((s.fast(), s.slow()), (0.0, 0.0));
        for _ in 0..12 {
            s.update(3.0, 8.0, 12.0, 64.0);
        }
        assert!(s.fast() > 2.0 && s.slow() < 1.5, "{s:?}");
        for _ in 0..200 {
            s.update(3.0, 8.0, 12.0, 64.0);
        }
        assert!(s.slow() > 2.9, "{s:?}");
    }

    #[test]
    fn one_spike_is_clipped() {
        let mut s = Shift::default();
        s.update(1e9, 8.0, 12.0, 64.0);
        assert!(s.fast() <= 8.0 * 2.0 / 13.0 + 1e-12, "{s:?}");
    }

    #[test]
    fn a_small_drift_accumulates_in_the_slow_chart() {
        let mut s = Shift::default();
        for _ in 0..300 {
            s.update(0.5, 8.0, 12.0, 64.0);
        }
        assert!((s.slow() - 0.5).abs() < 0.01, "{s:?}");
    }
}
