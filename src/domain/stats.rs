//! Engine statistics: the raw counters of one stats frame, and the derived
//! sample (percentages and rates) the console and the detectors read.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The counters of one engine stats frame, as cumulative values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RawStats {
    pub container_id: String,
    /// When the engine read the counters.
    pub read: Option<SystemTime>,
    /// Container CPU time, ns, cumulative.
    pub cpu_total_ns: u64,
    /// The same counter at the engine's previous read (`precpu_stats`).
    pub precpu_total_ns: Option<u64>,
    /// Host CPU time, ns, cumulative (`system_cpu_usage`).
    pub system_ns: Option<u64>,
    pub presystem_ns: Option<u64>,
    /// `online_cpus`, when the engine reports it.
    pub online_cpus: Option<u32>,
    /// Length of `percpu_usage`, the fallback for `online_cpus` (cgroup v1).
    pub percpu_count: u32,
    pub mem_usage: u64,
    /// Page cache to subtract (`total_inactive_file` on cgroup v1,
    /// `inactive_file` on v2), as `docker stats` does.
    pub mem_inactive_file: u64,
    pub mem_limit: u64,
    /// Summed over interfaces.
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
    pub pids: u64,
}

/// A derived per-container sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerStats {
    pub container_id: String,
    pub at: SystemTime,
    /// 100 % is one full CPU; two busy CPUs read 200 %.
    pub cpu_percent: f64,
    pub mem_bytes: u64,
    pub mem_limit: u64,
    pub net_rx_bps: f64,
    pub net_tx_bps: f64,
    pub blk_read_bps: f64,
    pub blk_write_bps: f64,
    pub pids: u64,
}
