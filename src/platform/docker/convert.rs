//! bollard responses -> domain types. Every engine field is optional; absent
//! values become neutral defaults rather than errors.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use bollard::models::{
    ContainerInspectResponse, ContainerStatsResponse, ContainerSummary as DockerSummary,
    EventMessage, HealthConfig, HostConfig, MountType, PortMap, RestartPolicyNameEnum,
};

use crate::domain::spec::{
    Healthcheck, Mount, MountKind, NetworkAttachment, Publish, Resources, RestartPolicy, Security,
    Ulimit,
};
use crate::domain::{ContainerSpec, ContainerSummary, Health, PortBinding, RawStats, RunState};
use crate::platform::{ContainerDetails, EngineEvent, NetworkEndpoint};

fn btree(m: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    m.unwrap_or_default().into_iter().collect()
}

fn to_system_time(t: time::OffsetDateTime) -> Option<SystemTime> {
    let nanos = t.unix_timestamp_nanos();
    if nanos <= 0 {
        return None;
    }
    Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).ok()?))
}

pub fn summary(c: DockerSummary) -> ContainerSummary {
    let status = c.status.unwrap_or_default();
    let state = c
        .state
        .map_or(RunState::Unknown, |s| RunState::parse(s.as_ref()));
    let mut ports: Vec<PortBinding> = c
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some(PortBinding {
                container_port: p.private_port,
                protocol: p.typ.map_or_else(|| "tcp".to_owned(), |t| t.to_string()),
                host_ip: p.ip.unwrap_or_default(),
                host_port: p.public_port?,
            })
        })
        .collect();
    ports.sort_by(|a, b| (a.container_port, &a.host_ip).cmp(&(b.container_port, &b.host_ip)));
    ports.dedup_by(|a, b| a.container_port == b.container_port && a.host_port == b.host_port);
    ContainerSummary {
        id: c.id.unwrap_or_default(),
        name: c
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
        image: c.image.unwrap_or_default(),
        state,
        health: Health::from_status_text(&status),
        status,
        labels: btree(c.labels),
        ports,
    }
}

