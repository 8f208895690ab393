//! The rewrites that turn production's configuration into an isolated clone.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::{
    Allowance, IngressRoute, PlanOptions, PlannedContainer, PlannedIngress, PlannedVolume, Refusal,
    Rewrite, VolumeMode,
};
use crate::domain::spec::{Mount, MountKind, NetworkAttachment, Publish};
use crate::domain::{ContainerSpec, GroupSpec, NetworkSpec, ServiceSpec, VolumeSpec, labels};
use crate::shadow::{naming, order};

/// First port the relay listens on; route i listens on `RELAY_BASE_PORT + i`.
pub const RELAY_BASE_PORT: u16 = 10_000;

pub struct Context<'a> {
    spec: &'a GroupSpec,
    options: &'a PlanOptions,
    pub rewrites: Vec<Rewrite>,
    pub refusals: Vec<Refusal>,
    pub warnings: Vec<String>,
    volumes: BTreeMap<String, PlannedVolume>,
}

fn rewrite(subject: &str, change: String, reason: &str) -> Rewrite {
    Rewrite {
        subject: subject.to_owned(),
        change,
        reason: reason.to_owned(),
    }
}

/// Sets a spec's hash label from its content.
pub fn rehash(spec: &mut ContainerSpec) {
    let hash = spec_hash(spec);
    spec.labels.insert(naming::SPEC_HASH.to_owned(), hash);
}

/// Hash of a spec (without its own hash label), to detect drift.
pub fn spec_hash(spec: &ContainerSpec) -> String {
    let mut s = spec.clone();
    for key in [
        naming::SPEC_HASH,
        naming::OWNER_PID,
        naming::OWNER_START,
        naming::OWNER_HOST,
        naming::CREATED,
    ] {
        s.labels.remove(key);
    }
    let digest = Sha256::digest(serde_json::to_vec(&s).unwrap_or_default());
    crate::domain::units::hex(&digest[..8])
}

impl<'a> Context<'a> {
    pub fn new(spec: &'a GroupSpec, options: &'a PlanOptions) -> Self {
        Self {
            spec,
            options,
            rewrites: Vec::new(),
            refusals: Vec::new(),
            warnings: Vec::new(),
            volumes: BTreeMap::new(),
        }
    }

    fn group(&self) -> &str {
        &self.spec.group
    }

    fn id(&self) -> &str {
        &self.options.id
    }

    fn labels(&self, role: &str) -> BTreeMap<String, String> {
        naming::base_labels(
            self.id(),
            self.group(),
            role,
            &self.options.owner,
            self.options.created_unix,
        )
    }

    /// The internal network (and the edge network for the ingress).
    pub fn networks(&mut self) -> Vec<NetworkSpec> {
        let internal = NetworkSpec {
            name: naming::internal_network(self.group(), self.id()),
            internal: true,
            subnet: Some(self.options.internal_subnet.to_string()),
            labels: self.labels(naming::ROLE_SHADOW),
            options: BTreeMap::from([(
                "com.docker.network.bridge.name".to_owned(),
                naming::internal_bridge(self.id()),
            )]),
        };
        let edge = NetworkSpec {
            name: naming::edge_network(self.group(), self.id()),
            internal: false,
            subnet: Some(self.options.edge_subnet.to_string()),
            labels: self.labels(naming::ROLE_INGRESS),
            options: BTreeMap::from([
                (
                    "com.docker.network.bridge.name".to_owned(),
                    naming::edge_bridge(self.id()),
                ),
                (
                    "com.docker.network.bridge.enable_ip_masquerade".to_owned(),
                    "false".to_owned(),
                ),
            ]),
        };
        let prod = if self.spec.networks.is_empty() {
            "production's networks".to_owned()
        } else {
            self.spec.networks.join(", ")
        };
        self.rewrites.push(rewrite(
            "networks",
            format!("{prod} -> {} (internal, {})", internal.name, self.options.internal_subnet),
            "no way to production or the internet (Docker drops what leaves an internal network, both ways, and the rules under 'Host isolation' while dockerd rewrites its own); same service aliases, so clones find each other by the same names; explicit subnet from the pool so engine address pools never run out",
        ));
        vec![internal, edge]
    }

