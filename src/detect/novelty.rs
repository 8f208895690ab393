//! Is this statistic unusual *for this series*? Records and a refractory
//! hold, which make one configuration serve every series.
//!
//! Owns:
//! - [`Record`]: the largest value a statistic has reached, decaying slowly
//!   (an extreme-value baseline). A statistic scores by its ratio to the
//!   record, so a series that spikes every hour learns that spikes are
//!   normal there, while one that never spikes flags the first. A point
//!   statistic updates its record at once; a smoothed statistic (one that
//!   rises over several points during an excursion) is compared with the
//!   record from before the excursion, and the excursion's peak joins the
//!   record when it ends.
//! - [`Typical`]: the typical block maximum of a statistic (an EWMA of
//!   the largest value in each block of points). A record may decay fast
//!   (so one giant outlier does not blind the detector for thousands of
//!   points) when it is floored at a multiple of the typical maximum (so a
//!   long, bursty series does not alarm on its everyday extremes).
//! - [`Hold`]: after an output, later outputs pass only if they exceed the
//!   (decaying) held peak by a factor, so one anomaly raises one alarm
//!   rather than a burst. The NAB rule is the same: only the first detection
//!   in a window counts and every later one outside it costs.
//! - [`Budget`]: the series' count of earlier alarms (decaying slowly).
//!   Outputs are divided by one plus that count, so a series that alarms
//!   often (a noisy one) must be ever more novel to alarm again, while a
//!   quiet series keeps its full sensitivity.
//!
//! Neither knows what the statistics mean; `detector` does.

/// A decaying record of a non-negative statistic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    record: f64,
    /// Peak of the current excursion above the record (episodic mode), 0 outside one.
    peak: f64,
}

impl Record {
    /// Point mode: the ratio of `q` to the record (at least `floor`), then
    /// learn `q`. The record decays by `decay` per point.
    pub fn point(&mut self, q: f64, floor: f64, decay: f64) -> f64 {
        let ratio = q / self.record.max(floor);
        self.record = (self.record * decay).max(q);
        ratio
    }

    /// Episodic mode: while `q` exceeds the record (at least `floor`), the
    /// ratio to that pre-excursion record whenever `q` reaches a new peak of
    /// the excursion, else 0; the excursion's peak joins the record when `q`
    /// falls back. The record decays by `decay` per point outside excursions.
    pub fn episode(&mut self, q: f64, floor: f64, decay: f64) -> f64 {
        let reference = self.record.max(floor);
        if q > reference {
            if q >= self.peak {
                self.peak = q;
                return q / reference;
            }
            return 0.0;
        }
        self.record = (self.record * decay).max(self.peak).max(q);
        self.peak = 0.0;
        q / reference
    }
}

/// Blocks averaged by [`Typical`] (an EWMA span, in blocks).
const TYPICAL_SPAN: f64 = 10.0;

/// The typical block maximum of a non-negative statistic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typical {
    block_max: f64,
    block_len: u32,
    blocks: u32,
    /// EWMA of the finished blocks' maxima.
    mean_max: f64,
}

impl Typical {
    /// The typical block maximum, once two blocks have ended (else 0).
    pub fn value(&self) -> f64 {
        if self.blocks >= 2 { self.mean_max } else { 0.0 }
    }

    /// Learns `q`; a block ends every `block` points.
    pub fn update(&mut self, q: f64, block: u32) {
        self.block_max = self.block_max.max(q);
        self.block_len += 1;
        if self.block_len >= block {
            let a = (2.0 / (TYPICAL_SPAN + 1.0)).max(1.0 / (f64::from(self.blocks) + 1.0));
            self.mean_max += a * (self.block_max - self.mean_max);
            self.blocks = self.blocks.saturating_add(1);
            self.block_len = 0;
            self.block_max = 0.0;
        }
    }
}

/// A refractory hold on an output stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hold {
    peak: f64,
}