/// Every entry of a port map (`HostConfig.PortBindings` or
/// `NetworkSettings.Ports`), where an empty or zero host port means "any
/// free port" (a request) or "not bound" (a state), sorted.
fn port_entries(ports: Option<PortMap>) -> Vec<Publish> {
    let mut out = Vec::new();
    for (key, bindings) in ports.unwrap_or_default() {
        let (port, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let Ok(container_port) = port.parse() else {
            continue;
        };
        for b in bindings.unwrap_or_default() {
            out.push(Publish {
                container_port,
                protocol: protocol.to_owned(),
                host_ip: b.host_ip.unwrap_or_default(),
                host_port: b
                    .host_port
                    .and_then(|p| p.parse().ok())
                    .filter(|&p: &u16| p != 0),
            });
        }
    }
    out.sort_by(|a, b| (a.container_port, &a.host_ip).cmp(&(b.container_port, &b.host_ip)));
    out
}

/// Ports actually bound on the host.
fn published(ports: Option<PortMap>) -> Vec<PortBinding> {
    port_entries(ports)
        .into_iter()
        .filter_map(|p| {
            Some(PortBinding {
                container_port: p.container_port,
                protocol: p.protocol,
                host_ip: p.host_ip,
                host_port: p.host_port?,
            })
        })
        .collect()
}

fn duration_ns(ns: Option<i64>) -> Duration {
    Duration::from_nanos(ns.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

fn healthcheck(h: HealthConfig) -> Option<Healthcheck> {
    let test = h.test?;
    if test.is_empty() || test == ["NONE"] {
        return None;
    }
    Some(Healthcheck {
        test,
        interval: duration_ns(h.interval),
        timeout: duration_ns(h.timeout),
        retries: h.retries.and_then(|r| u32::try_from(r).ok()).unwrap_or(0),
        start_period: duration_ns(h.start_period),
    })
}

fn restart(hc: &HostConfig) -> RestartPolicy {
    match hc.restart_policy.as_ref().and_then(|p| p.name) {
        Some(RestartPolicyNameEnum::ALWAYS) => RestartPolicy::Always,
        Some(RestartPolicyNameEnum::UNLESS_STOPPED) => RestartPolicy::UnlessStopped,
        Some(RestartPolicyNameEnum::ON_FAILURE) => RestartPolicy::OnFailure,
        _ => RestartPolicy::No,
    }
}

fn resources(hc: &HostConfig) -> Resources {
    let positive = |v: Option<i64>| v.filter(|&n| n > 0);
    Resources {
        nano_cpus: positive(hc.nano_cpus),
        cpu_quota: positive(hc.cpu_quota),
        cpu_period: positive(hc.cpu_period),
        cpu_shares: positive(hc.cpu_shares),
        cpuset_cpus: hc.cpuset_cpus.clone().filter(|s| !s.is_empty()),
        memory: positive(hc.memory),
        memory_swap: hc.memory_swap.filter(|&n| n != 0),
        memory_reservation: positive(hc.memory_reservation),
        pids_limit: positive(hc.pids_limit),
        ulimits: hc
            .ulimits
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| {
                Some(Ulimit {
                    name: u.name?,
                    soft: u.soft.unwrap_or(0),
                    hard: u.hard.unwrap_or(0),
                })
            })
            .collect(),
    }
}

/// Volumes show up in `HostConfig.Binds` (`vol:/data:rw`) for compose v1 and
/// in `HostConfig.Mounts` for API clients; both become spec mounts.
fn mounts(hc: &HostConfig) -> Vec<Mount> {
    let mut out: Vec<Mount> = Vec::new();
    for bind in hc.binds.clone().unwrap_or_default() {
        let parts: Vec<&str> = bind.split(':').collect();
        if parts.len() < 2 {
            continue;
        }
        let source = parts[0].to_owned();
        let kind = if source.starts_with('/') {
            MountKind::Bind
        } else {
            MountKind::Volume
        };
        let read_only = parts
            .get(2)
            .is_some_and(|opts| opts.split(',').any(|o| o == "ro"));
        out.push(Mount {
            kind,
            source,
            target: parts[1].to_owned(),
            read_only,
        });
    }
    for m in hc.mounts.clone().unwrap_or_default() {
        let kind = match m.typ {
            Some(MountType::BIND) => MountKind::Bind,
            Some(MountType::TMPFS) => MountKind::Tmpfs,
            Some(MountType::VOLUME) => MountKind::Volume,
            _ => continue,
        };
        out.push(Mount {
            kind,
            source: m.source.unwrap_or_default(),
            target: m.target.unwrap_or_default(),
            read_only: m.read_only.unwrap_or(false),
        });
    }
    for (target, _opts) in hc.tmpfs.clone().unwrap_or_default() {
        out.push(Mount {
            kind: MountKind::Tmpfs,
            source: String::new(),
            target,
            read_only: false,
        });
    }
    out.sort_by(|a, b| a.target.cmp(&b.target));
    out
}

fn security(hc: &HostConfig) -> Security {
    Security {
        privileged: hc.privileged.unwrap_or(false),
        pid_mode: hc.pid_mode.clone().filter(|m| !m.is_empty()),
        ipc_mode: hc
            .ipc_mode
            .clone()
            .filter(|m| !m.is_empty() && m != "private" && m != "shareable"),
        devices: hc
            .devices
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                format!(
                    "{}:{}:{}",
                    d.path_on_host.unwrap_or_default(),
                    d.path_in_container.unwrap_or_default(),
                    d.cgroup_permissions.unwrap_or_default()
                )
            })
            .collect(),
        cap_add: hc.cap_add.clone().unwrap_or_default(),
        cap_drop: hc.cap_drop.clone().unwrap_or_default(),
        security_opt: hc.security_opt.clone().unwrap_or_default(),
        readonly_rootfs: hc.readonly_rootfs.unwrap_or(false),
        init: hc.init,
        sysctls: btree(hc.sysctls.clone()),
        shm_size: hc.shm_size.filter(|&s| s > 0 && s != 64 * 1024 * 1024),
    }
}

