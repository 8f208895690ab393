//! The compose model becomes Spec pieces: one [`ServiceSpec`] per service,
//! with names scoped to the project as compose would create them
//! (`<project>_default`, `<project>_<volume>`), env files read through the
//! injected reader, and every setting understudy cannot keep reported as a
//! warning.
//!
//! Owns the meaning of each compose key. Parsing the file and the start
//! order belong to `compose`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::env::parse_env_file;
use super::error::{At, ComposeError, Source};
use super::lists::{EnvFiles, External, Pairs, Strings};
use super::locate::YamlPath;
use super::model::{ComposeFile, Healthcheck as HealthDecl, Service};
use super::volumes::{self, VolumeKind};
use crate::domain::group_spec::DependencySource;
use crate::domain::spec::{
    Healthcheck, Mount, MountKind, NetworkAttachment, Resources, RestartPolicy, Security, Ulimit,
};
use crate::domain::{ContainerSpec, ServiceSpec};

/// Reads env files for the conversion.
pub type EnvReader<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// The conversion of one file.
pub struct Converter<'a> {
    pub src: &'a Source<'a>,
    pub file: &'a ComposeFile,
    pub project: &'a str,
    /// The compose file's directory: relative paths start here.
    pub dir: &'a Path,
    pub read_env_file: EnvReader<'a>,
    pub warnings: Vec<String>,
}

/// How a service is networked.
struct Networking {
    attachments: Vec<NetworkAttachment>,
    mode: Option<String>,
    /// The service a `network_mode: service:X` needs started first.
    implied: Option<String>,
}

fn services_path(name: &str) -> YamlPath {
    YamlPath::default().key("services").key(name)
}

/// The name compose gives a declared network or volume.
fn scoped_name(
    project: &str,
    key: &str,
    name: Option<&str>,
    external: Option<&External>,
) -> String {
    match external {
        Some(External {
            yes: true,
            name: ext,
        }) => ext.as_deref().or(name).unwrap_or(key).to_owned(),
        _ => name.map_or_else(|| format!("{project}_{key}"), str::to_owned),
    }
}

