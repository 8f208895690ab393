//! The fault journal: an append-only JSON-lines file under the state
//! directory (`faults/journal.jsonl`). A fault is written (with everything
//! needed to revert it) *before* it is applied, and again at every change
//! of status, each line a full record; the latest line of an id wins. So a
//! process that dies at any point leaves a record that `gc` (or the next
//! console) can revert.
//!
//! Several processes share the file (a console, `fault apply --detach`,
//! `gc`): appends and compaction hold an exclusive `flock` on
//! `faults/journal.lock`, so a compaction never drops a line appended while
//! it rewrote the file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::catalog::FaultRequest;
use crate::platform::ResourceUpdate;
use crate::shadow::tracking::Owner;

/// Lifecycle of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written, being applied.
    Applying,
    Active,
    Reverted,
    /// Applying failed part-way; what was applied must still be reverted.
    Failed,
    /// Reverting failed; `gc` tries again.
    RevertFailed,
}

impl Status {
    /// Whether something of the fault may still be in place.
    pub fn needs_revert(self) -> bool {
        !matches!(self, Self::Reverted)
    }
}

/// One step that undoes part of a fault, recorded before the fault is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum RevertOp {
    Unpause {
        container: String,
    },
    /// Start the container if it is not running.
    Start {
        container: String,
    },
    Restore {
        container: String,
        update: ResourceUpdate,
    },
    Reconnect {
        container: String,
        network: String,
        aliases: Vec<String>,
    },
    /// Commands run in the container's network namespace (`iptables -D ...`,
    /// `tc qdisc del ...`); errors meaning "already gone" are fine.
    Netns {
        container: String,
        commands: Vec<Vec<String>>,
    },
    /// Remove faults from a fault proxy (`proxy ctl remove`).
    ProxyFaults {
        container: String,
        proxy: String,
        ids: Vec<String>,
        /// The fault kind, to find faults whose ids were never journalled.
        #[serde(default)]
        kind: String,
    },
    /// Upload a tar into a directory (disk-fill's empty file).
    Upload {
        container: String,
        dir: String,
        tar_base64: String,
    },
    /// Put a container back as it was (credential revocation).
    Recreate {
        container: String,
        spec: Box<crate::domain::ContainerSpec>,
    },
    /// Run a command inside the container (stop a CPU burner).
    Exec {
        container: String,
        argv: Vec<String>,
    },
}

impl RevertOp {
    /// The container whose state this undo puts back from a snapshot
    /// (paused, stopped, its limits, networks or spec), if any. Two such
    /// faults on one container would undo each other, so only one may hold
    /// it at a time; packet rules, proxy faults, files and burners stack.
    pub fn owned_container(&self) -> Option<&str> {
        match self {
            Self::Unpause { container }
            | Self::Start { container }
            | Self::Restore { container, .. }
            | Self::Reconnect { container, .. }
            | Self::Recreate { container, .. } => Some(container),
            Self::Netns { .. }
            | Self::ProxyFaults { .. }
            | Self::Upload { .. }
            | Self::Exec { .. } => None,
        }
    }
}

/// Short, for a fault's notes (`unpause shop-shadow-a1b2c3-api-1`).
impl std::fmt::Display for RevertOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unpause { container } => write!(f, "unpause {container}"),
            Self::Start { container } => write!(f, "start {container}"),
            Self::Restore { container, .. } => write!(f, "restore the limits of {container}"),
            Self::Reconnect {
                container, network, ..
            } => write!(f, "reconnect {container} to {network}"),
            Self::Recreate { container, .. } => write!(f, "recreate {container}"),
            Self::Netns { container, .. } => write!(f, "remove packet rules in {container}"),
            Self::ProxyFaults { proxy, .. } => write!(f, "remove faults from {proxy}"),
            Self::Upload { container, dir, .. } => write!(f, "upload into {container}:{dir}"),
            Self::Exec { container, .. } => write!(f, "run a command in {container}"),
        }
    }
}

/// The containers whose state a fault with these undo steps owns.
pub fn owned_containers(reverts: &[RevertOp]) -> std::collections::BTreeSet<String> {
    reverts
        .iter()
        .filter_map(RevertOp::owned_container)
        .map(str::to_owned)
        .collect()
}

