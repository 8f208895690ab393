use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn parses_k6_stages() {
    assert_eq!(
        parse_stages("30s:100,1m:500,30s:0").unwrap(),
        vec![
            Stage {
                duration: secs(30),
                target: 100.0
            },
            Stage {
                duration: secs(60),
                target: 500.0
            },
            Stage {
                duration: secs(30),
                target: 0.0
            },
        ]
    );
    assert_eq!(
        parse_stages(" 1m30s : 2.5 ").unwrap(),
        vec![Stage {
            duration: secs(90),
            target: 2.5
        }]
    );
}

#[test]
fn stage_errors_give_the_column_and_the_stage_in_quotes() {
    let cases = [
        ("1m:100,1m:5x0", 12, "1m:5x0"),
        ("1m:5x0", 5, "1m:5x0"),
        ("30s:100,1m", 11, "1m"),
        ("30s:100,,1m:5", 9, ""),
        ("3Os:100", 1, "3Os:100"),
        ("30s:100,1m:", 12, "1m:"),
        ("30s:100,:5", 9, ":5"),
        ("30s:100,3$:5", 10, "3$:5"),
        ("10s:-5", 5, "10s:-5"),
        ("10parsecs:5", 1, "10parsecs:5"),
    ];
    for (input, column, stage) in cases {
        match parse_stages(input) {
            Err(ScheduleError::Stage {
                column: c,
                stage: s,
                ..
            }) => {
                assert_eq!((c, s.as_str()), (column, stage), "{input}");
            }
            other => panic!("{input}: {other:?}"),
        }
    }
    let message = parse_stages("1m:100,1m:5x0").unwrap_err().to_string();
    assert!(
        message.starts_with("invalid stage \"1m:5x0\" at column 12: "),
        "{message}"
    );
    assert_eq!(parse_stages(""), Err(ScheduleError::NoStages));
}

#[test]
fn constant_rate_has_the_exact_count_and_spacing() {
    let curve = RateCurve::constant(100.0, secs(3)).unwrap();
    let arrivals: Vec<_> = curve.arrivals(Spacing::Even, 3).collect();
    assert_eq!(arrivals.len(), 300);
    for (k, a) in arrivals.iter().enumerate() {
        let expected = Duration::from_micros(k as u64 * 10_000);
        assert!(
            a.at.abs_diff(expected) < Duration::from_micros(1),
            "arrival {k} at {:?}",
            a.at
        );
        assert_eq!(a.request, k % 3);
    }
}

#[test]
fn stages_ramp_from_zero() {
    let stages = parse_stages("10s:100,10s:100,10s:0").unwrap();
    let curve = RateCurve::from_stages(&stages).unwrap();
    assert_eq!(curve.duration(), secs(30));
    assert!((curve.total() - 2000.0).abs() < 1e-6);
    assert!((curve.rate_at(5.0) - 50.0).abs() < 1e-9);
    assert!((curve.rate_at(15.0) - 100.0).abs() < 1e-9);
    assert!((curve.rate_at(25.0) - 50.0).abs() < 1e-9);
    let n = curve.arrivals(Spacing::Even, 1).count();
    assert!((1999..=2001).contains(&n), "{n}");
}

#[test]
fn poisson_is_deterministic_per_seed() {
    let curve = RateCurve::constant(200.0, secs(5)).unwrap();
    let a: Vec<_> = curve.arrivals(Spacing::Poisson { seed: 7 }, 2).collect();
    let b: Vec<_> = curve.arrivals(Spacing::Poisson { seed: 7 }, 2).collect();
    let c: Vec<_> = curve.arrivals(Spacing::Poisson { seed: 8 }, 2).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn rejects_negative_or_infinite_rates() {
    assert!(RateCurve::constant(-1.0, secs(1)).is_err());
    assert!(RateCurve::constant(f64::NAN, secs(1)).is_err());
}

/// Counts of arrivals per whole second.
fn per_second(arrivals: impl Iterator<Item = Arrival>, seconds: usize) -> Vec<u64> {
    let mut counts = vec![0u64; seconds];
    for a in arrivals {
        counts[a.at.as_secs() as usize] += 1;
    }
    counts
}

proptest! {
    /// Even spacing: exactly `ceil(rate * duration)` arrivals, non-decreasing,
    /// `1/rate` apart, all before the end.
    #[test]
    fn constant_schedules_are_exact(rate in 0.5f64..5000.0, millis in 100u64..5000) {
        let duration = Duration::from_millis(millis);
        let curve = RateCurve::constant(rate, duration).unwrap();
        let arrivals: Vec<_> = curve.arrivals(Spacing::Even, 1).collect();
        let expected = rate * duration.as_secs_f64();
        prop_assert!((arrivals.len() as f64 - expected.ceil()).abs() <= 1.0,
            "{} arrivals for {expected}", arrivals.len());
        for pair in arrivals.windows(2) {
            let gap = pair[1].at.checked_sub(pair[0].at).unwrap().as_secs_f64();
            prop_assert!((gap - 1.0 / rate).abs() < 2e-9, "gap {gap}");
        }
        prop_assert!(arrivals.iter().all(|a| a.at < duration));
    }

    /// Stages: the arrivals in each second follow the ramp's integral over
    /// that second, within one.
    #[test]
    fn stage_schedules_follow_the_ramp(
        stages in proptest::collection::vec((1u64..5, 0u32..400), 1..5),
    ) {
        let stages: Vec<Stage> = stages
            .into_iter()
            .map(|(s, target)| Stage { duration: secs(s), target: f64::from(target) })
            .collect();
        let curve = RateCurve::from_stages(&stages).unwrap();
        let seconds = curve.duration().as_secs() as usize;
        let counts = per_second(curve.arrivals(Spacing::Even, 1), seconds);
        for (t, &count) in counts.iter().enumerate() {
            let expected = curve.cumulative(t as f64 + 1.0) - curve.cumulative(t as f64);
            prop_assert!((count as f64 - expected).abs() <= 1.0 + 1e-6,
                "second {t}: {count} arrivals, expected {expected}");
        }
    }

    /// Poisson: the same seed gives the same schedule; the count is within
    /// five standard deviations of rate * duration; arrivals stay sorted.
    #[test]
    fn poisson_schedules_are_seeded_and_on_rate(
        seed in any::<u64>(),
        rate in 50f64..2000.0,
        seconds in 1u64..5,
    ) {
        let curve = RateCurve::constant(rate, secs(seconds)).unwrap();
        let a: Vec<_> = curve.arrivals(Spacing::Poisson { seed }, 1).collect();
        let b: Vec<_> = curve.arrivals(Spacing::Poisson { seed }, 1).collect();
        prop_assert_eq!(&a, &b);
        let mean = rate * seconds as f64;
        prop_assert!((a.len() as f64 - mean).abs() <= 5.0 * mean.sqrt(),
            "{} arrivals, mean {mean}", a.len());
        prop_assert!(a.windows(2).all(|p| p[0].at <= p[1].at));
    }
}
