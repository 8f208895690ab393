//! Domain specs -> bollard request bodies.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, HealthConfig, HostConfig, Ipam,
    IpamConfig, Mount, MountType, NetworkCreateRequest, NetworkingConfig, PortBinding, PortMap,
    ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};

use crate::domain::spec::{self, MountKind};
use crate::domain::{ContainerSpec, NetworkSpec, VolumeSpec};

fn map<K: Clone + Into<String>>(
    m: &std::collections::BTreeMap<K, String>,
) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| {
        m.iter()
            .map(|(k, v)| (k.clone().into(), v.clone()))
            .collect()
    })
}

fn nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn restart(policy: spec::RestartPolicy) -> RestartPolicy {
    let name = match policy {
        spec::RestartPolicy::No => RestartPolicyNameEnum::NO,
        spec::RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
        spec::RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
        spec::RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
    };
    RestartPolicy {
        name: Some(name),
        maximum_retry_count: None,
    }
}

fn port_key(port: u16, protocol: &str) -> String {
    format!("{port}/{protocol}")
}

fn endpoint(aliases: &[String]) -> EndpointSettings {
    EndpointSettings {
        aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
        ..EndpointSettings::default()
    }
}

/// The create body for a container. Only the first network is attached at
/// create time (API 1.41 accepts one endpoint); the rest are connected
/// before start.
pub fn container(spec: &ContainerSpec) -> ContainerCreateBody {
    let mut port_bindings: PortMap = HashMap::new();
    let mut exposed: Vec<String> = spec.exposed.clone();
    for p in &spec.publish {
        let key = port_key(p.container_port, &p.protocol);
        port_bindings
            .entry(key.clone())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(p.host_ip.clone()),
                host_port: Some(p.host_port.map(|h| h.to_string()).unwrap_or_default()),
            });
        if !exposed.contains(&key) {
            exposed.push(key);
        }
    }
    let mounts: Vec<Mount> = spec
        .mounts
        .iter()
        .map(|m| Mount {
            target: Some(m.target.clone()),
            source: (m.kind != MountKind::Tmpfs).then(|| m.source.clone()),
            typ: Some(match m.kind {
                MountKind::Volume => MountType::VOLUME,
                MountKind::Bind => MountType::BIND,
                MountKind::Tmpfs => MountType::TMPFS,
            }),
            read_only: Some(m.read_only),
            ..Mount::default()
        })
        .collect();
    let host_config = host_config(spec, port_bindings, mounts);
    let networking_config = spec
        .networks
        .first()
        .filter(|_| spec.network_mode.is_none())
        .map(|n| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(n.network.clone(), endpoint(&n.aliases))])),
        });
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone(),
        cmd: (!spec.cmd.is_empty()).then(|| spec.cmd.clone()),
        env: (!spec.env.is_empty())
            .then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        hostname: spec.hostname.clone(),
        labels: map(&spec.labels),
        healthcheck: spec.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: Some(nanos(h.interval)),
            timeout: Some(nanos(h.timeout)),
            retries: Some(i64::from(h.retries)),
            start_period: Some(nanos(h.start_period)),
            start_interval: None,
        }),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec
            .stop_grace
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        host_config: Some(host_config),
        networking_config,
        ..ContainerCreateBody::default()
    }
}

fn host_config(spec: &ContainerSpec, port_bindings: PortMap, mounts: Vec<Mount>) -> HostConfig {
    let r = &spec.resources;
    let sec = &spec.security;
    HostConfig {
        nano_cpus: r.nano_cpus,
        cpu_quota: r.cpu_quota,
        cpu_period: r.cpu_period,
        cpu_shares: r.cpu_shares,
        cpuset_cpus: r.cpuset_cpus.clone(),
        memory: r.memory,
        memory_swap: r.memory_swap,
        memory_reservation: r.memory_reservation,
        pids_limit: r.pids_limit,
        ulimits: (!r.ulimits.is_empty()).then(|| {
            r.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        restart_policy: Some(restart(spec.restart)),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        mounts: (!mounts.is_empty()).then_some(mounts),
        network_mode: spec
            .network_mode
            .clone()
            .or_else(|| spec.networks.first().map(|n| n.network.clone())),
        extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
        privileged: Some(sec.privileged),
        pid_mode: sec.pid_mode.clone(),
        ipc_mode: sec.ipc_mode.clone(),
        devices: (!sec.devices.is_empty()).then(|| sec.devices.iter().map(|d| device(d)).collect()),
        cap_add: (!sec.cap_add.is_empty()).then(|| sec.cap_add.clone()),
        cap_drop: (!sec.cap_drop.is_empty()).then(|| sec.cap_drop.clone()),
        security_opt: (!sec.security_opt.is_empty()).then(|| sec.security_opt.clone()),
        readonly_rootfs: Some(sec.readonly_rootfs),
        init: sec.init,
        sysctls: map(&sec.sysctls),
        shm_size: sec.shm_size,
        ..HostConfig::default()
    }
}

/// `/dev/a:/dev/b:rwm` (or `/dev/a`) as a device mapping.
fn device(text: &str) -> DeviceMapping {
    let mut parts = text.split(':');
    let host = parts.next().unwrap_or_default().to_owned();
    let container = parts.next().map_or_else(|| host.clone(), str::to_owned);
    let permissions = parts.next().unwrap_or("rwm").to_owned();
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(container),
        cgroup_permissions: Some(permissions),
    }
}

/// The endpoint to connect a container to a further network with aliases.
pub fn connect_endpoint(aliases: &[String]) -> EndpointSettings {
    endpoint(aliases)
}

pub fn network(spec: &NetworkSpec) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: Some("bridge".to_owned()),
        internal: Some(spec.internal),
        attachable: Some(true),
        ipam: spec.subnet.as_ref().map(|subnet| Ipam {
            driver: Some("default".to_owned()),
            config: Some(vec![IpamConfig {
                subnet: Some(subnet.clone()),
                ..IpamConfig::default()
            }]),
            options: None,
        }),
        options: map(&spec.options),
        labels: map(&spec.labels),
        ..NetworkCreateRequest::default()
    }
}

pub fn volume(spec: &VolumeSpec) -> VolumeCreateRequest {
    VolumeCreateRequest {
        name: Some(spec.name.clone()),
        driver: Some("local".to_owned()),
        labels: map(&spec.labels),
        ..VolumeCreateRequest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{NetworkAttachment, Publish};

    #[test]
    fn publishing_binds_loopback_and_exposes_the_port() {
        let spec = ContainerSpec {
            name: "g".into(),
            image: "img".into(),
            publish: vec![Publish {
                container_port: 8080,
                protocol: "tcp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: None,
            }],
            networks: vec![
                NetworkAttachment {
                    network: "shop_default".into(),
                    aliases: vec!["gateway".into()],
                },
                NetworkAttachment {
                    network: "other".into(),
                    aliases: vec![],
                },
            ],
            ..ContainerSpec::default()
        };
        let body = container(&spec);
        let hc = body.host_config.unwrap();
        let binding = &hc.port_bindings.unwrap()["8080/tcp"].clone().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some(""));
        assert_eq!(body.exposed_ports.unwrap(), vec!["8080/tcp".to_owned()]);
        assert_eq!(hc.network_mode.as_deref(), Some("shop_default"));
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints.len(), 1, "only the first network at create time");
        assert_eq!(
            endpoints["shop_default"].aliases.as_deref(),
            Some(&["gateway".to_owned()][..])
        );
    }
}
