//! understudy: rehearse failure on an understudy of production.
//!
//! Module map (dependencies point inward, see `../shared/STYLE.md`):
//!
//! | module | owns |
//! | --- | --- |
//! | [`domain`] | the concepts as plain data: groups, selectors, specs, stats, units |
//! | [`platform`] | the container platform seam and its Docker implementation (the only bollard user) |
//! | [`metrics`] | derivations on collected data (CPU %, rates) |
//! | [`detect`] | streaming anomaly detectors (pure): per-series baselines, change detection, one 0..1 score with an explanation; the `detect` CSV format |
//! | [`dns`] | a minimal DNS client for `FROM scratch` containers (no libc resolver there) |
//! | [`demo`] | the sample production "shop": its roles, its offline image, its lifecycle |
//! | [`console`] | the terminal console (the only ratatui / crossterm user) |
//! | [`fault`] | failure injection into shadows: catalog, schedules, injector, journal, leases on the engine, sweep |
//! | [`shadow`] | shadow deployments: capture, plan (pure), apply, tear down, gc |
//! | [`traffic`] | the load engine, capture parsers, traffic profiles and replay |
//! | [`store`] | SQLite history in one file (WAL): runs, alerts, series rollups, audit; a thread-owned connection behind an async handle (the only rusqlite user) |
//! | [`watch`] | watching prod and shadow side by side: collectors, detectors, alerts, judges |
//! | [`http_get`] | one HTTP/1.1 GET over TCP (Prometheus queries, scrapes) |
//! | [`relay`] | the L4 ingress relay that runs inside a shadow |
//! | [`proxy`] | the fault proxy (L4/L7, Toxiproxy-like) that runs between shadow services |
//! | [`cli`] | argument parsing and command handlers (wiring, anyhow) |
//! | [`telemetry`] | tracing setup: a file while the console owns the screen, stderr otherwise |

pub mod cli;
pub mod console;
pub mod demo;
pub mod detect;
pub mod dns;
pub mod domain;
pub mod fault;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod http_get;
pub mod metrics;
pub mod platform;
pub mod proxy;
pub mod relay;
pub mod shadow;
pub mod store;
pub mod telemetry;
pub mod traffic;
pub mod watch;