fn split_env(env: Vec<String>) -> BTreeMap<String, String> {
    env.into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv, String::new()),
        })
        .collect()
}

pub fn details(c: ContainerInspectResponse) -> ContainerDetails {
    let id = c.id.unwrap_or_default();
    let state = c.state.unwrap_or_default();
    let health_state = state.health.clone().unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let hc = c.host_config.unwrap_or_default();
    let net = c.network_settings.unwrap_or_default();
    let short_id = id.get(..12).unwrap_or(&id).to_owned();
    let mut networks: Vec<NetworkEndpoint> = net
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ep)| NetworkEndpoint {
            network: name,
            ip: ep.ip_address.and_then(|ip| ip.parse::<Ipv4Addr>().ok()),
            aliases: ep.aliases.unwrap_or_default(),
        })
        .collect();
    networks.sort_by(|a, b| a.network.cmp(&b.network));
    let publish = port_entries(hc.port_bindings.clone());
    let spec = ContainerSpec {
        name: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        image: config.image.clone().unwrap_or_default(),
        entrypoint: config.entrypoint.clone(),
        cmd: config.cmd.clone().unwrap_or_default(),
        env: split_env(config.env.clone().unwrap_or_default()),
        working_dir: config.working_dir.clone().filter(|w| !w.is_empty()),
        user: config.user.clone().filter(|u| !u.is_empty()),
        hostname: config.hostname.clone().filter(|h| *h != short_id),
        labels: btree(config.labels.clone()),
        healthcheck: config.healthcheck.clone().and_then(healthcheck),
        restart: restart(&hc),
        resources: resources(&hc),
        exposed: {
            let mut e = config.exposed_ports.clone().unwrap_or_default();
            e.sort();
            e
        },
        publish,
        networks: networks
            .iter()
            .map(|n| NetworkAttachment {
                network: n.network.clone(),
                aliases: n
                    .aliases
                    .iter()
                    .filter(|a| **a != short_id)
                    .cloned()
                    .collect(),
            })
            .collect(),
        mounts: mounts(&hc),
        stop_signal: config.stop_signal.clone(),
        stop_grace: config
            .stop_timeout
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs),
        network_mode: hc
            .network_mode
            .clone()
            .filter(|m| m == "host" || m == "none" || m.starts_with("container:")),
        extra_hosts: hc.extra_hosts.clone().unwrap_or_default(),
        security: security(&hc),
    };
    ContainerDetails {
        id,
        name: spec.name.clone(),
        image_id: c.image.unwrap_or_default(),
        state: state
            .status
            .map_or(RunState::Unknown, |s| RunState::parse(s.as_ref())),
        health: health_state
            .status
            .map_or(Health::None, |s| Health::parse(s.as_ref())),
        health_log: health_state
            .log
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.output.map(|o| o.trim().to_owned()))
            .collect(),
        pid: state.pid.and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        restart_count: c
            .restart_count
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        exit_code: state.exit_code.unwrap_or(0),
        oom_killed: state.oom_killed.unwrap_or(false),
        started_at: state.started_at,
        ports: published(net.ports),
        networks,
        spec,
    }
}

