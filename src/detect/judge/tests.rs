#![allow(clippy::float_cmp)] // exact values are the point of these checks

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn brute_u(x: &[f64], y: &[f64]) -> f64 {
    let mut u = 0.0;
    for a in x {
        for b in y {
            if a > b {
                u += 1.0;
            } else if a == b {
                u += 0.5;
            }
        }
    }
    u
}

#[test]
fn u_and_tie_corrected_variance_match_a_textbook_example() {
    // Shadow 3, 4, 4, 6; reference 1, 2, 4, 5, 5.
    let stats = RankStats::from_samples(&[3.0, 4.0, 4.0, 6.0], &[1.0, 2.0, 4.0, 5.0, 5.0]);
    let s = stats.summary();
    assert_eq!(s.u, 12.0);
    // Ties: three 4s (24) and two 5s (6): var = 20/12 * (10 - 30/72).
    let var: f64 = 20.0 / 12.0 * (10.0 - 30.0 / 72.0);
    assert!((s.sd - var.sqrt()).abs() < 1e-12);
    assert!((s.cliffs_delta - (24.0 / 20.0 - 1.0)).abs() < 1e-12);
    assert_eq!((s.median_shadow, s.median_reference), (4.0, 4.0));
}

#[test]
fn all_ties_carry_no_evidence() {
    let s = RankStats::from_samples(&[0.0; 50], &[0.0; 50]).summary();
    assert_eq!((s.sd, s.z(), s.information()), (0.0, 0.0, 0.0));
    assert!(s.median_ratio().is_nan());
}

/// Pushes one value to each window of `metric`.
fn push_both(judge: &mut Judge, metric: &str, reference: f64, shadow: f64) {
    judge.push(metric, Side::Reference, reference).unwrap();
    judge.push(metric, Side::Shadow, shadow).unwrap();
}

fn latency() -> Vec<MetricConfig> {
    vec![
        MetricConfig::new("latency_p99_ms", Direction::Increase).critical(),
        MetricConfig::new("rps", Direction::Decrease),
        MetricConfig::new("cpu_percent", Direction::Either),
    ]
}

#[test]
fn a_critical_failure_fails_the_verdict() {
    let mut judge = Judge::new(JudgeConfig::new(latency())).unwrap();
    for i in 0..60 {
        let x = f64::from(i % 10);
        push_both(&mut judge, "latency_p99_ms", 100.0 + x, 130.0 + x);
        for name in ["rps", "cpu_percent"] {
            push_both(&mut judge, name, x, x);
        }
    }
    let v = judge.look();
    assert_eq!(v.outcome, VerdictOutcome::Fail);
    assert_eq!(v.score, 0.0);
    let p99 = &v.metrics[0];
    assert_eq!(
        (p99.outcome, p99.shift),
        (MetricOutcome::Fail, Shift::Higher)
    );
    assert!((p99.median_ratio - 134.5 / 104.5).abs() < 1e-12);
    assert!(p99.p_anytime < 1e-6);
    assert!(
        v.reasons[0].starts_with("latency_p99_ms (critical): shadow higher"),
        "{:?}",
        v.reasons
    );
    assert_eq!(v.metrics[1].outcome, MetricOutcome::Pass);
}

/// Metrics left out of a look are not judged (a critical failure among
/// them fails nothing) and the reason comes first; a left-out metric with
/// no data yet changes nothing and gives no reason.
#[test]
fn metrics_left_out_of_a_look_are_not_judged_and_say_why() {
    let mut judge = Judge::new(JudgeConfig::new(latency())).unwrap();
    for i in 0..60 {
        let x = f64::from(i % 10);
        push_both(&mut judge, "latency_p99_ms", 100.0 + x, 130.0 + x);
        push_both(&mut judge, "rps", x, x);
    }
    let p99 = vec!["latency_p99_ms".to_owned()];
    let v = judge.look_except(&p99, "load differs");
    assert_eq!(v.metrics[0].outcome, MetricOutcome::NoData);
    assert_eq!((v.outcome, v.score), (VerdictOutcome::Pass, 100.0));
    assert_eq!(v.reasons, vec!["load differs".to_owned()]);
    assert_eq!(v.left_out, p99);
    assert_eq!(judge.look().outcome, VerdictOutcome::Fail, "judged again");
    let cpu = vec!["cpu_percent".to_owned()];
    let v = judge.look_except(&cpu, "load differs");
    assert_eq!(v.outcome, VerdictOutcome::Fail);
    assert!(
        !v.reasons.contains(&"load differs".to_owned()),
        "{:?}",
        v.reasons
    );
    assert!(v.left_out.is_empty());
    let v = judge.look_except(&p99, "");
    assert_eq!(v.metrics[0].outcome, MetricOutcome::NoData, "silently");
    assert!(v.left_out.is_empty() && !v.reasons.iter().any(String::is_empty));
}

