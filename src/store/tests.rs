use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::domain::series::{Environment, Severity, metric};
use crate::shadow::tracking::Owner;

fn key(i: usize) -> SeriesKey {
    SeriesKey::instance(
        Environment::Prod,
        "api",
        format!("api-{i}"),
        metric::CPU_PERCENT,
    )
}

fn row(i: usize, start_ms: i64, count: u32) -> RollupRow {
    RollupRow {
        key: key(i),
        rollup: Rollup::TenSeconds,
        bucket: Bucket {
            start_ms,
            count,
            sum: 1.5 * f64::from(count),
            min: 0.25,
            max: 3.0,
            last: 1.0,
        },
    }
}

/// Run `run_id`'s buckets in `[from_ms, to_ms)`.
fn span(run_id: i64, from_ms: i64, to_ms: i64) -> RunSpan {
    RunSpan {
        run_id,
        from_ms,
        to_ms,
    }
}

fn alert(id: u64, end_ms: Option<i64>) -> Alert {
    Alert {
        id,
        series: SeriesKey::service(Environment::Shadow, "api", metric::LATENCY_P99_MS),
        score: 0.75,
        severity: Severity::Warning,
        explanation: "p99 latency 2.1x its record".into(),
        start_ms: 1000,
        end_ms,
    }
}

#[tokio::test]
async fn migrates_from_empty_with_wal_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("nested/state/understudy.db"))
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), db::known_version());
    assert_eq!(store.journal_mode().await.unwrap(), "wal");
    assert!(store.runs(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("understudy.db");
    let store = Store::open(&path).await.unwrap();
    let run = store
        .begin_run(NewRun {
            started_ms: 5,
            kind: "scenario".into(),
            target: "shop".into(),
            owner: None,
            shadow: None,
        })
        .await
        .unwrap();
    store.upsert_alert(run, alert(1, None)).await.unwrap();
    store
        .write_rollups(run, vec![row(0, 0, 3), row(0, 10_000, 4)])
        .await
        .unwrap();
    let entry = NewAudit {
        run_id: Some(run),
        time_ms: 7,
        actor: "operator".into(),
        action: json!({"scale": {"service": "api", "replicas": 3}}),
        outcome: "applied".into(),
    };
    let audit_id = store.append_audit(entry.clone()).await.unwrap();
    assert!(
        store
            .end_run(run, 99, Some(json!({"verdict": "pass"})))
            .await
            .unwrap()
    );
    assert!(!store.end_run(run + 1, 99, None).await.unwrap());
    drop(store);

    let store = Store::open(&path).await.unwrap();
    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].ended_ms, Some(99));
    assert_eq!(runs[0].summary, Some(json!({"verdict": "pass"})));
    assert_eq!(store.alerts(run).await.unwrap(), vec![alert(1, None)]);
    assert_eq!(
        store
            .rollups(span(run, 0, 20_000), key(0), Rollup::TenSeconds)
            .await
            .unwrap()
            .len(),
        2
    );
    let audit = store.audit(Some(run)).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].id, &audit[0].action, &audit[0].outcome),
        (audit_id, &entry.action, &entry.outcome)
    );
    assert!(store.audit(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_run_is_read_back_by_id_with_its_alert_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("understudy.db")).await.unwrap();
    let new = |started_ms, owner: Option<Owner>| NewRun {
        started_ms,
        kind: "watch".into(),
        target: "shop".into(),
        shadow: owner.as_ref().map(|_| "2d2f7c".to_owned()),
        owner,
    };
    let owner = Owner {
        pid: 42,
        start: Some(7),
        host: "ops-1".into(),
    };
    let first = store.begin_run(new(10, None)).await.unwrap();
    let second = store.begin_run(new(20, Some(owner.clone()))).await.unwrap();
    for id in 1..=3 {
        store
            .upsert_alert(second, alert(id, Some(2000)))
            .await
            .unwrap();
    }
    store.upsert_alert(second, alert(2, None)).await.unwrap();
    store
        .end_run(second, 30, Some(json!({"group": "shop"})))
        .await
        .unwrap();

    let read = store.run(second).await.unwrap().unwrap();
    assert_eq!(
        (read.started_ms, read.ended_ms, read.summary, read.owner),
        (20, Some(30), Some(json!({"group": "shop"})), Some(owner))
    );
    assert_eq!(read.shadow.as_deref(), Some("2d2f7c"));
    let unfinished = store.run(first).await.unwrap().unwrap();
    assert_eq!(
        (
            unfinished.ended_ms,
            unfinished.summary,
            unfinished.owner,
            unfinished.shadow
        ),
        (None, None, None, None)
    );
    assert_eq!(store.run(second + 1).await.unwrap(), None);
    assert_eq!(
        store.alert_count(second).await.unwrap(),
        3,
        "an upsert is one alert"
    );
    assert_eq!(store.alert_count(first).await.unwrap(), 0);
}