impl Hold {
    /// Passes `out` if it is at least `gain` times the held peak, else 0;
    /// the peak decays by `decay` per point and is raised by every `out`.
    pub fn pass(&mut self, out: f64, decay: f64, gain: f64) -> f64 {
        let held = self.peak;
        self.peak = (self.peak * decay).max(out);
        if out < held * gain { 0.0 } else { out }
    }
}

/// An alarm budget: a decaying count of a series' alarms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    alarms: f64,
}

impl Budget {
    /// What outputs are divided by: `1 + gain * alarms`.
    pub fn divisor(&self, gain: f64) -> f64 {
        1.0 + gain * self.alarms
    }

    /// Learns one point's score: the count decays by `decay` and grows by
    /// one if `score` exceeds `alarm`.
    pub fn learn(&mut self, score: f64, alarm: f64, decay: f64) {
        self.alarms *= decay;
        if score > alarm {
            self.alarms += 1.0;
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact by construction
mod tests {
    use super::{Budget, Hold, Record, Typical};

    #[test]
    fn a_repeated_spike_stops_being_novel() {
        let mut r = Record::default();
        for _ in 0..100 {
            assert!(r.point(1.0, 4.0, 0.999) < 1.0);
        }
        assert!((r.point(20.0, 4.0, 0.999) - 5.0).abs() < 1e-9);
        let again = r.point(20.0, 4.0, 0.999);
        assert!(again < 1.01, "{again}");
    }

    #[test]
    fn an_excursion_is_compared_with_the_record_before_it() {
        let mut r = Record::default();
        for _ in 0..50 {
            r.episode(1.0, 2.0, 0.999);
        }
        let rising: Vec<f64> = [3.0, 5.0, 8.0, 7.0]
            .iter()
            .map(|&q| r.episode(q, 2.0, 0.999))
            .collect();
        assert_eq!(rising, vec![1.5, 2.5, 4.0, 0.0]);
        r.episode(1.0, 2.0, 0.999);
        assert!(
            r.episode(7.9, 2.0, 0.999) < 1.0,
            "the peak joined the record"
        );
    }

    #[test]
    fn records_decay() {
        let mut r = Record::default();
        r.point(10.0, 1.0, 0.99);
        for _ in 0..500 {
            r.point(0.0, 1.0, 0.99);
        }
        assert!(r.point(5.0, 1.0, 0.99) > 4.0);
    }

    #[test]
    fn the_typical_maximum_averages_block_maxima() {
        let mut t = Typical::default();
        for i in 0..10 {
            t.update(if i == 3 { 4.0 } else { 1.0 }, 10);
        }
        assert_eq!(t.value(), 0.0, "one block is not enough");
        for i in 0..10 {
            t.update(if i == 7 { 2.0 } else { 0.5 }, 10);
        }
        assert_eq!(t.value(), 3.0);
        for _ in 0..1000 {
            t.update(1.0, 10);
        }
        assert!((t.value() - 1.0).abs() < 0.01, "{t:?}");
    }

    #[test]
    fn the_hold_passes_one_alarm_per_burst() {
        let mut h = Hold::default();
        let out: Vec<f64> = [1.0, 1.1, 1.5, 3.5, 0.0]
            .iter()
            .map(|&o| h.pass(o, 0.99, 2.0))
            .collect();
        assert_eq!(out, vec![1.0, 0.0, 0.0, 3.5, 0.0]);
        for _ in 0..300 {
            h.pass(0.0, 0.99, 2.0);
        }
        assert_eq!(h.pass(1.0, 0.99, 2.0), 1.0, "the hold decays");
    }

    #[test]
    fn the_budget_counts_alarms_and_forgets_them_slowly() {
        let mut b = Budget::default();
        assert_eq!(b.divisor(1.0), 1.0);
        for score in [0.5, 0.01, 0.2, 0.03] {
            b.learn(score, 0.03, 1.0);
        }
        assert_eq!(b.divisor(1.0), 3.0, "two alarms");
        assert_eq!(b.divisor(0.0), 1.0, "gain 0 turns it off");
        for _ in 0..20_000 {
            b.learn(0.0, 0.03, 0.9999);
        }
        assert!(b.divisor(1.0) < 1.3, "{b:?}");
    }
}
