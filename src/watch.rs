//! Watching production and a shadow side by side (`understudy watch`).
//!
//! Owns: the run that follows both environments — request metrics from each
//! entry container's access log (production is only read, never driven),
//! container stats of every instance — feeds them through per-series
//! detectors into alerts, judges the shadow against production and against
//! its own pre-fault baseline, and persists runs, alerts and rollups to
//! SQLite. `core` is the pure state machine; `collect` reads the engine;
//! `run` wires them and reports.

pub mod collect;
pub mod core;
pub mod run;
