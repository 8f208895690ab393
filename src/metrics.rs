//! Collectors and the derivations on their raw data.
//!
//! Owns: turning engine stats frames into percentages and rates
//! (`container_stats`), access-log records into request seconds
//! (`requests`), Prometheus pages into samples (`prom_text`, `scrape`) and
//! into per-second series (`scrape_series`), the bounded series store
//! (`series`) and alert hysteresis (`alerting`). `host` samples the machine
//! (CPU, memory, load) through sysinfo on its own thread.

pub mod alerting;
pub mod coincide;
pub mod container_stats;
pub mod host;
pub mod prom_text;
pub mod requests;
pub mod scrape;
pub mod scrape_series;
pub mod series;
