//! Tests of the combined detector on synthetic series, plus one loose check
//! on NAB data when `../shared/data/nab` is present.
#![allow(clippy::float_cmp)] // scores of 0 are exact

use proptest::prelude::*;

use super::{Cause, Config, Detector, Series};

/// Deterministic noise: a xorshift generator, roughly normal (sum of four
/// uniforms, unit variance).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.uniform()).sum();
        (s - 2.0) * 3f64.sqrt()
    }
}

const T0: f64 = 1_396_310_400.0; // 2014-04-01 00:00:00 UTC

fn detector() -> Detector {
    Detector::new(Series::new("p99 latency", "ms"), Config::default())
}

/// Scores of `values` sampled every `step` seconds.
fn scores(values: &[f64], step: f64) -> Vec<f64> {
    let mut d = detector();
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| d.push(T0 + i as f64 * step, v).score)
        .collect()
}

/// Every value into `d`, one a minute; what each scored.
fn push_all(d: &mut Detector, values: &[f64]) -> Vec<super::Scored> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| d.push(T0 + i as f64 * 60.0, v))
        .collect()
}

fn noisy(n: usize, level: f64, seed: u64) -> Vec<f64> {
    let mut noise = Noise(seed);
    (0..n).map(|_| level + noise.normal()).collect()
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(0.0, f64::max)
}

#[test]
fn a_level_shift_is_flagged_within_ten_points_and_the_score_decays() {
    // A 4-sigma shift: no single point is extreme, the shift chart flags it.
    let mut values = noisy(2500, 100.0, 1);
    for v in &mut values[1500..] {
        *v += 4.0;
    }
    let s = scores(&values, 60.0);
    assert!(
        max(&s[300..1500]) < 0.05,
        "quiet before: {}",
        max(&s[300..1500])
    );
    assert!(max(&s[1500..1510]) > 0.1, "flagged: {:?}", &s[1500..1510]);
    assert!(max(&s[1520..]) < 0.05, "decays: {}", max(&s[1520..]));
}

/// `end_warmup` starts scoring at once when enough points were learned
/// (a shift after 50 of the 200 warm-up points is flagged), and does
/// nothing with too few or once scoring.
#[test]
fn ending_the_warmup_early_scores_what_follows() {
    let mut values = noisy(80, 100.0, 3);
    for v in &mut values[50..] {
        *v += 8.0;
    }
    let push = |d: &mut Detector, from: usize, to: usize| -> Vec<f64> {
        (from..to)
            .map(|i| d.push(T0 + i as f64 * 60.0, values[i]).score)
            .collect()
    };
    let mut d = detector();
    push(&mut d, 0, 5);
    assert!(!d.end_warmup(10), "5 points are too few");
    assert!(d.learning());
    push(&mut d, 5, 50);
    assert!(d.end_warmup(10));
    assert!(!d.learning());
    assert!(!d.end_warmup(10), "already scoring");
    let after = push(&mut d, 50, 80);
    assert!(max(&after[..10]) > 0.3, "flagged: {after:?}");
    // Left to learn, the same detector would score none of it.
    let mut d = detector();
    let learned = push_all(&mut d, &values);
    assert!(
        learned
            .iter()
            .all(|s| s.score == 0.0 && s.explanation.cause == Cause::Warmup)
    );
}

/// Alternating +-4 standard deviations (5 spreads) from point 1200 on: the
/// mean does not move, so the shift chart does not see it.
fn oscillation() -> Vec<f64> {
    let mut values = noisy(1500, 100.0, 12);
    for (i, v) in values[1200..].iter_mut().enumerate() {
        *v += if i % 2 == 0 { 4.0 } else { -4.0 };
    }
    values
}