impl Converter<'_> {
    /// The Spec of service `name` running image `image_id`.
    pub fn service(
        &mut self,
        name: &str,
        svc: &Service,
        image_id: &str,
    ) -> Result<ServiceSpec, ComposeError> {
        let path = services_path(name);
        if let (Some(_), Some(image)) = (&svc.build, &svc.image) {
            self.warnings.push(format!(
                "{path}.build: ignored; understudy never builds, it runs {:?} from the engine",
                image.0
            ));
        }
        let net = self.networks(name, svc)?;
        let mut depends_on = svc.depends_on.clone().map(|d| d.0).unwrap_or_default();
        depends_on.extend(net.implied);
        depends_on.sort();
        depends_on.dedup();
        let (publish, exposed) = ports(svc);
        let container = ContainerSpec {
            image: svc.image.clone().map(|t| t.0).unwrap_or_default(),
            entrypoint: svc.entrypoint.clone().map(|c| c.0),
            cmd: svc.command.clone().map(|c| c.0).unwrap_or_default(),
            env: self.environment(name, svc)?,
            working_dir: text(svc.working_dir.as_ref()),
            user: text(svc.user.as_ref()),
            hostname: text(svc.hostname.as_ref()),
            labels: pairs(svc.labels.as_ref()),
            healthcheck: svc
                .healthcheck
                .as_ref()
                .and_then(|h| self.healthcheck(&path, h)),
            restart: self.restart(&path, svc),
            resources: resources(svc),
            exposed,
            publish,
            networks: net.attachments,
            mounts: self.mounts(name, svc)?,
            stop_signal: text(svc.stop_signal.as_ref()),
            stop_grace: svc.stop_grace_period.map(|d| d.0),
            network_mode: net.mode,
            extra_hosts: svc.extra_hosts.clone().map(|e| e.0).unwrap_or_default(),
            security: security(svc),
            ..ContainerSpec::default()
        };
        Ok(ServiceSpec {
            name: name.to_owned(),
            replicas: self.replicas(&path, svc),
            image_id: image_id.to_owned(),
            dependency_source: if depends_on.is_empty() {
                DependencySource::None
            } else {
                DependencySource::DependsOn
            },
            depends_on,
            instances: Vec::new(),
            container,
        })
    }

    fn replicas(&mut self, path: &YamlPath, svc: &Service) -> u32 {
        let deploy = svc.deploy.as_ref().and_then(|d| d.replicas).map(|c| c.0);
        let scale = svc.scale.map(|c| c.0);
        if let (Some(d), Some(s)) = (deploy, scale) {
            if d != s {
                self.warnings.push(format!(
                    "{path}: scale {s} and deploy.replicas {d} differ; using deploy.replicas"
                ));
            }
        }
        deploy.or(scale).unwrap_or(1)
    }

    /// env_file entries in order, then `environment` over them.
    fn environment(
        &mut self,
        name: &str,
        svc: &Service,
    ) -> Result<BTreeMap<String, String>, ComposeError> {
        let mut env = BTreeMap::new();
        let files = svc.env_file.clone().unwrap_or(EnvFiles(Vec::new()));
        for (i, file) in files.0.iter().enumerate() {
            let full = PathBuf::from(volumes::host_path(self.dir, &file.path));
            let text = match (self.read_env_file)(&full) {
                Ok(text) => text,
                Err(e) if !file.required && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    let mut at_path = services_path(name).key("env_file");
                    if self.src.value["services"][name]["env_file"].is_sequence() {
                        at_path = at_path.index(i);
                    }
                    return Err(ComposeError::EnvFile {
                        at: self.src.at(&at_path),
                        service: name.to_owned(),
                        path: file.path.clone(),
                        source,
                    });
                }
            };
            let pairs =
                parse_env_file(&text).map_err(|(line, message)| ComposeError::EnvFileSyntax {
                    at: At {
                        file: full.display().to_string(),
                        line,
                        column: 1,
                    },
                    message,
                })?;
            env.extend(pairs);
        }
        env.extend(pairs(svc.environment.as_ref()));
        Ok(env)
    }

    fn healthcheck(&mut self, path: &YamlPath, h: &HealthDecl) -> Option<Healthcheck> {
        let test = h.test.clone().map(|t| t.0).unwrap_or_default();
        if h.disable == Some(true) || test.first().is_some_and(|t| t == "NONE") {
            return None;
        }
        if test.is_empty() {
            self.warnings.push(format!(
                "{path}.healthcheck: no test; the image's own healthcheck applies and these timings are ignored"
            ));
            return None;
        }
        Some(Healthcheck {
            test,
            interval: h.interval.map_or(Duration::from_secs(30), |d| d.0),
            timeout: h.timeout.map_or(Duration::from_secs(30), |d| d.0),
            retries: h.retries.map_or(3, |c| c.0),
            start_period: h.start_period.map_or(Duration::ZERO, |d| d.0),
        })
    }

    fn restart(&mut self, path: &YamlPath, svc: &Service) -> RestartPolicy {
        let deploy = svc.deploy.as_ref().and_then(|d| d.restart_policy.as_ref());
        if let Some(r) = svc.restart {
            if let Some(n) = r.max_retries {
                self.warnings.push(format!(
                    "{path}.restart: on-failure:{n}: the retry limit is not kept, only on-failure"
                ));
            }
            return r.policy;
        }
        if deploy.and_then(|d| d.max_attempts).is_some() {
            self.warnings.push(format!(
                "{path}.deploy.restart_policy.max_attempts: not kept, only the condition"
            ));
        }
        deploy
            .and_then(|d| d.condition)
            .map_or(RestartPolicy::No, |c| c.0)
    }

    /// Attachments, network mode, and the service a `service:X` mode implies.
    fn networks(&self, name: &str, svc: &Service) -> Result<Networking, ComposeError> {
        if let Some(mode) = svc.network_mode.as_ref().map(|m| m.0.clone()) {
            if let Some(peer) = mode.strip_prefix("service:") {
                return Ok(Networking {
                    attachments: Vec::new(),
                    mode: Some(format!("container:{}-{peer}-1", self.project)),
                    implied: Some(peer.to_owned()),
                });
            }
            if !mode.is_empty() {
                return Ok(Networking {
                    attachments: Vec::new(),
                    mode: Some(mode),
                    implied: None,
                });
            }
        }
        let listed = svc.networks.clone().map(|n| n.0).unwrap_or_default();
        let listed = if listed.is_empty() {
            vec![("default".to_owned(), Vec::new())]
        } else {
            listed
        };
        let mut attachments = Vec::new();
        for (network, extra) in listed {
            let Some(resolved) = self.network_name(&network) else {
                let path = self
                    .src
                    .item_path(&services_path(name).key("networks"), &network);
                return Err(self.src.invalid(
                    &path,
                    format!(
                        "the network is not declared under the top-level `networks:` {network:?}"
                    ),
                ));
            };
            let mut aliases = vec![name.to_owned()];
            for a in extra {
                if !aliases.contains(&a) {
                    aliases.push(a);
                }
            }
            attachments.push(NetworkAttachment {
                network: resolved,
                aliases,
            });
        }
        Ok(Networking {
            attachments,
            mode: None,
            implied: None,
        })
    }

    /// The engine name of network `key`; `None` when it is not declared.
    pub fn network_name(&self, key: &str) -> Option<String> {
        let decls = self.file.networks.as_ref();
        match decls.and_then(|d| d.get(key)) {
            Some(decl) => {
                let decl = decl.as_ref();
                let name = decl.and_then(|d| d.name.as_ref()).map(|t| t.0.as_str());
                Some(scoped_name(
                    self.project,
                    key,
                    name,
                    decl.and_then(|d| d.external.as_ref()),
                ))
            }
            None if key == "default" => Some(format!("{}_default", self.project)),
            None => None,
        }
    }

    /// The engine name of volume `key`; `None` when it is not declared.
    pub fn volume_name(&self, key: &str) -> Option<String> {
        let decl = self.file.volumes.as_ref()?.get(key)?.as_ref();
        let name = decl.and_then(|d| d.name.as_ref()).map(|t| t.0.as_str());
        Some(scoped_name(
            self.project,
            key,
            name,
            decl.and_then(|d| d.external.as_ref()),
        ))
    }

    fn mounts(&mut self, name: &str, svc: &Service) -> Result<Vec<Mount>, ComposeError> {
        let path = services_path(name);
        let mut out = Vec::new();
        for (i, v) in svc.volumes.iter().flatten().enumerate() {
            let (kind, source) = match v.kind {
                VolumeKind::Anonymous => {
                    self.warnings.push(format!(
                        "{path}.volumes[{i}]: anonymous volume at {:?} skipped; the container's own layer holds that data",
                        v.target
                    ));
                    continue;
                }
                VolumeKind::Tmpfs => (MountKind::Tmpfs, String::new()),
                VolumeKind::Bind => {
                    if v.source.starts_with('~') {
                        self.warnings.push(format!(
                            "{path}.volumes[{i}]: {:?}: `~` is not expanded (no environment is read)",
                            v.source
                        ));
                    }
                    (MountKind::Bind, volumes::host_path(self.dir, &v.source))
                }
                VolumeKind::Named => {
                    let Some(resolved) = self.volume_name(&v.source) else {
                        return Err(self.src.invalid(
                            &path.key("volumes").index(i),
                            format!(
                                "the volume is not declared under the top-level `volumes:` {:?}",
                                v.source
                            ),
                        ));
                    };
                    (MountKind::Volume, resolved)
                }
            };
            out.push(Mount {
                kind,
                source,
                target: v.target.clone(),
                read_only: v.read_only,
            });
        }
        out.extend(self.tmpfs(&path, svc));
        Ok(out)
    }

    /// `tmpfs:` entries; their options are dropped with a warning.
    fn tmpfs(&mut self, path: &YamlPath, svc: &Service) -> Vec<Mount> {
        let mut out = Vec::new();
        for t in svc.tmpfs.iter().flat_map(|Strings(t)| t) {
            let (target, options) = t.split_once(':').unwrap_or((t, ""));
            if !options.is_empty() {
                self.warnings.push(format!(
                    "{path}.tmpfs: options {options:?} of {target} are not kept"
                ));
            }
            out.push(Mount {
                kind: MountKind::Tmpfs,
                source: String::new(),
                target: target.to_owned(),
                read_only: false,
            });
        }
        out
    }

    /// Named volumes declared in the file (not external), by engine name.
    pub fn declared_volumes(&self) -> BTreeSet<String> {
        let decls = self.file.volumes.iter().flatten();
        decls
            .filter(|(_, d)| {
                !d.as_ref()
                    .and_then(|d| d.external.as_ref())
                    .is_some_and(|e| e.yes)
            })
            .filter_map(|(k, _)| self.volume_name(k))
            .collect()
    }
}

