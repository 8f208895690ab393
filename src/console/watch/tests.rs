use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::console::fixtures::fake::Fake;
use crate::domain::series::{Environment, SeriesKey, metric};

fn sample(name: &str, t_s: i64) -> WatchEvent {
    WatchEvent::Sample {
        key: SeriesKey::instance(Environment::Prod, "api", "shop-api-1", name),
        t_ms: t_s * 1000,
        value: 1.0,
        score: 0.0,
    }
}

#[test]
fn only_charted_samples_and_no_verdict_changes_are_news() {
    assert!(news_of(1, &sample(metric::NET_RX_BPS, 1)).is_none());
    assert!(matches!(
        news_of(1, &sample(metric::CPU_PERCENT, 1)),
        Some(WatchNews::Samples { run: 1, points }) if points.len() == 1
    ));
    let verdict = WatchEvent::Verdict {
        vs: "production",
        outcome: crate::domain::series::VerdictOutcome::Pass,
        score: 100.0,
        reasons: Vec::new(),
    };
    assert!(news_of(1, &verdict).is_none());
    assert!(matches!(
        news_of(2, &WatchEvent::Notice("x".into())),
        Some(WatchNews::Notice { run: 2, .. })
    ));
}

#[tokio::test]
async fn queued_samples_go_as_one_message_in_order() {
    let (news_tx, news_rx) = mpsc::unbounded_channel();
    for t in 0..3 {
        news_tx
            .send(news_of(0, &sample(metric::CPU_PERCENT, t)).unwrap())
            .unwrap();
    }
    news_tx
        .send(WatchNews::Notice {
            run: 0,
            text: "between".into(),
        })
        .unwrap();
    news_tx
        .send(news_of(0, &sample(metric::CPU_PERCENT, 3)).unwrap())
        .unwrap();
    drop(news_tx);
    let (tx, mut rx) = mpsc::channel(16);
    forward(news_rx, tx).await;
    let mut got = Vec::new();
    while let Ok(Msg::Watch(news)) = rx.try_recv() {
        got.push(match news {
            WatchNews::Samples { points, .. } => format!("{} samples", points.len()),
            WatchNews::Notice { text, .. } => text,
            other => format!("{other:?}"),
        });
    }
    assert_eq!(got, ["3 samples", "between", "1 samples"]);
}

async fn next(rx: &mut mpsc::Receiver<Msg>) -> WatchNews {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("news in time")
            .expect("the channel is open");
        if let Msg::Watch(news) = msg {
            return news;
        }
    }
}

fn paths(dir: &tempfile::TempDir) -> WatchSetup {
    WatchSetup {
        state_dir: dir.path().to_owned(),
        database: None,
        log_format: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_group_that_cannot_be_watched_ends_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(Fake::new(), paths(&dir), tx, cancel.clone());
    handle
        .run(WatchCmd::Start {
            run: 4,
            group: "shop".into(),
            shadow: None,
        })
        .unwrap();
    match next(&mut rx).await {
        WatchNews::Ended {
            run: 4,
            result: Err(e),
        } => assert!(e.contains("publishes no port"), "{e}"),
        other => panic!("{other:?}"),
    }
    cancel.cancel();
    task.await.unwrap();
}

/// shop whose gateway publishes a port (so the watch has an entry).
fn shop_with_entry() -> Fake {
    Fake::with_published_gateway()
}

#[tokio::test(start_paused = true)]
async fn a_group_without_a_shadow_is_watched_alone_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let fake = shop_with_entry();
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(fake, paths(&dir), tx, cancel.clone());
    handle
        .run(WatchCmd::Start {
            run: 0,
            group: "shop".into(),
            shadow: None,
        })
        .unwrap();
    match next(&mut rx).await {
        WatchNews::Notice { text, .. } => assert!(text.contains("no shadow"), "{text}"),
        other => panic!("{other:?}"),
    }
    match next(&mut rx).await {
        WatchNews::Started {
            shadow, entries, ..
        } => {
            assert_eq!(shadow, None);
            assert_eq!(entries, ["gateway"]);
        }
        other => panic!("{other:?}"),
    }
    // Container stats arrive as samples of production's CPU and memory.
    loop {
        if let WatchNews::Samples { points, .. } = next(&mut rx).await {
            assert!(
                points
                    .iter()
                    .all(|p| p.key.environment == Environment::Prod)
            );
            break;
        }
    }
    handle.run(WatchCmd::Stop { run: 0 }).unwrap();
    loop {
        if let WatchNews::Ended { run, result } = next(&mut rx).await {
            assert_eq!((run, result), (0, Ok(())));
            break;
        }
    }
    drop(handle);
    task.await.unwrap();
}