#[test]
fn an_oscillation_around_the_same_level_is_flagged_at_once() {
    let mut d = detector();
    let scored = push_all(&mut d, &oscillation());
    let s: Vec<f64> = scored.iter().map(|x| x.score).collect();
    assert!(
        max(&s[300..1200]) < 0.05,
        "quiet before: {}",
        max(&s[300..1200])
    );
    // Its first point is 5 spreads out, past the spike's record and margin
    // on this quiet series: a spike. Like every chart's, that first alarm
    // of the episode is its only one.
    let first = (1200..1500).find(|&i| s[i] > 0.0);
    assert!(
        matches!(first, Some(i) if i < 1210),
        "first alarm {first:?}"
    );
    let first = first.unwrap_or_default();
    assert!(
        matches!(
            scored[first].explanation.cause,
            Cause::Spike | Cause::Flapping
        ),
        "{:?}",
        scored[first].explanation.cause
    );
}

#[test]
fn the_flapping_chart_sees_an_oscillation_no_single_point_of_which_is_extreme() {
    // The spike off: what is left to see the oscillation is the flapping
    // chart (the step between consecutive residuals).
    let mut d = Detector::new(
        Series::default(),
        Config {
            spike_floor: f64::INFINITY,
            ..Config::default()
        },
    );
    let scored = push_all(&mut d, &oscillation());
    let first = (1200..1500).find(|&i| scored[i].score > 0.0);
    assert!(
        matches!(first, Some(i) if i < 1210),
        "first alarm {first:?}"
    );
    let first = first.unwrap_or_default();
    assert_eq!(scored[first].explanation.cause, Cause::Flapping);
}

#[test]
fn a_seasonal_series_without_anomaly_stays_low_after_warmup() {
    let mut noise = Noise(2);
    let step = 300.0;
    let values: Vec<f64> = (0..14 * 288)
        .map(|i| {
            let phase = f64::from(i % 288) / 288.0 * std::f64::consts::TAU;
            50.0 + 30.0 * phase.sin() + 2.0 * noise.normal()
        })
        .collect();
    let s = scores(&values, step);
    let after = &s[3 * 288..];
    assert!(max(after) < 0.35, "max {}", max(after));
    assert!(after.iter().filter(|&&x| x > 0.1).count() <= 3);
}

#[test]
fn the_seasonal_baseline_flags_a_missing_daily_peak() {
    let step = 300.0;
    let mut noise = Noise(3);
    let values: Vec<f64> = (0..10 * 288)
        .map(|i| {
            let hour = (i % 288) / 12;
            let peak = (9..17).contains(&hour) && i / 288 != 8;
            (if peak { 80.0 } else { 20.0 }) + noise.normal()
        })
        .collect();
    let s = scores(&values, step);
    let missing = 8 * 288 + 9 * 12;
    assert!(
        max(&s[missing..missing + 12]) > 0.5,
        "{:?}",
        &s[missing..missing + 12]
    );
    assert!(
        max(&s[3 * 288..8 * 288]) < 0.3,
        "{}",
        max(&s[3 * 288..8 * 288])
    );
}

/// The alarm budget charges a series for its earlier alarms only: a quiet
/// series' first alarm scores as without it, a noisy series' later ones less.
#[test]
fn the_alarm_budget_spares_a_quiet_series_and_damps_a_noisy_one() {
    let run = |values: &[f64], budget_gain: f64| -> Vec<f64> {
        let mut d = Detector::new(
            Series::default(),
            Config {
                budget_gain,
                ..Config::default()
            },
        );
        push_all(&mut d, values).iter().map(|s| s.score).collect()
    };
    let mut quiet = noisy(1500, 10.0, 4);
    quiet[1200] = 40.0;
    assert_eq!(run(&quiet, 1.0), run(&quiet, 0.0));
    // Ever larger spikes: each one alarms, and each alarm makes the next
    // one's score smaller than it would be without the budget.
    let mut noisy_series = noisy(3000, 10.0, 8);
    let mut size = 8.0;
    for k in 0..8 {
        noisy_series[400 + 300 * k] += size;
        size *= 1.5;
    }
    let (with, without) = (run(&noisy_series, 1.0), run(&noisy_series, 0.0));
    assert!(
        with[2500] > 0.0 && with[2500] < 0.8 * without[2500],
        "{} vs {}",
        with[2500],
        without[2500]
    );
}

