//! The prod-vs-shadow judge (pure).
//!
//! Owns: per metric, the comparison of the shadow's window with a
//! reference window — production's over the same period, or the shadow's
//! own pre-fault baseline — by a Mann-Whitney U rank test with ties, its
//! direction and effect sizes (Cliff's delta, ratio of medians), Kayenta's
//! configuration model ([`MetricConfig`]: harmful direction, critical,
//! minimum effect) and the overall [`Verdict`]. Not owned: where the
//! windows come from (`metrics::series`) or what a verdict triggers.
//!
//! # Peeking
//!
//! The console looks at the verdict every second. A fixed-level test
//! repeated at every look raises a false alarm on identical streams far
//! more often than its level (test `naive_repeated_test_exceeds_alpha`:
//! about 30 % over 300 looks at 5 %). Decisions here use an anytime-valid
//! p-value instead: a normal-mixture SPRT on the U statistic (see
//! `sequential`; Johari et al., "Always valid inference: continuous
//! monitoring of A/B tests", Operations Research 2022), whose false-alarm
//! probability over unlimited looks is at most `alpha` (Ville's
//! inequality; exact for the Gaussian limit of U, checked by simulation in
//! `anytime_false_alarm_rate_stays_under_alpha_over_300_looks`). The
//! anytime p-value of a metric is the smallest `1 / ratio` seen so far, so
//! a failure stays failed.
//!
//! The guarantee needs nested windows: both windows grow from a fixed start
//! (the fault's start, or the rehearsal's), as [`Judge::push`] builds
//! them. A sliding window is a new experiment at every step. It holds per
//! metric; a verdict over `k` metrics at level `alpha` each has a
//! family-wise false-alarm rate of at most `k alpha` (union bound). The
//! test assumes independent samples: feed 10-second rollup means rather
//! than autocorrelated 1-second points, and rely on `min_effect` (a
//! significant difference smaller than it passes) for practical relevance.
//!
//! # Verdict
//!
//! A metric fails when its shift is in its harmful direction, significant
//! (anytime p <= alpha) and at least `min_effect` in |Cliff's delta|. The
//! score is the share of judged metrics that passed, times 100 (0 when a
//! critical metric fails, as in Kayenta); the outcome is fail on a critical
//! failure, else pass at `pass_score` or more, marginal at
//! `marginal_score` or more, fail below.

mod mwu;
mod sequential;

use serde::{Deserialize, Serialize};

pub use mwu::{RankStats, Summary};
pub use sequential::{log_mixture_ratio, normal_sf};

use crate::domain::series::{
    Direction, MetricConfig, MetricOutcome, MetricResult, Shift, Verdict, VerdictOutcome,
};

/// Errors of the judge's configuration and input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JudgeError {
    #[error("judge: alpha must be in (0, 1), got {0}")]
    Alpha(f64),
    #[error("judge: mixture_scale must be positive, got {0}")]
    Scale(f64),
    #[error("judge: metric {0:?} is configured twice")]
    Duplicate(String),
    #[error("judge: min_effect of {name:?} must be in [0, 1], got {value}")]
    MinEffect { name: String, value: f64 },
    #[error("judge: no metric named {0:?} is configured")]
    Unknown(String),
}

/// The judge's constants and its metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeConfig {
    /// False-alarm level per metric, over all looks.
    pub alpha: f64,
    /// Prior scale `tau` on `P(S > R) - 1/2`; 0.1 is tuned to Cliff's
    /// deltas around 0.2 (smaller detects small effects later, large ones
    /// sooner, and vice versa).
    pub mixture_scale: f64,
    /// Samples needed on each side before a metric is judged.
    pub min_samples: usize,
    pub pass_score: f64,
    pub marginal_score: f64,
    pub metrics: Vec<MetricConfig>,
}

impl JudgeConfig {
    pub fn new(metrics: Vec<MetricConfig>) -> Self {
        JudgeConfig {
            alpha: 0.05,
            mixture_scale: 0.1,
            min_samples: 8,
            pass_score: 95.0,
            marginal_score: 75.0,
            metrics,
        }
    }

    fn validate(&self) -> Result<(), JudgeError> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(JudgeError::Alpha(self.alpha));
        }
        if self.mixture_scale.is_nan() || self.mixture_scale <= 0.0 {
            return Err(JudgeError::Scale(self.mixture_scale));
        }
        for (i, m) in self.metrics.iter().enumerate() {
            if self.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(JudgeError::Duplicate(m.name.clone()));
            }
            if !(0.0..=1.0).contains(&m.min_effect) {
                return Err(JudgeError::MinEffect {
                    name: m.name.clone(),
                    value: m.min_effect,
                });
            }
        }
        Ok(())
    }
}

