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

use std::fmt::Display;
use std::time::Duration;

use tokio::sync::mpsc::{self, Sender, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;
use crate::shadow::apply::{self, ApplyOptions};
use crate::shadow::plan::ShadowPlan;
use crate::shadow::prepare::{self, Choices, Source};
use crate::shadow::teardown;

use super::msg::{Msg, ShadowCmd, ShadowEvent};

/// How long every clone of a new shadow may take to become ready.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// The shell's side: hands commands to the task without waiting.
#[derive(Debug)]
pub struct OpsHandle {
    tx: UnboundedSender<ShadowCmd>,
}

impl OpsHandle {
    /// Queues a command; gives it back when the task is gone.
    pub fn run(&self, cmd: ShadowCmd) -> Result<(), ShadowCmd> {
        self.tx.send(cmd).map_err(|e| e.0)
    }
}

#[cfg(test)]
impl OpsHandle {
    /// A handle with no task behind it, and what it would have run.
    pub fn for_tests() -> (Self, UnboundedReceiver<ShadowCmd>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

/// Starts the task; it runs until `cancel` fires (aborting the operation in
/// flight) or the handle drops.
pub fn spawn<P: Platform>(
    platform: P,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) -> (OpsHandle, JoinHandle<()>) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(platform, cmd_rx, tx, cancel));
    (OpsHandle { tx: cmd_tx }, task)
}

async fn run<P: Platform>(
    platform: P,
    mut cmds: UnboundedReceiver<ShadowCmd>,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) {
    loop {
        let cmd = tokio::select! {
            () = cancel.cancelled() => return,
            cmd = cmds.recv() => match cmd {
                Some(cmd) => cmd,
                None => return,
            },
        };
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

/// The first line of an error for the status line; the whole error goes to
/// the log.
fn one_line(context: &str, e: &(impl Display + ?Sized)) -> String {
    let full = e.to_string();
    tracing::warn!("{context}: {full}");
    full.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests;
