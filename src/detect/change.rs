//! Change detection for sustained changes: EWMA control charts on the
//! standardized residual.
//!
//! Owns [`Shift`]: two exponentially weighted means of the clipped residual
//! `z` (Roberts' EWMA chart), a fast one for level shifts (a dozen points)
//! and a slow one for drifts too small to see point by point, plus a
//! flapping chart: the exponentially weighted mean of the step `|z - z'|`
//! between consecutive clipped residuals. A level shift or a plateau moves
//! it twice (on and off); an oscillation or a burst of noise around an
//! unchanged level, which leaves the signed charts at zero, keeps it high.
//! Clipping keeps a lone spike from looking like a shift; it is the spike
//! detector's job. Whether a chart value is unusual for *this* series is
//! `novelty`'s job.

/// Fast, slow and flapping EWMA charts of the clipped standardized residual.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shift {
    fast: f64,
    slow: f64,
    /// The previous clipped residual.
    previous: f64,
    flap: f64,
}

/// Spans in points of the three charts.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    pub fast: f64,
    pub slow: f64,
    pub flap: f64,
}

/// Weight of an EWMA with the given span in points.
fn alpha(span: f64) -> f64 {
    2.0 / (span + 1.0)
}

impl Shift {
    /// Learns the residual `z` (in spreads); `clip` bounds its influence.
    pub fn update(&mut self, z: f64, clip: f64, spans: Spans) {
        let zc = z.clamp(-clip, clip);
        self.fast += alpha(spans.fast) * (zc - self.fast);
        self.slow += alpha(spans.slow) * (zc - self.slow);
        self.flap += alpha(spans.flap) * ((zc - self.previous).abs() - self.flap);
        self.previous = zc;
    }

    /// The fast chart: mean residual over the last dozen points or so.
    pub fn fast(&self) -> f64 {
        self.fast
    }

    /// The slow chart: mean residual over the last ~`slow_span` points.
    pub fn slow(&self) -> f64 {
        self.slow
    }

    /// The flapping chart: mean step between consecutive residuals over the
    /// last ~`flap` points (about 1.4 for Gaussian noise).
    pub fn flap(&self) -> f64 {
        self.flap
    }
}

#[cfg(test)]
mod tests {
    use super::{Shift, Spans};

    const SPANS: Spans = Spans {
        fast: 12.0,
        slow: 64.0,
        flap: 48.0,
    };

    #[test]
    fn a_shift_moves_the_fast_chart_first_and_the_slow_one_later() {
        let mut s = Shift::default();
        for _ in 0..100 {
            s.update(0.0, 8.0, SPANS);
        }
        assert_eq!((s.fast(), s.slow()), (0.0, 0.0));
        for _ in 0..12 {
            s.update(3.0, 8.0, SPANS);
        }
        assert!(s.fast() > 2.0 && s.slow() < 1.5, "{s:?}");
        for _ in 0..200 {
            s.update(3.0, 8.0, SPANS);
        }
        assert!(s.slow() > 2.9, "{s:?}");
    }

    #[test]
    fn one_spike_is_clipped() {
        let mut s = Shift::default();
        s.update(1e9, 8.0, SPANS);
        assert!(s.fast() <= 8.0 * 2.0 / 13.0 + 1e-12, "{s:?}");
    }

    #[test]
    fn a_small_drift_accumulates_in_the_slow_chart() {
        let mut s = Shift::default();
        for _ in 0..300 {
            s.update(0.5, 8.0, SPANS);
        }
        assert!((s.slow() - 0.5).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn an_oscillation_keeps_the_flapping_chart_high_a_shift_does_not() {
        let mut shifted = Shift::default();
        let mut flapping = Shift::default();
        for i in 0..200 {
            shifted.update(if i < 100 { 0.0 } else { 4.0 }, 8.0, SPANS);
            flapping.update(if i < 100 || i % 2 == 0 { 0.0 } else { 4.0 }, 8.0, SPANS);
        }
        assert!(flapping.flap() > 3.5, "{flapping:?}");
        assert!(flapping.fast().abs() < 2.5, "{flapping:?}");
        assert!(shifted.flap() < 0.1, "{shifted:?}");
    }
}
