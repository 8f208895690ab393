//! The shadow plan (pure): everything `shadow up` will create from a Spec,
//! each rewrite with its reason, what is refused and why, and what will not
//! work in the shadow. Nothing here touches the platform; `shadow plan`
//! prints it and `shadow up` applies it.

mod proxies;
mod render;
mod rewrite;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use render::render_text;

use super::subnet::Ipv4Net;
use crate::domain::{ContainerSpec, GroupSpec, NetworkSpec, VolumeSpec};

/// What to do with production volumes and bind mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeMode {
    /// Copy production's data into shadow-owned volumes (the default).
    #[default]
    Snapshot,
    /// Mount production's volumes read-only.
    #[value(name = "ro")]
    ReadOnly,
    /// Start from an empty tmpfs.
    Tmpfs,
    /// Refuse to shadow a service that has volumes.
    Refuse,
}

/// A risky production setting that is refused unless allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Allowance {
    /// `network_mode: host`: the clone would share the host's network.
    HostNetwork,
    /// `network_mode: container:X`: remapped to the clone of X.
    ContainerNetwork,
    /// `privileged: true`.
    Privileged,
    /// `pid: host`.
    HostPid,
    /// `ipc: host`.
    HostIpc,
    /// Host devices mapped in.
    Devices,
}

impl Allowance {
    pub fn flag(self) -> &'static str {
        match self {
            Self::HostNetwork => "host-network",
            Self::ContainerNetwork => "container-network",
            Self::Privileged => "privileged",
            Self::HostPid => "host-pid",
            Self::HostIpc => "host-ipc",
            Self::Devices => "devices",
        }
    }
}

/// Whether the host rule that cuts shadows off the host's own addresses
/// can be installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum GuardCapability {
    /// `iptables` (the binary Docker's rules live in) as root.
    Available {
        iptables: String,
    },
    Unavailable {
        reason: String,
    },
}

/// Inputs of a plan besides the Spec.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub id: String,
    /// Entry services; empty means those publishing ports in production.
    pub entry: Vec<String>,
    pub volumes: VolumeMode,
    pub allow: BTreeSet<Allowance>,
    /// Pause a production container while its data is copied.
    pub consistent: bool,
    pub internal_subnet: Ipv4Net,
    pub edge_subnet: Ipv4Net,
    /// The pool both subnets came from.
    pub pool: Ipv4Net,
    /// Image of the ingress relay and the fault proxies (our own).
    pub relay_image: String,
    /// Interpose a fault proxy on every service edge.
    pub proxies: bool,
    /// The token of the shadow's fault proxies' control API.
    pub proxy_token: String,
    /// The process applying the plan (recorded on every resource for `gc`).
    pub owner: super::tracking::Owner,
    pub created_unix: u64,
    pub guard: GuardCapability,
}

/// One container to create: a clone, or a helper such as a fault proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedContainer {
    pub service: String,
    pub number: u32,
    /// The production container it clones.
    pub clone_of: Option<String>,
    pub spec: ContainerSpec,
    /// Files put into the created container before it starts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<PlannedUpload>,
}

/// A file uploaded into a container before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedUpload {
    pub dir: String,
    pub name: String,
    pub content: String,
}

/// A shadow-owned volume and where its data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedVolume {
    pub spec: VolumeSpec,
    /// Production container and path to copy from (`None`: starts empty).
    pub copy_from: Option<(String, String)>,
    /// The clone (not yet started) that mounts it, which the copy goes into.
    pub copy_into: (String, String),
    pub pause_source: bool,
}

/// One route of the ingress relay: a loopback port to a service port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngressRoute {
    pub service: String,
    pub service_port: u16,
    /// The relay's own listening port, published on 127.0.0.1:<ephemeral>.
    pub relay_port: u16,
}

/// The ingress relay container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedIngress {
    pub spec: ContainerSpec,
    pub routes: Vec<IngressRoute>,
}

/// A change from production, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    pub subject: String,
    pub change: String,
    pub reason: String,
}

/// A production setting the shadow will not copy without `--allow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub service: String,
    pub setting: String,
    pub reason: String,
    /// The `--allow` value that accepts it (`None`: cannot be allowed).
    pub allow: Option<String>,
}

/// Everything `shadow up` will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowPlan {
    pub id: String,
    pub group: String,
    pub networks: Vec<NetworkSpec>,
    pub volumes: Vec<PlannedVolume>,
    /// Containers grouped by start tier (dependencies first).
    pub tiers: Vec<Vec<PlannedContainer>>,
    pub ingress: Option<PlannedIngress>,
    pub guard: GuardCapability,
    /// The pool the subnets came from (apply re-allocates on a race).
    pub pool: String,
    /// The marker volume created once the shadow is completely up.
    pub ready_marker: VolumeSpec,
    pub rewrites: Vec<Rewrite>,
    pub refusals: Vec<Refusal>,
    /// Dependencies the shadow cannot reach, and other caveats.
    pub warnings: Vec<String>,
}

impl ShadowPlan {
    pub fn containers(&self) -> impl Iterator<Item = &PlannedContainer> {
        self.tiers.iter().flatten()
    }

    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty()
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("unknown entry service {service:?}; services of {group}: {}", .known.join(", "))]
    UnknownEntry {
        group: String,
        service: String,
        known: Vec<String>,
    },
    #[error("the Spec of {0:?} has no services")]
    Empty(String),
}

/// Plans a shadow of `spec`.
pub fn plan(spec: &GroupSpec, options: &PlanOptions) -> Result<ShadowPlan, PlanError> {
    if spec.services.is_empty() {
        return Err(PlanError::Empty(spec.group.clone()));
    }
    let known: Vec<String> = spec.services.iter().map(|s| s.name.clone()).collect();
    for e in &options.entry {
        if !known.contains(e) {
            return Err(PlanError::UnknownEntry {
                group: spec.group.clone(),
                service: e.clone(),
                known,
            });
        }
    }
    let mut ctx = rewrite::Context::new(spec, options);
    let networks = ctx.networks();
    let deps: BTreeMap<String, BTreeSet<String>> = spec
        .services
        .iter()
        .map(|s| (s.name.clone(), s.depends_on.iter().cloned().collect()))
        .collect();
    let order: Vec<String> = spec.services.iter().map(|s| s.name.clone()).collect();
    let mut tiers = Vec::new();
    for tier in super::order::tiers(&order, &deps) {
        let mut planned = Vec::new();
        for name in tier {
            if let Some(service) = spec.service(&name) {
                planned.extend(ctx.clones(service));
            }
        }
        tiers.push(planned);
    }
    if options.proxies {
        proxies::interpose(spec, options, &mut tiers, &mut ctx.rewrites);
    }
    let ingress = ctx.ingress();
    let volumes = ctx.take_volumes();
    ctx.flag_external_hosts();
    Ok(ShadowPlan {
        id: options.id.clone(),
        group: spec.group.clone(),
        networks: if ingress.is_some() {
            networks
        } else {
            networks.into_iter().take(1).collect()
        },
        volumes,
        tiers,
        ingress,
        guard: options.guard.clone(),
        pool: options.pool.to_string(),
        ready_marker: ctx.ready_marker(),
        rewrites: ctx.rewrites,
        refusals: ctx.refusals,
        warnings: ctx.warnings,
    })
}

#[cfg(test)]
pub(crate) mod tests;
