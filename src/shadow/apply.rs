//! Applying a plan: networks, volume snapshots, clones tier by tier, the
//! ingress, readiness, all through the platform seam. Idempotent: a second
//! apply of the same shadow keeps clones whose spec hash matches, recreates
//! drifted ones, creates missing ones and removes extras. On failure
//! everything of the shadow is removed unless `keep_failed`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::naming;
use super::plan::{PlannedContainer, ShadowPlan};
use super::readiness::{self, ReadyVia};
use super::subnet::{self, Ipv4Net};
use super::teardown;
use crate::domain::{ContainerSpec, ContainerSummary, RunState, Selector, labels};
use crate::platform::{Platform, PlatformError};

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Total time allowed for every clone to become ready.
    pub timeout: Duration,
    /// Keep the resources of a failed apply for inspection.
    pub keep_failed: bool,
}

/// One clone's readiness in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerReport {
    pub name: String,
    pub service: String,
    pub ready_ms: u64,
    pub via: ReadyVia,
    /// `created`, `kept` or `recreated`.
    pub action: &'static str,
}

/// What `shadow up --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    pub id: String,
    pub group: String,
    /// Entry service -> `http://127.0.0.1:PORT`.
    pub entry: BTreeMap<String, String>,
    pub containers: Vec<ContainerReport>,
    pub ready_ms: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Why an apply failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan is refused: {}", .0.join("; "))]
    Refused(Vec<String>),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("{}{}", .failures.join("\n"), if *.kept { "\n(resources kept for inspection: --keep-failed)" } else { "\n(everything the shadow created was removed)" })]
    NotReady { failures: Vec<String>, kept: bool },
}

fn shadow_selector(id: &str) -> Selector {
    Selector::label(labels::SHADOW, id)
}

/// What to do with each planned clone, given what exists (pure).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Convergence {
    pub create: BTreeSet<String>,
    pub recreate: BTreeSet<String>,
    pub keep: BTreeSet<String>,
    /// Ids of containers of the shadow that the plan does not hold.
    pub remove_extra: Vec<String>,
}

pub fn converge(planned: &[&ContainerSpec], existing: &[ContainerSummary]) -> Convergence {
    let by_name: BTreeMap<&str, &ContainerSummary> =
        existing.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut out = Convergence::default();
    for spec in planned {
        match by_name.get(spec.name.as_str()) {
            None => {
                out.create.insert(spec.name.clone());
            }
            Some(c)
                if c.label(naming::SPEC_HASH)
                    == spec.labels.get(naming::SPEC_HASH).map(String::as_str)
                    && !matches!(c.state, RunState::Dead | RunState::Removing) =>
            {
                out.keep.insert(spec.name.clone());
            }
            Some(_) => {
                out.recreate.insert(spec.name.clone());
            }
        }
    }
    let wanted: BTreeSet<&str> = planned.iter().map(|s| s.name.as_str()).collect();
    out.remove_extra = existing
        .iter()
        .filter(|c| !wanted.contains(c.name.as_str()))
        .map(|c| c.id.clone())
        .collect();
    out
}

/// Applies `plan`; see the module docs.
pub async fn apply(
    platform: &impl Platform,
    plan: &ShadowPlan,
    options: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    if plan.is_refused() {
        return Err(ApplyError::Refused(
            plan.refusals
                .iter()
                .map(|r| format!("{}: {}", r.service, r.setting))
                .collect(),
        ));
    }
    let started = Instant::now();
    match build(platform, plan, options, started).await {
        Ok(report) => {
            let markers = platform
                .list_volumes(Some(&shadow_selector(&plan.id)))
                .await?;
            if !markers.iter().any(|v| v.name == plan.ready_marker.name) {
                platform.create_volume(&plan.ready_marker).await?;
            }
            Ok(report)
        }
        Err(e) => {
            if !options.keep_failed {
                let _ = teardown::down(platform, &plan.id).await;
            }
            Err(match e {
                ApplyError::NotReady { failures, .. } => ApplyError::NotReady {
                    failures,
                    kept: options.keep_failed,
                },
                other => other,
            })
        }
    }
}

