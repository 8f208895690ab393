//! Faults off the drawing path: a task holding the injector (a platform
//! clone and the state directory) that applies, holds and reverts faults
//! for the console, and reads the journal for the faults pane.
//!
//! The console is the holder of what it applies (`detached = false`):
//! - at start it reverts what dead processes left, and expired faults
//!   (`Injector::recover`, as every fault command does);
//! - each held fault has a timer: when its TTL ends the task says so
//!   (`FaultEvent::Expired`) and `update` asks for the revert;
//! - a held fault's container that restarts gets its packet rules again
//!   (a new network namespace), like `fault apply` holding in the
//!   foreground; OOM kills are reported;
//! - when the handle drops (the console quits) every fault still held is
//!   reverted before the task ends, and the console waits for that before
//!   giving the terminal back. On a crash the journal stays, and the next
//!   console or `understudy gc` reverts the faults (their holder is gone).
//!
//! The task is not cancelled with the others: it ends when its handle
//! drops, after the reverts. Commands run in order, one at a time.
//!
//! Owns: the injector, the held faults, their timers. Does not own whether
//! an operation may start (`update`) or the pane (`view::faults`).

mod schedule;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc::{Sender, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::domain::{Selector, labels};
use crate::fault::catalog::FaultRequest;
use crate::fault::inject::compile::Step;
use crate::fault::inject::{Injector, now_ms};
use crate::fault::journal::Record;
use crate::fault::target::TargetSpec;
use crate::platform::{EngineEvent, Platform};
use crate::shadow::naming;

use super::model::faults::ActiveFault;
use super::msg::{AppliedFault, FaultCmd, FaultEvent, Msg, TaskHandle, one_line};

/// How often the journal is read for the pane.
pub const REFRESH: Duration = Duration::from_secs(1);

/// The shell's side: hands commands to the task without waiting.
pub type FaultsHandle = TaskHandle<FaultCmd>;

/// Starts the task. It ends when the handle drops, after reverting every
/// fault it still holds; its result is one line per fault reverted (or
/// not) on the way out.
pub fn spawn<P: Platform>(
    platform: P,
    state_dir: &Path,
    tx: Sender<Msg>,
    refresh: Duration,
) -> (FaultsHandle, JoinHandle<Vec<String>>) {
    let (handle, cmds) = FaultsHandle::channel();
    let task = Task {
        injector: Injector::new(platform.clone(), state_dir),
        platform,
        state_dir: state_dir.to_owned(),
        tx,
        held: BTreeMap::new(),
        events: None,
    };
    let task = tokio::spawn(task.run(cmds, refresh));
    (handle, task)
}

/// A fault this console applied and holds.
struct Held {
    record: Record,
    steps: Vec<Step>,
    expires: Instant,
    /// The expiry was reported (or the revert failed): no more timer.
    quiet: bool,
}

struct Task<P> {
    injector: Injector<P>,
    platform: P,
    state_dir: PathBuf,
    tx: Sender<Msg>,
    held: BTreeMap<String, Held>,
    /// Lifecycle events of shadow containers, while faults are held.
    events: Option<BoxStream<'static, crate::platform::Result<EngineEvent>>>,
}

impl<P: Platform> Task<P> {
    async fn run(
        mut self,
        mut cmds: UnboundedReceiver<FaultCmd>,
        refresh: Duration,
    ) -> Vec<String> {
        let recovered = self.injector.recover().await;
        let reverted = recovered
            .iter()
            .map(|r| format!("{} ({} on {})", r.id, r.request.kind, r.target))
            .collect();
        send(&self.tx, FaultEvent::Recovered { reverted }).await;
        let mut tick = tokio::time::interval(refresh);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let next = self
                .held
                .iter()
                .filter(|(_, h)| !h.quiet)
                .min_by_key(|(_, h)| h.expires)
                .map(|(id, h)| (id.clone(), h.expires));
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
                _ = tick.tick() => self.refresh().await,
                () = sleep_until(next.as_ref().map(|(_, at)| *at)) => {
                    if let Some((id, _)) = next {
                        if let Some(h) = self.held.get_mut(&id) {
                            h.quiet = true;
                        }
                        send(&self.tx, FaultEvent::Expired { id }).await;
                    }
                }
                event = next_event(&mut self.events) => match event {
                    Some(Ok(event)) => self.container_event(&event).await,
                    Some(Err(e)) => {
                        tracing::warn!("fault holder: engine events failed: {e}");
                        self.events = None;
                    }
                    None => self.events = None,
                },
            }
        }
        self.release_all().await
    }

    async fn handle(&mut self, cmd: FaultCmd) {
        match cmd {
            FaultCmd::Apply {
                request,
                target,
                ttl,
            } => self.apply(request, &target, ttl).await,
            FaultCmd::Revert { id } => {
                let result = self.revert(&id).await;
                let now_ms = now_ms();
                send(&self.tx, FaultEvent::Reverted { id, result, now_ms }).await;
            }
            FaultCmd::RevertSession => {
                let ids: Vec<String> = self.held.keys().cloned().collect();
                for id in ids {
                    let result = self.revert(&id).await;
                    let now_ms = now_ms();
                    send(&self.tx, FaultEvent::Reverted { id, result, now_ms }).await;
                }
            }
            FaultCmd::StopAll => {
                let result = self.stop_all().await;
                send(&self.tx, FaultEvent::Stopped(result)).await;
            }
            FaultCmd::Resume => {
                let result = self
                    .injector
                    .set_stopped(false)
                    .map_err(|e| format!("clearing the stop flag: {e}"));
                send(&self.tx, FaultEvent::Resumed(result)).await;
            }
            FaultCmd::LoadSchedule { path } => {
                let result = schedule::load(&self.platform, &path).await;
                send(&self.tx, FaultEvent::ScheduleLoaded(result)).await;
            }
        }
        self.refresh().await;
    }

    async fn apply(&mut self, request: FaultRequest, target: &TargetSpec, ttl: Duration) {
        let kind = request.kind.clone();
        let result = match self
            .injector
            .apply(&request, target, Some(ttl), false)
            .await
        {
            Ok(applied) => {
                let record = applied.record;
                let fault = AppliedFault {
                    id: record.id.clone(),
                    kind: kind.clone(),
                    target: target.to_string(),
                    applied_ms: record.created_ms,
                    expires_ms: record.expires_ms.unwrap_or(record.created_ms),
                    containers: record.containers.clone(),
                };
                self.held.insert(
                    record.id.clone(),
                    Held {
                        record,
                        steps: applied.steps,
                        expires: Instant::now() + ttl,
                        quiet: false,
                    },
                );
                self.watch_events();
                Ok(fault)
            }
            Err(e) => Err(one_line(&format!("applying {kind} on {target}"), &e)),
        };
        send(
            &self.tx,
            FaultEvent::Applied {
                kind,
                target: target.to_string(),
                result,
            },
        )
        .await;
    }

    /// Reverts a held fault (with the notes the journal has since), or any
    /// other active fault of the journal by id.
    async fn revert(&mut self, id: &str) -> Result<(), String> {
        let context = format!("reverting fault {id}");
        if let Some(mut held) = self.held.remove(id) {
            if let Some(latest) = self
                .injector
                .journal()
                .records()
                .into_iter()
                .find(|r| r.id == id)
            {
                held.record.notes = latest.notes;
            }
            let result = self.injector.revert(&mut held.record).await;
            if let Err(e) = result {
                // Kept: quitting tries once more; `gc` after that.
                held.quiet = true;
                self.held.insert(id.to_owned(), held);
                return Err(one_line(&context, &e));
            }
            if self.held.is_empty() {
                self.events = None;
            }
            return Ok(());
        }
        let ids = [id.to_owned()];
        match self
            .injector
            .revert_ids(Some(&ids))
            .await
            .into_iter()
            .next()
        {
            Some(Ok(_)) => Ok(()),
            Some(Err((_, e))) => Err(one_line(&context, &e)),
            None => {
                let elsewhere = self.injector.leases_elsewhere().await.unwrap_or_default();
                Err(match elsewhere.iter().find(|l| l.fault_id == id) {
                    Some(l) => format!(
                        "fault {id} belongs to {} (another state directory): revert it there, or take the shadow down",
                        l.holder_text()
                    ),
                    None => format!("fault {id} is not active (reverted already?)"),
                })
            }
        }
    }

    async fn stop_all(&mut self) -> Result<usize, String> {
        self.injector
            .set_stopped(true)
            .map_err(|e| format!("writing the stop flag: {e}"))?;
        let reverted = self.injector.recover().await;
        let swept = self.injector.sweep().await;
        for e in &swept.errors {
            tracing::warn!("stop-all: clearing leftovers: {e}");
        }
        self.held.clear();
        self.events = None;
        Ok(reverted.len())
    }

    /// Reads the journal and sends the active faults, the stop and the time.
    async fn refresh(&mut self) {
        let records = self.injector.journal().records();
        let mut active: Vec<ActiveFault> = records
            .into_iter()
            .filter(|r| r.status.needs_revert())
            .map(|r| self.row(r))
            .collect();
        match self.injector.leases_elsewhere().await {
            Ok(leases) => active.extend(leases.into_iter().map(elsewhere_row)),
            Err(e) => tracing::debug!("listing fault leases: {e}"),
        }
        let stopped = self.injector.stopped();
        send(
            &self.tx,
            FaultEvent::Journal {
                active,
                stopped,
                now_ms: now_ms(),
            },
        )
        .await;
    }

    fn row(&self, r: Record) -> ActiveFault {
        let mine = self.held.contains_key(&r.id);
        let owner = if mine {
            "this console".to_owned()
        } else if r.detached {
            format!("pid {}, detached", r.owner.pid)
        } else {
            format!("pid {}", r.owner.pid)
        };
        ActiveFault {
            id: r.id,
            kind: r.request.kind,
            target: r.target,
            status: r.status,
            expires_ms: r.expires_ms,
            detached: r.detached,
            mine,
            owner,
        }
    }

    /// Follows shadow containers' lifecycle while faults are held.
    fn watch_events(&mut self) {
        if self.events.is_none() {
            let selector = Selector::label(labels::ROLE, naming::ROLE_SHADOW);
            self.events = Some(self.platform.events(Some(&selector), &["start", "oom"]));
        }
    }

    /// A held fault's container restarted (packet rules again) or was
    /// OOM-killed (said on the status line).
    async fn container_event(&mut self, event: &EngineEvent) {
        let name = event.attributes.get("name").cloned().unwrap_or_default();
        let holding: Vec<(String, bool)> = self
            .held
            .values()
            .filter(|h| h.record.containers.contains(&name))
            .map(|h| {
                let packet = h.steps.iter().any(|s| matches!(s, Step::Netns { .. }));
                (h.record.id.clone(), packet)
            })
            .collect();
        for (id, packet) in holding {
            let note = match event.action.as_str() {
                "oom" => format!("{name} was OOM-killed (fault {id})"),
                "start" if packet => {
                    let steps = self
                        .held
                        .get(&id)
                        .map(|h| h.steps.clone())
                        .unwrap_or_default();
                    match self.injector.reapply_netns(&steps, &name).await {
                        Ok(()) => format!(
                            "{name} restarted; fault {id}'s packet rules were applied again"
                        ),
                        Err(e) => format!(
                            "{name} restarted; re-applying fault {id}'s packet rules failed: {e}"
                        ),
                    }
                }
                _ => continue,
            };
            send(&self.tx, FaultEvent::Note(note)).await;
        }
    }

    /// On the way out: revert every fault still held.
    async fn release_all(mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let ids: Vec<String> = self.held.keys().cloned().collect();
        for id in ids {
            let what = self
                .held
                .get(&id)
                .map(|h| format!("{} on {}", h.record.request.kind, h.record.target))
                .unwrap_or_default();
            match self.revert(&id).await {
                Ok(()) => lines.push(format!("reverted fault {id} ({what})")),
                Err(e) => lines.push(format!(
                    "fault {id} ({what}) was not reverted: {e}; `understudy gc` reverts it"
                )),
            }
        }
        tracing::debug!(
            "fault holder for {} done: {}",
            self.state_dir.display(),
            lines.join("; ")
        );
        lines
    }
}