#[tokio::test]
async fn the_series_of_a_span_are_listed_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).await.unwrap();
    // Series 0 - 2 each every 10 s over 0 - 90 s; series 3 only at 200 s.
    let mut rows: Vec<RollupRow> = (0..30)
        .map(|i| row(i % 3, (i as i64 / 3) * 10_000, 1))
        .collect();
    rows.push(row(3, 200_000, 1));
    store.write_rollups(1, rows).await.unwrap();
    let names = |from, to| {
        let store = store.clone();
        async move {
            store
                .series_of(span(1, from, to), Rollup::TenSeconds)
                .await
                .unwrap()
        }
    };
    let all: Vec<String> = (0..3).map(|i| key(i).to_string()).collect();
    assert_eq!(names(0, 100_000).await, all);
    assert_eq!(names(50_000, 60_000).await, all, "one bucket each");
    assert_eq!(names(100_000, 300_000).await, vec![key(3).to_string()]);
    assert!(
        names(90_001, 200_000).await.is_empty(),
        "the end is exclusive"
    );
    assert!(
        store
            .series_of(span(1, 0, i64::MAX), Rollup::OneMinute)
            .await
            .unwrap()
            .is_empty(),
        "another resolution"
    );
}

#[tokio::test]
async fn upserts_are_idempotent_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("u.db")).await.unwrap();
    let rows: Vec<RollupRow> = (0..50)
        .map(|i| row(i % 5, (i as i64) * 10_000, 2))
        .collect();
    for _ in 0..3 {
        assert_eq!(store.write_rollups(1, rows.clone()).await.unwrap(), 50);
    }
    let got = store
        .rollups(span(1, 0, i64::MAX), key(0), Rollup::TenSeconds)
        .await
        .unwrap();
    assert_eq!(got.len(), 10);
    // An open bucket written again once sealed is replaced, not added.
    store.write_rollups(1, vec![row(0, 0, 9)]).await.unwrap();
    let first = store
        .rollups(span(1, 0, 1), key(0), Rollup::TenSeconds)
        .await
        .unwrap();
    assert_eq!(first, vec![row(0, 0, 9).bucket]);
    assert!(
        store
            .rollups(span(1, 0, i64::MAX), key(0), Rollup::OneMinute)
            .await
            .unwrap()
            .is_empty()
    );

    let run = store
        .begin_run(NewRun {
            started_ms: 0,
            kind: "console".into(),
            target: "shop".into(),
            owner: None,
            shadow: None,
        })
        .await
        .unwrap();
    store.upsert_alert(run, alert(1, None)).await.unwrap();
    store.upsert_alert(run, alert(1, Some(9000))).await.unwrap();
    store.upsert_alert(run, alert(1, Some(9000))).await.unwrap();
    assert_eq!(store.alerts(run).await.unwrap(), vec![alert(1, Some(9000))]);
    // Alerts belong to a run that exists.
    assert!(matches!(
        store.upsert_alert(run + 7, alert(2, None)).await,
        Err(StoreError::Sql { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_handles_and_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let first = Store::open(&path).await.unwrap();
    let second = Store::open(&path).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8usize {
        let store = if t % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            for batch in 0..10i64 {
                let rows = (0..20)
                    .map(|i| row(t, (batch * 20 + i) * 10_000, 1))
                    .collect();
                store.write_rollups(1, rows).await?;
            }
            store
                .append_audit(NewAudit {
                    run_id: None,
                    time_ms: t as i64,
                    actor: format!("task-{t}"),
                    action: json!({"t": t}),
                    outcome: "ok".into(),
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for t in 0..8 {
        let got = first
            .rollups(span(1, 0, i64::MAX), key(t), Rollup::TenSeconds)
            .await
            .unwrap();
        assert_eq!(got.len(), 200, "task {t}");
    }
    assert_eq!(second.audit(None).await.unwrap().len(), 8);
}

/// A history file at schema `version`, as an older understudy left it.
fn old_history(path: &std::path::Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    for migration in &super::schema::MIGRATIONS[..version] {
        conn.execute_batch(migration).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
    conn
}

/// A history written before runs recorded their process (schema 1) opens,
/// migrates, and keeps its runs, now without an owner.
#[tokio::test]
async fn a_schema_1_history_gains_the_owner_column_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = old_history(&path, 1);
        conn.execute(
            "INSERT INTO runs (started_ms, ended_ms, kind, target) VALUES (5, 9, 'watch', 'shop')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), db::known_version());
    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].started_ms, runs[0].ended_ms, runs[0].owner.clone()),
        (5, Some(9), None)
    );
}

/// Two watches of the same series at the same time (the console's and a
/// game day's) keep their own buckets: neither overwrites the other's.
#[tokio::test]
async fn each_run_keeps_its_own_buckets_of_a_shared_series() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("two.db")).await.unwrap();
    let mut runs = Vec::new();
    for started_ms in [0, 5_000] {
        let run = NewRun {
            started_ms,
            kind: "watch".into(),
            target: "shop".into(),
            owner: None,
            shadow: None,
        };
        runs.push(store.begin_run(run).await.unwrap());
    }
    // The same series and buckets, different counts per run.
    for (run, count) in [(runs[0], 3), (runs[1], 7)] {
        let rows = vec![row(0, 0, count), row(0, 10_000, count)];
        store.write_rollups(run, rows).await.unwrap();
    }
    store
        .write_rollups(runs[1], vec![row(1, 10_000, 1)])
        .await
        .unwrap();
    for (run, count) in [(runs[0], 3), (runs[1], 7)] {
        let got = store
            .rollups(span(run, 0, i64::MAX), key(0), Rollup::TenSeconds)
            .await
            .unwrap();
        assert_eq!(
            got,
            vec![row(0, 0, count).bucket, row(0, 10_000, count).bucket]
        );
    }
    let names = |run| store.series_of(span(run, 0, i64::MAX), Rollup::TenSeconds);
    assert_eq!(names(runs[0]).await.unwrap(), vec![key(0).to_string()]);
    assert_eq!(
        names(runs[1]).await.unwrap(),
        vec![key(0).to_string(), key(1).to_string()]
    );
}

/// Buckets written before rollups named their run (schema 2) survive the
/// migration and are read back by their run's time span.
#[tokio::test]
async fn a_schema_2_history_keeps_its_buckets_readable_by_span() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    {
        let conn = old_history(&path, 2);
        conn.execute(
            "INSERT INTO runs (started_ms, ended_ms, kind, target) VALUES (0, 30000, 'watch', 'shop')",
            [],
        )
        .unwrap();
        for (bucket_ms, count) in [(0, 2), (10_000, 4), (90_000, 6)] {
            conn.execute(
                "INSERT INTO rollups VALUES (?1, 10, ?2, ?3, 1.0, 0.5, 1.5, 1.0)",
                rusqlite::params![key(0).to_string(), bucket_ms, count],
            )
            .unwrap();
        }
    }
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), db::known_version());
    let run = store.runs(1).await.unwrap()[0].id;
    let got = store
        .rollups(span(run, 0, 30_001), key(0), Rollup::TenSeconds)
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|b| (b.start_ms, b.count))
            .collect::<Vec<_>>(),
        vec![(0, 2), (10_000, 4)]
    );
    // A run after the migration writes beside them without conflict.
    store
        .write_rollups(run + 1, vec![row(0, 0, 9)])
        .await
        .unwrap();
    let mine = store
        .rollups(span(run + 1, 0, 1), key(0), Rollup::TenSeconds)
        .await
        .unwrap();
    assert_eq!(
        mine,
        vec![row(0, 0, 9).bucket],
        "its own, not the unkeyed one"
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Store::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade understudy"));
}

