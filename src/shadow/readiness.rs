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

const POLL: Duration = Duration::from_millis(50);

/// One probe attempt's outcome.
enum Attempt {
    Ready(ReadyVia),
    NotYet(String),
}

/// Runs the container's healthcheck command once through exec.
async fn exec_check(
    platform: &impl Platform,
    name: &str,
    argv: &[String],
    timeout: Duration,
) -> Result<Attempt, String> {
    match platform.exec(name, argv, timeout).await {
        Ok(out) if out.exit_code == 0 => Ok(Attempt::Ready(ReadyVia::Healthcheck)),
        Ok(out) => Ok(Attempt::NotYet(out.output.trim().to_owned())),
        // exec unsupported, or the check's binary is missing: rely on the
        // engine's own health status from now on.
        Err(PlatformError::Unsupported { .. }) => Err(String::new()),
        Err(e) if e.to_string().contains("executable file not found") => Err(e.to_string()),
        Err(e) => Ok(Attempt::NotYet(e.to_string())),
    }
}

/// Connects to every exposed TCP port from inside the shadow (the relay).
async fn tcp_check(platform: &impl Platform, relay: &str, targets: &[String]) -> Attempt {
    for target in targets {
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
            Ok(out) => return Attempt::NotYet(out.output.trim().to_owned()),
            Err(e) => return Attempt::NotYet(e.to_string()),
        }
    }
    Attempt::Ready(ReadyVia::Tcp)
}

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
    let not_ready = |state, detail: String| NotReady {
        container: spec.name.clone(),
        state,
        detail,
    };
    loop {
        let details = platform
            .inspect_container(&spec.name)
            .await
            .map_err(|e| not_ready(RunState::Unknown, e.to_string()))?;
        if !matches!(
            details.state,
            RunState::Running | RunState::Created | RunState::Restarting
        ) {
            let oom = if details.oom_killed {
                ", OOM killed"
            } else {
                ""
            };
            return Err(not_ready(
                details.state,
                format!("exit code {}{oom}", details.exit_code),
            ));
        }
        if details.health == Health::Healthy {
            return Ok((ReadyVia::Healthcheck, started.elapsed()));
        }
        if let Some(h) = details.health_log.last() {
            last.clone_from(h);
        }
        let attempt = match (details.state, &check, spec.healthcheck.is_some(), prober) {
            (RunState::Running, Some(argv), _, _) if exec_works => {
                match exec_check(platform, &spec.name, argv, exec_timeout).await {
                    Ok(a) => Some(a),
                    Err(reason) => {
                        exec_works = false;
                        Some(Attempt::NotYet(reason))
                    }
                }
            }
            (RunState::Running, _, false, Some(relay)) if !tcp.is_empty() => {
                Some(tcp_check(platform, relay, &tcp).await)
            }
            (RunState::Running, _, false, _) => Some(Attempt::Ready(ReadyVia::Running)),
            _ => None,
        };
        match attempt {
            Some(Attempt::Ready(via)) => return Ok((via, started.elapsed())),
            Some(Attempt::NotYet(reason)) if !reason.is_empty() => last = reason,
            _ => {}
        }
        if Instant::now() >= deadline {
            let detail = if last.is_empty() {
                format!("health {}", details.health)
            } else {
                format!("health {}; last check: {last}", details.health)
            };
            return Err(not_ready(details.state, detail));
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
