//! Which undo steps an apply that failed halfway may run (pure).
//!
//! A fault's undo steps are compiled with its steps, for the whole fault.
//! When step `k` fails, the steps after it never ran, and some steps fail
//! whole: the engine refuses a pause, a limit update, a kill or a network
//! change without changing anything. An undo that puts a container's state
//! back from a snapshot (unpause, start, restore limits, reconnect,
//! recreate: [`RevertOp::owned_container`]) must not run for a step that
//! took no effect: that state may be another fault's. Two applies racing
//! past the busy check on one container are exactly that case: the second
//! pause is refused ("already paused"), and running its unpause would undo
//! the first fault. Undo steps that own nothing (packet rules, proxy faults
//! by id, files, burners) are idempotent and all run, as before.

use super::super::journal::RevertOp;
use super::compile::Step;

/// The undo steps to run after `steps[failed]` failed, and those skipped
/// because none of the steps they undo took effect.
pub fn reverts_after_failure(
    steps: &[Step],
    failed: usize,
    reverts: &[RevertOp],
) -> (Vec<RevertOp>, Vec<RevertOp>) {
    let took_effect: Vec<&Step> = steps
        .iter()
        .enumerate()
        .filter(|(i, s)| *i < failed || (*i == failed && !fails_whole(s)))
        .map(|(_, s)| s)
        .collect();
    reverts
        .iter()
        .cloned()
        .partition(|op| op.owned_container().is_none() || took_effect.iter().any(|s| undoes(op, s)))
}

/// Whether a failed call of this step changed nothing: the engine refuses
/// these whole. A stop or restart can fail after the container stopped,
/// a recreate after the old container was removed, a command in a
/// namespace after some of its rules went in.
fn fails_whole(step: &Step) -> bool {
    matches!(
        step,
        Step::Pause { .. }
            | Step::Update { .. }
            | Step::Kill { .. }
            | Step::Disconnect { .. }
            | Step::Connect { .. }
    )
}

/// Whether `op` puts back what `step` changed.
fn undoes(op: &RevertOp, step: &Step) -> bool {
    match (op, step) {
        (
            RevertOp::Start { container },
            Step::Kill { container: c, .. }
            | Step::Stop { container: c, .. }
            | Step::Restart { container: c, .. },
        )
        | (RevertOp::Unpause { container }, Step::Pause { container: c })
        | (RevertOp::Restore { container, .. }, Step::Update { container: c, .. })
        | (RevertOp::Recreate { container, .. }, Step::Recreate { container: c, .. }) => {
            container == c
        }
        (
            RevertOp::Reconnect {
                container, network, ..
            },
            Step::Disconnect {
                container: c,
                network: n,
            }
            | Step::Connect {
                container: c,
                network: n,
                ..
            },
        ) => container == c && network == n,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ResourceUpdate;

    fn pause(c: &str) -> Step {
        Step::Pause {
            container: c.into(),
        }
    }

    fn unpause(c: &str) -> RevertOp {
        RevertOp::Unpause {
            container: c.into(),
        }
    }

    #[test]
    fn a_pause_refused_whole_is_not_undone_nor_are_the_steps_after_it() {
        let steps = [pause("a"), pause("b"), pause("c")];
        let reverts = [unpause("a"), unpause("b"), unpause("c")];
        let (run, skipped) = reverts_after_failure(&steps, 1, &reverts);
        assert_eq!(run, [unpause("a")]);
        assert_eq!(skipped, [unpause("b"), unpause("c")]);
    }

    #[test]
    fn a_step_that_can_fail_halfway_is_undone() {
        let steps = [Step::Stop {
            container: "a".into(),
            grace_ms: 1000,
        }];
        let start = RevertOp::Start {
            container: "a".into(),
        };
        let (run, skipped) = reverts_after_failure(&steps, 0, std::slice::from_ref(&start));
        assert_eq!(run, [start]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn undo_steps_that_own_nothing_always_run() {
        let steps = [Step::Netns {
            container: "a".into(),
            commands: vec![],
        }];
        let rules = RevertOp::Netns {
            container: "a".into(),
            commands: vec![vec!["tc".into()]],
        };
        let (run, _) = reverts_after_failure(&steps, 0, std::slice::from_ref(&rules));
        assert_eq!(run, [rules]);
    }

    #[test]
    fn a_reconnect_runs_only_for_a_network_the_fault_changed() {
        let disconnect = |n: &str| Step::Disconnect {
            container: "a".into(),
            network: n.into(),
        };
        let reconnect = |n: &str| RevertOp::Reconnect {
            container: "a".into(),
            network: n.into(),
            aliases: vec![],
        };
        let steps = [disconnect("front"), disconnect("back")];
        let reverts = [reconnect("front"), reconnect("back")];
        let (run, skipped) = reverts_after_failure(&steps, 1, &reverts);
        assert_eq!(run, [reconnect("front")]);
        assert_eq!(skipped, [reconnect("back")]);
        // A dns-loss step pair: the disconnect ran, the reconnect with
        // fewer aliases was refused; the original aliases go back.
        let steps = [
            disconnect("front"),
            Step::Connect {
                container: "a".into(),
                network: "front".into(),
                aliases: vec![],
            },
        ];
        let (run, _) = reverts_after_failure(&steps, 1, &reverts[..1]);
        assert_eq!(run, [reconnect("front")]);
    }

    #[test]
    fn limits_are_restored_only_on_the_container_whose_update_went_in() {
        let update = |c: &str| Step::Update {
            container: c.into(),
            update: ResourceUpdate::default(),
        };
        let restore = |c: &str| RevertOp::Restore {
            container: c.into(),
            update: ResourceUpdate::default(),
        };
        let (run, skipped) = reverts_after_failure(
            &[update("a"), update("b")],
            1,
            &[restore("a"), restore("b")],
        );
        assert_eq!(run, [restore("a")]);
        assert_eq!(skipped, [restore("b")]);
        assert_eq!(skipped[0].to_string(), "restore the limits of b");
    }
}
