//! The load run's commands and news.

use crate::console::model::load::{LoadSummary, ProfileSource};
use crate::traffic::report::Window;

/// A replay to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSpec {
    /// The run's id (its messages carry it).
    pub run: u64,
    /// The shadow's entry URL (`http://127.0.0.1:40000`).
    pub url: String,
    pub source: ProfileSource,
}

/// What `update` asks of the load task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadCmd {
    /// Start a run (a run still going is stopped first).
    Start(LoadSpec),
    /// Stop the run (its report still comes, marked cancelled).
    Stop { run: u64 },
}

/// What the load task reports; errors are one line.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    /// The profile is read and the target answers: sending begins.
    Started {
        run: u64,
        requests: usize,
        duration_s: f64,
    },
    /// A second ended.
    Window { run: u64, window: Box<Window> },
    /// The run is over (finished, stopped, or failed).
    Finished {
        run: u64,
        result: Result<LoadSummary, String>,
    },
}

impl LoadEvent {
    /// The failure a command reports when the task cannot take it.
    pub fn failed(cmd: &LoadCmd, reason: &str) -> Self {
        let run = match cmd {
            LoadCmd::Start(spec) => spec.run,
            LoadCmd::Stop { run } => *run,
        };
        Self::Finished {
            run,
            result: Err(reason.to_owned()),
        }
    }
}
