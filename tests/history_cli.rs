//! `understudy history` through the real binary against a real SQLite file
//! written by the store: the list, one run in full, JSON, and what it says
//! for a missing database or an unknown run (it never creates the file).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use understudy::domain::series::{
    Alert, Bucket, Environment, Rollup, RollupRow, SeriesKey, Severity, metric,
};
use understudy::shadow::tracking::Owner;
use understudy::store::{NewRun, Store};

fn history(db: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .arg("history")
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

/// `history ARGS --json`, parsed.
fn json_of(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    serde_json::from_str(&stdout(&history(db, &with_json))).unwrap()
}

/// A temporary database holding `write_history`'s runs (the directory
/// lives as long as the guard).
fn written_history() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("understudy.db");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(write_history(&db));
    (dir, db)
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Three runs: 1 finished with a fault, a failed baseline verdict and two
/// alerts (one closed, one open at the end); 2 never ended (killed); 3 is
/// still running (this process).
async fn write_history(db: &Path) {
    let store = Store::open(db).await.unwrap();
    let t0 = 1_796_619_664_000;
    let done = store
        .begin_run(NewRun {
            started_ms: t0,
            kind: "watch".into(),
            target: "shop".into(),
            owner: None,
            shadow: None,
        })
        .await
        .unwrap();
    for (id, start, end) in [(1, 41_200, Some(61_200)), (2, 44_000, None)] {
        let alert = Alert {
            id,
            series: SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS),
            score: 0.9,
            severity: Severity::Critical,
            explanation: "p99 latency 208 ms, 22x its baseline 9.26 ms".into(),
            start_ms: t0 + start,
            end_ms: end.map(|e| t0 + e),
        };
        store.upsert_alert(done, alert).await.unwrap();
    }
    let summary = json!({
        "schema": "understudy.watch/v1", "group": "shop", "shadow": "2d2f7c",
        "faults": [{"id": "5fd5bb39", "kind": "latency", "target": "2d2f7c/gateway->api",
                    "start_ms": t0 + 40_000}],
        "verdicts": {"since_ms": t0,
            "vs_production": {"outcome": "pass", "score": 100.0, "metrics": [], "reasons": []},
            "vs_baseline": {"outcome": "fail", "score": 0.0, "metrics": [],
                            "reasons": ["gateway/latency_p50_ms: shadow higher"]}}
    });
    store
        .end_run(done, t0 + 65_000, Some(summary))
        .await
        .unwrap();
    // Its series: p99 latency at 10 ms, then 210 ms from +40 s (the fault),
    // one 10 s bucket each (seven, the first holding the run's start); and
    // CPU for the two api instances.
    let mut rows = Vec::new();
    for i in 0..7 {
        let start_ms = (t0 / 10_000 + i) * 10_000;
        let ms = if i >= 5 { 210.0 } else { 10.0 };
        let key = SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS);
        rows.push(row(key, start_ms, ms));
        for api in ["api-1", "api-2"] {
            let key = SeriesKey::instance(Environment::Shadow, "api", api, metric::CPU_PERCENT);
            rows.push(row(key, start_ms, 2.5));
        }
    }
    store.write_rollups(done, rows).await.unwrap();
    // Run 2's process is this one's PID with another start time: a PID
    // reused after the run's process was killed. Run 3's is this process.
    let reused = Owner {
        start: Some(0),
        ..Owner::current()
    };
    let mut later = Vec::new();
    for (i, owner) in [reused, Owner::current()].into_iter().enumerate() {
        let run = store
            .begin_run(NewRun {
                started_ms: t0 + 120_000 * (i as i64 + 1),
                kind: "watch".into(),
                target: "shop".into(),
                owner: Some(owner),
                // Run 3 is still going: its shadow is known from its start.
                shadow: (i == 1).then(|| "7e3f01".to_owned()),
            })
            .await
            .unwrap();
        later.push(run);
    }
    // Run 2 also wrote p99 latency buckets at run 1's times (two watches of
    // one group at once): each run keeps its own.
    let overlapping = (0..7)
        .map(|i| {
            let key = SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS);
            row(key, (t0 / 10_000 + i) * 10_000, 999.0)
        })
        .collect();
    store.write_rollups(later[0], overlapping).await.unwrap();
}

