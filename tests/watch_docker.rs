//! `understudy watch` against the real engine: with `shop`, its shadow and
//! steady traffic on both, a 200 ms edge latency fault on the shadow raises
//! an alert on the shadow's latency series within 10 s of the fault and
//! none on production's; the judge reports the divergence; the run is in
//! the SQLite history.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
    ProjectGuard, ShadowGuard, bin, docker_available, ok, state_dir, understudy, unique_project,
};

/// A background `understudy` process, killed when dropped.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Background {
    Background(
        Command::new(bin())
            .args(args)
            .env("UNDERSTUDY_STATE_DIR", state_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn edge_latency_on_the_shadow_alerts_on_the_shadow_only_and_the_judge_sees_it() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utwatch");
    let _demo = ProjectGuard::new(&project);
    let _shadows = ShadowGuard(project.clone());
    let text = ok(&understudy(&["demo", "-p", &project, "up", "--json"]));
    let status: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    let prod = status["gateway"].as_str().unwrap().to_owned();
    let shadow: serde_json::Value = serde_json::from_str(&ok(&understudy(&[
        "shadow", "up", "--group", &project, "--json",
    ])))
    .unwrap();
    let id = shadow["id"].as_str().unwrap().to_owned();
    let entry = shadow["entry"]["gateway"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("watch.json");
    let _prod_load = spawn(&[
        "load",
        &format!("{prod}/api/products/3"),
        "--rate",
        "20",
        "--duration",
        "120s",
    ]);
    let _shadow_load = spawn(&[
        "load",
        &format!("{entry}/api/products/3"),
        "--rate",
        "20",
        "--duration",
        "120s",
    ]);
    let watch = Command::new(bin())
        .args(["watch", "--group", &project, "--duration", "90s", "--json"])
        .arg(&report_path)
        .env("UNDERSTUDY_STATE_DIR", state_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Half a minute to learn, then the fault.
    std::thread::sleep(Duration::from_secs(50));
    ok(&understudy(&[
        "fault",
        "apply",
        "latency",
        "--target",
        &format!("{id}/gateway->api"),
        "--set",
        "latency=200ms",
        "--ttl",
        "30s",
        "--detach",
    ]));
    let out = watch.wait_with_output().unwrap();
    let printed = ok(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["schema"], "understudy.watch/v1");
    assert_eq!(report["shadow"], id.as_str());

    let faults = report["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 1, "{printed}");
    let fault_ms = faults[0]["start_ms"].as_i64().unwrap();

    let alerts = report["alerts"].as_array().unwrap();
    let latency_alerts = |env: &str| -> Vec<&serde_json::Value> {
        alerts
            .iter()
            .filter(|a| {
                let s = &a["series"];
                s["environment"] == env && s["metric"].as_str().unwrap().starts_with("latency")
            })
            .collect()
    };
    assert!(latency_alerts("prod").is_empty(), "{printed}");
    let first = latency_alerts("shadow")
        .iter()
        .map(|a| a["start_ms"].as_i64().unwrap())
        .min()
        .unwrap_or_else(|| panic!("no shadow latency alert:\n{printed}"));
    assert!(
        (fault_ms - 1000..=fault_ms + 10_000).contains(&first),
        "alert at {first}, fault at {fault_ms}:\n{printed}"
    );

    // The judge: the shadow's latency against its pre-fault minute failed.
    let baseline = &report["verdicts"]["vs_baseline"];
    let p50 = baseline["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gateway/latency_p50_ms")
        .unwrap();
    assert_eq!(p50["outcome"], "fail", "{printed}");
    assert_eq!(p50["shift"], "higher");
    assert!(printed.contains("judge vs baseline: FAIL"), "{printed}");

    // The run and its alerts are in the history.
    let db = state_dir().join("understudy.db");
    assert!(db.exists());
    assert!(report["run_id"].as_i64().is_some());
}