    /// The clones of one service.
    pub fn clones(&mut self, service: &ServiceSpec) -> Vec<PlannedContainer> {
        self.check_refusals(service);
        let replicas = service.replicas.max(1);
        let mut out = Vec::new();
        for n in 1..=replicas {
            let name = naming::container(self.group(), self.id(), &service.name, n);
            let prod = service
                .instances
                .iter()
                .find(|i| i.number == n)
                .or_else(|| service.instances.get(usize::try_from(n - 1).unwrap_or(0)));
            let spec = self.clone_spec(service, n, &name, prod.map(|i| i.name.as_str()));
            out.push(PlannedContainer {
                service: service.name.clone(),
                number: n,
                clone_of: prod.map(|i| i.name.clone()),
                spec,
                uploads: Vec::new(),
            });
        }
        self.rewrites.push(rewrite(
            &service.name,
            format!(
                "{replicas} replica(s) as {}-{}-<n>, image pinned to {}",
                naming::prefix(self.group(), self.id()),
                service.name,
                short_image(&service.image_id)
            ),
            "unique names per shadow; the very image production runs, never pulled",
        ));
        out
    }

    fn clone_spec(
        &mut self,
        service: &ServiceSpec,
        n: u32,
        name: &str,
        prod_name: Option<&str>,
    ) -> ContainerSpec {
        let mut spec = service.container.clone();
        name.clone_into(&mut spec.name);
        spec.image = if service.image_id.is_empty() {
            spec.image
        } else {
            service.image_id.clone()
        };
        let mut labels = naming::carried_labels(&spec.labels);
        labels.extend(self.labels(naming::ROLE_SHADOW));
        labels.insert(labels::SERVICE.to_owned(), service.name.clone());
        labels.insert(naming::NUMBER.to_owned(), n.to_string());
        spec.labels = labels;
        if !spec.publish.is_empty() && n == 1 {
            let ports: Vec<String> = spec.publish.iter().map(describe_publish).collect();
            self.rewrites.push(rewrite(
                &service.name,
                format!("host ports dropped: {}", ports.join(", ")),
                "a shadow never binds production's ports; entry services are reached through the ingress on 127.0.0.1",
            ));
        }
        spec.publish.clear();
        let mut aliases: BTreeSet<String> = spec
            .networks
            .iter()
            .flat_map(|a| a.aliases.iter().cloned())
            .collect();
        aliases.insert(service.name.clone());
        if let Some(prod) = prod_name {
            aliases.insert(prod.to_owned());
        }
        spec.networks = vec![NetworkAttachment {
            network: naming::internal_network(self.group(), self.id()),
            aliases: aliases.into_iter().collect(),
        }];
        spec.network_mode = self.network_mode(service, n, spec.network_mode.take());
        if spec.network_mode.is_some() {
            // Docker refuses networks, a hostname or exposed ports next to
            // `host` or `container:` network modes.
            spec.networks.clear();
            spec.hostname = None;
            spec.exposed.clear();
        }
        spec.mounts = self.mounts(service, n, name, prod_name, &spec.mounts);
        let hash = super::rewrite::spec_hash(&spec);
        spec.labels.insert(naming::SPEC_HASH.to_owned(), hash);
        spec
    }

    fn network_mode(
        &mut self,
        service: &ServiceSpec,
        n: u32,
        mode: Option<String>,
    ) -> Option<String> {
        let mode = mode?;
        if let Some(target) = mode.strip_prefix("container:") {
            let peer = self.container_peer(target);
            if let Some(peer) = peer {
                if n == 1 {
                    self.rewrites.push(rewrite(
                        &service.name,
                        format!("network_mode container:{target} -> container:{peer}"),
                        "shares the clone's network namespace, never production's",
                    ));
                }
                return Some(format!("container:{peer}"));
            }
            return None;
        }
        (mode == "host").then_some(mode)
    }

    /// The clone that stands for production container `target`: matched by
    /// a captured instance name, else by a `...-<service>-<n>` (or `_`)
    /// name as a compose file names its containers.
    fn container_peer(&self, target: &str) -> Option<String> {
        let by_instance = self.spec.services.iter().find_map(|s| {
            s.instances
                .iter()
                .find(|i| i.name == target || target.starts_with(&i.name))
                .map(|i| naming::container(self.group(), self.id(), &s.name, i.number))
        });
        by_instance.or_else(|| {
            let (rest, number) = target.rsplit_once(['-', '_'])?;
            let number: u32 = number.parse().ok()?;
            self.spec
                .services
                .iter()
                .find(|s| {
                    rest.ends_with(&format!("-{}", s.name))
                        || rest.ends_with(&format!("_{}", s.name))
                })
                .map(|s| naming::container(self.group(), self.id(), &s.name, number))
        })
    }