fn row(key: SeriesKey, start_ms: i64, value: f64) -> RollupRow {
    RollupRow {
        key,
        rollup: Rollup::TenSeconds,
        bucket: Bucket {
            start_ms,
            count: 10,
            sum: 10.0 * value,
            min: value,
            max: value,
            last: value,
        },
    }
}

#[test]
fn the_history_lists_runs_and_shows_one_in_full() {
    let (_dir, db) = written_history();

    let listed = stdout(&history(&db, &[]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 4, "{listed}");
    assert!(
        lines[1].trim_start().starts_with("3 "),
        "newest first: {listed}"
    );
    let running = format!("running (pid {})", std::process::id());
    assert!(lines[1].ends_with(&running), "{listed}");
    assert!(lines[1].contains(" 7e3f01 "), "{listed}");
    assert!(
        lines[2].ends_with("did not end (killed or crashed)"),
        "{listed}"
    );
    assert!(lines[3].contains("1 min 5 s"), "{listed}");
    assert!(lines[3].ends_with("2  PASS 100       FAIL 0"), "{listed}");
    assert_eq!(stdout(&history(&db, &["--limit", "1"])).lines().count(), 2);
    let zero = history(&db, &["--limit", "0"]);
    assert_eq!(zero.status.code(), Some(2), "a usage error: {zero:?}");
    assert!(
        String::from_utf8_lossy(&zero.stderr).contains("'0'"),
        "{zero:?}"
    );
    assert!(stdout(&history(&db, &["2"])).contains("UTC, did not end (killed or crashed)\n"));

    let shown = stdout(&history(&db, &["1"]));
    assert!(
        shown.starts_with("run 1: watch of shop beside shadow 2d2f7c\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    gateway/latency_p50_ms: shadow higher\n"),
        "{shown}"
    );
    assert!(
        shown.contains("  fault 5fd5bb39 latency on 2d2f7c/gateway->api at +40.0 s\n"),
        "{shown}"
    );
    assert!(
        shown.contains("+41.2 s         20.0 s  p99 latency 208 ms"),
        "{shown}"
    );
    assert!(
        shown.contains("+44.0 s    open at end  p99 latency"),
        "{shown}"
    );

    let json = json_of(&db, &["1"]);
    assert_eq!(json["schema"], "understudy.history/v1");
    assert_eq!(json["run"]["summary"]["shadow"], "2d2f7c");
    assert_eq!(json["alerts"].as_array().unwrap().len(), 2);
    let runs = json_of(&db, &[]);
    let states: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["running", "killed", "ended"]);
    assert_eq!(runs["runs"][2]["alerts"], 2);
    assert_eq!(runs["runs"][2]["shadow"], "2d2f7c");
    assert_eq!(runs["runs"][0]["shadow"], "7e3f01", "known from its start");
    assert_eq!(runs["runs"][1]["shadow"], serde_json::Value::Null);
    assert_eq!(
        runs["runs"][2]["vs_baseline"],
        json!({"outcome": "fail", "score": 0.0})
    );
    assert_eq!(runs["runs"][2]["vs_production"]["outcome"], "pass");
    assert_eq!(
        runs["runs"][2]["summary"],
        serde_json::Value::Null,
        "no report in a list"
    );
    assert_eq!(runs["runs"][0]["vs_production"], serde_json::Value::Null);
    assert_eq!(runs["runs"][0]["ended_ms"], serde_json::Value::Null);

    let unknown = history(&db, &["7"]);
    assert_eq!(unknown.status.code(), Some(1));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("no run 7 in ") && err.contains("runs go up to 3"),
        "{err}"
    );
}

