//! The compose file as serde reads it: every supported key, in the shapes
//! compose accepts (see `forms`, `lists`, `ports`, `volumes`). Keys not
//! listed here are reported as ignored, not refused. Fields named `_x` are
//! valid compose that understudy accepts and does not use.
//!
//! Owns the shape of the file, not its meaning: `convert` turns it into a
//! Spec.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_norway::Value;

use super::forms::{Bytes, Count, Cpus, Dur, Int, Restart, RestartCondition, SwapBytes, Text};
use super::lists::{
    Command, DependsOn, Devices, EnvFiles, External, ExtraHosts, HealthTest, Limit, Pairs,
    ServiceNetworks, Strings,
};
use super::ports::{Expose, Port};
use super::volumes::VolumeEntry;

/// Keys of the compose specification (top level or in a service) that
/// understudy reads past: their warning says "not supported", not "unknown".
pub const UNSUPPORTED: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "cgroup",
    "cgroup_parent",
    "configs",
    "cpu_count",
    "cpu_percent",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "extends",
    "external_links",
    "gpus",
    "group_add",
    "include",
    "isolation",
    "label_file",
    "links",
    "logging",
    "mac_address",
    "mem_swappiness",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "platform",
    "post_start",
    "pre_stop",
    "pull_policy",
    "runtime",
    "secrets",
    "stdin_open",
    "storage_opt",
    "tty",
    "userns_mode",
    "uts",
    "volumes_from",
];

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a compose file (a mapping with `services:`)")]
pub struct ComposeFile {
    pub name: Option<Text>,
    pub services: Option<BTreeMap<String, Option<Service>>>,
    pub networks: Option<BTreeMap<String, Option<NetworkDecl>>>,
    pub volumes: Option<BTreeMap<String, Option<VolumeDecl>>>,
}

/// A top-level `networks:` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a network's settings")]
pub struct NetworkDecl {
    pub name: Option<Text>,
    pub external: Option<External>,
    pub internal: Option<bool>,
    #[serde(rename = "driver")]
    _driver: Option<Text>,
    #[serde(rename = "driver_opts")]
    _driver_opts: Option<Pairs>,
    #[serde(rename = "labels")]
    _labels: Option<Pairs>,
    #[serde(rename = "ipam")]
    _ipam: Option<Value>,
    #[serde(rename = "attachable")]
    _attachable: Option<bool>,
    #[serde(rename = "enable_ipv6")]
    _enable_ipv6: Option<bool>,
}

/// A top-level `volumes:` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a volume's settings")]
pub struct VolumeDecl {
    pub name: Option<Text>,
    pub external: Option<External>,
    #[serde(rename = "driver")]
    _driver: Option<Text>,
    #[serde(rename = "driver_opts")]
    _driver_opts: Option<Pairs>,
    #[serde(rename = "labels")]
    _labels: Option<Pairs>,
}

/// One service.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a service's settings")]
pub struct Service {
    pub image: Option<Text>,
    pub build: Option<Value>,
    pub profiles: Option<Strings>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    pub environment: Option<Pairs>,
    pub env_file: Option<EnvFiles>,
    pub healthcheck: Option<Healthcheck>,
    pub deploy: Option<Deploy>,
    pub scale: Option<Count>,
    pub cpus: Option<Cpus>,
    pub cpu_shares: Option<Int>,
    pub cpu_quota: Option<Int>,
    pub cpu_period: Option<Int>,
    pub cpuset: Option<Text>,
    pub mem_limit: Option<Bytes>,
    pub mem_reservation: Option<Bytes>,
    pub memswap_limit: Option<SwapBytes>,
    pub pids_limit: Option<Int>,
    pub networks: Option<ServiceNetworks>,
    pub volumes: Option<Vec<VolumeEntry>>,
    pub tmpfs: Option<Strings>,
    pub ports: Option<Vec<Port>>,
    pub expose: Option<Vec<Expose>>,
    pub depends_on: Option<DependsOn>,
    pub restart: Option<Restart>,
    pub labels: Option<Pairs>,
    pub user: Option<Text>,
    pub working_dir: Option<Text>,
    pub hostname: Option<Text>,
    pub stop_signal: Option<Text>,
    pub stop_grace_period: Option<Dur>,
    pub network_mode: Option<Text>,
    pub privileged: Option<bool>,
    pub pid: Option<Text>,
    pub ipc: Option<Text>,
    pub devices: Option<Devices>,
    pub cap_add: Option<Strings>,
    pub cap_drop: Option<Strings>,
    pub security_opt: Option<Strings>,
    pub read_only: Option<bool>,
    pub init: Option<bool>,
    pub sysctls: Option<Pairs>,
    pub shm_size: Option<Bytes>,
    pub ulimits: Option<BTreeMap<String, Limit>>,
    pub extra_hosts: Option<ExtraHosts>,
    #[serde(rename = "container_name")]
    _container_name: Option<Text>,
}

/// `healthcheck:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "healthcheck settings")]
pub struct Healthcheck {
    pub test: Option<HealthTest>,
    pub disable: Option<bool>,
    pub interval: Option<Dur>,
    pub timeout: Option<Dur>,
    pub start_period: Option<Dur>,
    pub retries: Option<Count>,
    #[serde(rename = "start_interval")]
    _start_interval: Option<Dur>,
}

/// `deploy:` (the parts a single engine honours).
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "deploy settings")]
pub struct Deploy {
    pub replicas: Option<Count>,
    pub resources: Option<DeployResources>,
    pub restart_policy: Option<RestartPolicyDecl>,
    #[serde(rename = "mode")]
    _mode: Option<Text>,
}

/// `deploy.resources:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "limits and reservations")]
pub struct DeployResources {
    pub limits: Option<Limits>,
    pub reservations: Option<Reservations>,
}

/// `deploy.resources.limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "resource limits")]
pub struct Limits {
    pub cpus: Option<Cpus>,
    pub memory: Option<Bytes>,
    pub pids: Option<Int>,
}

/// `deploy.resources.reservations:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "resource reservations")]
pub struct Reservations {
    pub memory: Option<Bytes>,
    #[serde(rename = "cpus")]
    _cpus: Option<Cpus>,
}

/// `deploy.restart_policy:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "a restart policy")]
pub struct RestartPolicyDecl {
    pub condition: Option<RestartCondition>,
    pub max_attempts: Option<Count>,
    #[serde(rename = "delay")]
    _delay: Option<Dur>,
    #[serde(rename = "window")]
    _window: Option<Dur>,
}