    fn check_refusals(&mut self, service: &ServiceSpec) {
        let c = &service.container;
        let mut refuse = |setting: &str, reason: &str, allowance: Allowance| {
            if !self.options.allow.contains(&allowance) {
                self.refusals.push(Refusal {
                    service: service.name.clone(),
                    setting: setting.to_owned(),
                    reason: reason.to_owned(),
                    allow: Some(allowance.flag().to_owned()),
                });
            }
        };
        match c.network_mode.as_deref() {
            Some("host") => refuse(
                "network_mode: host",
                "the clone would share the host's network stack: no isolation from production or the host",
                Allowance::HostNetwork,
            ),
            Some(m) if m.starts_with("container:") => refuse(
                &format!("network_mode: {m}"),
                "shares another container's network namespace; allowed, it is remapped to that container's clone",
                Allowance::ContainerNetwork,
            ),
            _ => {}
        }
        if c.security.privileged {
            refuse(
                "privileged: true",
                "a privileged clone can reach the host's devices and kernel settings",
                Allowance::Privileged,
            );
        }
        if c.security.pid_mode.as_deref() == Some("host") {
            refuse(
                "pid: host",
                "the clone would see and signal every process on the host, production's included",
                Allowance::HostPid,
            );
        }
        if c.security.ipc_mode.as_deref() == Some("host") {
            refuse(
                "ipc: host",
                "the clone would share the host's IPC namespace with production",
                Allowance::HostIpc,
            );
        }
        if !c.security.devices.is_empty() {
            refuse(
                &format!("devices: {}", c.security.devices.join(", ")),
                "host devices would be shared with production",
                Allowance::Devices,
            );
        }
    }

    fn mounts(
        &mut self,
        service: &ServiceSpec,
        n: u32,
        name: &str,
        prod: Option<&str>,
        mounts: &[Mount],
    ) -> Vec<Mount> {
        let mode = self.options.volumes;
        let mut out = Vec::new();
        for (index, m) in mounts.iter().enumerate() {
            if m.kind == MountKind::Tmpfs {
                out.push(m.clone());
                continue;
            }
            let what = match m.kind {
                MountKind::Volume => format!("volume {}", m.source),
                _ => format!("bind {}", m.source),
            };
            match mode {
                VolumeMode::Refuse => {
                    if n == 1 {
                        self.refusals.push(Refusal {
                            service: service.name.clone(),
                            setting: format!("{what} at {}", m.target),
                            reason: "--volumes refuse: services with volumes are not shadowed"
                                .to_owned(),
                            allow: None,
                        });
                    }
                }
                VolumeMode::Tmpfs => {
                    if n == 1 {
                        self.rewrites.push(rewrite(&service.name, format!("{what} at {} -> empty tmpfs", m.target), "--volumes tmpfs: the shadow starts with no data and never touches production's"));
                    }
                    out.push(Mount {
                        kind: MountKind::Tmpfs,
                        source: String::new(),
                        target: m.target.clone(),
                        read_only: false,
                    });
                }
                VolumeMode::ReadOnly => {
                    if n == 1 {
                        self.rewrites.push(rewrite(&service.name, format!("{what} at {} mounted read-only", m.target), "--volumes ro: the shadow reads production's data and cannot change it (writes fail)"));
                    }
                    out.push(Mount {
                        read_only: true,
                        ..m.clone()
                    });
                }
                VolumeMode::Snapshot => {
                    out.push(self.snapshot(service, name, prod, index, m, &what));
                }
            }
        }
        out
    }

    fn snapshot(
        &mut self,
        service: &ServiceSpec,
        name: &str,
        prod: Option<&str>,
        index: usize,
        m: &Mount,
        what: &str,
    ) -> Mount {
        // A named volume shared by replicas is copied once; a bind mount
        // gets one shadow volume per service and path.
        let key = match m.kind {
            MountKind::Volume => m.source.clone(),
            _ => format!("{}-bind{index}", service.name),
        };
        let volume_name = naming::volume(self.group(), self.id(), &key);
        if !self.volumes.contains_key(&key) {
            let pause = self.options.consistent;
            self.rewrites.push(rewrite(
                &service.name,
                format!("{what} at {} -> snapshot into {volume_name}", m.target),
                if pause {
                    "the shadow owns a copy of the data; --consistent pauses the production container for the copy"
                } else {
                    "the shadow owns a copy of the data and never writes production's (copy is not atomic; --consistent pauses production for it)"
                },
            ));
            let mut labels = self.labels(naming::ROLE_SHADOW);
            labels.insert(labels::SERVICE.to_owned(), service.name.clone());
            self.volumes.insert(
                key,
                PlannedVolume {
                    spec: VolumeSpec {
                        name: volume_name.clone(),
                        labels,
                    },
                    copy_from: prod.map(|p| (p.to_owned(), m.target.clone())),
                    copy_into: (name.to_owned(), m.target.clone()),
                    pause_source: self.options.consistent,
                },
            );
        }
        Mount {
            kind: MountKind::Volume,
            source: volume_name,
            target: m.target.clone(),
            read_only: m.read_only,
        }
    }

    /// The marker volume created once the shadow is completely up.
    pub fn ready_marker(&self) -> VolumeSpec {
        let mut labels = self.labels(naming::ROLE_SHADOW);
        labels.insert(naming::READY.to_owned(), "true".to_owned());
        VolumeSpec {
            name: naming::ready_marker(self.group(), self.id()),
            labels,
        }
    }

