//! A container as the platform lists it: identity, state, health, labels.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Lifecycle state as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    Unknown,
}

impl RunState {
    /// Parses the engine's state word (`running`, `exited`, ...).
    pub fn parse(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" => Self::Exited,
            "dead" => Self::Dead,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Healthcheck status; `None` when the container has no healthcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    /// Parses an inspect `State.Health.Status` word.
    pub fn parse(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "starting" => Self::Starting,
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            _ => Self::None,
        }
    }

    /// Reads health from the list endpoint's human status text, e.g.
    /// `Up 5 seconds (healthy)` or `Up 1 second (health: starting)`.
    /// Old engines (API 1.41) report health only there.
    pub fn from_status_text(status: &str) -> Self {
        if status.contains("(healthy)") {
            Self::Healthy
        } else if status.contains("(unhealthy)") {
            Self::Unhealthy
        } else if status.contains("(health: starting)") {
            Self::Starting
        } else {
            Self::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Starting => "starting",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
        }
    }

    /// Ready to serve: healthy, or running without a healthcheck.
    pub fn is_ready(self, state: RunState) -> bool {
        state == RunState::Running && matches!(self, Self::Healthy | Self::None)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A published port: container port -> host address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortBinding {
    pub container_port: u16,
    pub protocol: String,
    pub host_ip: String,
    pub host_port: u16,
}

impl PortBinding {
    /// `http://HOST:PORT` for this binding, with `0.0.0.0` shown as loopback.
    pub fn http_url(&self) -> String {
        let host = match self.host_ip.as_str() {
            "" | "0.0.0.0" | "::" => "127.0.0.1",
            other => other,
        };
        format!("http://{host}:{}", self.host_port)
    }
}

/// One container as listed by the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    /// Name without the leading slash.
    pub name: String,
    /// Image reference as created (tag or id).
    pub image: String,
    pub state: RunState,
    pub health: Health,
    /// The engine's human status (`Up 3 minutes (healthy)`).
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<PortBinding>,
}

impl ContainerSummary {
    /// The first 12 characters of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_from_status_text_reads_all_forms() {
        assert_eq!(
            Health::from_status_text("Up 5 seconds (healthy)"),
            Health::Healthy
        );
        assert_eq!(
            Health::from_status_text("Up 2 minutes (unhealthy)"),
            Health::Unhealthy
        );
        assert_eq!(
            Health::from_status_text("Up 1 second (health: starting)"),
            Health::Starting
        );
        assert_eq!(Health::from_status_text("Up 3 hours"), Health::None);
        assert_eq!(
            Health::from_status_text("Exited (0) 2 seconds ago"),
            Health::None
        );
    }

    #[test]
    fn readiness_needs_running() {
        assert!(Health::Healthy.is_ready(RunState::Running));
        assert!(Health::None.is_ready(RunState::Running));
        assert!(!Health::Starting.is_ready(RunState::Running));
        assert!(!Health::Healthy.is_ready(RunState::Paused));
    }

    #[test]
    fn state_parse_round_trips() {
        for s in [
            RunState::Created,
            RunState::Running,
            RunState::Paused,
            RunState::Restarting,
            RunState::Removing,
            RunState::Exited,
            RunState::Dead,
        ] {
            assert_eq!(RunState::parse(s.as_str()), s);
        }
        assert_eq!(RunState::parse("weird"), RunState::Unknown);
    }

    #[test]
    fn url_shows_wildcard_as_loopback() {
        let p = PortBinding {
            container_port: 8080,
            protocol: "tcp".into(),
            host_ip: "0.0.0.0".into(),
            host_port: 49153,
        };
        assert_eq!(p.http_url(), "http://127.0.0.1:49153");
    }
}
