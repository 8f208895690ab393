//! From a validated request, its resolved targets and facts about them
//! (inspect details, host capabilities) to the exact steps that apply a
//! fault and the steps that revert it (pure). `--dry-run` prints these.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;

use super::super::catalog::{FaultRequest, Level};
use super::super::journal::RevertOp;
use super::super::netns::{self, Capabilities};
use super::super::target::{Resolution, Resolved};
use crate::domain::ContainerSpec;
use crate::platform::{ContainerDetails, ResourceUpdate};

/// A fault proxy fronting a service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyFacts {
    pub container: String,
    /// Its route names (`api-8080`).
    pub routes: Vec<String>,
}

/// Facts the compiler needs about the containers involved.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Fault proxies by the service they front.
    pub proxies: BTreeMap<String, ProxyFacts>,
    pub details: BTreeMap<String, ContainerDetails>,
    pub caps: Option<Capabilities>,
    /// Containers whose image has understudy at /understudy.
    pub has_understudy: BTreeMap<String, bool>,
    /// Host CPUs (for throttling an unlimited container).
    pub host_cpus: u32,
}

/// One apply step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    Kill {
        container: String,
        signal: String,
    },
    Stop {
        container: String,
        grace_ms: u64,
    },
    Restart {
        container: String,
        grace_ms: u64,
    },
    Pause {
        container: String,
    },
    Update {
        container: String,
        update: ResourceUpdate,
    },
    Disconnect {
        container: String,
        network: String,
    },
    Connect {
        container: String,
        network: String,
        aliases: Vec<String>,
    },
    Netns {
        container: String,
        commands: Vec<Vec<String>>,
    },
    Upload {
        container: String,
        dir: String,
        file: String,
        bytes: u64,
    },
    Recreate {
        container: String,
        spec: Box<ContainerSpec>,
    },
    /// Start a command inside the container and leave it running.
    /// Add a fault to a route of a fault proxy (`proxy ctl add`).
    ProxyAdd {
        container: String,
        route: String,
        words: Vec<String>,
    },
    Spawn {
        container: String,
        argv: Vec<String>,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kill { container, signal } => write!(f, "kill {container} with {signal}"),
            Self::Stop {
                container,
                grace_ms,
            } => write!(f, "stop {container} (grace {grace_ms} ms)"),
            Self::Restart {
                container,
                grace_ms,
            } => write!(f, "restart {container} (grace {grace_ms} ms)"),
            Self::Pause { container } => write!(f, "pause {container}"),
            Self::Update { container, update } => {
                write!(f, "update {container} resources {update:?}")
            }
            Self::Disconnect { container, network } => {
                write!(f, "disconnect {container} from {network}")
            }
            Self::Connect {
                container,
                network,
                aliases,
            } => {
                write!(
                    f,
                    "connect {container} to {network} as [{}]",
                    aliases.join(", ")
                )
            }
            Self::Netns {
                container,
                commands,
            } => {
                write!(f, "in the network namespace of {container}:")?;
                for c in commands {
                    write!(f, "\n      {}", c.join(" "))?;
                }
                Ok(())
            }
            Self::Upload {
                container,
                dir,
                file,
                bytes,
            } => {
                write!(f, "write {bytes} bytes to {dir}/{file} in {container}")
            }
            Self::Recreate { container, spec } => {
                write!(
                    f,
                    "recreate {container} with env [{}]",
                    spec.env.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }
            Self::ProxyAdd {
                container,
                route,
                words,
            } => {
                write!(
                    f,
                    "in fault proxy {container}: add to {route}: {}",
                    words.join(" ")
                )
            }
            Self::Spawn { container, argv } => {
                write!(f, "start `{}` in {container}", argv.join(" "))
            }
        }
    }
}

/// A compiled fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compiled {
    pub steps: Vec<Step>,
    /// In the order to run them.
    pub reverts: Vec<RevertOp>,
    pub containers: Vec<String>,
    pub notes: Vec<String>,
}

/// Why a fault cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("{kind} needs {needs}, but the target is {got}")]
    Aim {
        kind: String,
        needs: &'static str,
        got: &'static str,
    },
    #[error("packet faults are unavailable here: {0}")]
    NoPackets(String),
    #[error(
        "this kernel lacks netem (sch_netem), so there is no packet-level latency here; use the edge fault instead: understudy fault apply latency --target SHADOW/FROM->TO --set latency=..."
    )]
    NoNetem,
    #[error("{container} has no {what}")]
    Missing { container: String, what: String },
    #[error("{0} is not supported yet")]
    Unsupported(String),
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn containers(res: &Resolution, kind: &str) -> Result<Vec<Resolved>, CompileError> {
    match res {
        Resolution::Containers(c) => Ok(c.clone()),
        Resolution::Edge { .. } => Err(CompileError::Aim {
            kind: kind.to_owned(),
            needs: "containers or a service",
            got: "an edge",
        }),
    }
}