/// A run's stored series come back as a table, as JSON, and as CSV that
/// `understudy detect` scores.
#[test]
fn a_runs_series_come_back_and_detect_reads_them() {
    let (_dir, db) = written_history();

    let table = stdout(&history(&db, &["1", "--series", "shadow/api/*"]));
    let blocks: Vec<&str> = table.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "one block per instance: {table}");
    assert!(
        blocks[0].starts_with("shadow/api/api-1/cpu_percent · 10 s buckets · 7\n"),
        "{table}"
    );
    assert!(
        blocks[1].starts_with("shadow/api/api-2/cpu_percent · "),
        "{table}"
    );

    let csv = stdout(&history(
        &db,
        &["1", "--series", "*/latency_p99_ms", "--csv"],
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 8, "{csv}");
    assert_eq!(lines[0], "timestamp,value");
    assert_eq!(lines[1], "2026-12-07 05:01:00,10");
    assert_eq!(lines[7], "2026-12-07 05:02:00,210");
    let json = json_of(&db, &["1", "--series", "*/latency_p99_ms"]);
    assert_eq!(json["series"][0]["key"], "shadow/gateway/latency_p99_ms");
    assert_eq!(json["series"][0]["buckets"].as_array().unwrap().len(), 7);

    let mut detect = Command::new(common::bin())
        .args(["detect", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut detect.stdin.take().unwrap(), csv.as_bytes()).unwrap();
    let scored = stdout(&detect.wait_with_output().unwrap());
    assert_eq!(scored.lines().count(), 8, "{scored}");
    assert!(
        scored.lines().skip(1).all(|l| l.split(',').count() == 3),
        "{scored}"
    );

    let several = history(&db, &["1", "--series", "shadow/api/*", "--csv"]);
    assert_eq!(several.status.code(), Some(1));
    let err = String::from_utf8_lossy(&several.stderr);
    assert!(
        err.contains("matches 2: shadow/api/api-1/cpu_percent, shadow/api/api-2/cpu_percent"),
        "{err}"
    );
    let none = history(&db, &["1", "--series", "prod/*"]);
    assert_eq!(none.status.code(), Some(1));
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        err.contains("\"prod/*\" matches none of the 3 series run 1 stored"),
        "{err}"
    );
    assert!(err.contains("shadow/gateway/latency_p99_ms"), "{err}");
    let empty = history(&db, &["2", "--series", "shadow/*"]);
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("run 2 stored no series in 10 s buckets"),
        "{empty:?}"
    );
    let everything = history(&db, &["1", "--series", "*"]);
    assert!(String::from_utf8_lossy(&everything.stderr).contains("matches every series"));
}

/// `--group` lists one group's runs.
#[test]
fn a_group_lists_its_own_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("understudy.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&db).await.unwrap();
        for (i, target) in ["shop", "ledger", "shop"].into_iter().enumerate() {
            let id = store
                .begin_run(NewRun {
                    started_ms: 1_796_619_664_000 + i as i64 * 60_000,
                    kind: "watch".into(),
                    target: target.into(),
                    owner: None,
                    shadow: None,
                })
                .await
                .unwrap();
            store
                .end_run(id, 1_796_619_664_000 + i as i64 * 60_000 + 30_000, None)
                .await
                .unwrap();
        }
    });
    let ids = |args: &[&str]| -> Vec<String> {
        stdout(&history(&db, args))
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&["--group", "shop"]), ["3", "1"]);
    assert_eq!(ids(&["-g", "ledger"]), ["2"]);
    assert_eq!(ids(&[]), ["3", "2", "1"]);
    let none = stdout(&history(&db, &["--group", "payments"]));
    assert!(
        none.starts_with("no runs of group \"payments\" in "),
        "{none}"
    );
}

#[test]
fn a_missing_history_is_reported_and_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nowhere.db");
    let listed = stdout(&history(&db, &[]));
    assert!(listed.starts_with("no history yet: "), "{listed}");
    let json = json_of(&db, &[]);
    assert_eq!(json["runs"], json!([]));
    let one = history(&db, &["3"]);
    assert_eq!(one.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&one.stderr).contains("no history at "),
        "{one:?}"
    );
    assert!(!db.exists(), "reading must not create the database");
}
