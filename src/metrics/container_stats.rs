//! Pure derivations on engine stats frames: CPU % the way `docker stats`
//! computes it, memory without page cache, and per-second network and block
//! I/O rates from two successive frames.

use std::time::{Duration, SystemTime};

use crate::domain::stats::{ContainerStats, RawStats};

/// CPU % of one frame: container CPU delta over host CPU delta, times the
/// number of online CPUs. `None` when the frame has no previous counters
/// (the first frame of a stream) or the host counter did not advance.
pub fn cpu_percent(raw: &RawStats) -> Option<f64> {
    let pre_cpu = raw.precpu_total_ns?;
    let system = raw.system_ns?;
    let pre_system = raw.presystem_ns?;
    if pre_system == 0 || system <= pre_system {
        return None;
    }
    let cpu_delta = raw.cpu_total_ns.saturating_sub(pre_cpu) as f64;
    let system_delta = (system - pre_system) as f64;
    let cpus = match raw.online_cpus {
        Some(n) if n > 0 => n,
        _ => raw.percpu_count.max(1),
    };
    Some(cpu_delta / system_delta * f64::from(cpus) * 100.0)
}

/// Memory in use as `docker stats` shows it: usage minus inactive page cache.
pub fn memory_used(raw: &RawStats) -> u64 {
    raw.mem_usage.saturating_sub(raw.mem_inactive_file)
}

/// Turns a stream of frames for one container into samples with rates.
#[derive(Debug, Default)]
pub struct StatsDeriver {
    previous: Option<RawStats>,
}

impl StatsDeriver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Derives a sample from `raw` and the previous frame. Returns `None` for
    /// a frame that carries no CPU delta (the first frame of a stream).
    pub fn push(&mut self, raw: RawStats) -> Option<ContainerStats> {
        let at = raw.read.unwrap_or_else(SystemTime::now);
        let cpu = cpu_percent(&raw);
        let rates = self.previous.as_ref().and_then(|prev| {
            let elapsed = elapsed_between(prev, &raw)?;
            let secs = elapsed.as_secs_f64();
            let rate = |now: u64, before: u64| now.saturating_sub(before) as f64 / secs;
            Some([
                rate(raw.net_rx_bytes, prev.net_rx_bytes),
                rate(raw.net_tx_bytes, prev.net_tx_bytes),
                rate(raw.blk_read_bytes, prev.blk_read_bytes),
                rate(raw.blk_write_bytes, prev.blk_write_bytes),
            ])
        });
        let sample = cpu.map(|cpu_percent| {
            let [net_rx_bps, net_tx_bps, blk_read_bps, blk_write_bps] = rates.unwrap_or_default();
            ContainerStats {
                container_id: raw.container_id.clone(),
                at,
                cpu_percent,
                mem_bytes: memory_used(&raw),
                mem_limit: raw.mem_limit,
                net_rx_bps,
                net_tx_bps,
                blk_read_bps,
                blk_write_bps,
                pids: raw.pids,
            }
        });
        self.previous = Some(raw);
        sample
    }
}

fn elapsed_between(prev: &RawStats, now: &RawStats) -> Option<Duration> {
    let elapsed = now.read?.duration_since(prev.read?).ok()?;
    (elapsed >= Duration::from_millis(100)).then_some(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t_ms: u64, cpu: u64, system: u64) -> RawStats {
        RawStats {
            container_id: "c1".into(),
            read: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(t_ms)),
            cpu_total_ns: cpu,
            precpu_total_ns: Some(cpu.saturating_sub(250_000_000)),
            system_ns: Some(system),
            presystem_ns: Some(system - 2_000_000_000),
            online_cpus: Some(2),
            percpu_count: 0,
            mem_usage: 100 << 20,
            mem_inactive_file: 30 << 20,
            mem_limit: 512 << 20,
            ..RawStats::default()
        }
    }

    #[test]
    fn cpu_percent_scales_by_online_cpus() {
        // 0.25 s of container CPU over 2 s of host CPU on 2 CPUs
        // (1 s wall) = 25 % of one CPU.
        let f = frame(1000, 1_000_000_000, 10_000_000_000);
        let pct = cpu_percent(&f).unwrap();
        assert!((pct - 25.0).abs() < 1e-9, "{pct}");
    }

    #[test]
    fn cpu_percent_falls_back_to_percpu_len() {
        let mut f = frame(1000, 1_000_000_000, 10_000_000_000);
        f.online_cpus = None;
        f.percpu_count = 4;
        assert!((cpu_percent(&f).unwrap() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn first_frame_without_precpu_gives_no_cpu() {
        let mut f = frame(1000, 1_000_000_000, 10_000_000_000);
        f.presystem_ns = Some(0);
        assert_eq!(cpu_percent(&f), None);
        f.precpu_total_ns = None;
        assert_eq!(cpu_percent(&f), None);
    }

    #[test]
    fn memory_excludes_inactive_page_cache() {
        assert_eq!(memory_used(&frame(0, 1, 3_000_000_000)), 70 << 20);
    }

    #[test]
    fn rates_come_from_successive_frames() {
        let mut d = StatsDeriver::new();
        let mut a = frame(1000, 1_000_000_000, 10_000_000_000);
        a.net_rx_bytes = 1000;
        a.blk_write_bytes = 4096;
        let first = d.push(a).unwrap();
        assert!(first.net_rx_bps.abs() < f64::EPSILON);
        let mut b = frame(3000, 1_500_000_000, 14_000_000_000);
        b.net_rx_bytes = 5000;
        b.net_tx_bytes = 100;
        b.blk_write_bytes = 4096 + 8192;
        let second = d.push(b).unwrap();
        assert!((second.net_rx_bps - 2000.0).abs() < 1e-9);
        assert!((second.net_tx_bps - 50.0).abs() < 1e-9);
        assert!((second.blk_write_bps - 4096.0).abs() < 1e-9);
        assert_eq!(second.mem_bytes, 70 << 20);
    }

    #[test]
    fn counter_reset_does_not_go_negative() {
        let mut d = StatsDeriver::new();
        let mut a = frame(1000, 1_000_000_000, 10_000_000_000);
        a.net_rx_bytes = 9000;
        d.push(a);
        let mut b = frame(2000, 1_200_000_000, 12_000_000_000);
        b.net_rx_bytes = 10;
        assert!(d.push(b).unwrap().net_rx_bps.abs() < f64::EPSILON);
    }
}
