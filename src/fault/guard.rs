//! The shadow-only guard: the one place every fault operation goes through
//! on its way to the platform. Each operation first inspects its container
//! and refuses, with an explanation, anything not labelled
//! `io.understudy.role=shadow` — whatever the caller resolved. The injector
//! holds a `ShadowOnly`, never the platform itself.

use std::time::Duration;

use crate::domain::{ContainerSpec, labels};
use crate::platform::{ContainerDetails, ExecOutput, Platform, PlatformError, ResourceUpdate};
use crate::shadow::naming;

/// Why the guard refused or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "refusing to touch {name:?}: it lacks the label {}={} (production is changed only by an approved action)",
        labels::ROLE,
        naming::ROLE_SHADOW
    )]
    NotShadow { name: String },
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

/// The platform, restricted to shadow clones.
#[derive(Debug, Clone)]
pub struct ShadowOnly<P> {
    platform: P,
}

impl<P: Platform> ShadowOnly<P> {
    pub fn new(platform: P) -> Self {
        Self { platform }
    }

    /// Read-only access (listing, inspecting, events) stays unrestricted.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Inspects `id` and returns its details only if it is a shadow clone.
    pub async fn check(&self, id: &str) -> Result<ContainerDetails, GuardError> {
        let details = self.platform.inspect_container(id).await?;
        if details.spec.labels.get(labels::ROLE).map(String::as_str) == Some(naming::ROLE_SHADOW) {
            Ok(details)
        } else {
            Err(GuardError::NotShadow { name: details.name })
        }
    }

    pub async fn kill(&self, id: &str, signal: &str) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.kill_container(id, signal).await?)
    }

    pub async fn stop(&self, id: &str, grace: Duration) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.stop_container(id, grace).await?)
    }

    pub async fn start(&self, id: &str) -> Result<(), GuardError> {
        self.check(id).await?;
        match self.platform.start_container(id).await {
            Ok(()) | Err(PlatformError::Api { status: 304, .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn restart(&self, id: &str, grace: Duration) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.restart_container(id, grace).await?)
    }

    pub async fn pause(&self, id: &str) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.pause_container(id).await?)
    }

    pub async fn unpause(&self, id: &str) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.unpause_container(id).await?)
    }

    pub async fn update(&self, id: &str, update: &ResourceUpdate) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.update_resources(id, update).await?)
    }

    pub async fn connect(
        &self,
        network: &str,
        id: &str,
        aliases: &[String],
    ) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.connect_network(network, id, aliases).await?)
    }

    pub async fn disconnect(&self, network: &str, id: &str) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.disconnect_network(network, id).await?)
    }

    pub async fn upload(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.upload_archive(id, dir, tar).await?)
    }

    pub async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, GuardError> {
        self.check(id).await?;
        Ok(self.platform.exec(id, argv, timeout).await?)
    }

    /// Starts a long-running command inside a shadow clone.
    pub async fn spawn(&self, id: &str, argv: &[String]) -> Result<(), GuardError> {
        self.check(id).await?;
        Ok(self.platform.exec_detached(id, argv).await?)
    }

    /// The host PID of a running shadow clone's init (for its network
    /// namespace); `None` when it is not running.
    pub async fn netns_pid(&self, id: &str) -> Result<Option<u32>, GuardError> {
        let details = self.check(id).await?;
        Ok((details.pid > 0).then_some(details.pid))
    }

    /// Replaces a shadow clone by a new container from `spec` (same name),
    /// which must itself be labelled a shadow clone.
    pub async fn recreate(&self, id: &str, spec: &ContainerSpec) -> Result<String, GuardError> {
        self.check(id).await?;
        if spec.labels.get(labels::ROLE).map(String::as_str) != Some(naming::ROLE_SHADOW) {
            return Err(GuardError::NotShadow {
                name: spec.name.clone(),
            });
        }
        self.platform.remove_container(id, true).await?;
        let new_id = self.platform.create_container(spec).await?;
        self.platform.start_container(&new_id).await?;
        Ok(new_id)
    }
}

#[cfg(test)]
mod tests;
