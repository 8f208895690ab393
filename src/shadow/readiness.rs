//! Readiness of a started clone: the container's own healthcheck command,
//! run through exec as soon as the container starts (so a clone is ready as
//! soon as its check passes, not at the engine's next healthcheck tick); the
//! engine's health status counts too. Without a healthcheck: a TCP connect to
//! its exposed ports, made from inside the shadow by the ingress relay (our
//! binary); without either, running is ready.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::domain::spec::Healthcheck;
use crate::domain::{ContainerSpec, Health, RunState};
use crate::platform::{Platform, PlatformError};

/// How readiness was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadyVia {
    Healthcheck,
    Tcp,
    Running,
}

/// Why a clone did not become ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub container: String,
    pub state: RunState,
    pub detail: String,
}

/// The argv that runs a healthcheck test inside the container, if any.
pub fn healthcheck_argv(h: &Healthcheck) -> Option<Vec<String>> {
    match h.test.first().map(String::as_str) {
        Some("CMD") if h.test.len() > 1 => Some(h.test[1..].to_vec()),
        Some("CMD-SHELL") if h.test.len() > 1 => Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            h.test[1..].join(" "),
        ]),
        _ => None,
    }
}

/// `host:port` pairs to probe for a container without a healthcheck.
pub fn tcp_targets(spec: &ContainerSpec) -> Vec<String> {
    spec.exposed
        .iter()
        .filter(|e| e.ends_with("/tcp") || !e.contains('/'))
        .filter_map(|e| e.split('/').next())
        .map(|port| format!("tcp://{}:{port}", spec.name))
        .collect()
}

const POLL: Duration = Duration::from_millis(100);

/// Waits until `spec`'s container is ready or `deadline` passes.
pub async fn wait_ready(
    platform: &impl Platform,
    spec: &ContainerSpec,
    prober: Option<&str>,
    deadline: Instant,
) -> Result<(ReadyVia, Duration), NotReady> {
    let started = Instant::now();
    let check = spec.healthcheck.as_ref().and_then(healthcheck_argv);
    let exec_timeout = spec
        .healthcheck
        .as_ref()
        .map_or(Duration::from_secs(2), |h| {
            h.timeout.max(Duration::from_millis(500))
        });
    let tcp = tcp_targets(spec);
    let mut exec_works = true;
    let mut last = String::new();
    loop {
        let details = platform
            .inspect_container(&spec.name)
            .await
            .map_err(|e| NotReady {
                container: spec.name.clone(),
                state: RunState::Unknown,
                detail: e.to_string(),
            })?;
        match details.state {
            RunState::Running => {}
            RunState::Created | RunState::Restarting => {}
            other => {
                return Err(NotReady {
                    container: spec.name.clone(),
                    state: other,
                    detail: format!(
                        "exit code {}{}",
                        details.exit_code,
                        if details.oom_killed {
                            ", OOM killed"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
        if details.health == Health::Healthy {
            return Ok((ReadyVia::Healthcheck, started.elapsed()));
        }
        if let Some(h) = details.health_log.last() {
            last.clone_from(h);
        }
        if details.state == RunState::Running {
            if let (Some(argv), true) = (&check, exec_works) {
                match platform.exec(&spec.name, argv, exec_timeout).await {
                    Ok(out) if out.exit_code == 0 => {
                        return Ok((ReadyVia::Healthcheck, started.elapsed()));
                    }
                    Ok(out) => last = out.output.trim().to_owned(),
                    Err(PlatformError::Unsupported { .. }) => exec_works = false,
                    Err(e) => {
                        // e.g. the check's binary is missing: rely on the engine's status.
                        last = e.to_string();
                        exec_works = !last.contains("executable file not found");
                    }
                }
            } else if spec.healthcheck.is_none() {
                match (prober, tcp.is_empty()) {
                    (_, true) | (None, _) => return Ok((ReadyVia::Running, started.elapsed())),
                    (Some(relay), false) => {
                        let mut all = true;
                        for target in &tcp {
                            let argv = [
                                "/understudy",
                                "probe",
                                target.as_str(),
                                "--timeout",
                                "500ms",
                            ]
                            .map(str::to_owned)
                            .to_vec();
                            match platform.exec(relay, &argv, Duration::from_secs(2)).await {
                                Ok(out) if out.exit_code == 0 => {}
                                Ok(out) => {
                                    all = false;
                                    last = out.output.trim().to_owned();
                                }
                                Err(e) => {
                                    all = false;
                                    last = e.to_string();
                                }
                            }
                        }
                        if all {
                            return Ok((ReadyVia::Tcp, started.elapsed()));
                        }
                    }
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(NotReady {
                container: spec.name.clone(),
                state: details.state,
                detail: if last.is_empty() {
                    format!("health {}", details.health)
                } else {
                    format!("health {}; last check: {last}", details.health)
                },
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(test: &[&str]) -> Healthcheck {
        Healthcheck {
            test: test.iter().map(|s| (*s).to_owned()).collect(),
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            retries: 3,
            start_period: Duration::ZERO,
        }
    }

    #[test]
    fn exec_and_shell_forms() {
        assert_eq!(
            healthcheck_argv(&hc(&[
                "CMD",
                "/understudy",
                "probe",
                "http://127.0.0.1:8080/healthz"
            ])),
            Some(vec![
                "/understudy".into(),
                "probe".into(),
                "http://127.0.0.1:8080/healthz".into()
            ])
        );
        assert_eq!(
            healthcheck_argv(&hc(&["CMD-SHELL", "curl -f localhost"])),
            Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                "curl -f localhost".into()
            ])
        );
        assert_eq!(healthcheck_argv(&hc(&["NONE"])), None);
    }

    #[test]
    fn tcp_targets_use_the_container_name() {
        let spec = ContainerSpec {
            name: "shop-shadow-a1b2c3-db-1".into(),
            exposed: vec!["5432/tcp".into(), "53/udp".into()],
            ..ContainerSpec::default()
        };
        assert_eq!(tcp_targets(&spec), ["tcp://shop-shadow-a1b2c3-db-1:5432"]);
    }
}