async fn build(
    platform: &impl Platform,
    plan: &ShadowPlan,
    options: &ApplyOptions,
    started: Instant,
) -> Result<ApplyReport, ApplyError> {
    let mut warnings = plan.warnings.clone();
    let fresh_volumes = ensure_networks_and_volumes(platform, plan).await?;
    // After the networks exist, never before: a concurrent `down` or `gc`
    // removes the shared rule only when it sees no shadow network, and
    // looks again after (`teardown::retire_rule`).
    if let super::plan::GuardCapability::Available { iptables } = &plan.guard {
        let rule = super::host_guard::Iptables(iptables.clone());
        if let Err(e) = super::host_guard::HostRule::install(&rule).await {
            warnings.push(format!("host isolation rule not installed: {e}"));
        }
    }
    tracing::debug!(ms = started.elapsed().as_millis(), "networks and volumes");
    let mut planned: Vec<&ContainerSpec> = plan.containers().map(|c| &c.spec).collect();
    if let Some(i) = &plan.ingress {
        planned.push(&i.spec);
    }
    let existing = platform
        .list_containers(Some(&shadow_selector(&plan.id)))
        .await?;
    let conv = converge(&planned, &existing);
    create_clones(platform, &planned, &conv).await?;
    tracing::debug!(ms = started.elapsed().as_millis(), "containers created");
    upload_files(platform, plan, &conv).await?;
    tracing::debug!(ms = started.elapsed().as_millis(), "files uploaded");
    // Snapshots go into the created, not yet started, clones.
    for v in plan
        .volumes
        .iter()
        .filter(|v| fresh_volumes.contains(&v.spec.name))
    {
        let fresh_target =
            conv.create.contains(&v.copy_into.0) || conv.recreate.contains(&v.copy_into.0);
        if let (Some((source, path)), true) = (&v.copy_from, fresh_target) {
            copy_volume(platform, source, path, &v.copy_into.0, v.pause_source).await?;
        }
    }
    // The ingress relay resolves its services per connection, so it starts
    // with the first tier (a plan always has one) instead of after the last.
    let ingress = plan.ingress.as_ref().map(|i| i.spec.name.as_str());
    for (i, tier) in plan.tiers.iter().enumerate() {
        let names = tier
            .iter()
            .map(|c| c.spec.name.as_str())
            .chain(ingress.filter(|_| i == 0));
        let starts = futures::future::join_all(names.map(|n| start_if_needed(platform, n))).await;
        starts.into_iter().collect::<Result<Vec<()>, _>>()?;
        tracing::debug!(ms = started.elapsed().as_millis(), "tier started");
    }
    let entry = ingress_entry(platform, plan).await?;
    let containers = await_ready(platform, plan, &conv, Instant::now() + options.timeout).await?;
    Ok(ApplyReport {
        id: plan.id.clone(),
        group: plan.group.clone(),
        entry,
        containers,
        ready_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        warnings,
    })
}

/// Creates missing networks and volumes; returns the names of volumes
/// created now (those get a snapshot).
async fn ensure_networks_and_volumes(
    platform: &impl Platform,
    plan: &ShadowPlan,
) -> Result<BTreeSet<String>, PlatformError> {
    let selector = shadow_selector(&plan.id);
    let networks = platform.list_networks(Some(&selector)).await?;
    for n in &plan.networks {
        if !networks.iter().any(|e| e.name == n.name) {
            create_network(platform, n, &plan.pool).await?;
        }
    }
    let existing = platform.list_volumes(Some(&selector)).await?;
    let mut fresh = BTreeSet::new();
    for v in &plan.volumes {
        if !existing.iter().any(|e| e.name == v.spec.name) {
            platform.create_volume(&v.spec).await?;
            fresh.insert(v.spec.name.clone());
        }
    }
    Ok(fresh)
}

