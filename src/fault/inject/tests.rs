use super::*;
use crate::domain::labels;
use crate::fault::catalog::request;
use crate::platform::recording::{Recording, container};
use crate::shadow::naming;

fn clone(name: &str, service: &str, n: &str) -> crate::platform::ContainerDetails {
    container(
        name,
        &[
            (labels::ROLE, "shadow"),
            (labels::SHADOW, "a1b2c3"),
            (labels::SERVICE, service),
            (naming::NUMBER, n),
        ],
    )
}

fn engine() -> Recording {
    Recording::with(vec![
        clone("shop-shadow-a1b2c3-api-1", "api", "1"),
        clone("shop-shadow-a1b2c3-api-2", "api", "2"),
        container("shop_api_1", &[(labels::COMPOSE_PROJECT, "shop")]),
    ])
}

fn req(kind: &str) -> FaultRequest {
    request(kind, &[]).unwrap()
}

#[tokio::test]
async fn apply_journals_first_then_reverts() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    let inj = Injector::new(fake.clone(), dir.path());
    let record = inj
        .apply(
            &req("pause"),
            &"a1b2c3/api".parse().unwrap(),
            Some(Duration::from_secs(60)),
            false,
        )
        .await
        .unwrap()
        .record;
    assert_eq!(record.status, Status::Active);
    assert_eq!(record.containers.len(), 2);
    let lines = std::fs::read_to_string(inj.journal().path()).unwrap();
    assert!(
        lines
            .lines()
            .next()
            .unwrap()
            .contains("\"status\":\"applying\""),
        "journalled before applying"
    );
    let lease = format!("understudy-lease-{}", record.id);
    assert_eq!(
        fake.mutations(),
        [
            format!("create volume {lease}"),
            "pause shop-shadow-a1b2c3-api-1".into(),
            "pause shop-shadow-a1b2c3-api-2".into(),
        ],
        "the lease is taken after the journal write, before the first step"
    );

    let results = inj.revert_ids(Some(std::slice::from_ref(&record.id))).await;
    assert!(results[0].is_ok());
    assert_eq!(
        fake.mutations()[3..],
        [
            "unpause shop-shadow-a1b2c3-api-1".into(),
            "unpause shop-shadow-a1b2c3-api-2".into(),
            format!("remove volume {lease}"),
        ]
    );
    assert_eq!(inj.journal().records()[0].status, Status::Reverted);
    assert!(fake.state().volumes.is_empty(), "the lease is released");
}

/// Another state directory (another operator) sharing the engine: its
/// sweep leaves a live holder's fault alone and releases a dead one's lease.
#[tokio::test]
async fn the_sweep_honours_another_journals_live_lease() {
    let (mine, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fake = engine();
    let holder = Injector::new(fake.clone(), mine.path());
    let record = holder
        .apply(&req("pause"), &"a1b2c3/api/1".parse().unwrap(), None, false)
        .await
        .unwrap()
        .record;
    let lease_labels = fake.state().volumes[0].labels.clone();
    assert_eq!(lease_labels[labels::SHADOW], "a1b2c3");
    assert_eq!(
        lease_labels[crate::fault::lease::CONTAINERS],
        "shop-shadow-a1b2c3-api-1"
    );

    let other = Injector::new(fake.clone(), theirs.path());
    let swept = other.sweep().await;
    assert!(swept.unpaused.is_empty(), "{swept:?}");
    assert_eq!(swept.held_elsewhere.len(), 1, "{swept:?}");
    assert!(
        swept.held_elsewhere[0].starts_with("shop-shadow-a1b2c3-api-1: fault ")
            && swept.held_elsewhere[0].contains(&record.id),
        "{swept:?}"
    );
    assert_eq!(fake.state().volumes.len(), 1, "a live lease stays");

    // The holder's own sweep follows its journal (the fault is active).
    let own = holder.sweep().await;
    assert!(
        own.unpaused.is_empty() && own.held_elsewhere.is_empty(),
        "{own:?}"
    );

    // The holder dies: its lease names a PID that no longer runs.
    let dead = crate::shadow::tracking::Owner {
        pid: u32::MAX - 1,
        ..crate::shadow::tracking::Owner::current()
    };
    let mut labels = lease_labels;
    labels.extend(dead.labels());
    fake.state().volumes[0].labels = labels;
    let swept = other.sweep().await;
    assert_eq!(swept.unpaused, ["shop-shadow-a1b2c3-api-1"], "{swept:?}");
    assert_eq!(swept.leases_released.len(), 1, "{swept:?}");
    assert!(
        swept.leases_released[0].ends_with("(its holder is gone)"),
        "{swept:?}"
    );
    assert!(fake.state().volumes.is_empty());
}

/// The fault is dated from when `apply` began: reading its facts may
/// already touch the shadow (a proxy's routes are read by exec), while its
/// TTL counts from the journal write, just before the first step.
#[tokio::test]
async fn the_fault_is_dated_before_its_facts_are_read_and_its_ttl_after() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    fake.state().inspect_delay = Duration::from_millis(150);
    let inj = Injector::new(fake.clone(), dir.path());
    let ttl = Duration::from_secs(60);
    let record = inj
        .apply(
            &req("pause"),
            &"a1b2c3/api".parse().unwrap(),
            Some(ttl),
            false,
        )
        .await
        .unwrap()
        .record;
    let expires = record.expires_ms.unwrap();
    // Two clones inspected at 150 ms each before the journal write.
    assert!(
        expires - record.created_ms >= 60_000 + 300,
        "created {} expires {expires}",
        record.created_ms
    );
}