/// Which window a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Shadow,
    /// Production, or the shadow's pre-fault baseline.
    Reference,
}

#[derive(Debug, Clone)]
struct MetricState {
    ranks: RankStats,
    /// Smallest `1 / mixture ratio` over the looks so far.
    p_anytime: f64,
    /// Values skipped because they were not finite.
    dropped: u64,
}

/// A sequential judge over growing windows: push values as they arrive,
/// [`look`](Judge::look) whenever a verdict is wanted.
#[derive(Debug, Clone)]
pub struct Judge {
    config: JudgeConfig,
    states: Vec<MetricState>,
    looks: u64,
}

impl Judge {
    pub fn new(config: JudgeConfig) -> Result<Judge, JudgeError> {
        config.validate()?;
        let state = MetricState {
            ranks: RankStats::new(),
            p_anytime: 1.0,
            dropped: 0,
        };
        Ok(Judge {
            states: vec![state; config.metrics.len()],
            config,
            looks: 0,
        })
    }

    pub fn config(&self) -> &JudgeConfig {
        &self.config
    }

    /// Adds a value to one window of a metric. `Ok(false)`: not finite,
    /// skipped and counted ([`Judge::dropped`]).
    pub fn push(&mut self, metric: &str, side: Side, value: f64) -> Result<bool, JudgeError> {
        let i = self.index(metric)?;
        let state = &mut self.states[i];
        let kept = match side {
            Side::Shadow => state.ranks.push_shadow(value),
            Side::Reference => state.ranks.push_reference(value),
        };
        if !kept {
            state.dropped += 1;
        }
        Ok(kept)
    }

    /// Non-finite values skipped for a metric.
    pub fn dropped(&self, metric: &str) -> Result<u64, JudgeError> {
        Ok(self.states[self.index(metric)?].dropped)
    }

    /// Looks taken so far.
    pub fn looks(&self) -> u64 {
        self.looks
    }

    fn index(&self, metric: &str) -> Result<usize, JudgeError> {
        self.config
            .metrics
            .iter()
            .position(|m| m.name == metric)
            .ok_or_else(|| JudgeError::Unknown(metric.to_owned()))
    }

    /// One look: updates every metric's anytime p-value and returns the
    /// verdict.
    pub fn look(&mut self) -> Verdict {
        self.look_except(&[], "")
    }

    /// [`Judge::look`], with the metrics named in `except` left out of
    /// this verdict (`NoData`; their p-values still update) and, if any of
    /// them had data to judge, `why` as the first reason and their names in
    /// `left_out`: e.g. resource metrics while the two sides serve
    /// different loads. An empty `why` leaves them out silently (as if
    /// still gathering data).
    pub fn look_except(&mut self, except: &[String], why: &str) -> Verdict {
        self.looks += 1;
        let config = &self.config;
        let mut results = config
            .metrics
            .iter()
            .zip(&mut self.states)
            .map(|(metric, state)| {
                let summary = state.ranks.summary();
                let p = look_p(metric, &summary, config);
                if let Some(p) = p {
                    state.p_anytime = state.p_anytime.min(p);
                }
                classify(metric, &summary, state.p_anytime, p.is_some(), config.alpha)
            })
            .collect::<Vec<_>>();
        let mut left_out = Vec::new();
        for r in &mut results {
            if except.contains(&r.name) && r.outcome != MetricOutcome::NoData {
                r.outcome = MetricOutcome::NoData;
                left_out.push(r.name.clone());
            }
        }
        let why = (!left_out.is_empty() && !why.is_empty()).then_some(why);
        Verdict {
            left_out: if why.is_some() { left_out } else { Vec::new() },
            ..verdict(config, results, why)
        }
    }
}

/// The anytime p-value of this look alone (`1 / mixture ratio`, at most 1),
/// or `None` while either side has fewer than `min_samples` values.
fn look_p(metric: &MetricConfig, summary: &Summary, config: &JudgeConfig) -> Option<f64> {
    if summary.n_shadow < config.min_samples || summary.n_reference < config.min_samples {
        return None;
    }
    let log_ratio = log_mixture_ratio(
        harmful_z(summary, metric.direction),
        summary.information(),
        config.mixture_scale,
        metric.direction,
    );
    Some((-log_ratio).exp().min(1.0))
}

/// The z in the harmful direction (two-sided for `Either`).
fn harmful_z(summary: &Summary, direction: Direction) -> f64 {
    match direction {
        Direction::Increase => summary.z_towards(1.0),
        Direction::Decrease => summary.z_towards(-1.0),
        Direction::Either => summary.z(),
    }
}

/// The fixed-horizon p-value of one look in the harmful direction.
fn fixed_p(summary: &Summary, direction: Direction) -> f64 {
    let z = harmful_z(summary, direction);
    match direction {
        Direction::Increase => normal_sf(z),
        Direction::Decrease => normal_sf(-z),
        Direction::Either => (2.0 * normal_sf(z.abs())).min(1.0),
    }
}

