#![allow(clippy::float_cmp)] // exact values are the point of these checks

use proptest::prelude::*;

use super::*;
use crate::domain::series::{Environment, metric};

fn key() -> SeriesKey {
    SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::LATENCY_P99_MS)
}

fn run(alerting: &mut Alerting, scores: &[f64]) -> Vec<AlertEvent> {
    let k = key();
    scores
        .iter()
        .enumerate()
        .filter_map(|(i, &s)| alerting.push(&k, i as i64 * 1000, s, &format!("point {i}")))
        .collect()
}

fn kinds(events: &[AlertEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match e {
            AlertEvent::Opened(_) => "opened",
            AlertEvent::Updated(_) => "updated",
            AlertEvent::Closed(_) => "closed",
        })
        .collect()
}

#[test]
fn opens_after_k_points_and_closes_after_m() {
    let mut a = Alerting::new(AlertConfig::default()).unwrap();
    let mut scores = vec![0.1, 0.55, 0.7, 0.6];
    scores.extend([0.1; 10]);
    let events = run(&mut a, &scores);
    assert_eq!(kinds(&events), ["opened", "closed"]);
    let AlertEvent::Closed(alert) = &events[1] else {
        panic!()
    };
    assert_eq!(alert.id, 1);
    assert_eq!(alert.start_ms, 1000);
    assert_eq!(alert.end_ms, Some(4000));
    assert_eq!(alert.score, 0.7);
    assert_eq!(alert.severity, Severity::Warning);
    assert_eq!(alert.explanation, "point 2");
    assert!(a.open_alerts().is_empty());
}

/// A score oscillating around the open threshold never opens (the run
/// resets), and one oscillating around either threshold while open never
/// closes: no flapping. A single-threshold alert would flip at every point.
#[test]
fn a_score_oscillating_around_one_threshold_does_not_flap() {
    let mut a = Alerting::new(AlertConfig::default()).unwrap();
    let around_open: Vec<f64> = (0..200)
        .map(|i| if i % 2 == 0 { 0.49 } else { 0.51 })
        .collect();
    assert!(run(&mut a, &around_open).is_empty());

    let mut a = Alerting::new(AlertConfig::default()).unwrap();
    let mut scores = vec![0.6; 3];
    scores.extend((0..200).map(|i| if i % 3 == 0 { 0.51 } else { 0.49 }));
    scores.extend((0..200).map(|i| if i % 2 == 0 { 0.24 } else { 0.26 }));
    let events = run(&mut a, &scores);
    assert_eq!(kinds(&events), ["opened"]);
    let naive_flips = scores
        .windows(2)
        .filter(|w| (w[0] >= 0.5) != (w[1] >= 0.5))
        .count();
    assert!(naive_flips > 100, "{naive_flips}");
}

#[test]
fn severity_rises_with_the_peak_and_never_falls_while_open() {
    let mut a = Alerting::new(AlertConfig::default()).unwrap();
    let events = run(&mut a, &[0.5, 0.5, 0.5, 0.7, 0.9, 0.6, 0.5]);
    assert_eq!(kinds(&events), ["opened", "updated", "updated"]);
    let severities: Vec<Severity> = events.iter().map(|e| e.alert().severity).collect();
    assert_eq!(
        severities,
        [Severity::Info, Severity::Warning, Severity::Critical]
    );
    assert_eq!(a.open_alerts()[0].score, 0.9);
    let closed = a.close_all(99_000);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].alert().end_ms, Some(99_000));
    assert_eq!(closed[0].alert().severity, Severity::Critical);
}

#[test]
fn ids_count_up_across_series_and_nan_is_skipped() {
    let config = AlertConfig {
        open_after: 1,
        ..AlertConfig::default()
    };
    let mut a = Alerting::with_first_id(config, 41).unwrap();
    let other = SeriesKey::service(Environment::Prod, "api", metric::RPS);
    assert!(a.push(&key(), 0, f64::NAN, "").is_none());
    assert_eq!(a.skipped(), 1);
    let first = a.push(&key(), 0, 0.9, "a").unwrap();
    let second = a.push(&other, 0, 0.9, "b").unwrap();
    assert_eq!((first.alert().id, second.alert().id), (41, 42));
    assert_eq!(a.close(&other, 5).map(|e| e.alert().end_ms), Some(Some(5)));
    assert!(a.close(&other, 5).is_none());
}

/// The explanation is rendered only for the points whose text is kept:
/// the start of a run above `open_above`, and each new peak.
#[test]
fn explanations_are_rendered_only_when_kept() {
    let mut a = Alerting::new(AlertConfig::default()).unwrap();
    let mut rendered = Vec::new();
    let scores = [0.1, 0.55, 0.7, 0.6, 0.9, 0.8, 0.3];
    for (i, &s) in scores.iter().enumerate() {
        a.push_with(&key(), i as i64 * 1000, s, || {
            rendered.push(i);
            format!("point {i}")
        });
    }
    assert_eq!(rendered, [1, 2, 4]);
    assert_eq!(a.open_alerts()[0].explanation, "point 4");
}

#[test]
fn inconsistent_configurations_are_refused() {
    let bad = AlertConfig {
        close_below: 0.6,
        ..AlertConfig::default()
    };
    assert!(matches!(
        Alerting::new(bad),
        Err(AlertingError::Thresholds { .. })
    ));
    let bad = AlertConfig {
        critical_at: 0.55,
        ..AlertConfig::default()
    };
    assert!(matches!(
        Alerting::new(bad),
        Err(AlertingError::Bands { .. })
    ));
    let bad = AlertConfig {
        close_after: 0,
        ..AlertConfig::default()
    };
    assert_eq!(Alerting::new(bad).err(), Some(AlertingError::Runs));
}

proptest! {
    /// Events alternate opened (updated*) closed per series, the same input
    /// gives the same events, and alerts never outnumber the rises from
    /// below `close_below` to above `open_above`.
    #[test]
    fn events_are_well_formed_and_deterministic(scores in prop::collection::vec(0.0f64..1.0, 0..300)) {
        let mut a = Alerting::new(AlertConfig::default()).unwrap();
        let events = run(&mut a, &scores);
        let mut b = Alerting::new(AlertConfig::default()).unwrap();
        prop_assert_eq!(&events, &run(&mut b, &scores));
        let mut open = false;
        for e in &events {
            match e {
                AlertEvent::Opened(_) => { prop_assert!(!open); open = true; }
                AlertEvent::Updated(_) => prop_assert!(open),
                AlertEvent::Closed(alert) => {
                    prop_assert!(open);
                    prop_assert!(alert.end_ms >= Some(alert.start_ms));
                    open = false;
                }
            }
        }
        let opened = kinds(&events).iter().filter(|k| **k == "opened").count();
        let mut rises = 0;
        let mut armed = true;
        for &s in &scores {
            if armed && s >= 0.5 { rises += 1; armed = false; }
            if s < 0.25 { armed = true; }
        }
        prop_assert!(opened <= rises);
    }
}
