//! The injector: resolves a fault's target, compiles it, journals it (with
//! its revert steps) *before* applying, applies it through the shadow-only
//! guard, and reverts it on request, on TTL expiry, on abort — and, for
//! whatever a dead process left, on the next start or `understudy gc`.
//! A target that disappears mid-fault is reported, not fatal.

mod after_failure;
pub mod compile;
pub mod files;
pub mod proxy_ctl;

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::catalog::FaultRequest;
use super::guard::{GuardError, ShadowOnly};
use super::journal::{Journal, JournalError, Record, RevertOp, Status, Verdict};
use super::lease::{self, Lease};
use super::netns;
use super::target::{self, Resolution, TargetSpec};
use crate::domain::labels;
use crate::platform::{Platform, PlatformError};
use crate::shadow::tracking::{self, Owner};
use compile::{Compiled, Facts, Step};

/// Why a fault could not be applied or reverted.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error(
        "faults are stopped (`understudy fault stop-all` was run); clear it with `understudy fault resume`"
    )]
    Stopped,
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error(transparent)]
    Compile(#[from] compile::CompileError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(
        "{container} is held by fault {fault} ({kind}, {holder}): one fault that pauses, stops, \
         throttles, disconnects or recreates a container at a time; revert that one first \
         (`understudy fault list`), or run `understudy gc` if its holder is gone"
    )]
    Busy {
        container: String,
        fault: String,
        kind: String,
        holder: String,
    },
    #[error(
        "{container} was claimed by fault {fault} in the same instant; nothing was applied. \
         If `understudy fault list` shows that fault, revert it first; otherwise apply again"
    )]
    Contended { container: String, fault: String },
    #[error("applying {kind} failed at `{step}`: {message} (what was applied has been reverted)")]
    Apply {
        kind: String,
        step: String,
        message: String,
    },
}

/// An applied fault and the steps that applied it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub record: Record,
    pub steps: Vec<Step>,
}

/// What `fault apply --dry-run` shows.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub request: FaultRequest,
    pub target: String,
    pub resolution: Resolution,
    pub compiled: Compiled,
}

