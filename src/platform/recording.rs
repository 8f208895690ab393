//! A recording fake platform for unit tests of code above the seam
//! (the fault guard and injector): containers held as inspect details by
//! name, every call recorded, lifecycle calls applied to the state. Only
//! compiled for tests; integration tests use the real engine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};

use super::{
    ContainerDetails, EngineEvent, EngineInfo, ExecOutput, ImageSummary, LogLine, LogOptions,
    NetworkSummary, Platform, PlatformError, ResourceUpdate, Result, VolumeSummary,
};
use crate::domain::stats::RawStats;
use crate::domain::{
    ContainerSpec, ContainerSummary, Health, NetworkSpec, RunState, Selector, VolumeSpec,
};

/// The fake's state.
#[derive(Debug, Default)]
pub struct State {
    pub containers: BTreeMap<String, ContainerDetails>,
    /// `method id` for every call, in order.
    pub calls: Vec<String>,
    /// Exit code and output `exec` answers with.
    pub exec_reply: Option<ExecOutput>,
    /// Subnets the engine holds without listing them (a network being
    /// removed): creating a network on one answers "Pool overlaps".
    pub held_subnets: Vec<String>,
    /// How long each inspect takes (a slow engine).
    pub inspect_delay: Duration,
    /// Volumes created and not removed.
    pub volumes: Vec<VolumeSummary>,
    /// Volumes another client creates in the same instant as the next
    /// volume this one creates (two racing fault leases).
    pub racing_volumes: Vec<VolumeSummary>,
}

/// The fake; clones share state.
#[derive(Debug, Clone, Default)]
pub struct Recording(Arc<Mutex<State>>);

/// A running container named `name` with `labels`.
pub fn container(name: &str, labels: &[(&str, &str)]) -> ContainerDetails {
    ContainerDetails {
        id: format!("{name:x>64}"),
        name: name.to_owned(),
        image_id: "sha256:0".into(),
        state: RunState::Running,
        health: Health::None,
        health_log: vec![],
        pid: 4242,
        restart_count: 0,
        exit_code: 0,
        oom_killed: false,
        started_at: None,
        ports: vec![],
        networks: vec![],
        spec: ContainerSpec {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ContainerSpec::default()
        },
    }
}

impl Recording {
    pub fn with(containers: Vec<ContainerDetails>) -> Self {
        let fake = Self::default();
        fake.state().containers = containers
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        fake
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls other than inspect and listings.
    pub fn mutations(&self) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .filter(|c| !c.starts_with("inspect") && !c.starts_with("list"))
            .cloned()
            .collect()
    }

    fn record(&self, call: String) {
        self.state().calls.push(call);
    }

    fn set_state(&self, id: &str, state: RunState) -> Result<()> {
        let mut s = self.state();
        let c = s
            .containers
            .values_mut()
            .find(|c| c.name == id || c.id == id)
            .ok_or_else(|| PlatformError::NotFound {
                kind: "container",
                name: id.to_owned(),
            })?;
        c.state = state;
        Ok(())
    }

    fn find(&self, id: &str) -> Result<ContainerDetails> {
        self.state()
            .containers
            .values()
            .find(|c| c.name == id || c.id == id)
            .cloned()
            .ok_or_else(|| PlatformError::NotFound {
                kind: "container",
                name: id.to_owned(),
            })
    }
}

fn summary(d: &ContainerDetails) -> ContainerSummary {
    ContainerSummary {
        id: d.id.clone(),
        name: d.name.clone(),
        image: d.spec.image.clone(),
        state: d.state,
        health: d.health,
        status: String::new(),
        labels: d.spec.labels.clone(),
        ports: d.ports.clone(),
    }
}