/// The Load tab's seconds, handed to the run as `Client` commands, are
/// scored like the watch's own replay: `shadow/ENTRY/client_*` series,
/// with an alert when the client's p99 leaves its baseline.
#[tokio::test]
async fn the_load_tabs_seconds_become_client_series_that_alert() {
    let dir = tempfile::tempdir().unwrap();
    let fake = shop_with_entry();
    fake.with(|s| {
        s.containers
            .extend(crate::console::fixtures::shadow_containers());
        s.networks
            .extend(crate::console::fixtures::shadow_networks());
    });
    let (tx, mut rx) = mpsc::channel(1024);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(fake, paths(&dir), tx, cancel.clone());
    let start = WatchCmd::Start {
        run: 1,
        group: "shop".into(),
        shadow: None,
    };
    handle.run(start).unwrap();
    loop {
        if let WatchNews::Started { shadow, .. } = next(&mut rx).await {
            assert!(shadow.is_some());
            break;
        }
    }
    let second = |t: u64, p99: f64| WatchCmd::Client {
        run: 1,
        entry: "gateway".into(),
        window: Box::new(crate::traffic::report::Window::steady(t, 20, p99)),
    };
    for t in 0..300 {
        let p99 = if t < 270 { 9.0 + (t % 3) as f64 } else { 400.0 };
        handle.run(second(t, p99)).unwrap();
    }
    // Both latency series alert (p50 follows the tail here); the p99 comes
    // to the metrics pane as samples too (its p99 chart's `client` line).
    let mut alerted = Vec::new();
    let mut charted = 0;
    let p99_alert = async {
        while !alerted
            .iter()
            .any(|s| s == "shadow/gateway/client_latency_p99_ms")
        {
            match next(&mut rx).await {
                WatchNews::Alert { event, .. } => alerted.push(event.alert().series.to_string()),
                WatchNews::Samples { points, .. } => {
                    charted += points
                        .iter()
                        .filter(|p| p.key.metric == "client_latency_p99_ms")
                        .count();
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), p99_alert)
        .await
        .expect("an alert on the client's p99 in time");
    assert!(charted >= 200, "{charted} client p99 samples charted");
    assert!(
        alerted
            .iter()
            .all(|s| s.starts_with("shadow/gateway/client_latency_")),
        "{alerted:?}"
    );
    cancel.cancel();
    task.await.unwrap();
}

/// A watch asked to replay where it cannot (no shadow) fails before it
/// begins: no run is left open in the history.
#[tokio::test]
async fn a_watch_that_cannot_replay_leaves_no_run_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("understudy.db");
    let plan = crate::traffic::replay::ReplayPlan {
        requests: Vec::new(),
        arrivals: Vec::new(),
        target: Vec::new(),
        duration: Duration::from_secs(1),
        notes: Vec::new(),
    };
    let options = RunOptions {
        shadow: Some("none".into()),
        host: false,
        database: Some(database.clone()),
        replay: Some(crate::watch::sources::Replay {
            plan,
            concurrency: 1,
            timeout: Duration::from_secs(1),
        }),
        ..RunOptions::new("shop", dir.path().to_owned())
    };
    let result = watch_run::run(
        &shop_with_entry(),
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .await;
    assert!(
        matches!(result, Err(RunError::ReplayWithoutShadow)),
        "{result:?}"
    );
    let store = crate::store::Store::open(&database).await.unwrap();
    assert!(store.runs(10).await.unwrap().is_empty());
}