fn text(t: Option<&super::forms::Text>) -> Option<String> {
    t.map(|t| t.0.clone())
}

fn pairs(p: Option<&Pairs>) -> BTreeMap<String, String> {
    p.iter()
        .flat_map(|Pairs(p)| p)
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect()
}

/// Published ports, and every exposed or published port as `PORT/PROTO`.
fn ports(svc: &Service) -> (Vec<crate::domain::spec::Publish>, Vec<String>) {
    let publish: Vec<_> = svc.ports.iter().flatten().map(|p| p.0.clone()).collect();
    let mut exposed: Vec<String> = svc.expose.iter().flatten().map(|e| e.0.clone()).collect();
    exposed.extend(
        publish
            .iter()
            .map(|p| format!("{}/{}", p.container_port, p.protocol)),
    );
    exposed.sort();
    exposed.dedup();
    (publish, exposed)
}

fn resources(svc: &Service) -> Resources {
    let res = svc.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let limits = res.and_then(|r| r.limits.as_ref());
    let reservations = res.and_then(|r| r.reservations.as_ref());
    Resources {
        nano_cpus: svc.cpus.or(limits.and_then(|l| l.cpus)).map(|c| c.0),
        cpu_quota: svc.cpu_quota.map(|c| c.0),
        cpu_period: svc.cpu_period.map(|c| c.0),
        cpu_shares: svc.cpu_shares.map(|c| c.0),
        cpuset_cpus: text(svc.cpuset.as_ref()),
        memory: svc.mem_limit.or(limits.and_then(|l| l.memory)).map(|b| b.0),
        memory_swap: svc.memswap_limit.map(|b| b.0),
        memory_reservation: svc
            .mem_reservation
            .or(reservations.and_then(|r| r.memory))
            .map(|b| b.0),
        pids_limit: svc.pids_limit.or(limits.and_then(|l| l.pids)).map(|p| p.0),
        ulimits: svc
            .ulimits
            .iter()
            .flatten()
            .map(|(name, l)| Ulimit {
                name: name.clone(),
                soft: l.soft,
                hard: l.hard,
            })
            .collect(),
    }
}

fn security(svc: &Service) -> Security {
    let list = |s: Option<&Strings>| s.map(|s| s.0.clone()).unwrap_or_default();
    Security {
        privileged: svc.privileged.unwrap_or(false),
        pid_mode: text(svc.pid.as_ref()),
        ipc_mode: text(svc.ipc.as_ref()),
        devices: svc.devices.clone().map(|d| d.0).unwrap_or_default(),
        cap_add: list(svc.cap_add.as_ref()),
        cap_drop: list(svc.cap_drop.as_ref()),
        security_opt: list(svc.security_opt.as_ref()),
        readonly_rootfs: svc.read_only.unwrap_or(false),
        init: svc.init,
        sysctls: pairs(svc.sysctls.as_ref()),
        shm_size: svc.shm_size.map(|b| b.0),
    }
}
