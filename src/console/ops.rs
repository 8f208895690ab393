//! Shadow operations off the drawing path: a task holding a clone of the
//! platform runs each [`ShadowCmd`] the shell hands it (plan, apply, tear
//! down) and reports on the console's channel as [`ShadowEvent`]s, errors as
//! one line (the whole chain goes to the log). `update` allows one operation
//! at a time; the task runs requests in order either way.
//!
//! Quitting while an operation runs aborts it (the task is cancelled with
//! the console): waiting could take the whole readiness timeout, and a
//! console that will not quit is worse. An aborted apply never reaches its
//! own clean-up (that runs only when apply returns an error), so the
//! console says on exit what to run: the shadow's resources carry this
//! process as their creator and no ready marker, so once the console has
//! exited `understudy shadow gc` removes them (`understudy shadow down <id>`
//! also does, and finishes an interrupted teardown). See
//! `Operation::interrupted_note`.
//!
//! Owns: running operations and their lifetime. Does not own whether one
//! may start (`update`) or what the screen says (`view`).

use std::time::Duration;

use tokio::sync::mpsc::{Sender, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;
use crate::shadow::apply::{self, ApplyOptions};
use crate::shadow::plan::ShadowPlan;
use crate::shadow::prepare::{self, Choices, Source};
use crate::shadow::teardown;

use super::msg::{Msg, ShadowCmd, ShadowEvent, TaskHandle, one_line};

/// How long every clone of a new shadow may take to become ready.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// The shell's side: hands commands to the task without waiting.
pub type OpsHandle = TaskHandle<ShadowCmd>;

/// Starts the task; it runs until `cancel` fires (aborting the operation in
/// flight) or the handle drops.
pub fn spawn<P: Platform>(
    platform: P,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) -> (OpsHandle, JoinHandle<()>) {
    let (handle, cmds) = OpsHandle::channel();
    let task = tokio::spawn(run(platform, cmds, tx, cancel));
    (handle, task)
}

async fn run<P: Platform>(
    platform: P,
    mut cmds: UnboundedReceiver<ShadowCmd>,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) {
    while let Some(cmd) = cancel.run_until_cancelled(cmds.recv()).await.flatten() {
        let work = perform(&platform, cmd, &tx);
        let Some(done) = cancel.run_until_cancelled(work).await else {
            tracing::warn!("console quit: the shadow operation in flight was aborted");
            return;
        };
        if tx.send(Msg::Shadow(done)).await.is_err() {
            return;
        }
    }
}

async fn perform<P: Platform>(platform: &P, cmd: ShadowCmd, tx: &Sender<Msg>) -> ShadowEvent {
    match cmd {
        ShadowCmd::Plan { group } => {
            let result = plan(platform, &group).await.map(Box::new);
            ShadowEvent::Planned { group, result }
        }
        ShadowCmd::Apply(plan) => ShadowEvent::Applied {
            id: plan.id.clone(),
            group: plan.group.clone(),
            result: create(platform, &plan, tx).await,
        },
        ShadowCmd::Remove { id, group } => {
            let result = teardown::down(platform, &id)
                .await
                .map_err(|e| one_line(&format!("shadow {id}"), &e));
            ShadowEvent::Removed { id, group, result }
        }
    }
}

/// `shadow plan --group <group>` with the default choices.
async fn plan<P: Platform>(platform: &P, group: &str) -> Result<ShadowPlan, String> {
    let context = format!("planning a shadow of {group}");
    let captured = prepare::capture_spec(platform, &Source::Group(group.to_owned()))
        .await
        .map_err(|e| one_line(&context, &e))?;
    for w in &captured.warnings {
        tracing::warn!("{context}: {w}");
    }
    prepare::plan_for(platform, &captured.spec, &Choices::default())
        .await
        .map_err(|e| one_line(&context, &e))
}

/// `shadow up` of a confirmed plan: the relay's image when there is an
/// ingress, then apply (which removes what it created when it fails).
async fn create<P: Platform>(
    platform: &P,
    plan: &ShadowPlan,
    tx: &Sender<Msg>,
) -> Result<apply::ApplyReport, String> {
    let context = format!("shadow {} of {}", plan.id, plan.group);
    if plan.is_refused() {
        // `update` never sends one; nothing is built or created for it.
        let refused: Vec<String> = plan
            .refusals
            .iter()
            .map(|r| format!("{}: {}", r.service, r.setting))
            .collect();
        return Err(format!("the plan is refused: {}", refused.join("; ")));
    }
    if plan.ingress.is_some() {
        step(tx, "preparing the ingress image").await;
        let image_context = format!("{context}: preparing the ingress image");
        if let Err(e) = crate::demo::image::ensure(platform, false).await {
            return Err(format!(
                "preparing the ingress image: {}",
                one_line(&image_context, &e)
            ));
        }
    }
    step(tx, "creating containers, waiting until ready").await;
    let options = ApplyOptions {
        timeout: APPLY_TIMEOUT,
        keep_failed: false,
    };
    let report = apply::apply(platform, plan, &options)
        .await
        .map_err(|e| one_line(&context, &e))?;
    for w in &report.warnings {
        tracing::warn!("{context}: {w}");
    }
    Ok(report)
}

async fn step(tx: &Sender<Msg>, text: &str) {
    let _ = tx
        .send(Msg::Shadow(ShadowEvent::Step(text.to_owned())))
        .await;
}

#[cfg(test)]
mod tests;
