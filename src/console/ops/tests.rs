//! The operations task against the fake platform: results as messages,
//! errors as one line, teardown through the platform, and cancel aborting
//! an operation in flight.

use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::console::fixtures::{self, fake::Fake};
use crate::domain::labels;

struct Running {
    handle: OpsHandle,
    task: JoinHandle<()>,
    rx: mpsc::Receiver<Msg>,
    cancel: CancellationToken,
}

fn start(fake: &Fake) -> Running {
    let (tx, rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(fake.clone(), tx, cancel.clone());
    Running {
        handle,
        task,
        rx,
        cancel,
    }
}

impl Running {
    /// The next result, skipping progress steps.
    async fn done(&mut self) -> ShadowEvent {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.rx.recv());
            match next.await.expect("a result in time") {
                Some(Msg::Shadow(ShadowEvent::Step(_))) => {}
                Some(Msg::Shadow(event)) => return event,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn planning_an_unknown_group_fails_with_one_line() {
    let fake = Fake::new();
    let mut ops = start(&fake);
    ops.handle
        .run(ShadowCmd::Plan {
            group: "nope".into(),
        })
        .unwrap();
    match ops.done().await {
        ShadowEvent::Planned { group, result } => {
            assert_eq!(group, "nope");
            let e = result.unwrap_err();
            assert!(e.starts_with("no group named \"nope\""), "{e}");
            assert!(!e.contains('\n'));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_plan_touches_nothing() {
    let fake = Fake::new();
    let before = fake.with(|s| s.containers.len());
    let mut ops = start(&fake);
    ops.handle
        .run(ShadowCmd::Apply(Box::new(fixtures::refused_plan())))
        .unwrap();
    // No step either: not even the image is prepared.
    let next = ops.rx.recv().await.unwrap();
    match next {
        Msg::Shadow(ShadowEvent::Applied { id, result, .. }) => {
            assert_eq!(id, "a1b2c3");
            assert_eq!(
                result.unwrap_err(),
                "the plan is refused: store: privileged: true"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fake.with(|s| s.containers.len()), before);
}

#[tokio::test]
async fn teardown_removes_everything_of_the_shadow_and_nothing_else() {
    let fake = Fake::with_shadow();
    // Another shadow's network stays, so the host rule is left alone
    // (no iptables from a unit test).
    let mut other = fixtures::shadow_networks().remove(0);
    other.id = "net-other".into();
    other.labels.insert(labels::SHADOW.into(), "ffffff".into());
    fake.with(|s| s.networks.push(other));
    let mut ops = start(&fake);
    ops.handle
        .run(ShadowCmd::Remove {
            id: "a1b2c3".into(),
            group: "shop".into(),
        })
        .unwrap();
    match ops.done().await {
        ShadowEvent::Removed { id, group, result } => {
            assert_eq!((id.as_str(), group.as_str()), ("a1b2c3", "shop"));
            let removed = result.unwrap();
            assert_eq!(
                (
                    removed.containers.len(),
                    removed.networks.len(),
                    removed.volumes.len()
                ),
                (4, 2, 1)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let (containers, networks) = fake.with(|s| (s.containers.clone(), s.networks.clone()));
    assert_eq!(containers, fixtures::containers(), "production untouched");
    assert_eq!(networks.len(), 1);
    assert_eq!(fake.with(|s| s.volumes.len()), 0);
}

#[tokio::test]
async fn cancel_aborts_the_operation_in_flight() {
    let fake = Fake::with_shadow();
    fake.with(|s| s.hang_removal = true);
    let mut ops = start(&fake);
    ops.handle
        .run(ShadowCmd::Remove {
            id: "a1b2c3".into(),
            group: "shop".into(),
        })
        .unwrap();
    // Let it reach the hanging removal.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(ops.rx.try_recv().is_err(), "still running");
    ops.cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), &mut ops.task)
        .await
        .expect("the task ends on cancel")
        .unwrap();
    assert!(ops.rx.recv().await.is_none(), "no result after an abort");
    assert!(
        ops.handle
            .run(ShadowCmd::Plan {
                group: "shop".into()
            })
            .is_err(),
        "a gone task gives the command back"
    );
}
