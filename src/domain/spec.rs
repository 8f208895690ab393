//! What to create on the platform: containers, networks and volumes, in the
//! platform's vocabulary but without its types. Serializable, so a spec can be
//! shown, diffed, written as a file and hashed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::units::duration_text;

/// A container to create.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerSpec {
    pub name: String,
    /// Image reference: a tag (`understudy:latest`) or an id (`sha256:...`).
    pub image: String,
    /// Overrides the image's entrypoint when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's command when non-empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    pub restart: RestartPolicy,
    pub resources: Resources,
    /// Container ports exposed without publishing (`8080/tcp`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<Publish>,
    /// The first network is attached at create time, the rest before start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkAttachment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "duration_text::option"
    )]
    pub stop_grace: Option<Duration>,
    /// `host`, `none` or `container:NAME`; `None` means the networks above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// `host:ip` entries for /etc/hosts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Security::is_default")]
    pub security: Security,
}

/// Privileges and isolation settings; the defaults are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Security {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// `host` shares the host's PID namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid_mode: Option<String>,
    /// `host`, `shareable`, `container:NAME`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc_mode: Option<String>,
    /// Host devices mapped in (`/dev/fuse:/dev/fuse:rwm`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub readonly_rootfs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// Bytes of /dev/shm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<i64>,
}

impl Security {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A healthcheck in exec form (`["CMD", ...]`) or shell form (`["CMD-SHELL", ...]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(with = "duration_text")]
    pub interval: Duration,
    #[serde(with = "duration_text")]
    pub timeout: Duration,
    pub retries: u32,
    #[serde(with = "duration_text", default)]
    pub start_period: Duration,
}

/// Restart policy, as compose's `restart:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Always => "always",
            Self::UnlessStopped => "unless-stopped",
            Self::OnFailure => "on-failure",
        }
    }

    /// Parses the engine's or compose's name; the engine's empty name is `no`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "" | "no" => Some(Self::No),
            "always" => Some(Self::Always),
            "unless-stopped" => Some(Self::UnlessStopped),
            "on-failure" => Some(Self::OnFailure),
            _ => None,
        }
    }
}

/// Resource limits; `None` leaves the engine's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// CPUs in billionths (`cpus: 0.5` is 500 000 000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nano_cpus: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset_cpus: Option<String>,
    /// Bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<i64>,
    /// Bytes of memory plus swap; -1 is unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<Ulimit>,
}

/// One `ulimit` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Publish a container port on a host address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    pub container_port: u16,
    #[serde(default = "tcp")]
    pub protocol: String,
    pub host_ip: String,
    /// `None` lets the engine pick a free port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
}

fn tcp() -> String {
    "tcp".to_owned()
}

/// Membership of a network, with the DNS aliases the container answers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    pub network: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A mount into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub kind: MountKind,
    /// Volume name or host path; empty for tmpfs.
    #[serde(default)]
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
}

/// What backs a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

/// A network to create.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSpec {
    pub name: String,
    /// No route out of the network (`internal: true`).
    pub internal: bool,
    /// Explicit subnet (`10.213.4.0/28`); `None` takes one from the engine's pools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`com.docker.network.bridge.name`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// A named volume to create.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeSpec {
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_spec_round_trips_through_toml() {
        let spec = ContainerSpec {
            name: "shop_api_1".into(),
            image: "sha256:abc".into(),
            cmd: vec!["shop".into(), "api".into()],
            env: BTreeMap::from([("API_WORKERS".into(), "4".into())]),
            healthcheck: Some(Healthcheck {
                test: vec!["CMD".into(), "/understudy".into(), "probe".into()],
                interval: Duration::from_secs(2),
                timeout: Duration::from_millis(1500),
                retries: 3,
                start_period: Duration::ZERO,
            }),
            restart: RestartPolicy::UnlessStopped,
            resources: Resources {
                nano_cpus: Some(500_000_000),
                ..Resources::default()
            },
            stop_grace: Some(Duration::from_secs(5)),
            ..ContainerSpec::default()
        };
        let text = toml::to_string(&spec).unwrap();
        assert!(text.contains("interval = \"2s\""), "{text}");
        assert!(text.contains("timeout = \"1500ms\""), "{text}");
        let back: ContainerSpec = toml::from_str(&text).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn restart_policy_names() {
        assert_eq!(RestartPolicy::parse(""), Some(RestartPolicy::No));
        assert_eq!(
            RestartPolicy::parse("unless-stopped"),
            Some(RestartPolicy::UnlessStopped)
        );
        assert_eq!(RestartPolicy::parse("sometimes"), None);
    }
}