#[tokio::test]
async fn production_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    let inj = Injector::new(fake.clone(), dir.path());
    for kind in [
        "pause",
        "kill",
        "stop",
        "cpu-throttle",
        "memory-pressure",
        "disk-fill",
        "quarantine",
    ] {
        let e = inj
            .apply(
                &req(kind),
                &TargetSpec::Container {
                    name: "shop_api_1".into(),
                },
                None,
                false,
            )
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("io.understudy.role=shadow"),
            "{kind}: {e}"
        );
    }
    assert!(fake.mutations().is_empty());
    assert!(inj.journal().records().is_empty());
}

#[tokio::test]
async fn stop_all_blocks_and_recover_reverts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    let inj = Injector::new(fake.clone(), dir.path());
    inj.apply(&req("pause"), &"a1b2c3/api/1".parse().unwrap(), None, true)
        .await
        .unwrap();
    inj.set_stopped(true).unwrap();
    assert!(matches!(
        inj.apply(&req("pause"), &"a1b2c3/api/2".parse().unwrap(), None, false)
            .await,
        Err(InjectError::Stopped)
    ));
    let reverted = inj.recover().await;
    assert_eq!(reverted.len(), 1);
    assert!(
        fake.mutations()
            .contains(&"unpause shop-shadow-a1b2c3-api-1".to_owned())
    );
    inj.set_stopped(false).unwrap();
    assert!(!inj.stopped());
}

#[tokio::test]
async fn a_dead_holders_faults_are_recovered_and_detached_ones_wait_for_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    let inj = Injector::new(fake.clone(), dir.path());
    let mut held = inj
        .apply(
            &req("pause"),
            &"a1b2c3/api/1".parse().unwrap(),
            Some(Duration::from_secs(600)),
            false,
        )
        .await
        .unwrap()
        .record;
    let mut detached = inj
        .apply(
            &req("pause"),
            &"a1b2c3/api/2".parse().unwrap(),
            Some(Duration::from_secs(600)),
            true,
        )
        .await
        .unwrap()
        .record;
    // Pretend another process, now dead, applied both.
    for r in [&mut held, &mut detached] {
        r.owner.pid = u32::MAX - 1;
        inj.journal().write(r).unwrap();
    }
    let reverted: Vec<String> = inj.recover().await.into_iter().map(|r| r.id).collect();
    assert_eq!(reverted, [held.id.clone()]);
    detached.expires_ms = Some(1);
    inj.journal().write(&detached).unwrap();
    let reverted: Vec<String> = inj.recover().await.into_iter().map(|r| r.id).collect();
    assert_eq!(reverted, [detached.id.clone()]);
}

#[tokio::test]
async fn a_vanished_target_is_noted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    let inj = Injector::new(fake.clone(), dir.path());
    let mut r = inj
        .apply(&req("pause"), &"a1b2c3/api/1".parse().unwrap(), None, false)
        .await
        .unwrap()
        .record;
    fake.state().containers.remove("shop-shadow-a1b2c3-api-1");
    inj.revert(&mut r).await.unwrap();
    assert!(
        r.notes.iter().any(|n| n.contains("disappeared")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.status, Status::Reverted);
}