fn classify(
    metric: &MetricConfig,
    summary: &Summary,
    p_anytime: f64,
    judged: bool,
    alpha: f64,
) -> MetricResult {
    let delta = summary.cliffs_delta;
    let shift = if delta > 0.0 {
        Shift::Higher
    } else if delta < 0.0 {
        Shift::Lower
    } else {
        Shift::Same
    };
    let harmful = match metric.direction {
        Direction::Increase => shift == Shift::Higher,
        Direction::Decrease => shift == Shift::Lower,
        Direction::Either => shift != Shift::Same,
    };
    let outcome = if !judged {
        MetricOutcome::NoData
    } else if harmful
        && p_anytime <= alpha
        && delta.abs() >= metric.min_effect
        && far_enough(summary.median_ratio(), metric.min_ratio)
    {
        MetricOutcome::Fail
    } else {
        MetricOutcome::Pass
    };
    MetricResult {
        name: metric.name.clone(),
        critical: metric.critical,
        outcome,
        shift,
        n_shadow: summary.n_shadow,
        n_reference: summary.n_reference,
        u: summary.u,
        z: summary.z(),
        p_fixed: fixed_p(summary, metric.direction),
        p_anytime,
        cliffs_delta: delta,
        median_ratio: summary.median_ratio(),
    }
}

/// Whether the medians differ by at least `min_ratio` either way (an
/// undefined ratio, a zero reference median, counts as far).
fn far_enough(median_ratio: f64, min_ratio: f64) -> bool {
    min_ratio <= 1.0
        || !median_ratio.is_finite()
        || median_ratio >= min_ratio
        || median_ratio <= 1.0 / min_ratio
}

/// One stateless look at two whole windows: the anytime p-value of a
/// single look (valid, if conservative, on its own).
pub fn compare(
    metric: &MetricConfig,
    shadow: &[f64],
    reference: &[f64],
    config: &JudgeConfig,
) -> MetricResult {
    let summary = RankStats::from_samples(shadow, reference).summary();
    let p = look_p(metric, &summary, config);
    classify(
        metric,
        &summary,
        p.unwrap_or(1.0),
        p.is_some(),
        config.alpha,
    )
}

fn reason(r: &MetricResult, alpha: f64) -> String {
    let shift = match r.shift {
        Shift::Higher => "higher",
        Shift::Lower => "lower",
        Shift::Same => "the same",
    };
    format!(
        "{}{}: shadow {shift} (Cliff's delta {:+.2}, median x{:.2}, n {}/{}), anytime p {:.2e} <= alpha {alpha}",
        r.name,
        if r.critical { " (critical)" } else { "" },
        r.cliffs_delta,
        r.median_ratio,
        r.n_shadow,
        r.n_reference,
        r.p_anytime,
    )
}

/// The verdict on `metrics`; `left_out` says why some metrics with data
/// were not judged (the first reason, and the only one if none was).
fn verdict(config: &JudgeConfig, metrics: Vec<MetricResult>, left_out: Option<&str>) -> Verdict {
    let judged = metrics
        .iter()
        .filter(|m| m.outcome != MetricOutcome::NoData)
        .count();
    let passed = metrics
        .iter()
        .filter(|m| m.outcome == MetricOutcome::Pass)
        .count();
    let failed: Vec<&MetricResult> = metrics
        .iter()
        .filter(|m| m.outcome == MetricOutcome::Fail)
        .collect();
    let critical = failed.iter().any(|m| m.critical);
    let mut reasons: Vec<String> = left_out.map(str::to_owned).into_iter().collect();
    reasons.extend(failed.iter().map(|m| reason(m, config.alpha)));
    let (outcome, score) = if judged == 0 {
        if left_out.is_none() {
            reasons.push(format!(
                "no metric has {} samples on both sides yet",
                config.min_samples
            ));
        }
        (VerdictOutcome::Marginal, 100.0)
    } else if critical {
        reasons.push("a critical metric failed".to_owned());
        (VerdictOutcome::Fail, 0.0)
    } else {
        let score = 100.0 * passed as f64 / judged as f64;
        let outcome = if score >= config.pass_score {
            VerdictOutcome::Pass
        } else if score >= config.marginal_score {
            VerdictOutcome::Marginal
        } else {
            VerdictOutcome::Fail
        };
        if outcome != VerdictOutcome::Pass {
            reasons.push(format!(
                "{passed} of {judged} metrics passed (score {score:.0})"
            ));
        }
        (outcome, score)
    };
    Verdict {
        outcome,
        score,
        metrics,
        reasons,
        left_out: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