/// The injector.
#[derive(Debug, Clone)]
pub struct Injector<P> {
    guard: ShadowOnly<P>,
    journal: Journal,
    state_dir: std::path::PathBuf,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Records the id a proxy gave the fault added by `step`.
fn remember_proxy_id(reverts: &mut [RevertOp], step: &Step, fault_id: String) {
    let Step::ProxyAdd {
        container, route, ..
    } = step
    else {
        return;
    };
    for op in reverts {
        if let RevertOp::ProxyFaults {
            container: c,
            proxy,
            ids,
            ..
        } = op
        {
            if c == container && proxy == route {
                ids.push(fault_id);
                return;
            }
        }
    }
}

/// A short fault id: 8 hex digits.
pub fn new_id() -> String {
    use rand::Rng;
    format!("{:08x}", rand::rng().random::<u32>())
}

impl<P: Platform> Injector<P> {
    pub fn new(platform: P, state_dir: &std::path::Path) -> Self {
        Self {
            guard: ShadowOnly::new(platform),
            journal: Journal::new(state_dir),
            state_dir: state_dir.to_owned(),
        }
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn stop_file(&self) -> std::path::PathBuf {
        self.state_dir.join("faults").join("STOPPED")
    }

    /// Whether `fault stop-all` is in force.
    pub fn stopped(&self) -> bool {
        self.stop_file().exists()
    }

    /// Blocks new faults (and makes `recover` revert every fault).
    pub fn set_stopped(&self, stopped: bool) -> std::io::Result<()> {
        if stopped {
            std::fs::create_dir_all(self.state_dir.join("faults"))?;
            std::fs::write(self.stop_file(), format!("{}\n", now_ms()))
        } else {
            match std::fs::remove_file(self.stop_file()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
    }

    async fn facts(&self, res: &Resolution, kind: &str) -> Result<Facts, InjectError> {
        let mut facts = Facts {
            host_cpus: self.guard.platform().engine().await.map_or(1, |e| e.cpus),
            ..Facts::default()
        };
        let members: Vec<&target::Resolved> = match res {
            Resolution::Containers(c) => c.iter().collect(),
            Resolution::Edge { from, to } => from.iter().chain(to.iter()).collect(),
        };
        for m in members {
            let d = self.guard.check(&m.name).await?;
            facts.details.insert(m.name.clone(), d);
        }
        if super::catalog::edge_kind(kind).is_some() {
            if let Resolution::Edge { to, .. } = res {
                let listing = self.guard.platform().list_containers(None).await?;
                if let Some(first) = to.first() {
                    if let Some(p) = proxy_ctl::find(&listing, &first.shadow, &first.service) {
                        let routes =
                            proxy_ctl::routes(&self.guard, &p.name)
                                .await
                                .map_err(|message| InjectError::Apply {
                                    kind: kind.to_owned(),
                                    step: format!("reading the routes of {}", p.name),
                                    message,
                                })?;
                        facts.proxies.insert(first.service.clone(), routes);
                    }
                }
            }
        }
        if let Some(def) = super::catalog::kind(kind) {
            if matches!(def.level, super::catalog::Level::Packet) {
                facts.caps = Some(netns::detect());
            }
            if kind == "resource-hijack" {
                for name in facts.details.keys().cloned().collect::<Vec<_>>() {
                    let probe = self
                        .guard
                        .exec(
                            &name,
                            &["/understudy".to_owned(), "--version".to_owned()],
                            Duration::from_secs(5),
                        )
                        .await;
                    facts
                        .has_understudy
                        .insert(name, probe.is_ok_and(|o| o.exit_code == 0));
                }
            }
        }
        Ok(facts)
    }

    /// Resolves and compiles without touching anything.
    pub async fn dry_run(
        &self,
        request: &FaultRequest,
        target: &TargetSpec,
    ) -> Result<DryRun, InjectError> {
        let listing = self.guard.platform().list_containers(None).await?;
        let resolution = target::resolve(target, &listing)?;
        let facts = self.facts(&resolution, &request.kind).await?;
        let compiled = compile::compile(request, &resolution, &facts, "dry-run")?;
        Ok(DryRun {
            request: request.clone(),
            target: target.to_string(),
            resolution,
            compiled,
        })
    }

    /// Applies a fault; journalled first. `ttl` sets its expiry; `detached`
    /// leaves it for `revert`, the console or `gc` (after expiry).
    pub async fn apply(
        &self,
        request: &FaultRequest,
        target: &TargetSpec,
        ttl: Option<Duration>,
        detached: bool,
    ) -> Result<Applied, InjectError> {
        if self.stopped() {
            return Err(InjectError::Stopped);
        }
        // The fault's time starts here, not at the journal write: reading
        // the facts may exec into the shadow's containers (a proxy's
        // routes), which the shadow can feel before any step runs.
        let began = now_ms();
        let listing = self.guard.platform().list_containers(None).await?;
        let resolution = target::resolve(target, &listing)?;
        let facts = self.facts(&resolution, &request.kind).await?;
        let id = new_id();
        let compiled = compile::compile(request, &resolution, &facts, &id)?;
        self.check_not_busy(&compiled.reverts).await?;
        let shadow = match &resolution {
            Resolution::Containers(c) => c.first().map(|r| r.shadow.clone()),
            Resolution::Edge { from, .. } => from.first().map(|r| r.shadow.clone()),
        }
        .unwrap_or_default();
        let journalled = now_ms();
        let mut record = Record {
            id,
            status: Status::Applying,
            request: request.clone(),
            target: target.to_string(),
            shadow,
            containers: compiled.containers.clone(),
            created_ms: began,
            // The TTL counts from the first step, not from the preparation.
            expires_ms: ttl.map(|t| journalled + u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            detached,
            owner: Owner::current(),
            reverts: compiled.reverts.clone(),
            notes: compiled.notes.clone(),
        };
        self.journal.write(&record)?;
        let group = listing
            .iter()
            .find(|c| record.containers.contains(&c.name))
            .and_then(|c| c.labels.get(labels::OF))
            .map_or("", String::as_str);
        if let Err(e) = lease::take(self.guard.platform(), &Lease::of(&record, group)).await {
            record.notes.push(format!(
                "no lease on the engine ({e}): another understudy's gc may clear this fault"
            ));
        } else if let Some((container, rival)) = self.rival_claim(&record).await {
            // Nothing was applied: undo nothing (an unpause here would
            // end the rival's pause), close the record, drop our lease.
            record.reverts.clear();
            record.notes.push(format!(
                "backed off before any step: fault {rival} claimed {container} at the same moment"
            ));
            self.revert(&mut record).await?;
            return Err(InjectError::Contended {
                container,
                fault: rival,
            });
        }
        for (index, step) in compiled.steps.iter().enumerate() {
            match self.execute(step).await {
                Ok(Some(fault_id)) => {
                    // A proxy fault: journal its id at once for the revert.
                    remember_proxy_id(&mut record.reverts, step, fault_id);
                    self.journal.write(&record)?;
                }
                Ok(None) => {}
                Err(message) => {
                    record.status = Status::Failed;
                    record.notes.push(format!("failed at `{step}`: {message}"));
                    let (undo, skipped) = after_failure::reverts_after_failure(
                        &compiled.steps,
                        index,
                        &record.reverts,
                    );
                    record.reverts = undo;
                    record.notes.extend(
                        skipped
                            .iter()
                            .map(|op| format!("not undone (never took effect): {op}")),
                    );
                    self.journal.write(&record)?;
                    let _ = self.revert(&mut record).await;
                    return Err(InjectError::Apply {
                        kind: request.kind.clone(),
                        step: step.to_string(),
                        message,
                    });
                }
            }
        }
        record.status = Status::Active;
        self.journal.write(&record)?;
        Ok(Applied {
            record,
            steps: compiled.steps,
        })
    }

    /// Applies again the packet-level steps of a fault on `container` (a
    /// restarted container gets a fresh network namespace, so its rules are
    /// gone).
    pub async fn reapply_netns(&self, steps: &[Step], container: &str) -> Result<(), String> {
        for step in steps {
            if let Step::Netns {
                container: c,
                commands,
            } = step
            {
                if c == container {
                    self.in_netns(c, commands, false).await?;
                }
            }
        }
        Ok(())
    }

    /// Runs one step; a proxy step returns the id of the fault it added.
    async fn execute(&self, step: &Step) -> Result<Option<String>, String> {
        let g = &self.guard;
        let result = match step {
            Step::ProxyAdd {
                container,
                route,
                words,
            } => {
                return proxy_ctl::add(g, container, route, words).await.map(Some);
            }
            Step::Kill { container, signal } => g.kill(container, signal).await,
            Step::Stop {
                container,
                grace_ms,
            } => g.stop(container, Duration::from_millis(*grace_ms)).await,
            Step::Restart {
                container,
                grace_ms,
            } => g.restart(container, Duration::from_millis(*grace_ms)).await,
            Step::Pause { container } => g.pause(container).await,
            Step::Update { container, update } => g.update(container, update).await,
            Step::Disconnect { container, network } => g.disconnect(network, container).await,
            Step::Connect {
                container,
                network,
                aliases,
            } => g.connect(network, container, aliases).await,
            Step::Netns {
                container,
                commands,
            } => {
                return self
                    .in_netns(container, commands, false)
                    .await
                    .map(|()| None);
            }
            Step::Upload {
                container,
                dir,
                file,
                bytes,
            } => {
                let tar = files::zeros_tar(file, *bytes).map_err(|e| e.to_string())?;
                g.upload(container, dir, tar).await
            }
            Step::Recreate { container, spec } => g.recreate(container, spec).await.map(|_| ()),
            Step::Spawn { container, argv } => g.spawn(container, argv).await,
        };
        result.map(|()| None).map_err(|e| e.to_string())
    }

    async fn in_netns(
        &self,
        container: &str,
        commands: &[Vec<String>],
        reverting: bool,
    ) -> Result<(), String> {
        let Some(pid) = self
            .guard
            .netns_pid(container)
            .await
            .map_err(|e| e.to_string())?
        else {
            // Not running: its namespace (and any rule in it) is gone.
            return if reverting {
                Ok(())
            } else {
                Err(format!("{container} is not running"))
            };
        };
        for c in commands {
            let c = c.clone();
            let result = tokio::task::spawn_blocking(move || netns::run_in(pid, &c))
                .await
                .map_err(|e| e.to_string())?;
            match result {
                Err(e) if reverting && netns::already_gone(&e) => {}
                Err(e) => return Err(e),
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// Runs a record's revert steps; a vanished container is noted, not
    /// fatal. Writes the outcome to the journal.
    pub async fn revert(&self, record: &mut Record) -> Result<(), InjectError> {
        let mut failures = Vec::new();
        for op in record.reverts.clone() {
            match self.revert_op(&op).await {
                Ok(()) => {}
                Err(
                    InjectError::Guard(GuardError::Platform(PlatformError::NotFound {
                        name, ..
                    }))
                    | InjectError::Platform(PlatformError::NotFound { name, .. }),
                ) => {
                    record
                        .notes
                        .push(format!("{name} disappeared; nothing to revert there"));
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        record.status = if failures.is_empty() {
            Status::Reverted
        } else {
            Status::RevertFailed
        };
        record
            .notes
            .extend(failures.iter().map(|f| format!("revert: {f}")));
        self.journal.write(record)?;
        if record.status == Status::Reverted {
            if let Err(e) = lease::release(self.guard.platform(), &record.id).await {
                tracing::warn!("fault {}: releasing its lease: {e}", record.id);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(InjectError::Apply {
                kind: record.request.kind.clone(),
                step: "revert".to_owned(),
                message: failures.join("; "),
            })
        }
    }

    async fn revert_op(&self, op: &RevertOp) -> Result<(), InjectError> {
        let g = &self.guard;
        match op {
            RevertOp::Unpause { container } => {
                let d = g.check(container).await?;
                if d.state == crate::domain::RunState::Paused {
                    g.unpause(container).await?;
                }
            }
            RevertOp::Start { container } => {
                let d = g.check(container).await?;
                if d.state != crate::domain::RunState::Running {
                    g.start(container).await?;
                }
            }
            RevertOp::Restore { container, update } => g.update(container, update).await?,
            RevertOp::Reconnect {
                container,
                network,
                aliases,
            } => {
                let d = g.check(container).await?;
                if d.networks.iter().any(|n| n.network == *network) {
                    g.disconnect(network, container).await?;
                }
                g.connect(network, container, aliases).await?;
            }
            RevertOp::Netns {
                container,
                commands,
            } => {
                self.in_netns(container, commands, true)
                    .await
                    .map_err(|message| InjectError::Apply {
                        kind: "netns".into(),
                        step: "revert".into(),
                        message,
                    })?;
            }
            RevertOp::Upload {
                container,
                dir,
                tar_base64,
            } => {
                let tar = files::decode(tar_base64).unwrap_or_default();
                g.upload(container, dir, tar).await?;
            }
            RevertOp::Recreate { container, spec } => {
                g.recreate(container, spec).await?;
            }
            RevertOp::Exec { container, argv } => {
                g.exec(container, argv, Duration::from_secs(10)).await?;
            }
            RevertOp::ProxyFaults {
                container,
                proxy,
                ids,
                kind,
            } => {
                proxy_ctl::remove(g, container, proxy, ids, kind)
                    .await
                    .map_err(|message| InjectError::Apply {
                        kind: kind.clone(),
                        step: "revert".into(),
                        message,
                    })?;
            }
        }
        Ok(())
    }

    /// Reverts every journalled fault whose holder is gone, that expired,
    /// or every fault when stopped. Returns what was reverted.
    pub async fn recover(&self) -> Vec<Record> {
        let now = now_ms();
        let stopped = self.stopped();
        let mut done = Vec::new();
        for mut record in self.journal.records() {
            let alive = record.owner.host == tracking::host_name()
                && tracking::owner_alive(&record.owner, record.created_ms / 1000, now / 1000);
            if super::journal::verdict(&record, alive, now, stopped) == Verdict::Revert {
                let _ = self.revert(&mut record).await;
                done.push(record);
            }
        }
        let _ = self.journal.compact();
        done
    }

    /// After `recover`: clears fault leftovers from every shadow container
    /// that no remaining journalled fault and no live lease of another
    /// understudy holds, and releases stale leases (see `fault::sweep`,
    /// `fault::lease`).
    pub async fn sweep(&self) -> super::sweep::Swept {
        let records = self.journal.records();
        let mut held: std::collections::BTreeSet<String> = records
            .iter()
            .filter(|r| r.status.needs_revert())
            .flat_map(|r| r.containers.iter().cloned())
            .collect();
        let mut swept = super::sweep::Swept::default();
        super::sweep::leases(self.guard.platform(), &records, &mut held, &mut swept).await;
        super::sweep::sweep(&self.guard, &held, &mut swept).await;
        swept
    }

    /// Refuses a fault that would own the state of a container another
    /// fault already owns (this journal's, or another's by its lease): the
    /// second pause would fail at the engine and its revert would unpause
    /// the first.
    async fn check_not_busy(&self, reverts: &[RevertOp]) -> Result<(), InjectError> {
        let wanted = super::journal::owned_containers(reverts);
        if wanted.is_empty() {
            return Ok(());
        }
        let records = self.journal.records();
        for r in records.iter().filter(|r| r.status.needs_revert()) {
            let owned = super::journal::owned_containers(&r.reverts);
            if let Some(c) = wanted.intersection(&owned).next() {
                return Err(InjectError::Busy {
                    container: c.clone(),
                    fault: r.id.clone(),
                    kind: r.request.kind.clone(),
                    holder: format!("pid {} on {}", r.owner.pid, r.owner.host),
                });
            }
        }
        // Without a listing (an engine hiccup) the engine's own refusal
        // is the last line, as before leases.
        let leases = lease::list(self.guard.platform())
            .await
            .unwrap_or_default()
            .0;
        for l in lease::not_in(leases, &records) {
            if let Some(c) = l.owns.iter().find(|c| wanted.contains(*c)) {
                return Err(InjectError::Busy {
                    container: c.clone(),
                    fault: l.fault_id.clone(),
                    kind: l.kind.clone(),
                    holder: format!("{}, another state directory", l.holder_text()),
                });
            }
        }
        Ok(())
    }

    /// Another fault's lease, taken in the same instant as `record`'s, on a
    /// container whose state `record` would own (`lease::rival`). Without
    /// a listing, none: the engine's own refusal is the last line.
    async fn rival_claim(&self, record: &Record) -> Option<(String, String)> {
        let wanted = super::journal::owned_containers(&record.reverts);
        if wanted.is_empty() {
            return None;
        }
        let (leases, _) = lease::list(self.guard.platform()).await.ok()?;
        let here = crate::shadow::tracking::host_name();
        let records = self.journal.records();
        lease::rival(
            &leases,
            &record.id,
            &wanted,
            &records,
            |l| lease::holder_alive(l, &here),
            now_ms(),
        )
        .map(|(c, l)| (c.to_owned(), l.fault_id.clone()))
    }

    /// The faults other understudies hold on this engine: leases whose
    /// fault this journal does not know.
    pub async fn leases_elsewhere(&self) -> Result<Vec<Lease>, PlatformError> {
        let (leases, _) = lease::list(self.guard.platform()).await?;
        Ok(lease::not_in(leases, &self.journal.records()))
    }

    /// Reverts the fault `id` (or every active one).
    pub async fn revert_ids(
        &self,
        ids: Option<&[String]>,
    ) -> Vec<Result<Record, (Record, InjectError)>> {
        let mut out = Vec::new();
        for mut record in self.journal.records() {
            let wanted = ids.is_none_or(|ids| ids.contains(&record.id));
            if wanted && record.status.needs_revert() {
                match self.revert(&mut record).await {
                    Ok(()) => out.push(Ok(record)),
                    Err(e) => out.push(Err((record, e))),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