#[test]
fn the_default_path_is_in_the_state_dir() {
    assert!(default_path().ends_with("understudy.db"));
}

fn arb_bucket() -> impl Strategy<Value = Bucket> {
    (
        -1_000_000i64..1_000_000,
        1u32..10_000,
        prop::num::f64::NORMAL | prop::num::f64::ZERO,
        -1e12f64..1e12,
        -1e12f64..1e12,
        prop::num::f64::NORMAL,
    )
        .prop_map(|(b, count, sum, min, max, last)| Bucket {
            start_ms: b * 10_000,
            count,
            sum,
            min,
            max,
            last,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Rollups read back bit for bit (through the blocking side directly).
    #[test]
    fn rollups_round_trip(buckets in prop::collection::vec(arb_bucket(), 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("p.db")).unwrap();
        let mut by_start = std::collections::BTreeMap::new();
        for b in &buckets {
            by_start.insert(b.start_ms, *b);
        }
        let rows: Vec<RollupRow> = buckets
            .iter()
            .map(|b| RollupRow { key: key(1), rollup: Rollup::OneMinute, bucket: *b })
            .collect();
        db.write_rollups(3, &rows).unwrap();
        let got = db.rollups(span(3, i64::MIN, i64::MAX), &key(1), Rollup::OneMinute).unwrap();
        let want: Vec<Bucket> = by_start.into_values().collect();
        prop_assert_eq!(got, want);
    }
}