/// A second fault that would own a container's state (pause, limits, ...)
/// is refused before anything is written or applied, from the same journal
/// or another one (its lease), so its revert cannot undo the first.
#[tokio::test]
async fn a_second_fault_owning_a_containers_state_is_refused_and_the_first_stays() {
    let (mine, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fake = engine();
    let holder = Injector::new(fake.clone(), mine.path());
    let api1: TargetSpec = "a1b2c3/api/1".parse().unwrap();
    let first = holder
        .apply(&req("pause"), &api1, None, false)
        .await
        .unwrap()
        .record;
    let before = fake.mutations().len();

    let same = holder
        .apply(&req("cpu-throttle"), &api1, None, false)
        .await
        .unwrap_err();
    assert!(matches!(same, InjectError::Busy { .. }), "{same}");
    assert!(same.to_string().contains(&first.id), "{same}");

    let other = Injector::new(fake.clone(), theirs.path());
    let e = other
        .apply(&req("pause"), &api1, None, false)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(&first.id) && e.to_string().contains("another state directory"),
        "{e}"
    );
    assert_eq!(fake.mutations().len(), before, "nothing applied or undone");
    assert!(other.journal().records().is_empty(), "nothing journalled");
    assert_eq!(
        fake.state().containers["shop-shadow-a1b2c3-api-1"].state,
        crate::domain::RunState::Paused
    );

    // Another replica is free, and a fault that owns no state stacks.
    other
        .apply(&req("pause"), &"a1b2c3/api/2".parse().unwrap(), None, false)
        .await
        .unwrap();
    let disk = other.apply(&req("disk-fill"), &api1, None, false).await;
    assert!(
        !matches!(disk, Err(InjectError::Busy { .. })),
        "{:?}",
        disk.err()
    );
}

/// Two applies racing past the busy check: the loser's pause is refused by
/// the engine, and its failure path must not unpause what it never paused
/// (here a pause the busy check could not see), only what it did pause.
#[tokio::test]
async fn a_failed_apply_undoes_only_the_steps_that_took_effect() {
    let dir = tempfile::tempdir().unwrap();
    let fake = engine();
    fake.state()
        .containers
        .get_mut("shop-shadow-a1b2c3-api-2")
        .unwrap()
        .state = crate::domain::RunState::Paused;
    let inj = Injector::new(fake.clone(), dir.path());
    let e = inj
        .apply(&req("pause"), &"a1b2c3/api".parse().unwrap(), None, false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already paused"), "{e}");
    let state = |n: &str| fake.state().containers[n].state;
    assert_eq!(
        state("shop-shadow-a1b2c3-api-1"),
        crate::domain::RunState::Running,
        "its own pause undone"
    );
    assert_eq!(
        state("shop-shadow-a1b2c3-api-2"),
        crate::domain::RunState::Paused,
        "the pause it never made left alone"
    );
    let unpauses: Vec<String> = fake
        .mutations()
        .into_iter()
        .filter(|m| m.starts_with("unpause"))
        .collect();
    assert_eq!(unpauses, ["unpause shop-shadow-a1b2c3-api-1"]);
    let record = inj.journal().records().pop().unwrap();
    assert_eq!(record.status, Status::Reverted);
    assert!(
        record
            .notes
            .iter()
            .any(|n| n == "not undone (never took effect): unpause shop-shadow-a1b2c3-api-2"),
        "{:?}",
        record.notes
    );
}

/// Two applies racing past the busy check, each before the other's lease
/// exists: the one that sees the other's lease after taking its own backs
/// off before any step (and its revert must not unpause the other's pause).
#[tokio::test]
async fn a_fault_claimed_in_the_same_instant_backs_off_before_any_step() {
    let (mine, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let api1: TargetSpec = "a1b2c3/api/1".parse().unwrap();
    // The rival's lease, as the other operator's apply writes it.
    let elsewhere = engine();
    let rival = Injector::new(elsewhere.clone(), theirs.path())
        .apply(&req("pause"), &api1, None, false)
        .await
        .unwrap()
        .record;
    let fake = engine();
    fake.state().racing_volumes = elsewhere.state().volumes.clone();

    let inj = Injector::new(fake.clone(), mine.path());
    let e = inj
        .apply(&req("cpu-throttle"), &api1, None, false)
        .await
        .unwrap_err();
    assert!(matches!(e, InjectError::Contended { .. }), "{e}");
    assert!(e.to_string().contains(&rival.id), "{e}");
    let touched: Vec<String> = fake
        .mutations()
        .into_iter()
        .filter(|m| !m.contains("volume"))
        .collect();
    assert!(touched.is_empty(), "no step and no undo ran: {touched:?}");
    let record = inj.journal().records().pop().unwrap();
    assert_eq!(record.status, Status::Reverted);
    assert!(record.reverts.is_empty(), "{:?}", record.reverts);
    let volumes: Vec<String> = fake
        .state()
        .volumes
        .iter()
        .map(|v| v.name.clone())
        .collect();
    assert_eq!(
        volumes,
        [lease::volume_name(&rival.id)],
        "our lease released, the rival's kept"
    );

    // Once the rival's lease is gone, the same fault applies.
    fake.state().volumes.clear();
    inj.apply(&req("cpu-throttle"), &api1, None, false)
        .await
        .unwrap();
}
