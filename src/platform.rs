//! The container platform seam: coarse, domain-shaped operations (list and
//! inspect containers, create / start / stop / remove containers, networks and
//! volumes, stream stats, events and logs, build an image from an in-memory
//! context). Docker through bollard is the one implementation today
//! (`docker.rs`); bollard types never leave it. Swarm or Kubernetes later
//! means one more file beside it.
//!
//! Also owns group discovery on top of the seam (`list_groups`, `find_group`).

pub mod docker;
#[cfg(test)]
pub mod recording;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::domain::group::{discover_compose_groups, select_group};
use crate::domain::{
    ContainerSpec, ContainerSummary, Group, Health, NetworkSpec, PortBinding, RawStats, RunState,
    Selector, VolumeSpec,
};

pub use docker::Docker;

/// What can go wrong talking to the platform.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The daemon does not answer; the message says how to start it.
    #[error(
        "cannot reach the Docker daemon at {endpoint} ({reason}). Start it with \
         `sudo systemctl start docker` (or `sudo dockerd &`), or point DOCKER_HOST at a running one."
    )]
    Unreachable { endpoint: String, reason: String },
    #[error("{kind} {name:?} not found")]
    NotFound { kind: &'static str, name: String },
    #[error("{kind} {name:?}: conflict: {message}")]
    Conflict {
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error("Docker API error {status} during {operation}: {message}")]
    Api {
        operation: String,
        status: u16,
        message: String,
    },
    #[error("image build {tag:?} failed: {message}")]
    Build { tag: String, message: String },
    #[error("{operation}: {message}")]
    Other { operation: String, message: String },
    #[error("{operation} is not supported by this platform")]
    Unsupported { operation: &'static str },
    #[error("{operation} timed out after {after:?}")]
    Timeout { operation: String, after: Duration },
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// The engine's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    pub endpoint: String,
    pub version: String,
    /// The API version the daemon speaks, e.g. `1.41`.
    pub api_version: String,
    pub os: String,
    pub kernel: String,
    pub cpus: u32,
    pub memory_bytes: u64,
}

/// A container in depth, from inspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerDetails {
    pub id: String,
    pub name: String,
    /// The `sha256:` id of the image the container runs.
    pub image_id: String,
    pub state: RunState,
    pub health: Health,
    /// The last healthcheck outputs, oldest first.
    pub health_log: Vec<String>,
    /// Host PID of the container's init process; 0 when not running.
    pub pid: u32,
    pub restart_count: u64,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub started_at: Option<String>,
    pub ports: Vec<PortBinding>,
    pub networks: Vec<NetworkEndpoint>,
    /// The container's configuration as a spec (image pinned to the tag it
    /// was created with; `image_id` holds the id).
    pub spec: ContainerSpec,
}

/// A container's membership of one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkEndpoint {
    pub network: String,
    pub ip: Option<Ipv4Addr>,
    pub aliases: Vec<String>,
}

/// A network as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSummary {
    pub id: String,
    pub name: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// IPAM subnets in CIDR form.
    #[serde(default)]
    pub subnets: Vec<String>,
}

/// New CPU and memory limits; `None` leaves a limit as it is. Zero means
/// "no limit" for the CPU knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceUpdate {
    pub nano_cpus: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
}

/// What a command run inside a container returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecOutput {
    pub exit_code: i64,
    /// stdout and stderr, interleaved.
    pub output: String,
}

/// A volume as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSummary {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// An image as listed or inspected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub id: String,
    pub tags: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// When it was created, Unix seconds (listings give it; an inspect
    /// leaves it `None`).
    #[serde(default)]
    pub created_s: Option<i64>,
}

/// A container event (`die`, `start`, `health_status: healthy`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineEvent {
    pub time: SystemTime,
    pub action: String,
    pub container_id: String,
    /// Container name and labels, `exitCode` on `die`, `signal` on `kill`.
    pub attributes: BTreeMap<String, String>,
}

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of a container's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub stream: LogStream,
    pub text: String,
    /// When the engine received the line, Unix ms, if it said: the time of
    /// a line that writes none (uvicorn's access log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<i64>,
}

/// What part of a container's log to read.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Keep the stream open for new lines.
    pub follow: bool,
    /// Only lines after this time.
    pub since: Option<SystemTime>,
    /// Only the last N lines.
    pub tail: Option<u64>,
}