#[test]
fn a_spike_scores_high_once() {
    // 30 spreads: more than twice what the spike must beat (its record, 1.2x
    // its typical daily maximum, and the 1.2 margin), so above 0.5.
    let mut values = noisy(1500, 10.0, 4);
    values[1200] = 40.0;
    let s = scores(&values, 60.0);
    assert!(s[1200] > 0.5, "{}", s[1200]);
    assert!(max(&s[1201..]) < 0.1, "{}", max(&s[1201..]));
}

/// A bursty series (a 7-12 spread spike every ~day) learns that such spikes
/// are everyday, however long it runs, yet still flags a much larger one.
/// Returns the points raised as spikes: (index, score).
fn bursty_spikes(config: Config) -> Vec<(usize, f64)> {
    let mut noise = Noise(10);
    let mut values = noisy(20_000, 10.0, 11);
    for i in (500..20_000).step_by(290) {
        values[i] += 7.0 + 5.0 * noise.uniform();
    }
    values[15_000] += 40.0;
    let mut d = Detector::new(Series::default(), config);
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i, d.push(T0 + i as f64 * 300.0, v)))
        .filter(|(_, s)| s.explanation.cause == Cause::Spike && s.score > 0.0)
        .map(|(i, s)| (i, s.score))
        .collect()
}

#[test]
fn everyday_spikes_of_a_long_bursty_series_stay_quiet() {
    // Spikes after the floor is learned that score at least 0.01: below
    // that a score is noise to every consumer (the thresholds NAB picks for
    // this detector run 0.005 - 0.025, the live watch alerts at 0.5).
    let late = |spikes: &[(usize, f64)]| -> Vec<(usize, f64)> {
        spikes
            .iter()
            .copied()
            .filter(|&(i, score)| i >= 3000 && score >= 0.01)
            .collect()
    };
    let spikes = late(&bursty_spikes(Config::default()));
    assert_eq!(spikes.len(), 1, "{spikes:?}");
    assert!(spikes[0].0 == 15_000 && spikes[0].1 > 0.3, "{spikes:?}");
    // Without the typical-maximum floor the decaying record lets ordinary
    // spikes alarm again and again.
    let bare = late(&bursty_spikes(Config {
        spike_typical: 0.0,
        ..Config::default()
    }));
    assert!(bare.len() > 5, "{bare:?}");
}

#[test]
fn a_slow_sustained_drift_is_eventually_flagged() {
    let mut values = noisy(4000, 10.0, 5);
    for (i, v) in values[2000..].iter_mut().enumerate() {
        *v += 0.01 * i as f64;
    }
    let s = scores(&values, 60.0);
    let first = s[2000..].iter().position(|&x| x > 0.3).map(|i| i + 2000);
    assert!(max(&s[300..2000]) < 0.3);
    assert!(
        matches!(first, Some(i) if i < 3000),
        "first alarm {first:?}"
    );
}

#[test]
fn a_flatline_then_a_change_is_flagged() {
    let mut values = vec![45.0; 800];
    values.extend(std::iter::repeat_n(45.5, 200));
    let s = scores(&values, 300.0);
    assert!(max(&s[..800]) == 0.0);
    assert!(s[800] > 0.9, "{}", s[800]);
}

#[test]
fn nan_gaps_out_of_order_and_duplicates_are_counted_not_fatal() {
    let mut d = detector();
    let mut noise = Noise(6);
    let mut t = T0;
    for i in 0..600 {
        t += if i == 300 { 86_400.0 } else { 60.0 };
        let v = 10.0 + noise.normal();
        assert!(d.push(t, v).score.is_finite());
        if i % 100 == 7 {
            assert_eq!(d.push(t, f64::NAN).explanation.cause, Cause::Skipped);
            assert_eq!(d.push(t - 3600.0, v).explanation.cause, Cause::Skipped);
            assert!(d.push(t, v).score.is_finite());
            assert_eq!(d.push(f64::INFINITY, v).score, 0.0);
        }
    }
    let c = d.counts();
    assert_eq!(
        (c.not_finite, c.out_of_order, c.duplicates, c.gaps),
        (12, 6, 6, 1)
    );
    assert_eq!(c.points, 606);
}

