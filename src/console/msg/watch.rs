//! The watch run's commands and news (the metrics tab's data).
//!
//! Owns: [`WatchCmd`] (what `update` asks of `console::watch`) and
//! [`WatchNews`] (what that task reports: the watch's own events, with its
//! samples batched, and how the run ended). Every message carries the run's
//! id; news of an older run is dropped by `update`.

use crate::domain::series::{AlertEvent, SeriesKey};
use crate::traffic::report::Window;
use crate::watch::core::Verdicts;

/// What `update` asks of the watch task.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchCmd {
    /// Watch `group` beside `shadow` (a run still going is stopped first).
    /// `shadow`: `None` asks for the group's only shadow, falling back to
    /// production alone when it has none.
    Start {
        run: u64,
        group: String,
        shadow: Option<String>,
    },
    /// Stop the run (its end is still reported).
    Stop { run: u64 },
    /// A second of the Load tab's replay on the watched shadow's entry
    /// service `entry`: the run charts and alerts on it as
    /// `shadow/ENTRY/client_*`.
    Client {
        run: u64,
        entry: String,
        window: Box<Window>,
    },
}

/// One sample of a series and the detector's score for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub key: SeriesKey,
    pub t_ms: i64,
    pub value: f64,
    pub score: f64,
}

/// What the watch task reports; errors are one line.
#[derive(Debug, Clone)]
pub enum WatchNews {
    /// The containers are found: what is followed.
    Started {
        run: u64,
        group: String,
        shadow: Option<String>,
        entries: Vec<String>,
        services: Vec<String>,
    },
    /// Samples, in the order the watch scored them.
    Samples { run: u64, points: Vec<Point> },
    /// An alert opened, changed or closed.
    Alert { run: u64, event: AlertEvent },
    /// Both judges' latest looks (every second).
    Looked { run: u64, verdicts: Box<Verdicts> },
    /// A fault became active on the watched shadow.
    Fault {
        run: u64,
        kind: String,
        target: String,
        t_ms: i64,
    },
    /// Something worth a line (a follower gone, no history, no shadow).
    Notice { run: u64, text: String },
    /// The run is over: stopped (`Ok`) or failed.
    Ended {
        run: u64,
        result: Result<(), String>,
    },
}

impl WatchNews {
    /// The run the news is about.
    pub fn run(&self) -> u64 {
        match self {
            Self::Started { run, .. }
            | Self::Samples { run, .. }
            | Self::Alert { run, .. }
            | Self::Looked { run, .. }
            | Self::Fault { run, .. }
            | Self::Notice { run, .. }
            | Self::Ended { run, .. } => *run,
        }
    }

    /// The failure a command reports when the task cannot take it.
    pub fn failed(cmd: &WatchCmd, reason: &str) -> Self {
        let run = match cmd {
            WatchCmd::Start { run, .. } | WatchCmd::Stop { run } | WatchCmd::Client { run, .. } => {
                *run
            }
        };
        Self::Ended {
            run,
            result: Err(reason.to_owned()),
        }
    }
}
