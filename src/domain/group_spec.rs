//! The Spec of a group: the declarative, serializable capture of its services
//! (infrastructure as code). Shadows are applied from a Spec. Written as TOML
//! by `understudy snapshot`; loading a written Spec gives an equal value.

use serde::{Deserialize, Serialize};

use super::spec::ContainerSpec;

/// Schema tag written into every Spec file.
pub const SPEC_SCHEMA: &str = "understudy.spec/v1";

/// Where a Spec was captured from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SpecSource {
    /// A running compose project.
    Compose { project: String },
    /// Running containers matching a label selector.
    Selector { selector: String },
    /// A compose file, with images already on the engine.
    ComposeFile { path: String },
}

/// A group's Spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    pub schema: String,
    /// The group's name (compose project, selector text or file stem).
    pub group: String,
    pub source: SpecSource,
    /// Services in start order: every service after those it depends on.
    pub services: Vec<ServiceSpec>,
    /// Named volumes of the group, by their production names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Networks of the group, by their production names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
}

/// How a service's dependencies were learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencySource {
    /// No dependencies known.
    #[default]
    None,
    /// compose's `depends_on` (label or file).
    DependsOn,
    /// Inferred from environment values naming other services (`store:8080`).
    Environment,
}

/// One service: a container template and how many replicas run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub replicas: u32,
    /// The `sha256:` id of the image; shadows run exactly this image.
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "DependencySource::is_none")]
    pub dependency_source: DependencySource,
    /// The production containers, for snapshots and reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<InstanceRef>,
    /// The configuration every replica shares (`name` left empty).
    pub container: ContainerSpec,
}

impl DependencySource {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    fn is_none(&self) -> bool {
        *self == Self::None
    }
}

/// A production container of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub number: u32,
    pub name: String,
}

impl GroupSpec {
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Services that publish ports in production: the entry points.
    pub fn published_services(&self) -> Vec<&ServiceSpec> {
        self.services
            .iter()
            .filter(|s| !s.container.publish.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod round_trip;