/// A journalled fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub status: Status,
    pub request: FaultRequest,
    /// The target as written (`a1b2c3/gateway->api`).
    pub target: String,
    pub shadow: String,
    /// Containers it touches.
    pub containers: Vec<String>,
    /// When `apply` began (ms since the epoch), before it read the facts:
    /// those reads may exec into the shadow's containers, so the watch and
    /// the judge date the fault from here.
    pub created_ms: u64,
    /// When its TTL ends (ms since the epoch); `None`: until reverted.
    pub expires_ms: Option<u64>,
    /// Left in place on purpose (`--detach`): `gc` reverts it only when
    /// expired.
    pub detached: bool,
    pub owner: Owner,
    /// Undo steps, in the order to run them.
    pub reverts: Vec<RevertOp>,
    /// What happened (errors, OOM kills, vanished targets).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("fault journal {path:?}: {message}")]
pub struct JournalError {
    pub path: PathBuf,
    pub message: String,
}

/// The journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("faults").join("journal.jsonl"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> JournalError {
        JournalError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// An exclusive lock on the journal, held until dropped.
    fn lock(&self) -> Result<nix::fcntl::Flock<std::fs::File>, JournalError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.err(e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .map_err(|e| self.err(e))?;
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| self.err(e))
    }

    /// Appends a record and syncs it to disk.
    pub fn write(&self, record: &Record) -> Result<(), JournalError> {
        let _lock = self.lock()?;
        let mut line = serde_json::to_string(record).map_err(|e| self.err(e))?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.err(e))?;
        file.write_all(line.as_bytes()).map_err(|e| self.err(e))?;
        file.sync_data().map_err(|e| self.err(e))
    }

    /// The latest record of every fault (unreadable lines are skipped: a
    /// line torn by a crash is the only kind there can be).
    pub fn records(&self) -> Vec<Record> {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return Vec::new();
        };
        latest(&text)
    }

    /// Rewrites the file with only the faults that may still need a revert
    /// (keeps it small); atomically.
    pub fn compact(&self) -> Result<(), JournalError> {
        let _lock = self.lock()?;
        let keep: Vec<Record> = self
            .records()
            .into_iter()
            .filter(|r| r.status.needs_revert())
            .collect();
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut text = String::new();
        for r in &keep {
            text.push_str(&serde_json::to_string(r).map_err(|e| self.err(e))?);
            text.push('\n');
        }
        std::fs::write(&tmp, text).map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))
    }
}

/// Pure: the latest record per id, in first-seen order.
pub fn latest(text: &str) -> Vec<Record> {
    let mut order = Vec::new();
    let mut by_id: BTreeMap<String, Record> = BTreeMap::new();
    for line in text.lines() {
        if let Ok(r) = serde_json::from_str::<Record>(line) {
            if !by_id.contains_key(&r.id) {
                order.push(r.id.clone());
            }
            by_id.insert(r.id.clone(), r);
        }
    }
    order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect()
}

/// What `gc` (and a starting console) should do with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Revert,
}

/// Pure: why a fault is no longer kept by its holder — it expired
/// (always), or its holder is gone (a foreground fault) — or `None` while
/// it is. The journal's `verdict` and the engine's leases
/// (`lease::standing`) both follow it.
pub fn lapsed(
    expires_ms: Option<u64>,
    detached: bool,
    holder_alive: bool,
    now_ms: u64,
) -> Option<&'static str> {
    if expires_ms.is_some_and(|e| e <= now_ms) {
        Some("expired")
    } else if !detached && !holder_alive {
        Some("its holder is gone")
    } else {
        None
    }
}

/// Pure: revert when something may be in place and either it lapsed
/// (`lapsed`), or a global stop is in force, or it failed half-way and its
/// holder is gone.
pub fn verdict(record: &Record, holder_alive: bool, now_ms: u64, stop_all: bool) -> Verdict {
    if !record.status.needs_revert() {
        return Verdict::Keep;
    }
    if stop_all
        || lapsed(record.expires_ms, record.detached, holder_alive, now_ms).is_some()
        || matches!(record.status, Status::Failed | Status::RevertFailed) && !holder_alive
    {
        Verdict::Revert
    } else {
        Verdict::Keep
    }
}

#[cfg(test)]
mod tests;