/// The container platform.
pub trait Platform: Clone + Send + Sync + 'static {
    /// Checks the connection and describes the engine.
    fn engine(&self) -> impl Future<Output = Result<EngineInfo>> + Send;

    /// Containers (also stopped ones) whose labels match `selector`, or all.
    fn list_containers(
        &self,
        selector: Option<&Selector>,
    ) -> impl Future<Output = Result<Vec<ContainerSummary>>> + Send;

    fn inspect_container(&self, id: &str) -> impl Future<Output = Result<ContainerDetails>> + Send;

    /// Creates a container (not started) and attaches every network of the
    /// spec; returns its id.
    fn create_container(&self, spec: &ContainerSpec)
    -> impl Future<Output = Result<String>> + Send;

    fn start_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Stops with the container's stop signal, then kills after `grace`.
    fn stop_container(&self, id: &str, grace: Duration) -> impl Future<Output = Result<()>> + Send;

    /// Removes a container (running ones too when `force`); absent is fine.
    fn remove_container(&self, id: &str, force: bool) -> impl Future<Output = Result<()>> + Send;

    fn create_network(&self, spec: &NetworkSpec) -> impl Future<Output = Result<String>> + Send;

    fn list_networks(
        &self,
        selector: Option<&Selector>,
    ) -> impl Future<Output = Result<Vec<NetworkSummary>>> + Send;

    /// Removes a network; absent is fine.
    fn remove_network(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    fn create_volume(&self, spec: &VolumeSpec) -> impl Future<Output = Result<String>> + Send;

    fn list_volumes(
        &self,
        selector: Option<&Selector>,
    ) -> impl Future<Output = Result<Vec<VolumeSummary>>> + Send;

    /// Removes a volume; absent is fine.
    fn remove_volume(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// Builds an image from an in-memory tar context holding a `Dockerfile`.
    /// Returns the image id.
    fn build_image(
        &self,
        context_tar: Vec<u8>,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<String>> + Send;

    /// The image a reference names, if present.
    fn inspect_image(
        &self,
        reference: &str,
    ) -> impl Future<Output = Result<Option<ImageSummary>>> + Send;

    fn list_images(
        &self,
        selector: Option<&Selector>,
    ) -> impl Future<Output = Result<Vec<ImageSummary>>> + Send;

    /// Removes an image; absent is fine.
    fn remove_image(&self, reference: &str) -> impl Future<Output = Result<()>> + Send;

    /// Removes an image unless a container (running or stopped) uses it:
    /// `Ok(false)` when the engine refuses for that reason (it checks
    /// under its own lock, so a container created meanwhile keeps it).
    /// Absent is fine.
    fn remove_image_if_unused(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;

    /// One raw stats frame about every second until the container stops.
    fn stats(&self, id: &str) -> BoxStream<'static, Result<RawStats>>;

    /// Container events matching `selector` and one of `actions` (empty: the
    /// lifecycle set die / oom / start / kill / stop / health_status / restart).
    fn events(
        &self,
        selector: Option<&Selector>,
        actions: &[&str],
    ) -> BoxStream<'static, Result<EngineEvent>>;

    /// A container's output, line by line (both streams), each line with
    /// the engine's time for it where the engine gives one.
    fn logs(&self, id: &str, options: &LogOptions) -> BoxStream<'static, Result<LogLine>>;

    /// Runs a command inside a running container and waits for it (at most
    /// `timeout`).
    fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> impl Future<Output = Result<ExecOutput>> + Send {
        let _ = (id, argv, timeout);
        async { Err(PlatformError::Unsupported { operation: "exec" }) }
    }

    /// Starts a command inside a running container and returns at once,
    /// leaving it running.
    fn exec_detached(&self, id: &str, argv: &[String]) -> impl Future<Output = Result<()>> + Send {
        let _ = (id, argv);
        async {
            Err(PlatformError::Unsupported {
                operation: "exec (detached)",
            })
        }
    }

    /// Copies `from_path` of container `from` (running or not) into the
    /// directory `to_dir` of container `to` (created, maybe not started).
    /// Returns the bytes of archive moved.
    fn copy_path(
        &self,
        from: &str,
        from_path: &str,
        to: &str,
        to_dir: &str,
    ) -> impl Future<Output = Result<u64>> + Send {
        let _ = (from, from_path, to, to_dir);
        async {
            Err(PlatformError::Unsupported {
                operation: "copy between containers",
            })
        }
    }

    /// Sends a signal (`SIGKILL`, `SIGTERM`, ...) to the container's init.
    fn kill_container(&self, id: &str, signal: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = (id, signal);
        async { Err(PlatformError::Unsupported { operation: "kill" }) }
    }

    /// Restarts, killing after `grace`.
    fn restart_container(
        &self,
        id: &str,
        grace: Duration,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (id, grace);
        async {
            Err(PlatformError::Unsupported {
                operation: "restart",
            })
        }
    }

    /// Changes CPU and memory limits of a running container.
    fn update_resources(
        &self,
        id: &str,
        update: &ResourceUpdate,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (id, update);
        async {
            Err(PlatformError::Unsupported {
                operation: "update resources",
            })
        }
    }

    /// Connects a container to a network with DNS aliases.
    fn connect_network(
        &self,
        network: &str,
        id: &str,
        aliases: &[String],
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (network, id, aliases);
        async {
            Err(PlatformError::Unsupported {
                operation: "connect network",
            })
        }
    }

    /// Disconnects a container from a network.
    fn disconnect_network(
        &self,
        network: &str,
        id: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (network, id);
        async {
            Err(PlatformError::Unsupported {
                operation: "disconnect network",
            })
        }
    }

    /// Extracts a tar archive into directory `dir` of a container.
    fn upload_archive(
        &self,
        id: &str,
        dir: &str,
        tar: Vec<u8>,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (id, dir, tar);
        async {
            Err(PlatformError::Unsupported {
                operation: "upload",
            })
        }
    }

    fn pause_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = id;
        async { Err(PlatformError::Unsupported { operation: "pause" }) }
    }

    fn unpause_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = id;
        async {
            Err(PlatformError::Unsupported {
                operation: "unpause",
            })
        }
    }
}

/// Names of what [`remove_labelled`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemovedResources {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// Removes every container (forced, concurrently), then every network and
/// volume whose labels match `selector`. Absent resources are fine, so a
/// second call (or one after a crash) succeeds.
pub async fn remove_labelled(
    platform: &impl Platform,
    selector: &Selector,
) -> Result<RemovedResources> {
    let mut removed = RemovedResources::default();
    let containers = platform.list_containers(Some(selector)).await?;
    let results = futures::future::join_all(
        containers
            .iter()
            .map(|c| platform.remove_container(&c.id, true)),
    )
    .await;
    for (c, r) in containers.iter().zip(results) {
        r?;
        removed.containers.push(c.name.clone());
    }
    for n in platform.list_networks(Some(selector)).await? {
        platform.remove_network(&n.id).await?;
        removed.networks.push(n.name);
    }
    for v in platform.list_volumes(Some(selector)).await? {
        platform.remove_volume(&v.name).await?;
        removed.volumes.push(v.name);
    }
    Ok(removed)
}

/// Error for a group name that does not exist, listing those that do.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("no group named {name:?}; groups on this engine: {}", list_or_none(.known))]
    Unknown { name: String, known: Vec<String> },
    #[error("no container matches the selector {selector:?}")]
    EmptySelector { selector: String },
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none (try `understudy demo up`)".to_owned()
    } else {
        names.join(", ")
    }
}

/// Every compose project on the engine, as groups.
pub async fn list_groups(platform: &impl Platform) -> Result<Vec<Group>> {
    let containers = platform.list_containers(None).await?;
    Ok(discover_compose_groups(&containers))
}

/// The compose project named `name`, or an error listing the known ones.
pub async fn find_group(platform: &impl Platform, name: &str) -> Result<Group, GroupError> {
    let groups = list_groups(platform).await?;
    let known = groups.iter().map(|g| g.name.clone()).collect();
    groups
        .into_iter()
        .find(|g| g.name == name)
        .ok_or_else(|| GroupError::Unknown {
            name: name.to_owned(),
            known,
        })
}

/// The group of containers matching a label selector.
pub async fn selector_group(
    platform: &impl Platform,
    selector: &Selector,
) -> Result<Group, GroupError> {
    let containers = platform.list_containers(Some(selector)).await?;
    let group = select_group(selector, &containers);
    if group.services.is_empty() {
        return Err(GroupError::EmptySelector {
            selector: selector.to_string(),
        });
    }
    Ok(group)
}