fn detail<'a>(facts: &'a Facts, c: &Resolved) -> Result<&'a ContainerDetails, CompileError> {
    facts
        .details
        .get(&c.name)
        .ok_or_else(|| CompileError::Missing {
            container: c.name.clone(),
            what: "inspect details".to_owned(),
        })
}

/// The update that limits a container to `cpus`, and the one that restores
/// it, using the knob it was created with (Docker refuses to mix them).
pub fn cpu_updates(spec: &ContainerSpec, cpus: f64) -> (ResourceUpdate, ResourceUpdate) {
    let r = &spec.resources;
    if let Some(quota) = r.cpu_quota {
        let period = r.cpu_period.unwrap_or(100_000);
        let new = ResourceUpdate {
            cpu_quota: Some((cpus * period as f64).round() as i64),
            cpu_period: Some(period),
            ..ResourceUpdate::default()
        };
        let old = ResourceUpdate {
            cpu_quota: Some(quota),
            cpu_period: Some(period),
            ..ResourceUpdate::default()
        };
        (new, old)
    } else if let Some(nano) = r.nano_cpus {
        let new = ResourceUpdate {
            nano_cpus: Some((cpus * 1e9).round() as i64),
            ..ResourceUpdate::default()
        };
        (
            new,
            ResourceUpdate {
                nano_cpus: Some(nano),
                ..ResourceUpdate::default()
            },
        )
    } else {
        // Unlimited: throttle with CFS quota, and restore with quota -1.
        let new = ResourceUpdate {
            cpu_quota: Some((cpus * 100_000.0).round() as i64),
            cpu_period: Some(100_000),
            ..ResourceUpdate::default()
        };
        (
            new,
            ResourceUpdate {
                cpu_quota: Some(-1),
                cpu_period: Some(100_000),
                ..ResourceUpdate::default()
            },
        )
    }
}

/// The current CPU limit in CPUs, or `host` when unlimited.
pub fn cpu_limit(spec: &ContainerSpec, host: u32) -> f64 {
    let r = &spec.resources;
    match (r.cpu_quota, r.nano_cpus) {
        (Some(q), _) => q as f64 / r.cpu_period.unwrap_or(100_000) as f64,
        (None, Some(n)) => n as f64 / 1e9,
        (None, None) => f64::from(host.max(1)),
    }
}

/// Memory updates: the limit `bytes` (no extra swap), and the restore.
pub fn memory_updates(
    spec: &ContainerSpec,
    bytes: i64,
    host_memory: i64,
) -> (ResourceUpdate, ResourceUpdate) {
    let r = &spec.resources;
    let new = ResourceUpdate {
        memory: Some(bytes),
        memory_swap: Some(bytes),
        ..ResourceUpdate::default()
    };
    let old_memory = r.memory.unwrap_or(host_memory);
    let old_swap = r.memory_swap.unwrap_or(if r.memory.is_some() {
        old_memory * 2
    } else {
        -1
    });
    (
        new,
        ResourceUpdate {
            memory: Some(old_memory),
            memory_swap: Some(old_swap),
            ..ResourceUpdate::default()
        },
    )
}

