//! Collectors and the derivations on their raw data.
//!
//! Owns: turning engine stats frames into percentages and rates. Later:
//! request metrics, Prometheus scrapes and the series store. `host` samples
//! the machine (CPU, memory, load) through sysinfo on its own thread.

pub mod alerting;
pub mod container_stats;
pub mod host;
pub mod prom_text;
pub mod requests;
pub mod scrape;
pub mod series;