/// Sends news; a console that is gone (quitting) is no error.
async fn send(tx: &Sender<Msg>, event: FaultEvent) {
    let _ = tx.send(Msg::Faults(event)).await;
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn next_event(
    events: &mut Option<BoxStream<'static, crate::platform::Result<EngineEvent>>>,
) -> Option<crate::platform::Result<EngineEvent>> {
    match events.as_mut() {
        Some(events) => events.next().await,
        None => std::future::pending().await,
    }
}

/// A fault another state directory holds (its lease on the engine), as a row.
fn elsewhere_row(l: crate::fault::lease::Lease) -> ActiveFault {
    ActiveFault {
        owner: format!(
            "{}, another state dir{}",
            l.holder_text(),
            if l.detached { ", detached" } else { "" }
        ),
        id: l.fault_id,
        kind: l.kind,
        target: l.target,
        status: crate::fault::journal::Status::Active,
        expires_ms: l.expires_ms,
        detached: l.detached,
        mine: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::recording::{Recording, container};

    /// Another state directory's live fault shows in this console's pane,
    /// with its holder, and cannot be reverted from here.
    #[tokio::test]
    async fn the_pane_lists_faults_other_state_dirs_hold() {
        let fake = Recording::with(vec![container(
            "shop-shadow-a1b2c3-api-1",
            &[
                (labels::ROLE, "shadow"),
                (labels::SHADOW, "a1b2c3"),
                (labels::SERVICE, "api"),
                (naming::NUMBER, "1"),
            ],
        )]);
        let (alice, bob) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let request = crate::fault::catalog::request("pause", &[]).unwrap();
        let id = Injector::new(fake.clone(), alice.path())
            .apply(&request, &"a1b2c3/api/1".parse().unwrap(), None, false)
            .await
            .unwrap()
            .record
            .id;

        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let (handle, task) = spawn(fake.clone(), bob.path(), tx, Duration::from_millis(10));
        let listed = async {
            loop {
                match rx.recv().await.unwrap() {
                    Msg::Faults(FaultEvent::Journal { active, .. }) if !active.is_empty() => {
                        break active[0].clone();
                    }
                    _ => {}
                }
            }
        };
        let row = tokio::time::timeout(Duration::from_secs(5), listed)
            .await
            .expect("the pane never listed alice's fault");
        assert_eq!(row.id, id);
        assert_eq!(
            (row.kind.as_str(), row.target.as_str()),
            ("pause", "a1b2c3/api/1")
        );
        assert!(!row.mine);
        assert!(row.owner.contains("another state dir"), "{}", row.owner);

        let mut bobs = Task {
            injector: Injector::new(fake.clone(), bob.path()),
            platform: fake.clone(),
            state_dir: bob.path().to_owned(),
            tx: tokio::sync::mpsc::channel(1).0,
            held: BTreeMap::new(),
            events: None,
        };
        let refused = bobs.revert(&id).await.unwrap_err();
        assert!(refused.contains("another state directory"), "{refused}");
        drop(handle);
        task.await.unwrap();
        assert_eq!(
            fake.state().containers["shop-shadow-a1b2c3-api-1"].state,
            crate::domain::RunState::Paused,
            "bob's console left alice's fault in place"
        );
    }
}
