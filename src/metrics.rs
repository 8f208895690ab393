//! Collectors and the derivations on their raw data.
//!
//! Owns: turning engine stats frames into percentages and rates. Later:
//! request metrics, host metrics, Prometheus scrapes and the series store.

pub mod container_stats;