    pub fn take_volumes(&mut self) -> Vec<PlannedVolume> {
        std::mem::take(&mut self.volumes).into_values().collect()
    }

    fn entry_services(&self) -> Vec<&'a ServiceSpec> {
        if self.options.entry.is_empty() {
            self.spec.published_services()
        } else {
            self.spec
                .services
                .iter()
                .filter(|s| self.options.entry.contains(&s.name))
                .collect()
        }
    }

    /// The ingress relay for the entry services, if any.
    pub fn ingress(&mut self) -> Option<PlannedIngress> {
        let mut routes = Vec::new();
        for s in self.entry_services() {
            let mut ports: Vec<u16> = s
                .container
                .publish
                .iter()
                .map(|p| p.container_port)
                .collect();
            if ports.is_empty() {
                ports = s
                    .container
                    .exposed
                    .iter()
                    .filter_map(|e| e.split('/').next()?.parse().ok())
                    .collect();
            }
            ports.sort_unstable();
            ports.dedup();
            if ports.is_empty() {
                self.warnings.push(format!(
                    "entry service {} exposes no port; it gets no ingress",
                    s.name
                ));
            }
            for p in ports {
                let relay_port = RELAY_BASE_PORT + u16::try_from(routes.len()).unwrap_or(0);
                routes.push(IngressRoute {
                    service: s.name.clone(),
                    service_port: p,
                    relay_port,
                });
            }
        }
        if routes.is_empty() {
            return None;
        }
        let mut labels = self.labels(naming::ROLE_INGRESS);
        labels.insert(labels::SERVICE.to_owned(), "ingress".to_owned());
        for r in &routes {
            labels.insert(
                format!("{}{}", naming::ROUTE_PREFIX, r.relay_port),
                format!("{}:{}", r.service, r.service_port),
            );
        }
        let mut cmd = vec!["relay".to_owned()];
        cmd.extend(
            routes
                .iter()
                .map(|r| format!("{}={}:{}", r.relay_port, r.service, r.service_port)),
        );
        let spec = ContainerSpec {
            name: naming::ingress(self.group(), self.id()),
            image: self.options.relay_image.clone(),
            cmd,
            labels,
            publish: routes
                .iter()
                .map(|r| Publish {
                    container_port: r.relay_port,
                    protocol: "tcp".into(),
                    host_ip: "127.0.0.1".into(),
                    host_port: None,
                })
                .collect(),
            networks: vec![
                NetworkAttachment {
                    network: naming::edge_network(self.group(), self.id()),
                    aliases: vec![],
                },
                NetworkAttachment {
                    network: naming::internal_network(self.group(), self.id()),
                    aliases: vec![],
                },
            ],
            stop_grace: Some(std::time::Duration::from_secs(1)),
            ..ContainerSpec::default()
        };
        let listed: Vec<String> = routes
            .iter()
            .map(|r| format!("{}:{}", r.service, r.service_port))
            .collect();
        self.rewrites.push(rewrite(
            "ingress",
            format!("{} relays 127.0.0.1:<ephemeral> -> {}", spec.name, listed.join(", ")),
            "the only way into the shadow: published on loopback only, from an edge network, so application containers stay internal and unchanged",
        ));
        Some(PlannedIngress { spec, routes })
    }

    /// Warns about environment values that point outside the group.
    pub fn flag_external_hosts(&mut self) {
        let mut known: BTreeSet<String> = BTreeSet::new();
        for s in &self.spec.services {
            known.insert(s.name.clone());
            for n in &s.container.networks {
                known.extend(n.aliases.iter().cloned());
            }
            known.extend(s.instances.iter().map(|i| i.name.clone()));
        }
        for s in &self.spec.services {
            for (key, value) in &s.container.env {
                for host in order::referenced_hosts(value, &known) {
                    let loopback = host == "localhost" || host.starts_with("127.");
                    if !known.contains(&host) && !loopback {
                        self.warnings.push(format!(
                            "{}: {key}={value:?} points at {host}, outside the group; the shadow cannot reach it, so calls to it will fail",
                            s.name
                        ));
                    }
                }
            }
        }
    }
}

fn short_image(id: &str) -> String {
    let bare = id.trim_start_matches("sha256:");
    format!("sha256:{}", bare.get(..12).unwrap_or(bare))
}

fn describe_publish(p: &Publish) -> String {
    match p.host_port {
        Some(h) => format!("{}:{h}->{}/{}", p.host_ip, p.container_port, p.protocol),
        None => format!("{}:*->{}/{}", p.host_ip, p.container_port, p.protocol),
    }
}
