//! The faults pane's state: the catalog (every kind with its level and a
//! line of help), the active faults from the journal (every process's),
//! the faults this console applied (its session, drawn as a timeline), the
//! global stop, a loaded schedule's timeline, the fault operation in
//! flight, and the confirmations (revert one, stop all).
//!
//! Owns: that state and its pure derivations. Does not own applying or
//! reverting (`console::faults`), the form (`form`) or drawing
//! (`view::faults`).

use std::sync::LazyLock;

use crate::fault::catalog::{self, Level};
use crate::fault::journal::Status;
use crate::proxy::model::FaultKind as EdgeKind;

use super::form::FaultForm;

/// How much history the session timeline shows.
pub const TIMELINE_SPAN_MS: u64 = 5 * 60 * 1000;

/// One kind of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: &'static str,
    pub level: &'static str,
    pub help: String,
    /// Through the fault proxy (its target is an edge).
    pub edge: bool,
}

/// Every kind: the catalog's, then the edge kinds of the fault proxy.
pub static CATALOG: LazyLock<Vec<CatalogEntry>> = LazyLock::new(|| {
    let kinds = catalog::KINDS.iter().map(|k| CatalogEntry {
        name: k.name,
        level: level_name(k.level),
        help: k.help.to_owned(),
        edge: false,
    });
    let edges = EdgeKind::ALL.iter().map(|k| {
        let params: Vec<&str> = k.params().iter().map(|p| p.name).collect();
        let on = if k.is_http() {
            "HTTP requests"
        } else {
            "the bytes"
        };
        let with = if params.is_empty() {
            String::new()
        } else {
            format!(" ({})", params.join(", "))
        };
        CatalogEntry {
            name: k.name(),
            level: "edge",
            help: format!("on {on} of an edge, through the shadow's fault proxy{with}"),
            edge: true,
        }
    });
    kinds.chain(edges).collect()
});

pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Instance => "instance",
        Level::Service => "service",
        Level::Edge => "edge",
        Level::Packet => "packet",
        Level::Breach => "breach",
    }
}

/// A fault in the journal, as the active list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveFault {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub status: Status,
    pub expires_ms: Option<u64>,
    pub detached: bool,
    /// Held by this console.
    pub mine: bool,
    /// The holder: `pid 4242`.
    pub owner: String,
}

/// Where a fault this console applied is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    Active,
    /// Its revert was asked for (by a key or its TTL).
    Reverting,
    Reverted,
    /// The revert failed (one line); the journal keeps it for `gc`.
    RevertFailed(String),
}

/// A fault this console applied (it holds it and reverts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFault {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub applied_ms: u64,
    pub expires_ms: u64,
    /// When it was reverted (or found gone).
    pub ended_ms: Option<u64>,
    pub state: SessionState,
}

impl SessionFault {
    /// Still in place as far as this console knows (reverting included).
    pub fn held(&self) -> bool {
        matches!(self.state, SessionState::Active | SessionState::Reverting)
    }
}

/// One event of a loaded schedule's timeline (seconds from its start).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleEvent {
    pub at_s: f64,
    pub until_s: f64,
    /// `pause on shop-shadow-a1b2c3-api-1`.
    pub label: String,
}

/// A schedule file expanded into its timeline (shown, not run).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleView {
    pub path: String,
    pub seed: u64,
    pub horizon_s: f64,
    pub events: Vec<ScheduleEvent>,
    /// Events the blast-radius limits removed.
    pub cut: usize,
}

/// The fault operation a key started (one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultOp {
    Applying { kind: String, target: String },
    Reverting { id: String },
    Stopping,
    Resuming,
    LoadingSchedule { path: String },
}

impl FaultOp {
    /// `applying latency on a1b2c3/gateway->api`.
    pub fn describe(&self) -> String {
        match self {
            Self::Applying { kind, target } => format!("applying {kind} on {target}"),
            Self::Reverting { id } => format!("reverting fault {id}"),
            Self::Stopping => "stopping every fault".to_owned(),
            Self::Resuming => "allowing faults again".to_owned(),
            Self::LoadingSchedule { path } => format!("loading the schedule {path}"),
        }
    }
}

/// What a fault confirmation asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultConfirm {
    Revert {
        id: String,
        kind: String,
        target: String,
    },
    StopAll,
}

/// Which list of the faults pane the cursor keys move in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Section {
    #[default]
    Catalog,
    Active,
}

/// The faults pane.
#[derive(Debug, Clone, Default)]
pub struct FaultsPane {
    pub section: Section,
    pub catalog_cursor: usize,
    pub active_cursor: usize,
    /// Faults in the journal that may still need a revert.
    pub active: Vec<ActiveFault>,
    /// The time of the last journal reading (ms since the epoch); remaining
    /// TTLs and the timeline are drawn against it.
    pub now_ms: u64,
    /// `fault stop-all` (or `!`) is in force.
    pub stopped: bool,
    pub op: Option<FaultOp>,
    /// Faults this console applied, oldest first.
    pub session: Vec<SessionFault>,
    pub schedule: Option<ScheduleView>,
    /// The open confirmation (mode `FaultConfirm`).
    pub confirm: Option<FaultConfirm>,
    /// The open form (mode `FaultForm`).
    pub form: Option<FaultForm>,
}

impl FaultsPane {
    /// The catalog entry under the cursor.
    pub fn selected_kind(&self) -> Option<&'static CatalogEntry> {
        CATALOG.get(self.catalog_cursor)
    }

    /// The active fault under the cursor.
    pub fn selected_active(&self) -> Option<&ActiveFault> {
        self.active.get(self.active_cursor)
    }

    /// The faults this console still holds.
    pub fn held(&self) -> impl Iterator<Item = &SessionFault> {
        self.session.iter().filter(|f| f.held())
    }

    pub fn session_mut(&mut self, id: &str) -> Option<&mut SessionFault> {
        self.session.iter_mut().find(|f| f.id == id)
    }
}

/// `42s`, `3m05s`; `expired` once past; `—` without a TTL.
pub fn remaining(expires_ms: Option<u64>, now_ms: u64) -> String {
    let Some(expires) = expires_ms else {
        return "—".to_owned();
    };
    if expires <= now_ms {
        return "expired".to_owned();
    }
    let secs = (expires - now_ms).div_ceil(1000);
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// The journal's status as a word.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Applying => "applying",
        Status::Active => "active",
        Status::Reverted => "reverted",
        Status::Failed => "failed",
        Status::RevertFailed => "revert failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_every_kind_once_edge_kinds_last() {
        let names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
        assert_eq!(
            names.len(),
            catalog::KINDS.len() + EdgeKind::ALL.len(),
            "{names:?}"
        );
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(CATALOG[0].name, "kill");
        let latency = CATALOG.iter().find(|e| e.name == "latency").unwrap();
        assert!(latency.edge);
        assert_eq!(latency.level, "edge");
        assert!(
            latency.help.contains("(latency, jitter)"),
            "{}",
            latency.help
        );
    }

    #[test]
    fn remaining_ttl_reads_in_seconds_and_minutes() {
        assert_eq!(remaining(None, 5), "—");
        assert_eq!(remaining(Some(1_000), 2_000), "expired");
        assert_eq!(remaining(Some(43_000), 1_000), "42s");
        assert_eq!(remaining(Some(42_500), 1_000), "42s");
        assert_eq!(remaining(Some(186_000), 1_000), "3m05s");
    }
}
