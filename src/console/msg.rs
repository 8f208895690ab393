//! The messages `update` consumes and the commands it returns.
//!
//! Owns: the one `Msg` enum every source (terminal, tick, signals, the data
//! feed, shadow operations, the load run, the fault task, the watch run)
//! sends on the console's channel, and the `Cmd`s the shell turns into
//! calls on handles: [`TaskHandle`], the shell's side of each background
//! task's command queue, and [`one_line`], how a task words an error for
//! the status line.
//! Does not own their handling (`update`, `console::shell`).

use std::fmt::Display;

use crossterm::event::KeyEvent;
use ratatui::layout::Size;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

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

/// The shell's side of a background task (`ops`, `load`, `faults`,
/// `watch`): hands it commands without waiting.
#[derive(Debug)]
pub struct TaskHandle<C> {
    tx: UnboundedSender<C>,
}

impl<C> TaskHandle<C> {
    /// A handle and the queue its task reads (in tests: a handle with no
    /// task behind it, and what it would have run).
    pub fn channel() -> (Self, UnboundedReceiver<C>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    /// Queues a command; gives it back when the task is gone.
    pub fn run(&self, cmd: C) -> Result<(), C> {
        self.tx.send(cmd).map_err(|e| e.0)
    }
}

/// The first line of an error, trimmed: what the status line shows.
pub fn first_line(e: &(impl Display + ?Sized)) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// [`first_line`], with the whole error going to the log after `context`.
pub fn one_line(context: &str, e: &(impl Display + ?Sized)) -> String {
    let full = e.to_string();
    tracing::warn!("{context}: {full}");
    first_line(&full)
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
