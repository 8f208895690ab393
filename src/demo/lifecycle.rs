//! Bringing the shop up, describing it, and taking it down, through the
//! platform seam. `up` converges: containers that already run with the same
//! configuration hash are kept, the rest are (re)created, extra replicas are
//! removed, exactly as `docker-compose up -d` would.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::image;
use super::project::{self, ENTRY_SERVICE, ROLE_PORT};
use crate::domain::{ContainerSummary, Health, RunState, Selector, labels};
use crate::platform::{Platform, PlatformError};

/// Why the demo could not be brought up or down.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Name(#[from] project::ProjectNameError),
    #[error(
        "project {project:?} not healthy after {waited:?}: {}",
        .unhealthy.join("; ")
    )]
    NotHealthy {
        project: String,
        waited: Duration,
        unhealthy: Vec<String>,
    },
}

/// One container in `demo status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub service: String,
    pub state: RunState,
    pub health: Health,
}

/// What `demo status --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoStatus {
    pub project: String,
    /// `http://127.0.0.1:PORT` of the gateway, when published.
    pub gateway: Option<String>,
    pub containers: Vec<ContainerStatus>,
}

impl DemoStatus {
    pub fn all_ready(&self) -> bool {
        !self.containers.is_empty() && self.containers.iter().all(|c| c.health.is_ready(c.state))
    }
}

/// Timings of `up`.
#[derive(Debug, Clone)]
pub struct UpReport {
    pub image: image::ImageRef,
    pub created: usize,
    pub kept: usize,
    /// From the first create to every container healthy.
    pub ready_after: Duration,
    pub status: DemoStatus,
}

fn project_selector(project: &str) -> Selector {
    Selector::label(labels::COMPOSE_PROJECT, project)
}

/// The project's current state.
pub async fn status(platform: &impl Platform, project: &str) -> Result<DemoStatus, DemoError> {
    let containers = platform
        .list_containers(Some(&project_selector(project)))
        .await?;
    Ok(status_of(project, &containers))
}

/// Pure: the status from a container listing.
pub fn status_of(project: &str, containers: &[ContainerSummary]) -> DemoStatus {
    let mut members: Vec<&ContainerSummary> = containers
        .iter()
        .filter(|c| c.label(labels::COMPOSE_PROJECT) == Some(project))
        .filter(|c| c.label(labels::COMPOSE_ONEOFF) != Some("True"))
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let gateway = members
        .iter()
        .filter(|c| c.label(labels::COMPOSE_SERVICE) == Some(ENTRY_SERVICE))
        .flat_map(|c| c.ports.iter())
        .find(|p| p.container_port == ROLE_PORT && p.host_ip == "127.0.0.1")
        .map(crate::domain::PortBinding::http_url);
    DemoStatus {
        project: project.to_owned(),
        gateway,
        containers: members
            .iter()
            .map(|c| ContainerStatus {
                name: c.name.clone(),
                service: c
                    .label(labels::COMPOSE_SERVICE)
                    .unwrap_or_default()
                    .to_owned(),
                state: c.state,
                health: c.health,
            })
            .collect(),
    }
}

/// Builds the image if needed, creates what is missing or changed, removes
/// extras, starts everything and waits until every container is healthy.
pub async fn up(
    platform: &impl Platform,
    project: &str,
    timeout: Duration,
) -> Result<UpReport, DemoError> {
    project::validate_project(project)?;
    let image = image::ensure(platform, false).await?;
    let started = Instant::now();
    ensure_network_and_volume(platform, project).await?;
    let existing = platform
        .list_containers(Some(&project_selector(project)))
        .await?;
    let desired = project::all_containers(project, image::IMAGE);
    let plan = converge_plan(&existing, &desired, &image.id);
    for id in &plan.remove {
        platform.remove_container(id, true).await?;
    }
    // Dependencies first: store, then the api replicas together, then the gateway.
    let mut created = 0;
    for tier in ["store", "api", ENTRY_SERVICE] {
        let specs: Vec<_> = desired
            .iter()
            .filter(|s| s.labels.get(labels::COMPOSE_SERVICE).map(String::as_str) == Some(tier))
            .filter(|s| plan.create.contains(&s.name))
            .collect();
        let results = futures::future::join_all(specs.iter().map(|spec| async move {
            let id = platform.create_container(spec).await?;
            platform.start_container(&id).await
        }))
        .await;
        for r in results {
            r?;
            created += 1;
        }
    }
    for id in &plan.start {
        platform.start_container(id).await?;
    }
    let status = wait_healthy(platform, project, timeout).await?;
    Ok(UpReport {
        image,
        created,
        kept: plan.keep,
        ready_after: started.elapsed(),
        status,
    })
}

async fn ensure_network_and_volume(
    platform: &impl Platform,
    project: &str,
) -> Result<(), DemoError> {
    let network = project::network(project);
    let networks = platform.list_networks(None).await?;
    if !networks.iter().any(|n| n.name == network.name) {
        platform.create_network(&network).await?;
    }
    let volume = project::volume(project);
    let volumes = platform.list_volumes(None).await?;
    if !volumes.iter().any(|v| v.name == volume.name) {
        platform.create_volume(&volume).await?;
    }
    Ok(())
}

/// What `up` does with each container.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConvergePlan {
    /// Ids to remove: extras, changed configuration, other image.
    pub remove: Vec<String>,
    /// Names to create.
    pub create: BTreeSet<String>,
    /// Ids of kept containers that are not running.
    pub start: Vec<String>,
    pub keep: usize,
}

