//! The fault task's commands and news.

use std::time::Duration;

use crate::console::model::faults::{ActiveFault, ScheduleView};
use crate::fault::catalog::FaultRequest;
use crate::fault::target::TargetSpec;

/// What `update` asks of the fault task.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultCmd {
    /// Apply and hold a fault until its TTL (this console reverts it).
    Apply {
        request: FaultRequest,
        target: TargetSpec,
        ttl: Duration,
    },
    /// Revert one fault (this console's, or another process's from the
    /// journal).
    Revert { id: String },
    /// Revert every fault this console holds (on the way out).
    RevertSession,
    /// Block new faults, revert every fault and clear leftovers.
    StopAll,
    /// Allow faults again.
    Resume,
    /// Read a schedule file and expand its timeline (nothing is applied).
    LoadSchedule { path: String },
}

/// A fault the task applied and now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedFault {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub applied_ms: u64,
    pub expires_ms: u64,
    pub containers: Vec<String>,
}

/// What the fault task reports; errors are one line.
#[derive(Debug, Clone)]
pub enum FaultEvent {
    /// At start: faults a dead process left (or expired ones) were reverted.
    Recovered {
        reverted: Vec<String>,
    },
    /// The journal, read again (every active fault, every process's).
    Journal {
        active: Vec<ActiveFault>,
        stopped: bool,
        now_ms: u64,
    },
    Applied {
        kind: String,
        target: String,
        result: Result<AppliedFault, String>,
    },
    /// A held fault's TTL ended.
    Expired {
        id: String,
    },
    Reverted {
        id: String,
        result: Result<(), String>,
        now_ms: u64,
    },
    /// Stop-all ran: how many faults it reverted.
    Stopped(Result<usize, String>),
    Resumed(Result<(), String>),
    ScheduleLoaded(Result<ScheduleView, String>),
    /// Something worth a line (an OOM kill, packet rules applied again).
    Note(String),
}

impl FaultEvent {
    /// The failure a command reports when the task cannot take it.
    pub fn failed(cmd: &FaultCmd, reason: &str) -> Option<Self> {
        let reason = reason.to_owned();
        Some(match cmd {
            FaultCmd::Apply {
                request, target, ..
            } => Self::Applied {
                kind: request.kind.clone(),
                target: target.to_string(),
                result: Err(reason),
            },
            FaultCmd::Revert { id } => Self::Reverted {
                id: id.clone(),
                result: Err(reason),
                now_ms: 0,
            },
            FaultCmd::RevertSession => return None,
            FaultCmd::StopAll => Self::Stopped(Err(reason)),
            FaultCmd::Resume => Self::Resumed(Err(reason)),
            FaultCmd::LoadSchedule { .. } => Self::ScheduleLoaded(Err(reason)),
        })
    }
}
