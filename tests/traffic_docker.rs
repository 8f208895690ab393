//! Traffic against the real engine: `demo traffic` plays a compressed day
//! on production; `traffic profile --from-container` on the gateway learns
//! a rate curve and mix that match what was sent; `traffic replay` of that
//! profile at speed 4 against the shadow's entry reproduces the curve.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{ProjectGuard, ShadowGuard, docker_available, ok, understudy, unique_project};

fn json_file(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn counts(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

fn unix_of(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn a_profile_learned_from_production_matches_what_was_sent_and_replays_on_the_shadow() {
    if !docker_available() {
        return;
    }
    let project = unique_project("uttraffic");
    let _demo = ProjectGuard::new(&project);
    let _shadows = ShadowGuard(project.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = understudy(&["demo", "-p", &project, "up"]);
    ok(&out);

    // A compressed day on production.
    let sent_path = dir.path().join("sent.json");
    let out = understudy(&[
        "demo",
        "-p",
        &project,
        "traffic",
        "--duration",
        "30s",
        "--peak",
        "15",
        "--json",
        sent_path.to_str().unwrap(),
    ]);
    ok(&out);
    let sent = json_file(&sent_path);

    // What the gateway's access log says.
    let profile_path = dir.path().join("profile.json");
    let gateway = format!("{project}_gateway_1");
    let out = understudy(&[
        "traffic",
        "profile",
        "--from-container",
        &gateway,
        "--since",
        "10m",
        "-o",
        profile_path.to_str().unwrap(),
    ]);
    ok(&out);
    let profile = json_file(&profile_path);

    // The curves, aligned on wall-clock seconds.
    let sent_rate = counts(&sent["rate"]);
    let learned = counts(&profile["rate"]);
    let offset = unix_of(profile["start"].as_str().unwrap()) - sent["start_unix"].as_i64().unwrap();
    let at = |t: i64| {
        usize::try_from(t - offset)
            .ok()
            .and_then(|i| learned.get(i))
            .copied()
            .unwrap_or(0)
    };
    let total: i64 = sent_rate.iter().sum();
    let diff: i64 = sent_rate
        .iter()
        .enumerate()
        .map(|(t, &s)| (s - at(t as i64)).abs())
        .sum();
    assert!(
        diff as f64 <= 0.05 * total as f64,
        "curve differs by {diff} of {total}: sent {sent_rate:?}, learned {learned:?} (offset {offset})"
    );
    assert!((learned.iter().sum::<i64>() - total).abs() as f64 <= 0.05 * total as f64);

    assert_mix_matches(&sent, &profile, total);

    // Replay at speed 4 on a shadow.
    let shadow = common::shadow_up(&project);
    let entry = shadow["entry"]["gateway"].as_str().unwrap();
    let report_path = dir.path().join("replay.json");
    let out = understudy(&[
        "traffic",
        "replay",
        profile_path.to_str().unwrap(),
        "--target",
        entry,
        "--speed",
        "4",
        "--json",
        report_path.to_str().unwrap(),
    ]);
    ok(&out);
    let report = json_file(&report_path);
    let windows = report["per_second"].as_array().unwrap();
    assert!(windows.len() >= 7, "{} windows", windows.len());
    // A second's `rps` counts the requests that *finished* in it, so a
    // response slowed by a busy machine moves one into the next second:
    // each second within 10 % (+2), and the checked seconds together
    // within 3 % of their target (speed 2 or 8 instead of 4 would be off
    // by half or more).
    let (mut checked, mut achieved, mut intended) = (0, 0.0, 0.0);
    for w in &windows[1..windows.len() - 1] {
        let target = w["target_rps"].as_f64().unwrap_or(0.0);
        if target < 10.0 {
            continue;
        }
        let rps = w["rps"].as_f64().unwrap();
        assert!(
            (rps - target).abs() <= 0.10 * target + 2.0,
            "second {}: achieved {rps} vs target {target}",
            w["t"]
        );
        checked += 1;
        achieved += rps;
        intended += target;
    }
    assert!(checked >= 4, "{checked} seconds checked");
    assert!(
        (achieved - intended).abs() <= 0.03 * intended,
        "achieved {achieved} vs target {intended} over {checked} seconds"
    );
    assert_eq!(report["dropped"].as_u64().unwrap(), 0);
}

fn assert_mix_matches(sent: &serde_json::Value, profile: &serde_json::Value, total: i64) {
    let sent_mix: BTreeMap<String, f64> = sent["mix"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap() / total as f64))
        .collect();
    let learned_mix: BTreeMap<String, f64> = profile["mix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                format!(
                    "{} {}",
                    m["method"].as_str().unwrap(),
                    m["path"].as_str().unwrap()
                ),
                m["share"].as_f64().unwrap(),
            )
        })
        .collect();
    for (endpoint, share) in &sent_mix {
        let got = learned_mix.get(endpoint).copied().unwrap_or(0.0);
        assert!(
            (got - share).abs() <= 0.05 * share + 0.005,
            "{endpoint}: sent {share:.3}, learned {got:.3}; learned mix {learned_mix:?}"
        );
    }
}
