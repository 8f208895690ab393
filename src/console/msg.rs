//! The messages `update` consumes and the commands it returns.
//!
//! Owns: the one `Msg` enum every source (terminal, tick, signals, the data
//! feed, shadow operations, the load run, the fault task, the watch run)
//! sends on the console's channel, and the `Cmd`s the shell turns into
//! calls on handles.
//! Does not own their handling (`update`, `console::shell`).

use crossterm::event::KeyEvent;
use ratatui::layout::Size;

use crate::domain::Group;
use crate::domain::stats::ContainerStats;
use crate::metrics::host::HostStats;
use crate::platform::EngineInfo;
use crate::shadow::apply::ApplyReport;
use crate::shadow::plan::ShadowPlan;
use crate::shadow::teardown::Removed;

use super::keymap::Action;
use super::model::Shadow;

pub use faults::{AppliedFault, FaultCmd, FaultEvent};
pub use load::{LoadCmd, LoadEvent, LoadSpec};
pub use watch::{Point, WatchCmd, WatchNews};

mod faults;
mod load;
mod watch;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press from the terminal; the key table turns it into an action.
    Key(KeyEvent),
    /// An action, from a key or a signal.
    Action(Action),
    /// The terminal's size (at start and on every change).
    Resize(Size),
    /// The periodic tick, with the clock text to show.
    Tick(String),
    /// The engine's identity (first contact, or after a reconnect).
    Engine(EngineInfo),
    /// A sample of the host (CPU, memory, load).
    Host(HostStats),
    /// The groups on the engine, freshly listed.
    Groups(Vec<Group>),
    /// The shadows on the engine, listed with the groups.
    Shadows(Vec<Shadow>),
    /// A derived stats sample for one container of the watched group or
    /// its shadow.
    Stats(ContainerStats),
    /// The feed failed; the text is for the status line.
    FeedError(String),
    /// News from the shadow operation in flight.
    Shadow(ShadowEvent),
    /// News from the load run.
    Load(LoadEvent),
    /// News from the fault task (journal readings, results, expiries).
    Faults(FaultEvent),
    /// News from the watch run (the metrics tab).
    Watch(WatchNews),
}

/// What a shadow operation reports; errors are one line for the status.
#[derive(Debug, Clone)]
pub enum ShadowEvent {
    /// The operation moved on to another step (`preparing the ingress image`).
    Step(String),
    Planned {
        group: String,
        result: Result<Box<ShadowPlan>, String>,
    },
    Applied {
        id: String,
        group: String,
        result: Result<ApplyReport, String>,
    },
    Removed {
        id: String,
        group: String,
        result: Result<Removed, String>,
    },
}

impl ShadowEvent {
    /// The failure a command reports when it could not even start.
    pub fn failed(cmd: &ShadowCmd, reason: &str) -> Self {
        match cmd {
            ShadowCmd::Plan { group } => Self::Planned {
                group: group.clone(),
                result: Err(reason.to_owned()),
            },
            ShadowCmd::Apply(plan) => Self::Applied {
                id: plan.id.clone(),
                group: plan.group.clone(),
                result: Err(reason.to_owned()),
            },
            ShadowCmd::Remove { id, group } => Self::Removed {
                id: id.clone(),
                group: group.clone(),
                result: Err(reason.to_owned()),
            },
        }
    }
}

/// What `update` asks the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Leave the console.
    Quit,
    /// Stream stats for this group's containers (or none).
    WatchGroup(Option<String>),
    /// Re-list containers now.
    Refresh,
    /// Start a shadow operation in the background.
    Shadow(ShadowCmd),
    /// Start or stop the load run.
    Load(LoadCmd),
    /// Apply, revert, stop or resume faults.
    Faults(FaultCmd),
    /// Start or stop the watch run.
    Watch(WatchCmd),
}

/// A shadow operation, run by `console::ops` off the drawing path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShadowCmd {
    /// Capture the group and plan its shadow (default choices).
    Plan { group: String },
    /// Apply a confirmed plan.
    Apply(Box<ShadowPlan>),
    /// Tear a shadow down.
    Remove { id: String, group: String },
}
