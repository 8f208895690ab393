//! Watching production and a shadow side by side (`understudy watch`).
//!
//! Owns: the run that follows both environments — request metrics from each
//! entry container's access log (production is only read, never driven),
//! container stats of every instance — feeds them through per-series
//! detectors into alerts, judges the shadow against production and against
//! its own pre-fault baseline, and persists runs, alerts and rollups to
//! SQLite. Also, as series: the host (CPU, memory, load), any Prometheus
//! `/metrics` target (`--scrape`), and — when the watch drives the shadow
//! itself (`--replay PROFILE`) — the load engine's own view of the shadow
//! (`shadow/ENTRY/client_*`: connection errors, timeouts, corrected
//! latency). `core` is the pure state machine; `points` the pure keying of
//! every input; `collect` reads the engine; `sources` the host, scrapes and
//! the load; `run` wires them and reports; `history` renders the runs
//! SQLite kept (`understudy history`).

pub mod collect;
pub mod core;
pub mod entry_log;
pub mod history;
pub mod log_clock;
pub mod points;
pub mod run;
pub mod sources;

pub use crate::domain::units::unix_ms;

/// The start of the second `t_ms` falls in: points are kept per second.
pub fn second_of(t_ms: i64) -> i64 {
    t_ms.div_euclid(1000) * 1000
}
