use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::traffic::stats::{Failure, Outcome};

fn sample(model: Model) -> LoadReport {
    let mut total = Bucket::new(1);
    let ms = Duration::from_millis;
    for _ in 0..9 {
        total.record_open(0, Outcome::Status(200), ms(12), ms(10));
    }
    total.record_open(0, Outcome::Status(503), ms(40), ms(30));
    total.record_open(0, Outcome::Failed(Failure::Timeout), ms(0), ms(0));
    total.intended = 14;
    total.dropped = 3;
    total.late = 2;
    let window = Window::from_bucket(0, 1.0, &total, model, &["GET /".to_owned()]);
    LoadReport::build(RunFacts {
        target: "http://127.0.0.1:8080/".into(),
        model,
        connections: 8,
        think_ms: None,
        threads: 1,
        duration_s: 1.0,
        elapsed_s: 1.02,
        aborted: 0,
        connects: 8,
        cancelled: false,
        total: &total,
        windows: vec![window],
        endpoint_names: &["GET /".to_owned()],
    })
}

/// The field names of the `understudy.load/v1` contract.
#[test]
fn json_has_the_contracted_field_names() {
    let json: Value = serde_json::from_str(&sample(Model::Open).to_json()).unwrap();
    assert_eq!(json["schema"], "understudy.load/v1");
    for field in [
        "requests",
        "duration_s",
        "achieved_rps",
        "dropped",
        "late",
        "target_rps",
    ] {
        assert!(json[field].is_number(), "{field}: {json}");
    }
    assert_eq!(json["requests"], 11);
    assert_eq!(json["dropped"], 3);
    for kind in ["connect", "timeout", "4xx", "5xx", "io"] {
        assert!(json["errors"][kind].is_u64(), "errors.{kind}");
    }
    assert_eq!(json["errors"]["5xx"], 1);
    assert_eq!(json["errors"]["timeout"], 1);
    for side in ["corrected", "uncorrected"] {
        for p in ["p50", "p90", "p99", "p999", "max"] {
            assert!(
                json["latency_ms"][side][p].is_f64(),
                "latency_ms.{side}.{p}"
            );
        }
    }
    let second = &json["per_second"][0];
    for field in ["t", "rps", "p50", "p99", "errors"] {
        assert!(!second[field].is_null(), "per_second[0].{field}");
    }
    assert_eq!(second["errors"]["5xx"], 1);
    assert_eq!(json["per_endpoint"][0]["endpoint"], "GET /");
    assert_eq!(json["status"]["200"], 9);
    // A report reads back as it was written.
    let back: LoadReport = serde_json::from_value(json).unwrap();
    assert_eq!(back.per_second.len(), 1);
    assert_eq!(back.errors, sample(Model::Open).errors);
}

#[test]
fn corrected_latency_differs_only_in_the_open_model() {
    let open = sample(Model::Open);
    assert!(open.latency_ms.corrected.p50 > open.latency_ms.uncorrected.p50);
    assert!(!open.latency_ms.corrected_is_uncorrected);
    let closed = sample(Model::Closed);
    assert_eq!(closed.latency_ms.corrected, closed.latency_ms.uncorrected);
    assert!(closed.latency_ms.corrected_is_uncorrected);
    assert!(closed.intended.is_none() && closed.target_rps.is_none());
    assert!(closed.summary().contains("corrected = uncorrected"));
}

#[test]
fn a_rate_not_reached_is_a_warning() {
    let report = sample(Model::Open);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("not reached"));
    let text = report.summary();
    assert!(
        text.contains("warning: the target rate was not reached"),
        "{text}"
    );
    assert!(text.contains("11 at 11.0/s of 14.0/s"), "{text}");
    assert!(text.contains("5xx 1"), "{text}");
}
