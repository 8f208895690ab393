//! The Docker Engine behind the platform seam, through bollard. The only file
//! (with its submodules) that names bollard.
//!
//! Connects through the local socket or `DOCKER_HOST`, negotiates the API
//! version (engines as old as API 1.41 answer; see `../shared/docker-notes.md`).

mod body;
mod convert;
mod lines;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerUpdateBody, NetworkConnectRequest, NetworkDisconnectRequest};
use bollard::query_parameters::{
    BuildImageOptions, CreateContainerOptions, EventsOptions, ListContainersOptions,
    ListImagesOptions, ListNetworksOptions, ListVolumesOptions, LogsOptions,
    RemoveContainerOptions, RemoveImageOptions, RemoveVolumeOptions, StatsOptions,
    StopContainerOptions,
};
use bollard::query_parameters::{
    DownloadFromContainerOptions, KillContainerOptions, RestartContainerOptions,
    UploadToContainerOptions,
};
use bollard::{body_full, body_try_stream, container::LogOutput};
use futures::stream::{BoxStream, StreamExt};

use super::{
    ContainerDetails, EngineEvent, EngineInfo, ExecOutput, ImageSummary, LogLine, LogOptions,
    LogStream, NetworkSummary, Platform, PlatformError, ResourceUpdate, Result, VolumeSummary,
};
use crate::domain::{ContainerSpec, ContainerSummary, NetworkSpec, RawStats, Selector, VolumeSpec};
use lines::LineAssembler;

/// Lifecycle actions streamed by default (never exec_*: every healthcheck
/// would emit three per container per interval).
const LIFECYCLE_ACTIONS: [&str; 8] = [
    "create",
    "start",
    "die",
    "oom",
    "kill",
    "stop",
    "health_status",
    "restart",
];

/// A connection to one Docker Engine.
#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
    endpoint: String,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn endpoint_from_env() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
}

fn filters(selector: Option<&Selector>) -> Option<HashMap<String, Vec<String>>> {
    selector.map(|s| HashMap::from([("label".to_owned(), s.engine_filters())]))
}

impl Docker {
    /// Connects (`DOCKER_HOST` or the local socket), checks the daemon
    /// answers and negotiates the API version.
    pub async fn connect() -> Result<Self> {
        let endpoint = endpoint_from_env();
        let unreachable = |reason: String| PlatformError::Unreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        let client =
            bollard::Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
        let client = client
            .negotiate_version()
            .await
            .map_err(|e| unreachable(root_cause(&e)))?;
        Ok(Self { client, endpoint })
    }

    /// Maps a bollard error for `operation` on the object `kind` `name`.
    fn map_err(
        &self,
        operation: &str,
        kind: &'static str,
        name: &str,
        e: BollardError,
    ) -> PlatformError {
        match e {
            BollardError::DockerResponseServerError {
                status_code: 404, ..
            } => PlatformError::NotFound {
                kind,
                name: name.to_owned(),
            },
            BollardError::DockerResponseServerError {
                status_code: 409,
                message,
            } => PlatformError::Conflict {
                kind,
                name: name.to_owned(),
                message,
            },
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => PlatformError::Api {
                operation: format!("{operation} {kind} {name:?}"),
                status: status_code,
                message,
            },
            BollardError::IOError { .. }
            | BollardError::HyperLegacyError { .. }
            | BollardError::SocketNotFoundError(_)
            | BollardError::RequestTimeoutError => PlatformError::Unreachable {
                endpoint: self.endpoint.clone(),
                reason: root_cause(&e),
            },
            other => PlatformError::Other {
                operation: format!("{operation} {kind} {name:?}"),
                message: root_cause(&other),
            },
        }
    }

    async fn connect_extra_networks(&self, id: &str, spec: &ContainerSpec) -> Result<()> {
        for attachment in spec.networks.iter().skip(1) {
            let request = NetworkConnectRequest {
                container: id.to_owned(),
                endpoint_config: Some(body::connect_endpoint(&attachment.aliases)),
            };
            self.client
                .connect_network(&attachment.network, request)
                .await
                .map_err(|e| self.map_err("connect", "network", &attachment.network, e))?;
        }
        Ok(())
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = s.source();
    }
    message
}

/// Attempts at removing a network whose endpoints the engine still holds
/// (100 ms, 200 ms, ... apart: about three seconds in all).
const NETWORK_RETRIES: u64 = 7;

