use super::*;
use crate::domain::series::Severity;

fn point(key: &SeriesKey, t_s: i64, value: f64, score: f64) -> Point {
    Point {
        key: key.clone(),
        t_ms: t_s * 1000,
        value,
        score,
    }
}

fn alert(id: u64, end_ms: Option<i64>) -> Alert {
    Alert {
        id,
        series: SeriesKey::service(Environment::Shadow, "api", metric::LATENCY_P99_MS),
        score: 0.9,
        severity: Severity::Critical,
        explanation: format!("alert {id}"),
        start_ms: i64::try_from(id).unwrap() * 1000,
        end_ms,
    }
}

#[test]
fn a_ring_keeps_the_last_five_minutes() {
    let mut ring = Ring::default();
    for t in 0..1000 {
        ring.push(Reading {
            t_ms: t * 1000,
            value: 1.0,
            score: 0.0,
        });
    }
    assert_eq!(ring.len(), 301);
    assert_eq!(ring.iter().next().unwrap().t_ms, 699_000);
    // A point older than the window is dropped.
    ring.push(Reading {
        t_ms: 0,
        value: 1.0,
        score: 0.0,
    });
    assert_eq!(ring.len(), 301);
}

#[test]
fn a_ring_is_capped_however_dense_its_points() {
    let mut ring = Ring::default();
    for t in 0..10_000 {
        ring.push(Reading {
            t_ms: t,
            value: 1.0,
            score: 0.0,
        });
    }
    assert_eq!(ring.len(), RING_CAP);
    assert_eq!(ring.last().unwrap().t_ms, 9_999);
}

#[test]
fn only_charted_metrics_are_kept_and_series_are_bounded() {
    let mut pane = WatchPane::default();
    let net = SeriesKey::instance(Environment::Prod, "api", "api-1", metric::NET_RX_BPS);
    let cpu = SeriesKey::instance(Environment::Prod, "api", "api-1", metric::CPU_PERCENT);
    pane.record(vec![point(&net, 1, 5.0, 0.0), point(&cpu, 2, 5.0, 0.0)]);
    assert_eq!(pane.series.len(), 1);
    assert_eq!(pane.latest_ms, 2000);
    let many = (0..MAX_SERIES + 10)
        .map(|i| {
            let key = SeriesKey::instance(Environment::Prod, "api", format!("i{i}"), metric::RPS);
            point(&key, 3, 1.0, 0.0)
        })
        .collect();
    pane.record(many);
    assert_eq!(pane.series.len(), MAX_SERIES);
}

#[test]
fn alerts_are_replaced_by_id_and_bounded_closed_first() {
    let mut pane = WatchPane::default();
    pane.alert(AlertEvent::Opened(alert(1, None)));
    pane.alert(AlertEvent::Closed(alert(1, Some(9_000))));
    assert_eq!(pane.alerts.len(), 1);
    assert_eq!(pane.alerts[0].end_ms, Some(9_000));
    assert_eq!(pane.open_alerts(), 0);
    for id in 2..=MAX_ALERTS as u64 + 5 {
        pane.alert(AlertEvent::Opened(alert(id, None)));
    }
    assert_eq!(pane.alerts.len(), MAX_ALERTS);
    assert!(
        pane.alerts.iter().all(|a| a.id != 1),
        "the closed one went first"
    );
    assert_eq!(pane.alerts[0].id, MAX_ALERTS as u64 + 5, "newest first");
    assert_eq!(pane.open_alerts(), MAX_ALERTS);
}

#[test]
fn instance_series_are_summed_per_second_carrying_late_instances() {
    let mut pane = WatchPane::default();
    let a = SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::CPU_PERCENT);
    let b = SeriesKey::instance(Environment::Shadow, "api", "api-2", metric::CPU_PERCENT);
    let other = SeriesKey::instance(Environment::Prod, "api", "api-1", metric::CPU_PERCENT);
    pane.record(vec![
        point(&a, 10, 10.0, 0.0),
        point(&b, 10, 20.0, 0.7),
        point(&a, 11, 12.0, 0.0),
        // api-2 skips second 11 (its frame landed on 12).
        point(&b, 12, 22.0, 0.0),
        point(&a, 12, 14.0, 0.0),
        point(&other, 12, 99.0, 0.0),
    ]);
    let sums: Vec<(i64, f64, f64)> = pane
        .chart(Environment::Shadow, "api", metric::CPU_PERCENT)
        .iter()
        .map(|r| (r.t_ms / 1000, r.value, r.score))
        .collect();
    assert_eq!(sums, [(10, 30.0, 0.7), (11, 32.0, 0.0), (12, 36.0, 0.0)]);
}

#[test]
fn request_metrics_come_from_the_service_series() {
    let mut pane = WatchPane::default();
    let key = SeriesKey::service(Environment::Prod, "gateway", metric::LATENCY_P99_MS);
    pane.record(vec![point(&key, 1, 12.0, 0.9)]);
    let chart = pane.chart(Environment::Prod, "gateway", metric::LATENCY_P99_MS);
    assert_eq!(chart.len(), 1);
    assert!(chart[0].anomalous());
    assert!(
        pane.chart(Environment::Shadow, "gateway", metric::LATENCY_P99_MS)
            .is_empty()
    );
}

#[test]
fn entries_come_first_in_the_services() {
    let mut pane = WatchPane {
        watched: Some(Watched {
            group: "shop".into(),
            shadow: None,
            entries: vec!["gateway".into()],
            services: vec!["api".into(), "gateway".into(), "store".into()],
        }),
        ..WatchPane::default()
    };
    assert_eq!(pane.services(), ["gateway", "api", "store"]);
    assert_eq!(pane.selected_service(), Some("gateway"));
    pane.cursor = 9;
    assert_eq!(pane.selected_service(), Some("store"));
    assert!(pane.is_entry("gateway"));
    assert!(!pane.is_entry("api"));
}