fn instance(
    kind: &str,
    req: &FaultRequest,
    c: &Resolved,
    facts: &Facts,
    id: &str,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    let name = c.name.clone();
    match kind {
        "kill" => {
            out.steps.push(Step::Kill {
                container: name.clone(),
                signal: req.text("signal").unwrap_or("SIGKILL").to_owned(),
            });
            out.reverts.push(RevertOp::Start { container: name });
        }
        "stop" => {
            out.steps.push(Step::Stop {
                container: name.clone(),
                grace_ms: req.duration("grace").map_or(2000, ms),
            });
            out.reverts.push(RevertOp::Start { container: name });
        }
        "restart" => {
            out.steps.push(Step::Restart {
                container: name.clone(),
                grace_ms: req.duration("grace").map_or(1000, ms),
            });
            out.reverts.push(RevertOp::Start { container: name });
        }
        "pause" => {
            out.steps.push(Step::Pause {
                container: name.clone(),
            });
            out.reverts.push(RevertOp::Unpause { container: name });
        }
        "cpu-throttle" => {
            let d = detail(facts, c)?;
            let (new, old) = cpu_updates(&d.spec, req.number("cpus").unwrap_or(0.1));
            out.steps.push(Step::Update {
                container: name.clone(),
                update: new,
            });
            out.reverts.push(RevertOp::Restore {
                container: name,
                update: old,
            });
        }
        "memory-pressure" => {
            let d = detail(facts, c)?;
            let bytes = req.number("memory").unwrap_or(32.0 * 1024.0 * 1024.0) as i64;
            let (new, old) = memory_updates(&d.spec, bytes.max(6 << 20), 1 << 40);
            out.steps.push(Step::Update {
                container: name.clone(),
                update: new,
            });
            out.reverts.push(RevertOp::Restore {
                container: name,
                update: old,
            });
        }
        "disk-fill" => {
            let dir = req.text("path").unwrap_or("/tmp").to_owned();
            let file = format!(".understudy-fill-{id}");
            let bytes = req.number("size").unwrap_or(100.0 * 1024.0 * 1024.0) as u64;
            out.steps.push(Step::Upload {
                container: name.clone(),
                dir: dir.clone(),
                file: file.clone(),
                bytes,
            });
            out.reverts.push(RevertOp::Upload {
                container: name,
                dir,
                tar_base64: super::files::empty_file_tar_base64(&file),
            });
            out.notes.push(
                "disk-fill is reverted by emptying the file (the archive API cannot delete)"
                    .to_owned(),
            );
        }
        other => return Err(CompileError::Unsupported(other.to_owned())),
    }
    Ok(())
}

fn packets(
    kind: &str,
    req: &FaultRequest,
    targets: &[Resolved],
    facts: &Facts,
    id: &str,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    let caps = facts
        .caps
        .as_ref()
        .ok_or_else(|| CompileError::NoPackets("capabilities not probed".to_owned()))?;
    if let Some(why) = &caps.unavailable {
        return Err(CompileError::NoPackets(why.clone()));
    }
    let iptables = caps
        .iptables
        .clone()
        .unwrap_or_else(|| "iptables".to_owned());
    for c in targets {
        let commands = match kind {
            "packet-drop" => {
                netns::packet_drop(&iptables, req.number("percent").unwrap_or(0.1), id)
            }
            "rate-limit" => netns::rate_limit(
                req.number("rate").unwrap_or(1_048_576.0) as u64,
                req.number("burst").unwrap_or(32_768.0) as u64,
                req.duration("latency").unwrap_or(Duration::from_millis(50)),
            ),
            "packet-latency" => {
                if !caps.netem {
                    return Err(CompileError::NoNetem);
                }
                netns::latency(
                    req.duration("latency")
                        .unwrap_or(Duration::from_millis(100)),
                    req.duration("jitter").unwrap_or_default(),
                )
            }
            other => return Err(CompileError::Unsupported(other.to_owned())),
        };
        out.steps.push(Step::Netns {
            container: c.name.clone(),
            commands: commands.apply,
        });
        out.reverts.push(RevertOp::Netns {
            container: c.name.clone(),
            commands: commands.revert,
        });
    }
    Ok(())
}

fn ips(facts: &Facts, group: &[Resolved]) -> Vec<Ipv4Addr> {
    group
        .iter()
        .filter_map(|c| facts.details.get(&c.name))
        .flat_map(|d| d.networks.iter().filter_map(|n| n.ip))
        .collect()
}

fn partition(
    req: &FaultRequest,
    from: &[Resolved],
    to: &[Resolved],
    facts: &Facts,
    id: &str,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    let caps = facts
        .caps
        .as_ref()
        .ok_or_else(|| CompileError::NoPackets("capabilities not probed".to_owned()))?;
    if let Some(why) = &caps.unavailable {
        return Err(CompileError::NoPackets(why.clone()));
    }
    let iptables = caps
        .iptables
        .clone()
        .unwrap_or_else(|| "iptables".to_owned());
    let reject = req.text("mode") == Some("reject");
    for (side, peers) in [(from, ips(facts, to)), (to, ips(facts, from))] {
        for c in side {
            let commands = netns::partition(&iptables, &peers, reject, id);
            out.steps.push(Step::Netns {
                container: c.name.clone(),
                commands: commands.apply,
            });
            out.reverts.push(RevertOp::Netns {
                container: c.name.clone(),
                commands: commands.revert,
            });
        }
    }
    Ok(())
}

