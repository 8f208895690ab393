use std::collections::BTreeMap;

use super::*;

fn record(id: &str, status: Status) -> Record {
    Record {
        id: id.into(),
        status,
        request: FaultRequest {
            kind: "pause".into(),
            params: BTreeMap::new(),
        },
        target: "a1b2c3/api/1".into(),
        shadow: "a1b2c3".into(),
        containers: vec!["shop-shadow-a1b2c3-api-1".into()],
        created_ms: 1000,
        expires_ms: Some(61_000),
        detached: false,
        owner: Owner {
            pid: 7,
            start: Some(1),
            host: "h".into(),
        },
        reverts: vec![RevertOp::Unpause {
            container: "shop-shadow-a1b2c3-api-1".into(),
        }],
        notes: vec![],
    }
}

#[test]
fn the_latest_line_of_each_fault_wins_and_torn_lines_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    assert!(j.records().is_empty());
    j.write(&record("f1", Status::Applying)).unwrap();
    j.write(&record("f2", Status::Applying)).unwrap();
    j.write(&record("f1", Status::Active)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(j.path())
        .unwrap()
        .write_all(b"{\"id\":\"f3\",\"sta")
        .unwrap();
    let records = j.records();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].id.as_str(), records[0].status),
        ("f1", Status::Active)
    );
    assert_eq!(records[1].reverts.len(), 1);
}

#[test]
fn compaction_keeps_only_what_may_need_a_revert() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    j.write(&record("f1", Status::Active)).unwrap();
    j.write(&record("f2", Status::Reverted)).unwrap();
    j.compact().unwrap();
    let ids: Vec<String> = j.records().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["f1"]);
}

#[test]
fn verdicts() {
    let active = record("f", Status::Active);
    assert_eq!(
        verdict(&active, true, 2000, false),
        Verdict::Keep,
        "held and not expired"
    );
    assert_eq!(
        verdict(&active, false, 2000, false),
        Verdict::Revert,
        "its holder died"
    );
    assert_eq!(
        verdict(&active, true, 61_000, false),
        Verdict::Revert,
        "expired"
    );
    assert_eq!(
        verdict(&active, true, 2000, true),
        Verdict::Revert,
        "stop-all"
    );
    let mut detached = active.clone();
    detached.detached = true;
    assert_eq!(
        verdict(&detached, false, 2000, false),
        Verdict::Keep,
        "detached until it expires"
    );
    assert_eq!(verdict(&detached, false, 70_000, false), Verdict::Revert);
    assert_eq!(
        verdict(&record("f", Status::Reverted), false, 99_999, true),
        Verdict::Keep
    );
    assert_eq!(
        verdict(&record("f", Status::Applying), false, 2000, false),
        Verdict::Revert,
        "died while applying"
    );
}

#[test]
fn compaction_beside_concurrent_appends_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let j = Journal::new(&path);
            std::thread::spawn(move || {
                for i in 0..60 {
                    j.write(&record(&format!("w{w}-{i}"), Status::Active))
                        .unwrap();
                }
            })
        })
        .collect();
    let compactor = {
        let j = Journal::new(&path);
        std::thread::spawn(move || {
            for _ in 0..200 {
                j.compact().unwrap();
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    compactor.join().unwrap();
    assert_eq!(Journal::new(&path).records().len(), 180);
}

#[test]
fn undo_steps_that_restore_a_snapshot_own_their_container() {
    let owned = |op: RevertOp| op.owned_container().map(str::to_owned);
    let c = || "api-1".to_owned();
    assert_eq!(owned(RevertOp::Unpause { container: c() }), Some(c()));
    assert_eq!(owned(RevertOp::Start { container: c() }), Some(c()));
    assert_eq!(
        owned(RevertOp::Restore {
            container: c(),
            update: ResourceUpdate::default()
        }),
        Some(c())
    );
    assert_eq!(
        owned(RevertOp::Netns {
            container: c(),
            commands: vec![]
        }),
        None,
        "packet rules stack"
    );
    assert_eq!(
        owned(RevertOp::ProxyFaults {
            container: c(),
            proxy: "api-8080".into(),
            ids: vec![],
            kind: String::new()
        }),
        None,
        "proxy faults stack"
    );
}
