//! The messages `update` consumes and the commands it returns.
//!
//! Owns: the one `Msg` enum every source (terminal, tick, signals, the data
//! feed) sends on the console's channel, and the `Cmd`s the shell turns into
//! calls on handles. Does not own their handling (`update`, `console::shell`).

use crossterm::event::KeyEvent;

use crate::domain::Group;
use crate::domain::stats::ContainerStats;
use crate::platform::EngineInfo;

use super::keymap::Action;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press from the terminal; the key table turns it into an action.
    Key(KeyEvent),
    /// An action, from a key or a signal.
    Action(Action),
    /// The terminal changed size.
    Resize,
    /// The periodic tick, with the clock text to show.
    Tick(String),
    /// The engine's identity (first contact, or after a reconnect).
    Engine(EngineInfo),
    /// The groups on the engine, freshly listed.
    Groups(Vec<Group>),
    /// A derived stats sample for one container of the watched group.
    Stats(ContainerStats),
    /// The feed failed; the text is for the status line.
    FeedError(String),
}

/// What `update` asks the shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// Leave the console.
    Quit,
    /// Stream stats for this group's containers (or none).
    WatchGroup(Option<String>),
    /// Re-list containers now.
    Refresh,
}
