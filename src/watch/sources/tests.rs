use super::*;

/// A page with two NaN samples, one infinite, and two finite gauges.
const PAGE: &str = "# TYPE queue_depth gauge\n\
queue_depth{q=\"a\"} 3\n\
queue_depth{q=\"b\"} NaN\n\
# TYPE temperature gauge\n\
temperature 21.5\n\
temperature_max +Inf\n\
ratio NaN\n";

/// NaN and infinite samples give no point, are told once, and add up in
/// the target's health (the report's `scrape[].not_finite`).
#[tokio::test]
async fn not_finite_samples_are_left_out_told_once_and_counted_per_target() {
    let addr = crate::http_get::serve_for_tests(PAGE).await;
    let target: ScrapeTarget = format!("prod:app=http://{addr}/metrics").parse().unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(scrape_loop(
        vec![target],
        Duration::from_secs(1),
        tx,
        cancel.clone(),
    ));
    let (mut notices, mut healths, mut points) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while healths.len() < 3 {
        let feed = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("three scrape rounds within 20 s")
            .expect("the loop runs");
        match feed {
            Feed::Notice(text) => notices.push(text),
            Feed::ScrapeHealth(targets) => healths.push(targets),
            Feed::Points { points: p, .. } => points.extend(p),
            _ => {}
        }
    }
    cancel.cancel();
    task.await.unwrap();

    // Three per page that came back (a slow loopback answer on a busy
    // machine may count as a failure, and then as nothing here).
    for h in &healths {
        let t = &h[0];
        assert_eq!(t.not_finite, 3 * (t.scrapes - t.failures), "{t:?}");
        assert_eq!(t.over_limit, 0);
    }
    assert!(healths[2][0].not_finite >= 6, "{:?}", healths[2][0]);
    let told: Vec<&String> = notices.iter().filter(|n| n.contains("NaN")).collect();
    assert_eq!(told.len(), 1, "{notices:?}");
    assert!(told[0].contains("3 sample(s)") && told[0].contains(&addr.to_string()));
    let metrics: std::collections::BTreeSet<String> =
        points.iter().map(|(k, _)| k.metric.clone()).collect();
    assert_eq!(
        metrics.into_iter().collect::<Vec<_>>(),
        ["queue_depth{q=\"a\"}", "temperature"]
    );
    assert!(points.iter().all(|(_, v)| v.is_finite()));
}