impl Platform for Recording {
    async fn engine(&self) -> Result<EngineInfo> {
        Ok(EngineInfo {
            endpoint: "fake".into(),
            version: "0".into(),
            api_version: "1.41".into(),
            os: String::new(),
            kernel: String::new(),
            cpus: 2,
            memory_bytes: 1 << 30,
        })
    }
    async fn list_containers(&self, selector: Option<&Selector>) -> Result<Vec<ContainerSummary>> {
        self.record("list containers".into());
        Ok(self
            .state()
            .containers
            .values()
            .filter(|c| selector.is_none_or(|s| s.matches(&c.spec.labels)))
            .map(summary)
            .collect())
    }
    async fn inspect_container(&self, id: &str) -> Result<ContainerDetails> {
        self.record(format!("inspect {id}"));
        let delay = self.state().inspect_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.find(id)
    }
    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        self.record(format!("create {}", spec.name));
        let mut c = container(&spec.name, &[]);
        c.spec = spec.clone();
        c.state = RunState::Created;
        let id = c.id.clone();
        self.state().containers.insert(spec.name.clone(), c);
        Ok(id)
    }
    async fn start_container(&self, id: &str) -> Result<()> {
        self.record(format!("start {id}"));
        self.set_state(id, RunState::Running)
    }
    async fn stop_container(&self, id: &str, _: Duration) -> Result<()> {
        self.record(format!("stop {id}"));
        self.set_state(id, RunState::Exited)
    }
    async fn remove_container(&self, id: &str, _: bool) -> Result<()> {
        self.record(format!("remove {id}"));
        self.state()
            .containers
            .retain(|_, c| c.name != id && c.id != id);
        Ok(())
    }
    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        self.record(match &spec.subnet {
            Some(subnet) => format!("create network {} {subnet}", spec.name),
            None => format!("create network {}", spec.name),
        });
        let held = &self.state().held_subnets;
        if spec.subnet.as_ref().is_some_and(|s| held.contains(s)) {
            return Err(PlatformError::Api {
                status: 403,
                operation: "create network".into(),
                message: "Pool overlaps with other one on this address space".into(),
            });
        }
        Ok(spec.name.clone())
    }
    async fn list_networks(&self, _: Option<&Selector>) -> Result<Vec<NetworkSummary>> {
        Ok(Vec::new())
    }
    async fn remove_network(&self, name: &str) -> Result<()> {
        self.record(format!("remove network {name}"));
        Ok(())
    }
    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        self.record(format!("create volume {}", spec.name));
        let mut state = self.state();
        state.volumes.push(VolumeSummary {
            name: spec.name.clone(),
            labels: spec.labels.clone(),
        });
        let racing = std::mem::take(&mut state.racing_volumes);
        state.volumes.extend(racing);
        Ok(spec.name.clone())
    }
    async fn list_volumes(&self, selector: Option<&Selector>) -> Result<Vec<VolumeSummary>> {
        self.record("list volumes".to_owned());
        Ok(self
            .state()
            .volumes
            .iter()
            .filter(|v| selector.is_none_or(|s| s.matches(&v.labels)))
            .cloned()
            .collect())
    }
    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.record(format!("remove volume {name}"));
        self.state().volumes.retain(|v| v.name != name);
        Ok(())
    }
    async fn build_image(
        &self,
        _: Vec<u8>,
        tag: &str,
        _: &BTreeMap<String, String>,
    ) -> Result<String> {
        self.record(format!("build {tag}"));
        Ok("sha256:0".into())
    }
    async fn inspect_image(&self, _: &str) -> Result<Option<ImageSummary>> {
        Ok(None)
    }
    async fn list_images(&self, _: Option<&Selector>) -> Result<Vec<ImageSummary>> {
        Ok(Vec::new())
    }
    async fn remove_image(&self, reference: &str) -> Result<()> {
        self.record(format!("remove image {reference}"));
        Ok(())
    }
    async fn remove_image_if_unused(&self, id: &str) -> Result<bool> {
        self.record(format!("remove unused image {id}"));
        Ok(true)
    }
    fn stats(&self, _: &str) -> BoxStream<'static, Result<RawStats>> {
        stream::empty().boxed()
    }
    fn events(&self, _: Option<&Selector>, _: &[&str]) -> BoxStream<'static, Result<EngineEvent>> {
        stream::pending().boxed()
    }
    fn logs(&self, _: &str, _: &LogOptions) -> BoxStream<'static, Result<LogLine>> {
        stream::empty().boxed()
    }
    async fn exec(&self, id: &str, argv: &[String], _: Duration) -> Result<ExecOutput> {
        self.record(format!("exec {id} {}", argv.join(" ")));
        Ok(self.state().exec_reply.clone().unwrap_or(ExecOutput {
            exit_code: 0,
            output: String::new(),
        }))
    }
    async fn exec_detached(&self, id: &str, argv: &[String]) -> Result<()> {
        self.record(format!("spawn {id} {}", argv.join(" ")));
        Ok(())
    }
    async fn kill_container(&self, id: &str, signal: &str) -> Result<()> {
        self.record(format!("kill {id} {signal}"));
        self.set_state(id, RunState::Exited)
    }
    async fn restart_container(&self, id: &str, _: Duration) -> Result<()> {
        self.record(format!("restart {id}"));
        self.set_state(id, RunState::Running)
    }
    async fn update_resources(&self, id: &str, update: &ResourceUpdate) -> Result<()> {
        self.record(format!("update {id} {update:?}"));
        let mut s = self.state();
        if let Some(c) = s
            .containers
            .values_mut()
            .find(|c| c.name == id || c.id == id)
        {
            let r = &mut c.spec.resources;
            r.nano_cpus = update.nano_cpus.or(r.nano_cpus);
            r.cpu_quota = update.cpu_quota.or(r.cpu_quota);
            r.memory = update.memory.or(r.memory);
            r.memory_swap = update.memory_swap.or(r.memory_swap);
        }
        Ok(())
    }
    async fn connect_network(&self, network: &str, id: &str, aliases: &[String]) -> Result<()> {
        self.record(format!("connect {network} {id} {}", aliases.join(",")));
        Ok(())
    }
    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()> {
        self.record(format!("disconnect {network} {id}"));
        Ok(())
    }
    async fn upload_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<()> {
        self.record(format!("upload {id} {dir} {} bytes", tar.len()));
        Ok(())
    }
    async fn pause_container(&self, id: &str) -> Result<()> {
        self.record(format!("pause {id}"));
        if self.find(id)?.state == RunState::Paused {
            // As the engine answers (409).
            return Err(PlatformError::Conflict {
                kind: "container",
                name: id.to_owned(),
                message: format!("Container {id} is already paused"),
            });
        }
        self.set_state(id, RunState::Paused)
    }
    async fn unpause_container(&self, id: &str) -> Result<()> {
        self.record(format!("unpause {id}"));
        self.set_state(id, RunState::Running)
    }
}