/// Pure: compares what exists with what is desired. A container is kept when
/// its name, config hash and image id (from the list's image reference)
/// match; containers of the project that are not desired are removed.
pub fn converge_plan(
    existing: &[ContainerSummary],
    desired: &[crate::domain::ContainerSpec],
    image_id: &str,
) -> ConvergePlan {
    let mut plan = ConvergePlan::default();
    let by_name: BTreeMap<&str, &ContainerSummary> =
        existing.iter().map(|c| (c.name.as_str(), c)).collect();
    for spec in desired {
        let current = by_name.get(spec.name.as_str());
        let same = current.is_some_and(|c| {
            c.label(labels::COMPOSE_CONFIG_HASH)
                == spec
                    .labels
                    .get(labels::COMPOSE_CONFIG_HASH)
                    .map(String::as_str)
                && (c.image == spec.image || c.image == image_id)
                && !matches!(c.state, RunState::Dead | RunState::Removing)
        });
        match current {
            Some(c) if same => {
                plan.keep += 1;
                if c.state != RunState::Running {
                    plan.start.push(c.id.clone());
                }
            }
            Some(c) => {
                plan.remove.push(c.id.clone());
                plan.create.insert(spec.name.clone());
            }
            None => {
                plan.create.insert(spec.name.clone());
            }
        }
    }
    let wanted: BTreeSet<&str> = desired.iter().map(|s| s.name.as_str()).collect();
    for c in existing {
        if !wanted.contains(c.name.as_str()) && c.label(labels::COMPOSE_ONEOFF) != Some("True") {
            plan.remove.push(c.id.clone());
        }
    }
    plan
}

/// Polls until every container of the project is ready, or fails with the
/// last healthcheck output of those that are not.
pub async fn wait_healthy(
    platform: &impl Platform,
    project: &str,
    timeout: Duration,
) -> Result<DemoStatus, DemoError> {
    let started = Instant::now();
    loop {
        let current = status(platform, project).await?;
        if current.all_ready() {
            return Ok(current);
        }
        if started.elapsed() >= timeout {
            let mut unhealthy = Vec::new();
            for c in current
                .containers
                .iter()
                .filter(|c| !c.health.is_ready(c.state))
            {
                let detail = platform.inspect_container(&c.name).await.ok();
                let last = detail
                    .and_then(|d| d.health_log.last().cloned())
                    .unwrap_or_default();
                unhealthy.push(format!("{} is {}/{} {last}", c.name, c.state, c.health));
            }
            return Err(DemoError::NotHealthy {
                project: project.to_owned(),
                waited: started.elapsed(),
                unhealthy,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Removes the project's containers, network and volume (and, with
/// `images`, the images the demo built). Returns what was removed.
pub async fn down(
    platform: &impl Platform,
    project: &str,
    images: bool,
) -> Result<Vec<String>, DemoError> {
    let gone = crate::platform::remove_labelled(platform, &project_selector(project)).await?;
    let mut removed: Vec<String> = gone
        .containers
        .iter()
        .map(|c| format!("container {c}"))
        .chain(gone.networks.iter().map(|n| format!("network {n}")))
        .chain(gone.volumes.iter().map(|v| format!("volume {v}")))
        .collect();
    if images {
        let count = image::remove_all(platform).await?;
        if count > 0 {
            removed.push(format!("{count} image(s) {}", image::IMAGE));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PortBinding;

    fn listed(spec: &crate::domain::ContainerSpec, state: RunState) -> ContainerSummary {
        ContainerSummary {
            id: format!("id-{}", spec.name),
            name: spec.name.clone(),
            image: spec.image.clone(),
            state,
            health: Health::Healthy,
            status: String::new(),
            labels: spec.labels.clone(),
            ports: vec![],
        }
    }

    #[test]
    fn converge_keeps_matching_and_recreates_changed() {
        let desired = project::all_containers("shop", image::IMAGE);
        let mut existing: Vec<_> = desired
            .iter()
            .map(|s| listed(s, RunState::Running))
            .collect();
        existing[1]
            .labels
            .insert(labels::COMPOSE_CONFIG_HASH.into(), "old".into());
        existing[3].state = RunState::Exited;
        let mut extra = listed(&desired[1], RunState::Running);
        extra.name = "shop_api_3".into();
        extra.id = "id-extra".into();
        existing.push(extra);
        let plan = converge_plan(&existing, &desired, "sha256:x");
        assert_eq!(plan.keep, 3);
        assert_eq!(plan.remove, ["id-shop_api_1", "id-extra"]);
        assert_eq!(plan.create.iter().collect::<Vec<_>>(), ["shop_api_1"]);
        assert_eq!(plan.start, ["id-shop_gateway_1"]);
    }

    #[test]
    fn converge_from_nothing_creates_all() {
        let desired = project::all_containers("shop", image::IMAGE);
        let plan = converge_plan(&[], &desired, "sha256:x");
        assert_eq!(plan.create.len(), 4);
        assert_eq!(plan.keep, 0);
    }

    #[test]
    fn status_finds_the_loopback_gateway_url() {
        let desired = project::all_containers("shop", image::IMAGE);
        let mut listing: Vec<_> = desired
            .iter()
            .map(|s| listed(s, RunState::Running))
            .collect();
        listing[3].ports.push(PortBinding {
            container_port: 8080,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: 49200,
        });
        let s = status_of("shop", &listing);
        assert_eq!(s.gateway.as_deref(), Some("http://127.0.0.1:49200"));
        assert_eq!(s.containers.len(), 4);
        assert!(s.all_ready());
        listing[0].health = Health::Starting;
        assert!(!status_of("shop", &listing).all_ready());
        let json = serde_json::to_value(status_of("shop", &listing)).unwrap();
        assert_eq!(json["containers"][0]["health"], "healthy");
        assert_eq!(json["project"], "shop");
    }
}
