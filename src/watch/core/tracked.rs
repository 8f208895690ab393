//! One series' detector and its memory of the episode in progress (pure).
//!
//! A detector learns every point, a fault's included: after a 200 ms fault
//! its spread is many times wider for many minutes and its records hold
//! the fault's extremes, so a smaller fault soon after would pass unseen.
//! An episode (points at least `run_z` spreads from the last fitted
//! baseline) starts with a copy of the detector from just before it; when
//! an alert opens during the episode the copy is kept, and when that alert
//! closes the detector goes back to it — it forgets the episode the alert
//! covered, as an SRE discounts a known incident from a baseline. An alert
//! that opens without such a copy (a slow drift) changes nothing.

use crate::detect::{Detector, Scored};

/// A detector with its pre-episode copy and the snapshot of an open alert.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub detector: Detector,
    /// Whether this series may raise alerts (decided once, when it is new).
    pub alerting: bool,
    /// The last finite (baseline, spread).
    last_fit: Option<(f64, f64)>,
    /// The detector from just before the current episode.
    before_episode: Option<Detector>,
    /// The copy to return to when the open alert closes.
    snapshot: Option<Detector>,
}

impl Tracked {
    pub fn new(detector: Detector, alerting: bool) -> Self {
        Tracked {
            detector,
            alerting,
            last_fit: None,
            before_episode: None,
            snapshot: None,
        }
    }

    /// Scores and learns one point.
    pub fn push(&mut self, t_s: f64, value: f64, run_z: f64) -> Scored {
        let deviating = self.last_fit.is_some_and(|(baseline, spread)| {
            spread > 0.0 && (value - baseline).abs() >= run_z * spread
        });
        if !deviating {
            self.before_episode = None;
        } else if self.before_episode.is_none() {
            self.before_episode = Some(self.detector.clone());
        }
        let scored = self.detector.push(t_s, value);
        let e = &scored.explanation;
        if e.baseline.is_finite() && e.spread.is_finite() {
            self.last_fit = Some((e.baseline, e.spread));
        }
        scored
    }

    /// An alert opened on this series: keep the pre-episode copy.
    pub fn alert_opened(&mut self) {
        self.snapshot.clone_from(&self.before_episode);
    }

    /// The alert closed: forget the episode it covered.
    pub fn alert_closed(&mut self) {
        if let Some(before) = self.snapshot.take() {
            self.detector = before;
            self.last_fit = None;
            self.before_episode = None;
        }
    }

    /// Ends the detector's warm-up (see [`Detector::end_warmup`]), and its
    /// pre-episode copy's: a fault noticed a second after its first
    /// deviating point must not leave a learning copy to return to.
    pub fn end_warmup(&mut self, min_learned: u64) -> bool {
        if let Some(before) = &mut self.before_episode {
            before.end_warmup(min_learned);
        }
        self.detector.end_warmup(min_learned)
    }

    /// Bytes held, copies included.
    pub fn state_bytes(&self) -> usize {
        let copies = [&self.before_episode, &self.snapshot]
            .into_iter()
            .flatten()
            .map(Detector::state_bytes)
            .sum::<usize>();
        self.detector.state_bytes() + copies
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Series;
    use crate::watch::core::live_detector;

    fn fed(values: impl IntoIterator<Item = f64>) -> (Tracked, f64) {
        let mut t = Tracked::new(
            Detector::new(Series::new("p50", "ms"), live_detector()),
            true,
        );
        let mut at = 0.0;
        for v in values {
            t.push(at, v, 4.0);
            at += 1.0;
        }
        (t, at)
    }

    fn quiet(n: usize) -> impl Iterator<Item = f64> {
        (0..n).map(|i| 4.0 + if i % 2 == 0 { 0.3 } else { -0.3 })
    }

    #[test]
    fn a_closed_alert_returns_the_detector_to_before_the_episode() {
        let (mut t, at) = fed(quiet(100));
        let before = t.detector.clone();
        t.push(at, 204.0, 4.0);
        t.alert_opened();
        for i in 1..30 {
            t.push(at + f64::from(i), 204.0, 4.0);
        }
        // Debug text: the state holds NaN, which `==` never matches.
        let text = |d: &Detector| format!("{d:?}");
        assert_ne!(text(&t.detector), text(&before), "the fault was learned");
        t.alert_closed();
        assert_eq!(text(&t.detector), text(&before), "and forgotten");
    }

    /// A fault seen a second after its first deviating point: the
    /// pre-episode copy, taken while learning, stops learning too, so the
    /// alert's close does not send the series back to its warm-up.
    #[test]
    fn ending_the_warmup_mid_episode_ends_the_copys_too() {
        let (mut t, at) = fed(quiet(20));
        t.push(at, 204.0, 4.0);
        assert!(t.end_warmup(10));
        t.alert_opened();
        t.push(at + 1.0, 204.0, 4.0);
        t.alert_closed();
        assert!(!t.detector.learning(), "back to a copy that scores");
        assert_eq!(t.detector.counts().points, 20, "the copy from before");
    }

    #[test]
    fn without_an_alert_nothing_is_forgotten() {
        let (mut t, at) = fed(quiet(100));
        for i in 0..5 {
            t.push(at + f64::from(i), 204.0, 4.0);
        }
        let learned = format!("{:?}", t.detector);
        t.alert_closed();
        assert_eq!(format!("{:?}", t.detector), learned);
    }
}
