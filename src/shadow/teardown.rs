//! Tearing shadows down: `down` removes every resource labelled with a
//! shadow's id (containers, then networks and volumes) and its record; `gc`
//! finds shadows nobody tracks any more (see `registry::decide_gc`) and
//! removes them. The host rule goes when no shadow is left.

use std::collections::BTreeSet;

use serde::Serialize;

use super::registry::{self, Registry, Status};
use crate::domain::{Selector, labels};
use crate::platform::{Platform, PlatformError};

/// What one `down` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub id: String,
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// Removes shadow `id` entirely. Absent resources are fine, so a second
/// `down` (or a `down` after a crash) succeeds.
pub async fn down(
    platform: &impl Platform,
    registry: &Registry,
    id: &str,
) -> Result<Removed, PlatformError> {
    if let Some(mut r) = registry.get(id) {
        r.status = Status::Removing;
        r.pid = std::process::id();
        r.pid_start = registry::process_start(r.pid);
        let _ = registry.put(&r);
    }
    let selector = Selector::label(labels::SHADOW, id);
    let mut removed = Removed {
        id: id.to_owned(),
        ..Removed::default()
    };
    let containers = platform.list_containers(Some(&selector)).await?;
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
    for n in platform.list_networks(Some(&selector)).await? {
        platform.remove_network(&n.id).await?;
        removed.networks.push(n.name);
    }
    for v in platform.list_volumes(Some(&selector)).await? {
        platform.remove_volume(&v.name).await?;
        removed.volumes.push(v.name);
    }
    let _ = registry.remove(id);
    remove_guard_if_unused(platform, registry).await;
    Ok(removed)
}

/// Removes the host rule when no shadow network remains.
async fn remove_guard_if_unused(platform: &impl Platform, registry: &Registry) {
    let any_shadow = Selector {
        terms: vec![crate::domain::selector::Term {
            key: labels::SHADOW.to_owned(),
            value: None,
        }],
    };
    let networks_left = platform
        .list_networks(Some(&any_shadow))
        .await
        .map_or(true, |n| !n.is_empty());
    if networks_left || !registry.list().is_empty() {
        return;
    }
    if let super::plan::GuardCapability::Available { iptables } = super::host_guard::detect() {
        if let Err(e) = super::host_guard::remove(&iptables) {
            tracing::warn!("{e}");
        }
    }
}

/// Shadow ids that have any labelled resource on the engine.
pub async fn ids_on_engine(platform: &impl Platform) -> Result<BTreeSet<String>, PlatformError> {
    let any = Selector {
        terms: vec![crate::domain::selector::Term {
            key: labels::SHADOW.to_owned(),
            value: None,
        }],
    };
    let mut ids = BTreeSet::new();
    for c in platform.list_containers(Some(&any)).await? {
        if let Some(id) = c.labels.get(labels::SHADOW) {
            ids.insert(id.clone());
        }
    }
    for n in platform.list_networks(Some(&any)).await? {
        if let Some(id) = n.labels.get(labels::SHADOW) {
            ids.insert(id.clone());
        }
    }
    for v in platform.list_volumes(Some(&any)).await? {
        if let Some(id) = v.labels.get(labels::SHADOW) {
            ids.insert(id.clone());
        }
    }
    Ok(ids)
}

/// What `gc` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub removed: Vec<(Removed, String)>,
    pub stale_records: Vec<String>,
}

/// Removes every shadow that is no longer tracked or whose creator died
/// halfway, and forgets records whose resources are gone.
pub async fn gc(platform: &impl Platform, registry: &Registry) -> Result<GcReport, PlatformError> {
    let ids = ids_on_engine(platform).await?;
    let decision = registry::decide_gc(&registry.list(), &ids, &registry::creator_alive);
    let mut report = GcReport::default();
    for (id, reason) in decision.collect {
        let removed = down(platform, registry, &id).await?;
        report.removed.push((removed, reason));
    }
    for id in decision.stale_records {
        let _ = registry.remove(&id);
        report.stale_records.push(id);
    }
    remove_guard_if_unused(platform, registry).await;
    Ok(report)
}