fn service(
    kind: &str,
    req: &FaultRequest,
    targets: &[Resolved],
    facts: &Facts,
    id: &str,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    match kind {
        "outage" => {
            let instance_kind = match req.text("mode") {
                Some("kill") => "kill",
                Some("pause") => "pause",
                _ => "stop",
            };
            let mut sub = req.clone();
            sub.params.insert("signal".into(), "SIGKILL".into());
            for c in targets {
                instance(instance_kind, &sub, c, facts, id, out)?;
            }
        }
        "degrade" => {
            let share = req.number("share").unwrap_or(0.5);
            let count =
                ((targets.len() as f64 * share).ceil() as usize).clamp(1, targets.len().max(1));
            let sub_kind = req.text("fault").unwrap_or("cpu-throttle").to_owned();
            for c in targets.iter().take(count) {
                instance(&sub_kind, req, c, facts, id, out)?;
            }
            out.notes.push(format!(
                "{count} of {} replicas degraded with {sub_kind}",
                targets.len()
            ));
        }
        "dns-loss" => {
            let keep_alias = req.text("mode") == Some("alias");
            for c in targets {
                let d = detail(facts, c)?;
                for n in &d.networks {
                    let without: Vec<String> = n
                        .aliases
                        .iter()
                        .filter(|a| **a != c.service)
                        .cloned()
                        .collect();
                    out.steps.push(Step::Disconnect {
                        container: c.name.clone(),
                        network: n.network.clone(),
                    });
                    if keep_alias {
                        out.steps.push(Step::Connect {
                            container: c.name.clone(),
                            network: n.network.clone(),
                            aliases: without,
                        });
                    }
                    out.reverts.push(RevertOp::Reconnect {
                        container: c.name.clone(),
                        network: n.network.clone(),
                        aliases: n.aliases.clone(),
                    });
                }
            }
        }
        other => return Err(CompileError::Unsupported(other.to_owned())),
    }
    Ok(())
}

fn breach(
    kind: &str,
    req: &FaultRequest,
    targets: &[Resolved],
    facts: &Facts,
    id: &str,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    for c in targets {
        let d = detail(facts, c)?;
        match kind {
            "quarantine" => {
                for n in &d.networks {
                    out.steps.push(Step::Disconnect {
                        container: c.name.clone(),
                        network: n.network.clone(),
                    });
                    out.reverts.push(RevertOp::Reconnect {
                        container: c.name.clone(),
                        network: n.network.clone(),
                        aliases: n.aliases.clone(),
                    });
                }
            }
            "credential-revocation" => {
                let var = req.text("var").unwrap_or_default().to_owned();
                let mut spec = d.spec.clone();
                if !spec.env.contains_key(&var) {
                    out.notes
                        .push(format!("{} has no {var}; it is added", c.name));
                }
                match req.text("value").unwrap_or_default() {
                    "" => {
                        spec.env.remove(&var);
                    }
                    v => {
                        spec.env.insert(var.clone(), v.to_owned());
                    }
                }
                out.steps.push(Step::Recreate {
                    container: c.name.clone(),
                    spec: Box::new(spec),
                });
                out.reverts.push(RevertOp::Recreate {
                    container: c.name.clone(),
                    spec: Box::new(d.spec.clone()),
                });
            }
            "resource-hijack" => {
                let share = req.number("share").unwrap_or(0.1);
                let cpus = cpu_limit(&d.spec, facts.host_cpus) * share;
                let (new, old) = cpu_updates(&d.spec, cpus.max(0.01));
                out.steps.push(Step::Update {
                    container: c.name.clone(),
                    update: new,
                });
                let burner = req.text("burner") != Some("false")
                    && facts.has_understudy.get(&c.name).copied().unwrap_or(false);
                if burner {
                    out.steps.push(Step::Spawn {
                        container: c.name.clone(),
                        argv: vec![
                            "/understudy".into(),
                            "burn".into(),
                            "--id".into(),
                            id.to_owned(),
                            "--for".into(),
                            "24h".into(),
                        ],
                    });
                    out.reverts.push(RevertOp::Upload {
                        container: c.name.clone(),
                        dir: "/".to_owned(),
                        tar_base64: super::files::empty_file_tar_base64(
                            &crate::fault::burn::stop_file(id),
                        ),
                    });
                } else {
                    out.notes.push(format!(
                        "{}: no CPU burner (its image has no understudy binary)",
                        c.name
                    ));
                }
                out.reverts.push(RevertOp::Restore {
                    container: c.name.clone(),
                    update: old,
                });
            }
            other => return Err(CompileError::Unsupported(other.to_owned())),
        }
    }
    Ok(())
}