/// Creates a network; when another process took its subnet meanwhile (the
/// engine answers "Pool overlaps"), takes the next free one from the pool.
/// Every subnet tried stays taken: a network being removed holds its pool
/// while it no longer shows in the listing, and forgetting the tries would
/// pick it again.
async fn create_network(
    platform: &impl Platform,
    spec: &crate::domain::NetworkSpec,
    pool: &str,
) -> Result<(), PlatformError> {
    let mut spec = spec.clone();
    let mut tried: Vec<Ipv4Net> = Vec::new();
    loop {
        match platform.create_network(&spec).await {
            Ok(_) => return Ok(()),
            Err(PlatformError::Api { message, .. })
                if message.contains("overlaps") && tried.len() < 16 =>
            {
                let (Ok(pool), Some(Ok(current))) = (
                    pool.parse::<Ipv4Net>(),
                    spec.subnet.as_deref().map(str::parse::<Ipv4Net>),
                ) else {
                    return Err(PlatformError::Other {
                        operation: format!("create network {:?}", spec.name),
                        message,
                    });
                };
                let all = platform.list_networks(None).await?;
                let mut taken: Vec<Ipv4Net> = all
                    .iter()
                    .flat_map(|n| subnet::parse_taken(&n.subnets))
                    .collect();
                tried.push(current);
                taken.extend_from_slice(&tried);
                let next = subnet::allocate(pool, current.prefix, &taken).ok_or_else(|| {
                    PlatformError::Other {
                        operation: format!("create network {:?}", spec.name),
                        message: format!("no free /{} left in {pool}", current.prefix),
                    }
                })?;
                spec.subnet = Some(next.to_string());
            }
            Err(e) => return Err(e),
        }
    }
}

async fn create_clones(
    platform: &impl Platform,
    planned: &[&ContainerSpec],
    conv: &Convergence,
) -> Result<(), PlatformError> {
    for id in &conv.remove_extra {
        platform.remove_container(id, true).await?;
    }
    for name in &conv.recreate {
        platform.remove_container(name, true).await?;
    }
    let to_create = planned
        .iter()
        .filter(|s| conv.create.contains(&s.name) || conv.recreate.contains(&s.name));
    let created = futures::future::join_all(to_create.map(|s| platform.create_container(s))).await;
    created.into_iter().collect::<Result<Vec<String>, _>>()?;
    Ok(())
}

/// Puts each fresh container's files (a proxy's configuration) in place
/// before it starts.
async fn upload_files(
    platform: &impl Platform,
    plan: &ShadowPlan,
    conv: &Convergence,
) -> Result<(), PlatformError> {
    let mut uploads = Vec::new();
    for c in plan.containers() {
        let fresh = conv.create.contains(&c.spec.name) || conv.recreate.contains(&c.spec.name);
        for u in c.uploads.iter().filter(|_| fresh) {
            let tar =
                file_tar(&u.name, u.content.as_bytes()).map_err(|e| PlatformError::Other {
                    operation: format!("packing {}", u.name),
                    message: e.to_string(),
                })?;
            uploads.push(platform.upload_archive(&c.spec.name, &u.dir, tar));
        }
    }
    let done = futures::future::join_all(uploads).await;
    done.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(())
}

fn file_tar(name: &str, content: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder.append_data(&mut header, name, content)?;
    builder.into_inner()
}

/// Reads the relay's loopback ports back as entry URLs.
async fn ingress_entry(
    platform: &impl Platform,
    plan: &ShadowPlan,
) -> Result<BTreeMap<String, String>, PlatformError> {
    let mut entry = BTreeMap::new();
    if let Some(ingress) = &plan.ingress {
        let details = platform.inspect_container(&ingress.spec.name).await?;
        for route in &ingress.routes {
            if let Some(p) = details
                .ports
                .iter()
                .find(|p| p.container_port == route.relay_port)
            {
                entry.insert(route.service.clone(), p.http_url());
            }
        }
    }
    Ok(entry)
}

async fn await_ready(
    platform: &impl Platform,
    plan: &ShadowPlan,
    conv: &Convergence,
    deadline: Instant,
) -> Result<Vec<ContainerReport>, ApplyError> {
    let prober = plan.ingress.as_ref().map(|i| i.spec.name.as_str());
    let clones: Vec<&PlannedContainer> = plan.containers().collect();
    let results = futures::future::join_all(
        clones
            .iter()
            .map(|c| readiness::wait_ready(platform, &c.spec, prober, deadline)),
    )
    .await;
    let mut containers = Vec::new();
    let mut failures = Vec::new();
    for (c, r) in clones.iter().zip(results) {
        match r {
            Ok((via, after)) => containers.push(ContainerReport {
                name: c.spec.name.clone(),
                service: c.service.clone(),
                ready_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                via,
                action: if conv.keep.contains(&c.spec.name) {
                    "kept"
                } else if conv.recreate.contains(&c.spec.name) {
                    "recreated"
                } else {
                    "created"
                },
            }),
            Err(e) => {
                let logs = last_log_lines(platform, &e.container, 5).await;
                failures.push(format!(
                    "{} did not become ready ({}): {}{logs}",
                    e.container, e.state, e.detail
                ));
            }
        }
    }
    if failures.is_empty() {
        Ok(containers)
    } else {
        Err(ApplyError::NotReady {
            failures,
            kept: false,
        })
    }
}