#[test]
fn harmless_directions_and_small_effects_pass() {
    let mut configs = latency();
    configs[2].min_effect = 0.9;
    let mut judge = Judge::new(JudgeConfig::new(configs)).unwrap();
    for i in 0..80 {
        let x = f64::from(i % 10);
        // Latency down and throughput up: both good news.
        push_both(&mut judge, "latency_p99_ms", 100.0 + x, 50.0 + x);
        push_both(&mut judge, "rps", x, x + 20.0);
        // A significant but small shift (delta 0.2 < 0.9).
        push_both(&mut judge, "cpu_percent", x, x + 1.0);
    }
    let v = judge.look();
    assert_eq!(v.outcome, VerdictOutcome::Pass, "{v:?}");
    assert_eq!(v.score, 100.0);
    assert_eq!(v.metrics[2].shift, Shift::Higher);
}

#[test]
fn one_non_critical_failure_of_three_is_a_failing_score() {
    let mut judge = Judge::new(JudgeConfig::new(latency())).unwrap();
    for i in 0..80 {
        let x = f64::from(i % 10);
        push_both(&mut judge, "rps", 100.0 + x, 60.0 + x);
        for name in ["latency_p99_ms", "cpu_percent"] {
            push_both(&mut judge, name, x, x);
        }
    }
    let v = judge.look();
    assert_eq!(v.outcome, VerdictOutcome::Fail);
    assert!((v.score - 200.0 / 3.0).abs() < 1e-9);
}

#[test]
fn too_few_samples_is_no_data_and_nan_is_counted() {
    let mut judge = Judge::new(JudgeConfig::new(latency())).unwrap();
    assert_eq!(judge.push("rps", Side::Shadow, f64::NAN), Ok(false));
    assert_eq!(judge.dropped("rps"), Ok(1));
    assert_eq!(
        judge.push("nope", Side::Shadow, 1.0),
        Err(JudgeError::Unknown("nope".into()))
    );
    let v = judge.look();
    assert_eq!(v.outcome, VerdictOutcome::Marginal);
    assert!(v.metrics.iter().all(|m| m.outcome == MetricOutcome::NoData));
}

#[test]
fn bad_configurations_are_refused() {
    let mut c = JudgeConfig::new(latency());
    c.alpha = 1.0;
    assert_eq!(Judge::new(c).err(), Some(JudgeError::Alpha(1.0)));
    let mut c = JudgeConfig::new(latency());
    c.metrics.push(MetricConfig::new("rps", Direction::Either));
    assert!(matches!(Judge::new(c), Err(JudgeError::Duplicate(_))));
}

#[test]
fn compare_against_a_baseline_in_one_look() {
    let baseline: Vec<f64> = (0..100).map(|i| f64::from(i % 20)).collect();
    let after: Vec<f64> = (0..40).map(|i| f64::from(i % 20) + 15.0).collect();
    let config = JudgeConfig::new(latency());
    let r = compare(&config.metrics[0], &after, &baseline, &config);
    assert_eq!(r.outcome, MetricOutcome::Fail);
    assert!(r.p_anytime < 0.05);
    // One look: the anytime p-value is the more conservative.
    assert!(r.p_anytime >= r.p_fixed);
}

proptest! {
    #[test]
    fn mann_whitney_is_symmetric_and_matches_brute_force(
        x in prop::collection::vec(-5i32..5, 0..40),
        y in prop::collection::vec(-5i32..5, 0..40),
    ) {
        let x: Vec<f64> = x.into_iter().map(f64::from).collect();
        let y: Vec<f64> = y.into_iter().map(f64::from).collect();
        let xy = RankStats::from_samples(&x, &y).summary();
        let yx = RankStats::from_samples(&y, &x).summary();
        prop_assert_eq!(xy.u, brute_u(&x, &y));
        prop_assert_eq!(xy.u + yx.u, (x.len() * y.len()) as f64);
        prop_assert!((xy.z() + yx.z()).abs() < 1e-12);
        prop_assert!((xy.cliffs_delta + yx.cliffs_delta).abs() < 1e-12);
        prop_assert!((xy.sd - yx.sd).abs() < 1e-9);
    }

    #[test]
    fn incremental_equals_batch(
        pushes in prop::collection::vec((any::<bool>(), -4i32..4), 0..80),
    ) {
        let mut inc = RankStats::new();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for (shadow, v) in pushes {
            let v = f64::from(v);
            if shadow { inc.push_shadow(v); x.push(v); } else { inc.push_reference(v); y.push(v); }
        }
        let batch = RankStats::from_samples(&x, &y);
        // Debug output, so NaN medians of empty sides compare equal.
        prop_assert_eq!(format!("{:?}", inc.summary()), format!("{:?}", batch.summary()));
    }
}

