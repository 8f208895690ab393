use serde_json::json;

use super::*;
use crate::domain::series::{Environment, SeriesKey, Severity, metric};

/// 2026-12-07 05:01:04 UTC.
const T0: i64 = 1_796_619_664_000;

fn finished(id: i64, alerts: u64) -> RunLine {
    RunLine {
        run: RunRecord {
            id,
            started_ms: T0,
            ended_ms: Some(T0 + 45_400),
            kind: "watch".into(),
            target: "shop".into(),
            summary: Some(json!({
                "schema": "understudy.watch/v1",
                "group": "shop",
                "shadow": "2d2f7c",
                "faults": [{"id": "5fd5bb39", "kind": "latency",
                            "target": "2d2f7c/gateway->api", "start_ms": T0 + 40_000}],
                "verdicts": {
                    "since_ms": T0,
                    "vs_production": {"outcome": "pass", "score": 100.0, "metrics": [], "reasons": []},
                    "vs_baseline": {"outcome": "fail", "score": 0.0, "metrics": [],
                                    "reasons": ["gateway/latency_p50_ms: shadow higher (x21.6)"]}
                }
            })),
            owner: Some(owner()),
            shadow: None,
        },
        alerts,
        state: RunState::Ended,
    }
}

fn killed(id: i64) -> RunLine {
    RunLine {
        run: RunRecord {
            id,
            started_ms: T0 - 3_600_000,
            ended_ms: None,
            kind: "watch".into(),
            target: "checkout-service".into(),
            summary: None,
            owner: Some(owner()),
            shadow: None,
        },
        alerts: 2,
        state: RunState::Killed,
    }
}

fn owner() -> Owner {
    Owner {
        pid: 4242,
        start: Some(99),
        host: "ops-1".into(),
    }
}

fn alert(id: u64, start_after_ms: i64, lasted_ms: Option<i64>) -> Alert {
    Alert {
        id,
        series: SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS),
        score: 0.912,
        severity: Severity::Critical,
        explanation: "p99 latency 208 ms, 22x its baseline 9.26 ms".into(),
        start_ms: T0 + start_after_ms,
        end_ms: lasted_ms.map(|l| T0 + start_after_ms + l),
    }
}

#[test]
fn lengths_read_like_a_person_would_say_them() {
    assert_eq!(length(45_400), "45 s");
    assert_eq!(length(120_000), "2 min");
    assert_eq!(length(725_000), "12 min 5 s");
    assert_eq!(length(7_380_000), "2 h 3 min");
    assert_eq!(length(-5), "0 s");
    assert_eq!(utc(T0), "2026-12-07 05:01:04");
}

#[test]
fn the_list_shows_each_runs_verdicts_and_names_a_run_that_never_ended() {
    let text = list(&[finished(3, 1), killed(2)], "/state/understudy.db");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with(" RUN  STARTED (UTC)"), "{text}");
    assert_eq!(
        lines[1],
        "   3  2026-12-07 05:01:04          45 s  watch  shop              2d2f7c         1  PASS 100       FAIL 0"
    );
    assert!(
        lines[2].ends_with("  –              2  did not end (killed or crashed)"),
        "{text}"
    );
    assert!(lines[2].contains("2026-12-07 04:01:04"), "{text}");
    assert_eq!(
        list(&[], "/state/understudy.db"),
        "no runs recorded in /state/understudy.db\n"
    );
}

/// A run still going has no summary yet: its shadow, recorded when it
/// began, is listed and named in full all the same.
#[test]
fn a_running_run_shows_the_shadow_recorded_at_its_start() {
    let mut line = killed(2);
    line.run.shadow = Some("9a1b2c".into());
    line.state = RunState::Running { pid: 4242 };
    let text = list(&[line.clone()], "db");
    let row = text.lines().nth(1).unwrap();
    assert!(row.contains("  checkout-service  9a1b2c  "), "{text}");
    let shown = detail(&line.run, &line.state, &[]);
    assert!(shown.contains("beside shadow 9a1b2c"), "{shown}");
}

#[test]
fn a_summary_from_another_version_still_lists() {
    let mut line = finished(4, 0);
    line.run.summary =
        Some(json!({"schema": "understudy.watch/v9", "verdicts": {"vs_production": null}}));
    let text = list(&[line], "db");
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .ends_with("0  –              –"),
        "{text}"
    );
}

#[test]
fn one_run_in_full_gives_reasons_faults_and_alert_timing() {
    let run = finished(3, 2).run;
    let text = detail(
        &run,
        &RunState::Ended,
        &[alert(1, 41_200, Some(20_000)), alert(2, 44_000, None)],
    );
    let expected = "\
run 3: watch of shop beside shadow 2d2f7c
  started 2026-12-07 05:01:04 UTC, lasted 45 s (ended 05:01:49)
  judge vs production: PASS 100; vs baseline: FAIL 0
    gateway/latency_p50_ms: shadow higher (x21.6)
  fault 5fd5bb39 latency on 2d2f7c/gateway->api at +40.0 s
alerts (2):
    #  SERIES                         SEVERITY  SCORE     OPENED         LASTED  EXPLANATION
    1  shadow/gateway/latency_p99_ms  critical   0.91    +41.2 s         20.0 s  p99 latency 208 ms, 22x its baseline 9.26 ms
    2  shadow/gateway/latency_p99_ms  critical   0.91    +44.0 s    open at end  p99 latency 208 ms, 22x its baseline 9.26 ms
";
    assert_eq!(text, expected);
}

#[test]
fn a_killed_run_says_so_and_its_alerts_stay_open() {
    let run = killed(2).run;
    let text = detail(
        &run,
        &RunState::Killed,
        &[alert(7, 3_600_000 + 5_000, None)],
    );
    assert!(
        text.contains("UTC, did not end (killed or crashed)\n"),
        "{text}"
    );
    assert!(!text.contains("judge"), "no verdict was written: {text}");
    assert!(text.contains("   open  "), "{text}");
    let quiet = detail(&finished(5, 0).run, &RunState::Ended, &[]);
    assert!(quiet.ends_with("no alerts\n"), "{quiet}");
}

#[test]
fn a_run_without_an_end_is_running_killed_or_unknown_by_its_process() {
    let ended = finished(1, 0).run;
    let open = killed(2).run;
    assert_eq!(RunState::of(&ended, |_| Some(false)), RunState::Ended);
    assert_eq!(
        RunState::of(&open, |o| Some(o.pid == 4242)),
        RunState::Running { pid: 4242 }
    );
    assert_eq!(RunState::of(&open, |_| Some(false)), RunState::Killed);
    assert_eq!(
        RunState::of(&open, |_| None),
        RunState::Unknown {
            host: Some("ops-1".into())
        }
    );
    let old = RunRecord {
        owner: None,
        ..open.clone()
    };
    assert_eq!(
        RunState::of(&old, |_| Some(true)),
        RunState::Unknown { host: None }
    );

    let mut line = killed(2);
    line.state = RunState::Running { pid: 4242 };
    let text = list(&[line], "db");
    assert!(text.ends_with("2  running (pid 4242)\n"), "{text}");
    let shown = detail(
        &open,
        &RunState::Running { pid: 4242 },
        &[alert(1, 3_600_000, None)],
    );
    assert!(shown.contains("UTC, running (pid 4242)\n"), "{shown}");
    assert!(!shown.contains("open at end"), "{shown}");
}
