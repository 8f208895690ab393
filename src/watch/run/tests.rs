use std::fmt::Write as _;

use super::*;
use crate::fixtures::{self, fake::Fake};
use crate::traffic::capture::load_profile;
use crate::traffic::parse::Format;
use crate::traffic::replay::{ReplayOptions, plan};

/// shop with its gateway published and shadow a1b2c3 whose ingress relay
/// (the shadow's entry) is `port` on loopback.
fn shop_with_shadow_entry_on(port: u16) -> Fake {
    let fake = Fake::with_published_gateway();
    fake.with(|s| {
        let mut shadow = fixtures::shadow_containers();
        for c in &mut shadow {
            for p in &mut c.ports {
                p.host_port = port;
            }
        }
        s.containers.extend(shadow);
        s.networks.extend(fixtures::shadow_networks());
    });
    fake
}

/// A replay of three seconds of production (4 requests a second).
fn three_second_replay(dir: &std::path::Path) -> Replay {
    let log = dir.join("access.log");
    let mut text = String::new();
    for second in 0..3 {
        for _ in 0..4 {
            writeln!(
                text,
                "127.0.0.1 - - [27/Nov/2026:10:00:{second:02} +0000] \"GET /api/products/3 HTTP/1.1\" 200 2 \"-\" \"t\" 0.001"
            )
            .unwrap();
        }
    }
    std::fs::write(&log, text).unwrap();
    let profile = load_profile(&log, Format::Auto).unwrap();
    Replay {
        plan: plan(&profile, &ReplayOptions::default()).unwrap(),
        concurrency: 4,
        timeout: Duration::from_secs(5),
    }
}

/// Without `duration`, the watch ends 3 s after its replay (the
/// access logs' last seconds still arrive), on its own: not at a cancel,
/// not at once.
#[tokio::test]
async fn without_a_duration_the_watch_ends_a_few_seconds_after_its_replay() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::http_get::serve_for_tests("ok").await.port();
    let fake = shop_with_shadow_entry_on(port);
    let replay = three_second_replay(dir.path());
    let replay_s = replay.plan.duration.as_secs_f64();
    let options = RunOptions {
        host: false,
        replay: Some(replay),
        ..RunOptions::new("shop", dir.path().to_owned())
    };
    let cancel = CancellationToken::new();
    let guard = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            cancel.cancel();
        })
    };
    let report = run(&fake, &options, &cancel, |_| {}).await.unwrap();
    guard.abort();
    assert!(!cancel.is_cancelled(), "the run needed the 60 s cancel");
    let load = report.replay.expect("the replay's report");
    assert_eq!(load.requests, 12, "{load:?}");
    // The README's "without --duration the watch ends 3 s after the replay".
    let tail = 3.0;
    assert!(
        (replay_s + tail..replay_s + tail + 5.0).contains(&report.duration_s),
        "watched {} s for a {replay_s} s replay",
        report.duration_s
    );
}

/// A fault that starts while shadow series still learn their baseline is
/// announced with the series (three of each kind named, the rest counted):
/// those scoring it against the points they had, and those with too few
/// points that learn it; none when every series had its baseline.
#[test]
fn a_fault_during_the_baseline_is_announced_with_the_series_still_learning() {
    let key =
        |service: &str, metric: &str| SeriesKey::service(Environment::Shadow, service, metric);
    let at_fault = LearningAtFault {
        ended: vec![
            (key("api", "cpu_percent"), 11),
            (key("gateway", "error_rate"), 12),
            (key("gateway", "latency_p50_ms"), 12),
            (key("gateway", "latency_p99_ms"), 12),
        ],
        learning: vec![(key("store", "cpu_percent"), 4)],
    };
    let text = learning_notice("82698795", &at_fault, 30).unwrap();
    assert!(
        text.starts_with(
            "fault 82698795 began while 5 shadow series still learned their baseline: \
             shadow/api/cpu_percent (11 of 30), shadow/gateway/error_rate (12 of 30), \
             shadow/gateway/latency_p50_ms (12 of 30) and 1 more score it against the points \
             they had, a thinner baseline than usual; shadow/store/cpu_percent (4 of 30) had \
             fewer than 10 points: they learn the fault as normal and may not alert on it. "
        ),
        "{text}"
    );
    assert!(text.ends_with("(about 30 s into a watch)"), "{text}");
    let only_learning = LearningAtFault {
        ended: Vec::new(),
        learning: at_fault.learning.clone(),
    };
    let text = learning_notice("82698795", &only_learning, 30).unwrap();
    assert!(
        text.starts_with(
            "fault 82698795 began while 1 shadow series still learned their baseline: \
             shadow/store/cpu_percent (4 of 30) had fewer"
        ),
        "{text}"
    );
    assert_eq!(
        learning_notice("82698795", &LearningAtFault::default(), 30),
        None
    );
}

#[test]
fn metrics_judged_again_are_named_when_the_loads_compare() {
    let cpu = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
    let before = cpu(&["api/cpu_percent", "gateway/cpu_percent"]);
    assert_eq!(
        judged_again(&before, &[]).unwrap(),
        "loads compare again: api/cpu_percent, gateway/cpu_percent judged"
    );
    assert_eq!(
        judged_again(&before, &cpu(&["gateway/cpu_percent"])).unwrap(),
        "loads compare again: api/cpu_percent judged"
    );
    assert_eq!(judged_again(&[], &before), None, "left out, not back");
    assert_eq!(judged_again(&before, &before), None);
}
