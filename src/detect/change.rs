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
//!
//! Also owns [`Decorrelation`]: the lag-1 autocorrelation of the clipped
//! residual over the last ~`span` points against its long-run value. A
//! series whose residuals wander smoothly (autocorrelated) and turn into
//! point-to-point noise or an oscillation around the same level drops it,
//! with no change in the mean or (necessarily) the size of the residuals.

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

/// Span in points of the long-run autocorrelation.
const DECORRELATION_LONG: f64 = 2000.0;

/// Fast and long-run lag-1 autocorrelation of the clipped residual.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decorrelation {
    previous: f64,
    /// EWMAs of `z z'` and `z^2`, fast and long-run.
    cov_fast: f64,
    var_fast: f64,
    cov_long: f64,
    var_long: f64,
}

impl Decorrelation {
    /// Learns the clipped residual `zc`, the `n`-th one learned (from 0);
    /// returns the drop of the fast autocorrelation below the long-run one
    /// (0 if it rose). Variances below `var_floor` count as `var_floor`.
    pub fn update(&mut self, zc: f64, n: u64, span: f64, var_floor: f64) -> f64 {
        let weight = |span: f64| (2.0 / (span + 1.0)).max(1.0 / (n as f64 + 1.0));
        let (fast, long) = (weight(span), weight(DECORRELATION_LONG));
        let lagged = zc * self.previous;
        self.cov_fast += fast * (lagged - self.cov_fast);
        self.var_fast += fast * (zc * zc - self.var_fast);
        self.cov_long += long * (lagged - self.cov_long);
        self.var_long += long * (zc * zc - self.var_long);
        self.previous = zc;
        let rho_fast = self.cov_fast / self.var_fast.max(var_floor);
        let rho_long = self.cov_long / self.var_long.max(var_floor);
        (rho_long - rho_fast).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Decorrelation, Shift, Spans};

    #[test]
    fn an_alternating_residual_drops_the_autocorrelation_a_steady_one_keeps_it() {
        let mut d = Decorrelation::default();
        // A residual that moves slowly: z z' is about z^2, rho about 1.
        let mut drop = 0.0;
        for n in 0..3000u64 {
            let z = 2.0 * (n as f64 / 200.0).sin();
            drop = d.update(z, n, 80.0, 0.75);
        }
        assert!(drop < 0.1, "steady: {drop}");
        // Now it alternates: z z' = -z^2, the fast rho goes to -1.
        let mut peak: f64 = 0.0;
        for n in 3000..3100u64 {
            let z = if n % 2 == 0 { 1.5 } else { -1.5 };
            peak = peak.max(d.update(z, n, 80.0, 0.75));
        }
        assert!(peak > 1.5, "alternating: {peak}");
    }

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