/// An edge fault: added to every route of the proxy fronting TO, limited
/// to FROM's addresses.
fn edge(
    req: &FaultRequest,
    res: &Resolution,
    facts: &Facts,
    out: &mut Compiled,
) -> Result<(), CompileError> {
    let Resolution::Edge { from, to } = res else {
        return Err(CompileError::Aim {
            kind: req.kind.clone(),
            needs: "an edge SHADOW/FROM->TO",
            got: "containers",
        });
    };
    let service = to.first().map(|t| t.service.clone()).unwrap_or_default();
    let proxy = facts
        .proxies
        .get(&service)
        .ok_or_else(|| CompileError::Missing {
            container: service.clone(),
            what: "fault proxy (the shadow was created with --no-proxies; apply it again without)"
                .to_owned(),
        })?;
    let sources: Vec<String> = ips(facts, from)
        .iter()
        .map(|ip| format!("{ip}/32"))
        .collect();
    if sources.is_empty() {
        return Err(CompileError::Missing {
            container: from.first().map_or_else(String::new, |f| f.service.clone()),
            what: "network address".to_owned(),
        });
    }
    let mut words = vec![req.kind.clone()];
    words.extend(req.params.iter().map(|(k, v)| format!("{k}={v}")));
    words.push(format!("sources={}", sources.join(",")));
    for route in &proxy.routes {
        out.steps.push(Step::ProxyAdd {
            container: proxy.container.clone(),
            route: route.clone(),
            words: words.clone(),
        });
        out.reverts.push(RevertOp::ProxyFaults {
            container: proxy.container.clone(),
            proxy: route.clone(),
            ids: Vec::new(),
            kind: req.kind.clone(),
        });
    }
    out.notes.push(format!(
        "through {} for calls from {} ({})",
        proxy.container,
        from.first().map_or("", |f| f.service.as_str()),
        sources.join(", ")
    ));
    Ok(())
}

/// Compiles a fault into steps and reverts.
pub fn compile(
    req: &FaultRequest,
    res: &Resolution,
    facts: &Facts,
    id: &str,
) -> Result<Compiled, CompileError> {
    if super::super::catalog::edge_kind(&req.kind).is_some() {
        let mut out = Compiled {
            steps: Vec::new(),
            reverts: Vec::new(),
            containers: Vec::new(),
            notes: Vec::new(),
        };
        edge(req, res, facts, &mut out)?;
        out.containers = out
            .steps
            .iter()
            .map(step_container)
            .map(str::to_owned)
            .collect();
        out.containers.dedup();
        return Ok(out);
    }
    let mut out = Compiled {
        steps: Vec::new(),
        reverts: Vec::new(),
        containers: Vec::new(),
        notes: Vec::new(),
    };
    let kind = req.kind.as_str();
    let def = super::super::catalog::kind(kind)
        .ok_or_else(|| CompileError::Unsupported(kind.to_owned()))?;
    if kind == "partition" {
        let Resolution::Edge { from, to } = res else {
            return Err(CompileError::Aim {
                kind: kind.to_owned(),
                needs: "an edge SHADOW/FROM->TO",
                got: "containers",
            });
        };
        partition(req, from, to, facts, id, &mut out)?;
    } else {
        let targets = containers(res, kind)?;
        match def.level {
            Level::Instance => {
                for c in &targets {
                    instance(kind, req, c, facts, id, &mut out)?;
                }
            }
            Level::Service => service(kind, req, &targets, facts, id, &mut out)?,
            Level::Packet => packets(kind, req, &targets, facts, id, &mut out)?,
            Level::Breach => breach(kind, req, &targets, facts, id, &mut out)?,
            Level::Edge => return Err(CompileError::Unsupported(kind.to_owned())),
        }
    }
    let mut names: Vec<String> = out
        .steps
        .iter()
        .map(step_container)
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    out.containers = names;
    Ok(out)
}

fn step_container(s: &Step) -> &str {
    match s {
        Step::Kill { container, .. }
        | Step::Stop { container, .. }
        | Step::Restart { container, .. }
        | Step::Pause { container }
        | Step::Update { container, .. }
        | Step::Disconnect { container, .. }
        | Step::Connect { container, .. }
        | Step::Netns { container, .. }
        | Step::Upload { container, .. }
        | Step::Recreate { container, .. }
        | Step::ProxyAdd { container, .. }
        | Step::Spawn { container, .. } => container,
    }
}

#[cfg(test)]
mod tests;