#[test]
fn the_same_input_gives_the_same_scores() {
    let values = noisy(3000, 5.0, 7);
    let a = scores(&values, 10.0);
    let b = scores(&values, 10.0);
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn state_fits_in_two_kilobytes() {
    let d = detector();
    assert!(d.state_bytes() <= 2048, "{} bytes", d.state_bytes());
    let mut d2 = d.clone();
    for (i, v) in noisy(5000, 1.0, 8).into_iter().enumerate() {
        d2.push(i as f64 * 60.0, v);
    }
    assert_eq!(d2.state_bytes(), d.state_bytes(), "no growth with the data");
}

#[test]
fn the_explanation_names_the_series_and_the_shift() {
    let mut d = detector();
    let mut noise = Noise(9);
    let mut best = None;
    for i in 0..1500 {
        let v = if i < 1200 { 100.0 } else { 300.0 } + noise.normal();
        let scored = d.push(T0 + f64::from(i) * 20.0, v);
        if i >= 1200 && best.is_none_or(|(s, _)| scored.score > s) {
            best = Some((scored.score, scored));
        }
    }
    let (_, scored) = best.unwrap();
    let text = d.explain(&scored);
    assert!(
        text.starts_with("p99 latency 29") || text.starts_with("p99 latency 30"),
        "{text}"
    );
    assert!(text.contains("3.0x its baseline 100 ms"), "{text}");
}

proptest! {
    #[test]
    fn prefix_scores_equal_full_scores(
        points in prop::collection::vec((0u8..4, -1e3f64..1e3, prop::bool::weighted(0.03)), 1..700),
        cut in 0usize..700,
    ) {
        let series: Vec<(f64, f64)> = points
            .iter()
            .scan(T0, |t, &(dt, v, nan)| {
                *t += f64::from(dt) * 60.0 - 30.0;
                Some((*t, if nan { f64::NAN } else { v }))
            })
            .collect();
        let cut = cut.min(series.len());
        let run = |pts: &[(f64, f64)]| {
            let mut d = detector();
            pts.iter().map(|&(t, v)| d.push(t, v).score.to_bits()).collect::<Vec<_>>()
        };
        let full = run(&series);
        prop_assert_eq!(&run(&series[..cut])[..], &full[..cut]);
    }
}

/// Loose check on real data: on two NAB files the highest score after the
/// probation period falls inside a labelled window.
#[test]
fn nab_top_score_falls_in_a_labelled_window() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/nab");
    let Ok(windows) = std::fs::read_to_string(data.join("combined_windows.json")) else {
        eprintln!("skipped: no NAB data at {}", data.display());
        return;
    };
    let windows: serde_json::Value = serde_json::from_str(&windows).unwrap();
    for file in [
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        "realKnownCause/ambient_temperature_system_failure.csv",
    ] {
        let text = std::fs::read_to_string(data.join(file)).unwrap();
        let mut d = detector();
        let rows: Vec<(f64, f64)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let (t, v) = l.split_once(',').unwrap();
                let t = super::timestamp::parse(t).unwrap();
                (t, d.push(t, v.parse().unwrap()).score)
            })
            .collect();
        let probation = (rows.len() * 15 / 100).min(750);
        let (t_max, _) = rows[probation..]
            .iter()
            .fold((0.0, -1.0), |b, &(t, s)| if s > b.1 { (t, s) } else { b });
        let inside = windows[file].as_array().unwrap().iter().any(|w| {
            let start = super::timestamp::parse(w[0].as_str().unwrap()).unwrap();
            let end = super::timestamp::parse(w[1].as_str().unwrap()).unwrap();
            (start..=end).contains(&t_max)
        });
        assert!(
            inside,
            "{file}: top score at {t_max} is outside every window"
        );
    }
}

