//! Tearing shadows down: `down` removes every resource labelled with a
//! shadow's id (containers, then networks and volumes); `gc` finds shadows
//! that never became ready and whose creator is gone (see
//! `tracking::decide_gc`) and removes them. The host rule goes when no
//! shadow is left.

use serde::Serialize;

use super::host_guard::{self, HostRule};
use super::tracking;
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

impl Removed {
    /// Whether nothing was there.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// Adds what a later pass removed.
    fn absorb(&mut self, later: Removed) {
        self.containers.extend(later.containers);
        self.networks.extend(later.networks);
        self.volumes.extend(later.volumes);
    }
}

/// Removes shadow `id` entirely. Absent resources are fine, so a second
/// `down` (or a `down` after a crash) succeeds.
pub async fn down(platform: &impl Platform, id: &str) -> Result<Removed, PlatformError> {
    let removed = remove(platform, id).await?;
    remove_guard_if_unused(platform).await;
    Ok(removed)
}

/// Removes shadow `id`'s resources (not the host rule).
async fn remove(platform: &impl Platform, id: &str) -> Result<Removed, PlatformError> {
    let gone =
        crate::platform::remove_labelled(platform, &Selector::label(labels::SHADOW, id)).await?;
    Ok(Removed {
        id: id.to_owned(),
        containers: gone.containers,
        networks: gone.networks,
        volumes: gone.volumes,
    })
}

/// Removes the host rule when no shadow network remains (see
/// [`retire_rule`]).
async fn remove_guard_if_unused(platform: &impl Platform) {
    if let Err(e) = retire_rule(platform, &host_guard::Detected).await {
        tracing::warn!("{e}");
    }
}

/// Whether any shadow network exists (yes when the engine cannot say).
async fn shadow_networks_left(platform: &impl Platform) -> bool {
    platform
        .list_networks(Some(&any_shadow()))
        .await
        .map_or(true, |n| !n.is_empty())
}

/// What [`retire_rule`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    /// A shadow network exists: the rule stays.
    Kept,
    Removed,
    /// A shadow network appeared while the rule was removed (a `shadow up`
    /// that had found the rule still there): it is back.
    Reinstalled,
}

/// Removes the shared host rule when no shadow network is left, then looks
/// again and puts it back if one appeared meanwhile. A `shadow up`
/// installs the rule after creating its networks, so whichever comes
/// first, a new shadow keeps its rule: its networks exist before our
/// second look (we reinstall), or its install runs after our removal.
pub async fn retire_rule(
    platform: &impl Platform,
    rule: &impl HostRule,
) -> Result<Retired, host_guard::GuardError> {
    if shadow_networks_left(platform).await {
        return Ok(Retired::Kept);
    }
    rule.remove().await?;
    if shadow_networks_left(platform).await {
        rule.install().await?;
        return Ok(Retired::Reinstalled);
    }
    Ok(Retired::Removed)
}

/// Selects every resource of any shadow.
pub fn any_shadow() -> Selector {
    Selector {
        terms: vec![crate::domain::selector::Term {
            key: labels::SHADOW.to_owned(),
            value: None,
        }],
    }
}

/// Every shadow on the engine.
pub async fn shadows(
    platform: &impl Platform,
) -> Result<Vec<tracking::ShadowState>, PlatformError> {
    let any = any_shadow();
    let (containers, networks, volumes) = futures::try_join!(
        platform.list_containers(Some(&any)),
        platform.list_networks(Some(&any)),
        platform.list_volumes(Some(&any)),
    )?;
    Ok(tracking::shadows(&containers, &networks, &volumes))
}

/// What `gc` removed, with the reason per shadow, and what it could not
/// remove (one line per shadow: its id and the engine's error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub removed: Vec<(Removed, String)>,
    pub errors: Vec<String>,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Removes every shadow that never became ready and whose creator is gone
/// (killed halfway through `shadow up`, or a kept failure).
pub async fn gc(platform: &impl Platform) -> Result<GcReport, PlatformError> {
    let states = shadows(platform).await?;
    let now = now_unix();
    let alive = |o: &tracking::Owner, created: u64| tracking::owner_alive(o, created, now);
    let mut report = GcReport::default();
    // A shadow the engine refuses to remove (a network that keeps an
    // endpoint of a removed container) is reported; the others still go.
    for (id, reason) in tracking::decide_gc(&states, &alive) {
        match remove(platform, &id).await {
            Ok(removed) => report.removed.push((removed, reason)),
            Err(e) => report.errors.push(format!("shadow {id}: {e}")),
        }
    }
    // A creator killed mid-request leaves creates the engine finishes after
    // our listing: look again once they have settled, until none appear.
    for _ in 0..SETTLE_ROUNDS {
        if report.removed.is_empty() {
            break;
        }
        tokio::time::sleep(SETTLE).await;
        let mut late = false;
        for (removed, _) in &mut report.removed {
            match remove(platform, &removed.id).await {
                Ok(again) => {
                    late |= !again.is_empty();
                    removed.absorb(again);
                }
                Err(e) => report.errors.push(format!("shadow {}: {e}", removed.id)),
            }
        }
        if !late {
            break;
        }
    }
    remove_guard_if_unused(platform).await;
    Ok(report)
}

/// How long `gc` lets a killed creator's last requests settle, and how
/// many times it looks again.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);
const SETTLE_ROUNDS: usize = 3;

#[cfg(test)]
mod tests;