impl Docker {
    /// Force-disconnects the endpoints a network still lists for containers
    /// that no longer exist. Docker 20.10 sometimes keeps a removed
    /// container's endpoint for good (moby#17217: "has active endpoints"
    /// with no container attached, until a daemon restart); a forced
    /// disconnect by the endpoint's container name clears it. A container
    /// that exists keeps its endpoint (the removal then fails, naming the
    /// network). Only called on networks being removed, after the retries
    /// above found an endpoint still there. Best effort: a failure shows in
    /// the removal's own error.
    async fn drop_stale_endpoints(&self, network: &str) {
        let Ok(inspect) = self.client.inspect_network(network, None).await else {
            return;
        };
        for (key, endpoint) in inspect.containers.unwrap_or_default() {
            let exists = !key.starts_with("ep-")
                && !matches!(
                    self.client.inspect_container(&key, None).await,
                    Err(BollardError::DockerResponseServerError {
                        status_code: 404,
                        ..
                    })
                );
            if exists {
                continue;
            }
            let names = endpoint.name.into_iter().chain(std::iter::once(key));
            for name in names {
                let request = NetworkDisconnectRequest {
                    container: name.clone(),
                    force: Some(true),
                };
                let done = self.client.disconnect_network(network, request).await;
                tracing::warn!(network, endpoint = %name, ok = done.is_ok(), "forced a stale endpoint off");
                if done.is_ok() {
                    break;
                }
            }
        }
    }
}

impl Platform for Docker {
    async fn engine(&self) -> Result<EngineInfo> {
        let version = self
            .client
            .version()
            .await
            .map_err(|e| self.map_err("version", "engine", &self.endpoint, e))?;
        let info = self
            .client
            .info()
            .await
            .map_err(|e| self.map_err("info", "engine", &self.endpoint, e))?;
        Ok(EngineInfo {
            endpoint: self.endpoint.clone(),
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            os: info.operating_system.unwrap_or_default(),
            kernel: info.kernel_version.unwrap_or_default(),
            cpus: info.ncpu.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            memory_bytes: info
                .mem_total
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
        })
    }

    async fn list_containers(&self, selector: Option<&Selector>) -> Result<Vec<ContainerSummary>> {
        let options = ListContainersOptions {
            all: true,
            filters: filters(selector),
            ..ListContainersOptions::default()
        };
        let list = self
            .client
            .list_containers(Some(options))
            .await
            .map_err(|e| self.map_err("list", "containers", "", e))?;
        let mut out: Vec<ContainerSummary> = list.into_iter().map(convert::summary).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerDetails> {
        let inspect = self
            .client
            .inspect_container(id, None)
            .await
            .map_err(|e| self.map_err("inspect", "container", id, e))?;
        Ok(convert::details(inspect))
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            ..CreateContainerOptions::default()
        };
        let created = self
            .client
            .create_container(Some(options), body::container(spec))
            .await
            .map_err(|e| self.map_err("create", "container", &spec.name, e))?;
        if let Err(e) = self.connect_extra_networks(&created.id, spec).await {
            let _ = self.remove_container(&created.id, true).await;
            return Err(e);
        }
        Ok(created.id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        self.client
            .start_container(id, None)
            .await
            .map_err(|e| self.map_err("start", "container", id, e))
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        let t = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptions {
            t: Some(t),
            signal: None,
        };
        let client = self
            .client
            .clone()
            .with_timeout(grace + Duration::from_secs(30));
        match client.stop_container(id, Some(options)).await {
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.map_err("stop", "container", id, e)),
        }
    }

    async fn remove_container(&self, id: &str, force: bool) -> Result<()> {
        let options = RemoveContainerOptions {
            force,
            v: false,
            link: false,
        };
        match self.client.remove_container(id, Some(options)).await {
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(self.map_err("remove", "container", id, e)),
        }
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        let created = self
            .client
            .create_network(body::network(spec))
            .await
            .map_err(|e| self.map_err("create", "network", &spec.name, e))?;
        Ok(created.id)
    }

