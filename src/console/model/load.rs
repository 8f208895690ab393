//! The load pane's state: the replay run on the selected group's shadow
//! (starting, running, stopping, finished with its summary, failed with
//! one line), the seconds it measured (the last [`HISTORY`], oldest first)
//! and the run's error totals.
//!
//! Owns: that state and its derivations (errors of the last seconds, the
//! summary line). Does not own running the load (`console::load`) or
//! drawing it (`view::load`).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::traffic::report::{LoadReport, Window};
use crate::traffic::stats::ErrorCounts;

/// How many seconds of a run the pane keeps.
pub const HISTORY: usize = 300;

/// The demo's compressed day: its length in seconds and its peak rate.
pub const DEMO_SECONDS: u32 = 120;
pub const DEMO_PEAK_RPS: u32 = 30;
/// The replay's seed (the same day every time).
pub const DEMO_SEED: u64 = 1;

/// What a run replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    /// The demo's compressed day (`demo::traffic::day_profile`).
    Demo,
    /// A profile file (`understudy.profile/v1`), or a log / HAR file a
    /// profile is extracted from.
    File(PathBuf),
}

impl ProfileSource {
    /// `the demo day (120 s, peak 30/s)` or the file's path.
    pub fn describe(&self) -> String {
        match self {
            Self::Demo => format!("the demo day ({DEMO_SECONDS} s, peak {DEMO_PEAK_RPS}/s)"),
            Self::File(path) => path.display().to_string(),
        }
    }
}

/// One measured second, as the pane keeps it (latencies in ms, corrected
/// for coordinated omission).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadSecond {
    pub t: u64,
    pub target_rps: Option<f64>,
    pub rps: f64,
    pub requests: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub errors: ErrorCounts,
    pub late: u64,
    pub dropped: u64,
}

impl From<&Window> for LoadSecond {
    fn from(w: &Window) -> Self {
        Self {
            t: w.t,
            target_rps: w.target_rps,
            rps: w.rps,
            requests: w.requests,
            p50: w.p50,
            p99: w.p99,
            max: w.max,
            errors: w.errors,
            late: w.late,
            dropped: w.dropped,
        }
    }
}

/// How a run ended, from its report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadSummary {
    pub requests: u64,
    pub achieved_rps: f64,
    pub target_rps: Option<f64>,
    pub p50: f64,
    pub p99: f64,
    pub errors: ErrorCounts,
    pub dropped: u64,
    pub late: u64,
    /// Stopped before its end (a second `L`, or quitting).
    pub cancelled: bool,
    pub elapsed_s: f64,
}

impl LoadSummary {
    pub fn from_report(report: &LoadReport) -> Self {
        Self {
            requests: report.requests,
            achieved_rps: report.achieved_rps,
            target_rps: report.target_rps,
            p50: report.latency_ms.corrected.p50,
            p99: report.latency_ms.corrected.p99,
            errors: report.errors,
            dropped: report.dropped,
            late: report.late,
            cancelled: report.cancelled,
            elapsed_s: report.elapsed_s,
        }
    }

    /// `finished` or `stopped after 42 s`.
    pub fn ended(&self) -> String {
        if self.cancelled {
            format!("stopped after {:.0} s", self.elapsed_s)
        } else {
            "finished".to_owned()
        }
    }

    /// `2160 requests at 18.0/s of 18.0/s · p50 3.2 ms · p99 11.0 ms · 0 errors`.
    pub fn line(&self) -> String {
        let rate = match self.target_rps {
            Some(target) => format!("{:.1}/s of {target:.1}/s", self.achieved_rps),
            None => format!("{:.1}/s", self.achieved_rps),
        };
        let mut text = format!(
            "{} requests at {rate} · p50 {} · p99 {} · {} errors",
            self.requests,
            ms(self.p50),
            ms(self.p99),
            self.errors.total()
        );
        if self.dropped > 0 {
            let _ = write!(text, " · {} dropped", self.dropped);
        }
        text
    }
}

/// `3.2 ms`, `1.25 s`.
pub fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} s", value / 1000.0)
    } else if value >= 100.0 {
        format!("{value:.0} ms")
    } else {
        format!("{value:.1} ms")
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Asked for; the profile is being read and the target probed.
    Starting,
    /// Sending: `requests` over `duration_s`.
    Running {
        requests: usize,
        duration_s: f64,
    },
    /// Asked to stop; the report is on its way.
    Stopping,
    Finished(LoadSummary),
    /// Could not start or failed; one line.
    Failed(String),
}

/// A replay run on a shadow's entry point.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadRun {
    /// Counts runs in this console; messages of an older run are ignored.
    pub id: u64,
    pub shadow: String,
    /// The entry service and its URL.
    pub service: String,
    pub url: String,
    pub source: ProfileSource,
    pub state: RunState,
}

impl LoadRun {
    /// Starting, running or stopping.
    pub fn active(&self) -> bool {
        matches!(
            self.state,
            RunState::Starting | RunState::Running { .. } | RunState::Stopping
        )
    }
}

/// The load pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadPane {
    /// The current or last run.
    pub run: Option<LoadRun>,
    /// The run's seconds, oldest first, at most [`HISTORY`].
    pub history: VecDeque<LoadSecond>,
    /// Errors over the whole run.
    pub totals: ErrorCounts,
    /// Requests over the whole run.
    pub requests: u64,
    /// The id the next run gets.
    pub next_id: u64,
}

impl LoadPane {
    /// Whether a run is starting, running or stopping.
    pub fn active(&self) -> bool {
        self.run.as_ref().is_some_and(LoadRun::active)
    }

    /// Starts a fresh history for run `id`.
    pub fn reset(&mut self) {
        self.history.clear();
        self.totals = ErrorCounts::default();
        self.requests = 0;
    }

    /// Keeps a measured second (dropping the oldest beyond [`HISTORY`]).
    pub fn record(&mut self, window: &Window) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(LoadSecond::from(window));
        self.totals.merge(&window.errors);
        self.requests += window.requests;
    }

    /// The errors of the last `seconds` seconds kept.
    pub fn errors_last(&self, seconds: usize) -> ErrorCounts {
        let mut out = ErrorCounts::default();
        for s in self.history.iter().rev().take(seconds) {
            out.merge(&s.errors);
        }
        out
    }

    /// The latest second.
    pub fn current(&self) -> Option<&LoadSecond> {
        self.history.back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_read_naturally() {
        assert_eq!(ms(3.21), "3.2 ms");
        assert_eq!(ms(250.0), "250 ms");
        assert_eq!(ms(1250.0), "1.25 s");
    }
}