pub fn raw_stats(id: &str, s: ContainerStatsResponse) -> RawStats {
    let cpu = s.cpu_stats.unwrap_or_default();
    let pre = s.precpu_stats.unwrap_or_default();
    let usage = cpu.cpu_usage.clone().unwrap_or_default();
    let mem = s.memory_stats.unwrap_or_default();
    let mem_stats = mem.stats.unwrap_or_default();
    let inactive_file = mem_stats
        .get("total_inactive_file")
        .or_else(|| mem_stats.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    let (rx, tx) = s
        .networks
        .unwrap_or_default()
        .values()
        .fold((0u64, 0u64), |(rx, tx), n| {
            (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
        });
    let (blk_read, blk_write) = s
        .blkio_stats
        .and_then(|b| b.io_service_bytes_recursive)
        .unwrap_or_default()
        .iter()
        .fold((0u64, 0u64), |(r, w), e| {
            let v = e.value.unwrap_or(0);
            match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("read") => (r + v, w),
                Some("write") => (r, w + v),
                _ => (r, w),
            }
        });
    RawStats {
        container_id: s.id.unwrap_or_else(|| id.to_owned()),
        read: s.read.and_then(to_system_time),
        cpu_total_ns: usage.total_usage.unwrap_or(0),
        precpu_total_ns: pre.cpu_usage.and_then(|u| u.total_usage),
        system_ns: cpu.system_cpu_usage,
        presystem_ns: pre.system_cpu_usage,
        online_cpus: cpu.online_cpus,
        percpu_count: usage
            .percpu_usage
            .map_or(0, |v| u32::try_from(v.len()).unwrap_or(0)),
        mem_usage: mem.usage.unwrap_or(0),
        mem_inactive_file: inactive_file,
        mem_limit: mem.limit.unwrap_or(0),
        net_rx_bytes: rx,
        net_tx_bytes: tx,
        blk_read_bytes: blk_read,
        blk_write_bytes: blk_write,
        pids: s.pids_stats.and_then(|p| p.current).unwrap_or(0),
    }
}

pub fn event(e: EventMessage) -> Option<EngineEvent> {
    let actor = e.actor?;
    let nanos = e
        .time_nano
        .and_then(|n| u64::try_from(n).ok())
        .or_else(|| {
            e.time
                .and_then(|s| u64::try_from(s).ok())
                .map(|s| s * 1_000_000_000)
        })
        .unwrap_or(0);
    Some(EngineEvent {
        time: SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos),
        action: e.action.unwrap_or_default(),
        container_id: actor.id.unwrap_or_default(),
        attributes: btree(actor.attributes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_become_volume_and_bind_mounts() {
        let hc = HostConfig {
            binds: Some(vec![
                "shop_store-data:/data:rw".into(),
                "/etc/app:/config:ro".into(),
            ]),
            ..HostConfig::default()
        };
        let m = mounts(&hc);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].target, "/config");
        assert_eq!(m[0].kind, MountKind::Bind);
        assert!(m[0].read_only);
        assert_eq!(m[1].kind, MountKind::Volume);
        assert_eq!(m[1].source, "shop_store-data");
        assert!(!m[1].read_only);
    }

    #[test]
    fn stats_sum_interfaces_and_split_block_io() {
        let json = r#"{
            "id": "abc",
            "read": "2026-11-27T10:00:01.5Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 2000, "percpu_usage": [1000, 1000]},
                          "system_cpu_usage": 90000},
            "precpu_stats": {"cpu_usage": {"total_usage": 1000}, "system_cpu_usage": 80000},
            "memory_stats": {"usage": 1000, "limit": 4000, "stats": {"total_inactive_file": 300}},
            "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20},
                         "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "Read", "value": 512},
                {"major": 8, "minor": 0, "op": "Write", "value": 1024},
                {"major": 8, "minor": 0, "op": "Total", "value": 1536}]},
            "pids_stats": {"current": 7}
        }"#;
        let s: ContainerStatsResponse = serde_json::from_str(json).unwrap();
        let raw = raw_stats("abc", s);
        assert_eq!(raw.net_rx_bytes, 11);
        assert_eq!(raw.net_tx_bytes, 22);
        assert_eq!(raw.blk_read_bytes, 512);
        assert_eq!(raw.blk_write_bytes, 1024);
        assert_eq!(raw.mem_inactive_file, 300);
        assert_eq!(raw.percpu_count, 2);
        assert_eq!(raw.pids, 7);
        assert!(raw.read.is_some());
        let pct = crate::metrics::container_stats::cpu_percent(&raw).unwrap();
        assert!((pct - 20.0).abs() < 1e-9, "{pct}");
    }
}
