//! Host metrics (CPU, memory, load) through sysinfo, sampled on a thread of
//! its own (sysinfo blocks), so the async runtime never waits on it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// One sample of the host.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HostStats {
    /// Busy share of all CPUs, 0..=100.
    pub cpu_percent: f32,
    pub cpus: usize,
    pub mem_used: u64,
    pub mem_total: u64,
    pub load1: f64,
}

impl HostStats {
    /// `cpu 12% of 2 · mem 3.1GiB/23.5GiB · load 0.52`.
    pub fn summary(&self) -> String {
        format!(
            "cpu {:.0}% of {} · mem {}/{} · load {:.2}",
            self.cpu_percent,
            self.cpus,
            crate::domain::units::format_bytes(self.mem_used),
            crate::domain::units::format_bytes(self.mem_total),
            self.load1
        )
    }
}

/// Samples the host every `every` on a dedicated thread and hands each
/// sample to `send` until `cancel` fires or `send` returns false.
pub fn spawn_sampler(
    every: Duration,
    cancel: CancellationToken,
    mut send: impl FnMut(HostStats) -> bool + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("host-metrics".to_owned())
        .spawn(move || {
            let mut system = sysinfo::System::new();
            // CPU usage is a difference between two refreshes.
            system.refresh_cpu_usage();
            while !cancel.is_cancelled() {
                std::thread::sleep(every.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL));
                system.refresh_cpu_usage();
                system.refresh_memory();
                let stats = HostStats {
                    cpu_percent: system.global_cpu_usage(),
                    cpus: system.cpus().len(),
                    mem_used: system.used_memory(),
                    mem_total: system.total_memory(),
                    load1: sysinfo::System::load_average().one,
                };
                if !send(stats) {
                    break;
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_like_a_header() {
        let s = HostStats {
            cpu_percent: 12.4,
            cpus: 2,
            mem_used: 3 << 30,
            mem_total: 24 << 30,
            load1: 0.5,
        };
        assert_eq!(s.summary(), "cpu 12% of 2 · mem 3.0GiB/24.0GiB · load 0.50");
    }

    #[test]
    fn the_sampler_reports_this_host_and_stops_on_cancel() {
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = CancellationToken::new();
        let handle = spawn_sampler(Duration::from_millis(50), cancel.clone(), move |s| {
            tx.send(s).is_ok()
        })
        .unwrap();
        let sample = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(sample.cpus >= 1);
        assert!(sample.mem_total > 0 && sample.mem_used <= sample.mem_total);
        assert!((0.0..=100.0).contains(&sample.cpu_percent));
        cancel.cancel();
        handle.join().unwrap();
    }
}