async fn start_if_needed(platform: &impl Platform, name: &str) -> Result<(), PlatformError> {
    match platform.start_container(name).await {
        // 304: already started.
        Ok(()) | Err(PlatformError::Api { status: 304, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn copy_volume(
    platform: &impl Platform,
    source: &str,
    path: &str,
    into: &str,
    pause: bool,
) -> Result<(), PlatformError> {
    let parent = std::path::Path::new(path)
        .parent()
        .map_or_else(|| "/".to_owned(), |p| p.to_string_lossy().into_owned());
    let parent = if parent.is_empty() {
        "/".to_owned()
    } else {
        parent
    };
    if pause {
        platform.pause_container(source).await?;
    }
    let copied = platform.copy_path(source, path, into, &parent).await;
    if pause {
        platform.unpause_container(source).await?;
    }
    copied.map(|_| ())
}

async fn last_log_lines(platform: &impl Platform, name: &str, n: u64) -> String {
    use futures::StreamExt;
    let options = crate::platform::LogOptions {
        tail: Some(n),
        ..crate::platform::LogOptions::default()
    };
    let lines: Vec<String> = platform
        .logs(name, &options)
        .filter_map(|l| async move { l.ok().map(|l| l.text) })
        .collect()
        .await;
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n    last log lines:\n      {}", lines.join("\n      "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;

    fn spec(name: &str, hash: &str) -> ContainerSpec {
        ContainerSpec {
            name: name.into(),
            labels: BTreeMap::from([(naming::SPEC_HASH.to_owned(), hash.to_owned())]),
            ..ContainerSpec::default()
        }
    }

    fn listed(name: &str, hash: &str) -> ContainerSummary {
        ContainerSummary {
            id: format!("id-{name}"),
            name: name.into(),
            image: String::new(),
            state: RunState::Running,
            health: Health::Healthy,
            status: String::new(),
            labels: BTreeMap::from([(naming::SPEC_HASH.to_owned(), hash.to_owned())]),
            ports: vec![],
        }
    }

    #[test]
    fn converge_keeps_recreates_creates_and_removes_extras() {
        let a = spec("a", "1");
        let b = spec("b", "2");
        let c = spec("c", "3");
        let existing = [listed("a", "1"), listed("b", "old"), listed("z", "9")];
        let conv = converge(&[&a, &b, &c], &existing);
        assert_eq!(conv.keep.iter().collect::<Vec<_>>(), ["a"]);
        assert_eq!(conv.recreate.iter().collect::<Vec<_>>(), ["b"]);
        assert_eq!(conv.create.iter().collect::<Vec<_>>(), ["c"]);
        assert_eq!(conv.remove_extra, ["id-z"]);
    }

    #[test]
    fn converge_on_an_identical_shadow_changes_nothing() {
        let a = spec("a", "1");
        let conv = converge(&[&a], &[listed("a", "1")]);
        assert!(conv.create.is_empty() && conv.recreate.is_empty() && conv.remove_extra.is_empty());
    }

    /// A network being removed holds its subnet while it is no longer
    /// listed: the retry must not go back to a subnet it already tried.
    #[tokio::test]
    async fn a_network_retries_past_subnets_held_but_unlisted() {
        use crate::platform::recording::Recording;
        let engine = Recording::default();
        engine.state().held_subnets = vec!["10.99.0.0/24".into(), "10.99.1.0/24".into()];
        let spec = crate::domain::NetworkSpec {
            name: "shop-shadow-a1b2c3-default".into(),
            subnet: Some("10.99.0.0/24".into()),
            ..crate::domain::NetworkSpec::default()
        };
        create_network(&engine, &spec, "10.99.0.0/16")
            .await
            .unwrap();
        let creates: Vec<String> = engine
            .state()
            .calls
            .iter()
            .filter_map(|c| c.strip_prefix("create network shop-shadow-a1b2c3-default "))
            .map(str::to_owned)
            .collect();
        assert_eq!(creates, ["10.99.0.0/24", "10.99.1.0/24", "10.99.2.0/24"]);
    }
}