/// Standard normal by Box-Muller.
fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A latency-like value: lognormal with median 100 ms, sigma 0.5.
fn latency_ms(rng: &mut StdRng, scale: f64) -> f64 {
    100.0 * scale * (0.5 * gauss(rng)).exp()
}

struct Simulation {
    /// Share of streams with an anytime rejection at some look.
    anytime: f64,
    /// Share with a fixed-level rejection at some look.
    naive: f64,
    /// Median look of the first anytime rejection (rejected streams).
    median_detection: Option<u64>,
}

/// `sims` stream pairs, one value per side per step, a look after every
/// step; the shadow is `shadow_scale` times the reference.
fn simulate(
    sims: u64,
    looks: u64,
    direction: Direction,
    draw: impl Fn(&mut StdRng, f64) -> f64,
    shadow_scale: f64,
) -> Simulation {
    let metric = MetricConfig::new("m", direction).min_effect(0.0);
    let config = JudgeConfig::new(vec![metric]);
    let (mut anytime, mut naive, mut detections) = (0u64, 0u64, Vec::new());
    for seed in 0..sims {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut judge = Judge::new(config.clone()).unwrap();
        let (mut any_hit, mut naive_hit) = (false, false);
        for look in 1..=looks {
            let reference = draw(&mut rng, 1.0);
            let shadow = draw(&mut rng, shadow_scale);
            push_both(&mut judge, "m", reference, shadow);
            let r = &judge.look().metrics[0];
            if r.outcome == MetricOutcome::NoData {
                continue;
            }
            naive_hit |= r.p_fixed <= config.alpha;
            if !any_hit && r.outcome == MetricOutcome::Fail {
                any_hit = true;
                detections.push(look);
            }
        }
        anytime += u64::from(any_hit);
        naive += u64::from(naive_hit);
    }
    detections.sort_unstable();
    Simulation {
        anytime: anytime as f64 / sims as f64,
        naive: naive as f64 / sims as f64,
        median_detection: detections.get(detections.len() / 2).copied(),
    }
}

/// 2,000 identical stream pairs, each looked at after every one of 300
/// steps: the anytime test's family-wise false-alarm rate stays under
/// alpha = 0.05 (one- and two-sided).
#[test]
fn anytime_false_alarm_rate_stays_under_alpha_over_300_looks() {
    for direction in [Direction::Increase, Direction::Either] {
        let sim = simulate(2000, 300, direction, latency_ms, 1.0);
        eprintln!(
            "identical streams, {direction:?}: anytime {:.4}, naive {:.4}",
            sim.anytime, sim.naive
        );
        assert!(sim.anytime <= 0.05, "{direction:?}: {}", sim.anytime);
    }
}

/// The same streams under a fixed-level test repeated at every look.
#[test]
fn naive_repeated_test_exceeds_alpha() {
    let sim = simulate(2000, 300, Direction::Increase, latency_ms, 1.0);
    assert!(sim.naive > 0.15, "naive {}", sim.naive);
    assert!(sim.anytime < sim.naive);
}

/// Heavy ties (a small count metric, mostly 0 and 1) keep the guarantee.
#[test]
fn false_alarm_rate_holds_with_heavy_ties() {
    let counts = |rng: &mut StdRng, _: f64| -> f64 {
        let u: f64 = rng.random();
        if u < 0.6 {
            0.0
        } else if u < 0.9 {
            1.0
        } else {
            2.0
        }
    };
    let sim = simulate(1000, 300, Direction::Either, counts, 1.0);
    eprintln!("ties: anytime {:.4}, naive {:.4}", sim.anytime, sim.naive);
    assert!(sim.anytime <= 0.05, "{}", sim.anytime);
}

/// A real shift (+20 % on the median, sigma 0.5) is found.
#[test]
fn detects_a_twenty_percent_median_shift() {
    let sim = simulate(500, 300, Direction::Increase, latency_ms, 1.2);
    eprintln!(
        "+20 % median: power {:.3} within 300 looks, median detection at look {:?}",
        sim.anytime, sim.median_detection
    );
    assert!(sim.anytime >= 0.9, "power {}", sim.anytime);
    // The wrong direction never fails.
    let sim = simulate(200, 300, Direction::Decrease, latency_ms, 1.2);
    assert_eq!(sim.anytime, 0.0);
}