    async fn list_networks(&self, selector: Option<&Selector>) -> Result<Vec<NetworkSummary>> {
        let options = ListNetworksOptions {
            filters: filters(selector),
        };
        let list = self
            .client
            .list_networks(Some(options))
            .await
            .map_err(|e| self.map_err("list", "networks", "", e))?;
        let mut out: Vec<NetworkSummary> = list
            .into_iter()
            .map(|n| NetworkSummary {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
                internal: n.internal.unwrap_or(false),
                subnets: n
                    .ipam
                    .and_then(|i| i.config)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| c.subnet)
                    .collect(),
                labels: n.labels.unwrap_or_default().into_iter().collect(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        // Right after its containers are removed the engine may still hold
        // their endpoints for a moment ("has active endpoints"): try again
        // for about three seconds before reporting it.
        let mut attempt = 0u64;
        loop {
            match self.client.remove_network(name).await {
                Ok(())
                | Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(()),
                Err(BollardError::DockerResponseServerError { message, .. })
                    if message.contains("active endpoints") && attempt < NETWORK_RETRIES =>
                {
                    attempt += 1;
                    if attempt == NETWORK_RETRIES {
                        self.drop_stale_endpoints(name).await;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(self.map_err("remove", "network", name, e)),
            }
        }
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        let created = self
            .client
            .create_volume(body::volume(spec))
            .await
            .map_err(|e| self.map_err("create", "volume", &spec.name, e))?;
        Ok(created.name)
    }

    async fn list_volumes(&self, selector: Option<&Selector>) -> Result<Vec<VolumeSummary>> {
        let options = ListVolumesOptions {
            filters: filters(selector),
        };
        let list = self
            .client
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.map_err("list", "volumes", "", e))?;
        let mut out: Vec<VolumeSummary> = list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeSummary {
                name: v.name,
                labels: v.labels.into_iter().collect(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        let options = RemoveVolumeOptions { force: false };
        match self.client.remove_volume(name, Some(options)).await {
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(self.map_err("remove", "volume", name, e)),
        }
    }

    async fn build_image(
        &self,
        context_tar: Vec<u8>,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<String> {
        let options = BuildImageOptions {
            dockerfile: "Dockerfile".to_owned(),
            t: Some(tag.to_owned()),
            rm: true,
            forcerm: true,
            labels: Some(labels.clone().into_iter().collect()),
            ..BuildImageOptions::default()
        };
        let build_err = |message: String| PlatformError::Build {
            tag: tag.to_owned(),
            message,
        };
        let mut stream =
            self.client
                .build_image(options, None, Some(body_full(context_tar.into())));
        let mut image_id = None;
        let mut log = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| {
                build_err(format!(
                    "{}; build output: {}",
                    root_cause(&e),
                    log.join("")
                ))
            })?;
            if let Some(detail) = info.error_detail {
                return Err(build_err(detail.message.unwrap_or_default()));
            }
            if let Some(line) = info.stream {
                tracing::debug!(target: "understudy::build", "{}", line.trim_end());
                log.push(line);
            }
            if let Some(aux) = info.aux {
                if let Some(id) = aux.id {
                    image_id = Some(id);
                }
            }
        }
        match image_id {
            Some(id) => Ok(id),
            None => self.inspect_image(tag).await?.map(|i| i.id).ok_or_else(|| {
                build_err(format!("no image id reported; output: {}", log.join("")))
            }),
        }
    }

    async fn inspect_image(&self, reference: &str) -> Result<Option<ImageSummary>> {
        match self.client.inspect_image(reference).await {
            Ok(i) => Ok(Some(ImageSummary {
                id: i.id.unwrap_or_default(),
                tags: i.repo_tags.unwrap_or_default(),
                labels: i
                    .config
                    .and_then(|c| c.labels)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                created_s: None,
            })),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.map_err("inspect", "image", reference, e)),
        }
    }

    async fn list_images(&self, selector: Option<&Selector>) -> Result<Vec<ImageSummary>> {
        let options = ListImagesOptions {
            filters: filters(selector),
            ..ListImagesOptions::default()
        };
        let list = self
            .client
            .list_images(Some(options))
            .await
            .map_err(|e| self.map_err("list", "images", "", e))?;
        Ok(list
            .into_iter()
            .map(|i| ImageSummary {
                id: i.id,
                tags: i.repo_tags,
                labels: i.labels.into_iter().collect(),
                created_s: Some(i.created),
            })
            .collect())
    }

    async fn remove_image(&self, reference: &str) -> Result<()> {
        let options = RemoveImageOptions {
            force: true,
            ..RemoveImageOptions::default()
        };
        match self
            .client
            .remove_image(reference, Some(options), None)
            .await
        {
            Ok(_)
            | Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(self.map_err("remove", "image", reference, e)),
        }
    }

    async fn remove_image_if_unused(&self, id: &str) -> Result<bool> {
        let options = RemoveImageOptions {
            force: false,
            ..RemoveImageOptions::default()
        };
        match self.client.remove_image(id, Some(options), None).await {
            Ok(_)
            | Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(false),
            Err(e) => Err(self.map_err("remove", "image", id, e)),
        }
    }

    fn stats(&self, id: &str) -> BoxStream<'static, Result<RawStats>> {
        let options = StatsOptions {
            stream: true,
            one_shot: false,
        };
        let this = self.clone();
        let id = id.to_owned();
        let stream = self.client.stats(&id, Some(options));
        stream
            .map(move |frame| {
                frame
                    .map(|s| convert::raw_stats(&id, s))
                    .map_err(|e| this.map_err("stats", "container", &id, e))
            })
            .boxed()
    }

    fn events(
        &self,
        selector: Option<&Selector>,
        actions: &[&str],
    ) -> BoxStream<'static, Result<EngineEvent>> {
        let actions: Vec<String> = if actions.is_empty() {
            LIFECYCLE_ACTIONS.iter().map(|a| (*a).to_owned()).collect()
        } else {
            actions.iter().map(|a| (*a).to_owned()).collect()
        };
        let mut filter = filters(selector).unwrap_or_default();
        filter.insert("type".to_owned(), vec!["container".to_owned()]);
        filter.insert("event".to_owned(), actions);
        let options = EventsOptions {
            filters: Some(filter),
            ..EventsOptions::default()
        };
        let this = self.clone();
        self.client
            .events(Some(options))
            .filter_map(move |e| {
                let out = match e {
                    Ok(message) => convert::event(message).map(Ok),
                    Err(e) => Some(Err(this.map_err("events", "engine", "", e))),
                };
                futures::future::ready(out)
            })
            .boxed()
    }

    async fn exec(&self, id: &str, argv: &[String], timeout: Duration) -> Result<ExecOutput> {
        let operation = format!("exec {:?} in {id}", argv.join(" "));
        let run = async {
            let created = self
                .client
                .create_exec(
                    id,
                    CreateExecOptions {
                        cmd: Some(argv.to_vec()),
                        attach_stdout: Some(true),
                        attach_stderr: Some(true),
                        ..CreateExecOptions::default()
                    },
                )
                .await
                .map_err(|e| self.map_err("exec", "container", id, e))?;
            let mut output = String::new();
            if let StartExecResults::Attached {
                output: mut stream, ..
            } = self
                .client
                .start_exec(&created.id, None::<StartExecOptions>)
                .await
                .map_err(|e| self.map_err("exec", "container", id, e))?
            {
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(out) => output.push_str(&String::from_utf8_lossy(&out.into_bytes())),
                        Err(e) => return Err(self.map_err("exec", "container", id, e)),
                    }
                }
            }
            let inspect = self
                .client
                .inspect_exec(&created.id)
                .await
                .map_err(|e| self.map_err("exec", "container", id, e))?;
            Ok(ExecOutput {
                exit_code: inspect.exit_code.unwrap_or(-1),
                output,
            })
        };
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| PlatformError::Timeout {
                operation,
                after: timeout,
            })?
    }

    async fn exec_detached(&self, id: &str, argv: &[String]) -> Result<()> {
        let created = self
            .client
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(argv.to_vec()),
                    attach_stdout: Some(false),
                    attach_stderr: Some(false),
                    ..CreateExecOptions::default()
                },
            )
            .await
            .map_err(|e| self.map_err("exec", "container", id, e))?;
        self.client
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: true,
                    ..StartExecOptions::default()
                }),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.map_err("exec", "container", id, e))
    }

    async fn copy_path(&self, from: &str, from_path: &str, to: &str, to_dir: &str) -> Result<u64> {
        let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&counted);
        let download = self
            .client
            .download_from_container(
                from,
                Some(DownloadFromContainerOptions {
                    path: from_path.to_owned(),
                }),
            )
            .map(move |chunk| {
                chunk
                    .inspect(|bytes| {
                        counter.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    })
                    .map_err(std::io::Error::other)
            });
        self.client
            .upload_to_container(
                to,
                Some(UploadToContainerOptions {
                    path: to_dir.to_owned(),
                    ..UploadToContainerOptions::default()
                }),
                body_try_stream(download),
            )
            .await
            .map_err(|e| self.map_err("copy into", "container", to, e))?;
        Ok(counted.load(std::sync::atomic::Ordering::Relaxed))
    }

    async fn kill_container(&self, id: &str, signal: &str) -> Result<()> {
        let options = KillContainerOptions {
            signal: signal.to_owned(),
        };
        self.client
            .kill_container(id, Some(options))
            .await
            .map_err(|e| self.map_err("kill", "container", id, e))
    }

    async fn restart_container(&self, id: &str, grace: Duration) -> Result<()> {
        let options = RestartContainerOptions {
            t: Some(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX)),
            signal: None,
        };
        let client = self
            .client
            .clone()
            .with_timeout(grace + Duration::from_secs(30));
        client
            .restart_container(id, Some(options))
            .await
            .map_err(|e| self.map_err("restart", "container", id, e))
    }

    async fn update_resources(&self, id: &str, update: &ResourceUpdate) -> Result<()> {
        let body = ContainerUpdateBody {
            nano_cpus: update.nano_cpus,
            cpu_quota: update.cpu_quota,
            cpu_period: update.cpu_period,
            memory: update.memory,
            memory_swap: update.memory_swap,
            ..ContainerUpdateBody::default()
        };
        self.client
            .update_container(id, body)
            .await
            .map_err(|e| self.map_err("update", "container", id, e))
    }

    async fn connect_network(&self, network: &str, id: &str, aliases: &[String]) -> Result<()> {
        let request = NetworkConnectRequest {
            container: id.to_owned(),
            endpoint_config: Some(body::connect_endpoint(aliases)),
        };
        self.client
            .connect_network(network, request)
            .await
            .map_err(|e| self.map_err("connect", "network", network, e))
    }

    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()> {
        let request = NetworkDisconnectRequest {
            container: id.to_owned(),
            force: Some(true),
        };
        self.client
            .disconnect_network(network, request)
            .await
            .map_err(|e| self.map_err("disconnect", "network", network, e))
    }

    async fn upload_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<()> {
        let options = UploadToContainerOptions {
            path: dir.to_owned(),
            ..UploadToContainerOptions::default()
        };
        self.client
            .upload_to_container(id, Some(options), body_full(tar.into()))
            .await
            .map_err(|e| self.map_err("upload into", "container", id, e))
    }

    async fn pause_container(&self, id: &str) -> Result<()> {
        self.client
            .pause_container(id)
            .await
            .map_err(|e| self.map_err("pause", "container", id, e))
    }

    async fn unpause_container(&self, id: &str) -> Result<()> {
        self.client
            .unpause_container(id)
            .await
            .map_err(|e| self.map_err("unpause", "container", id, e))
    }

    fn logs(&self, id: &str, options: &LogOptions) -> BoxStream<'static, Result<LogLine>> {
        let since = options
            .since
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
        let request = LogsOptions {
            follow: options.follow,
            stdout: true,
            stderr: true,
            since,
            until: 0,
            // Taken off each line by the assembler, into `LogLine::time_ms`.
            timestamps: true,
            tail: options
                .tail
                .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        };
        let this = self.clone();
        let id = id.to_owned();
        let stream = self.client.logs(&id, Some(request));
        let mut assembler = LineAssembler::default();
        stream
            .map(Some)
            .chain(futures::stream::once(async { None }))
            .flat_map(move |chunk| {
                let lines: Vec<Result<LogLine>> = match chunk {
                    Some(Ok(output)) => {
                        let (stream, bytes) = match output {
                            LogOutput::StdErr { message } => (LogStream::Stderr, message),
                            LogOutput::StdOut { message }
                            | LogOutput::Console { message }
                            | LogOutput::StdIn { message } => (LogStream::Stdout, message),
                        };
                        assembler.push(stream, &bytes).into_iter().map(Ok).collect()
                    }
                    Some(Err(e)) => vec![Err(this.map_err("logs", "container", &id, e))],
                    None => assembler.finish().into_iter().map(Ok).collect(),
                };
                futures::stream::iter(lines)
            })
            .boxed()
    }
}