/// A noisy gauge that freezes (a stuck sensor or exporter) at an ordinary
/// value: no point is unusual by size, the still run is.
#[test]
fn a_series_that_freezes_at_an_ordinary_value_is_flagged_as_stuck() {
    let mut values = noisy(3000, 50.0, 4);
    let frozen = 50.0; // the level itself: no residual at all
    for v in &mut values[2000..2100] {
        *v = frozen;
    }
    let mut d = detector();
    let scored = push_all(&mut d, &values);
    let before = max(&scored[..2000].iter().map(|s| s.score).collect::<Vec<_>>());
    let (at, top) = scored[2000..2100]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
        .unwrap();
    // Like every slowly growing statistic, it alarms once, when it first
    // beats its record: a low score, at the level NAB's thresholds sit.
    assert!(
        top.score > 0.02 && top.score > 2.0 * before,
        "{top:?} vs {before}"
    );
    assert_eq!(top.explanation.cause, Cause::Still);
    // The run must outlast its floor of 20 points by the margin of 1.5.
    assert!((30..40).contains(&at), "flagged {at} points in");
    let text = d.explain(top);
    assert!(
        text.contains("unchanged for") && text.ends_with("(stuck)"),
        "{text}"
    );
    // Off, nothing is seen.
    let off = Config {
        still_floor: 0.0,
        ..Config::default()
    };
    let mut d = Detector::new(Series::default(), off);
    let off_scores: Vec<f64> = push_all(&mut d, &values).iter().map(|s| s.score).collect();
    assert!(
        max(&off_scores[2000..2100]) < top.score / 2.0,
        "{}",
        max(&off_scores[2000..2100])
    );
}

/// Equal values are ordinary where they always were: a series constant
/// from its start, and small counts that repeat in short runs.
#[test]
fn repeats_a_series_always_had_are_not_stuck() {
    let constant = vec![0.0; 3000];
    assert_eq!(max(&scores(&constant, 60.0)), 0.0);
    // Counts of 0-2 with runs of equal values up to ~10 long.
    let mut noise = Noise(9);
    let counts: Vec<f64> = (0..6000)
        .map(|_| (noise.uniform() * 2.6).floor().min(2.0) * f64::from(noise.uniform() < 0.5))
        .collect();
    let longest = counts
        .chunk_by(|a, b| a == b)
        .map(<[f64]>::len)
        .max()
        .unwrap();
    assert!(longest >= 8, "the fixture has runs ({longest})");
    let mut d = detector();
    let stuck = push_all(&mut d, &counts)
        .iter()
        .filter(|s| s.explanation.cause == Cause::Still)
        .count();
    assert_eq!(stuck, 0);
}

/// A series that wandered smoothly (a slow wave) turns into point-to-point
/// noise of the same size around the same level: no point is extreme, the
/// mean does not move and the steps stay under the flapping chart's floor,
/// but the residual's lag-1 autocorrelation falls from about 1 to 0, which
/// the decorrelation chart sees.
#[test]
fn a_smooth_series_turning_into_noise_is_flagged_by_its_lost_autocorrelation() {
    let mut noise = Noise(21);
    let values: Vec<f64> = (0..1800)
        .map(|i| {
            if i < 1500 {
                50.0 + 3.0 * (f64::from(i) * std::f64::consts::TAU / 300.0).sin()
                    + 0.1 * noise.normal()
            } else {
                50.0 + 2.1 * noise.normal()
            }
        })
        .collect();
    let run = |config: Config| {
        let mut d = Detector::new(Series::new("cpu", "%"), config);
        push_all(&mut d, &values)
    };
    let with = run(Config::default());
    let without = run(Config {
        decorrelation_span: 0.0,
        ..Config::default()
    });
    let s: Vec<f64> = with.iter().map(|x| x.score).collect();
    assert!(
        max(&s[300..1500]) < 0.03,
        "quiet before: {}",
        max(&s[300..1500])
    );
    let first = |scored: &[super::Scored]| (1500..1800).find(|&i| scored[i].score > 0.03);
    let found = first(&with);
    assert!(
        matches!(found, Some(i) if i < 1560),
        "first alarm {found:?}, max {}",
        max(&s[1500..])
    );
    let i = found.unwrap_or_default();
    assert_eq!(with[i].explanation.cause, Cause::Flapping);
    assert!(
        first(&without).is_none_or(|j| j > i + 50),
        "without the chart: {:?}",
        first(&without)
    );
}
