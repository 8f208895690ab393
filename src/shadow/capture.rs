//! Capture (pure): a discovered group plus the inspect details of its
//! containers become a [`GroupSpec`]. Replica 1 (the lowest number) is the
//! template of its service; replicas that differ from it are reported.

use std::collections::{BTreeMap, BTreeSet};

use super::order;
use crate::domain::group_spec::{DependencySource, InstanceRef, SPEC_SCHEMA};
use crate::domain::spec::MountKind;
use crate::domain::{ContainerSpec, Group, GroupSpec, ServiceSpec, SpecSource, labels};
use crate::platform::ContainerDetails;

/// A captured Spec and what the capture noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub spec: GroupSpec,
    pub warnings: Vec<String>,
}

/// What makes two replicas "the same configuration": everything but names.
fn comparable(spec: &ContainerSpec) -> ContainerSpec {
    let mut s = spec.clone();
    s.name.clear();
    s.hostname = None;
    s.labels.remove(labels::COMPOSE_NUMBER);
    for n in &mut s.networks {
        n.aliases.retain(|a| a != &spec.name);
    }
    for p in &mut s.publish {
        p.host_port = None;
    }
    s
}

fn template_of(details: &ContainerDetails) -> ContainerSpec {
    let mut t = details.spec.clone();
    for n in &mut t.networks {
        n.aliases.retain(|a| a != &details.spec.name);
    }
    t.name.clear();
    t
}

/// Builds the Spec of `group` from the details of its containers (keyed by
/// container id). Containers without details are skipped with a warning.
pub fn capture(
    group: &Group,
    details: &BTreeMap<String, ContainerDetails>,
    source: SpecSource,
) -> Captured {
    let mut warnings = Vec::new();
    let mut services = Vec::new();
    for service in &group.services {
        let found: Vec<(u32, &ContainerDetails)> = service
            .instances
            .iter()
            .filter_map(|i| {
                let found = details.get(&i.container.id).map(|d| (i.number, d));
                if found.is_none() {
                    warnings.push(format!(
                        "{}: container {} vanished during capture",
                        service.name, i.container.name
                    ));
                }
                found
            })
            .collect();
        let Some((_, first)) = found.first() else {
            continue;
        };
        let reference = comparable(&first.spec);
        for (number, d) in found.iter().skip(1) {
            if comparable(&d.spec) != reference || d.image_id != first.image_id {
                warnings.push(format!(
                    "{}: replica {number} ({}) differs from replica {} ({}); the Spec follows replica {}",
                    service.name, d.name, found[0].0, first.name, found[0].0
                ));
            }
        }
        services.push(ServiceSpec {
            name: service.name.clone(),
            replicas: u32::try_from(found.len()).unwrap_or(u32::MAX),
            image_id: first.image_id.clone(),
            depends_on: Vec::new(),
            dependency_source: DependencySource::None,
            instances: found
                .iter()
                .map(|(number, d)| InstanceRef {
                    number: *number,
                    name: d.name.clone(),
                })
                .collect(),
            container: template_of(first),
        });
    }
    resolve_dependencies(&mut services, &mut warnings);
    let services = ordered(services, &mut warnings);
    let mut volumes = BTreeSet::new();
    let mut networks = BTreeSet::new();
    for s in &services {
        for m in &s.container.mounts {
            if m.kind == MountKind::Volume {
                volumes.insert(m.source.clone());
            }
        }
        for n in &s.container.networks {
            networks.insert(n.network.clone());
        }
    }
    Captured {
        spec: GroupSpec {
            schema: SPEC_SCHEMA.to_owned(),
            group: group.name.clone(),
            source,
            services,
            volumes: volumes.into_iter().collect(),
            networks: networks.into_iter().collect(),
        },
        warnings,
    }
}

/// Fills `depends_on`: compose's label where present, else services named by
/// environment values (through their aliases).
pub fn resolve_dependencies(services: &mut [ServiceSpec], warnings: &mut Vec<String>) {
    let mut alias_to_service: BTreeMap<String, String> = BTreeMap::new();
    for s in services.iter() {
        alias_to_service.insert(s.name.clone(), s.name.clone());
        for n in &s.container.networks {
            for a in &n.aliases {
                alias_to_service
                    .entry(a.clone())
                    .or_insert_with(|| s.name.clone());
            }
        }
        for i in &s.instances {
            alias_to_service
                .entry(i.name.clone())
                .or_insert_with(|| s.name.clone());
        }
    }
    let known: BTreeSet<String> = alias_to_service.keys().cloned().collect();
    for s in services.iter_mut() {
        if !s.depends_on.is_empty() {
            s.dependency_source = DependencySource::DependsOn;
            continue;
        }
        if let Some(label) = s.container.labels.get(labels::COMPOSE_DEPENDS_ON) {
            s.depends_on = order::parse_depends_on_label(label);
            s.dependency_source = DependencySource::DependsOn;
            continue;
        }
        let mut deps = BTreeSet::new();
        for value in s.container.env.values() {
            for host in order::referenced_hosts(value, &known) {
                if let Some(target) = alias_to_service.get(&host) {
                    if *target != s.name {
                        deps.insert(target.clone());
                    }
                }
            }
        }
        if !deps.is_empty() {
            s.depends_on = deps.into_iter().collect();
            s.dependency_source = DependencySource::Environment;
        }
    }
    let names: BTreeSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
    for s in services.iter() {
        for d in &s.depends_on {
            if !names.contains(d.as_str()) {
                warnings.push(format!(
                    "{}: depends on {d:?}, which is not in the group",
                    s.name
                ));
            }
        }
    }
}

/// Sorts services into start order.
pub fn ordered(services: Vec<ServiceSpec>, warnings: &mut Vec<String>) -> Vec<ServiceSpec> {
    let deps: BTreeMap<String, BTreeSet<String>> = services
        .iter()
        .map(|s| (s.name.clone(), s.depends_on.iter().cloned().collect()))
        .collect();
    let (names, ignored) = order::start_order(&deps);
    for (from, to) in ignored {
        warnings.push(format!(
            "dependency cycle: ignoring {from} -> {to} for the start order"
        ));
    }
    let mut by_name: BTreeMap<String, ServiceSpec> =
        services.into_iter().map(|s| (s.name.clone(), s)).collect();
    names
        .into_iter()
        .filter_map(|n| by_name.remove(&n))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::group::discover_compose_groups;
    use crate::domain::spec::{Mount, NetworkAttachment, Publish};
    use crate::domain::{ContainerSummary, Health, RunState, Selector};

    pub(crate) fn details(
        name: &str,
        service: &str,
        n: u32,
        env: &[(&str, &str)],
    ) -> ContainerDetails {
        let labels = [
            (labels::COMPOSE_PROJECT, "shop"),
            (labels::COMPOSE_SERVICE, service),
            (labels::COMPOSE_NUMBER, &n.to_string()),
            (labels::COMPOSE_ONEOFF, "False"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        ContainerDetails {
            id: format!("{name:0>64}"),
            name: name.to_owned(),
            image_id: "sha256:1234".into(),
            state: RunState::Running,
            health: Health::Healthy,
            health_log: vec![],
            pid: 100,
            restart_count: 0,
            exit_code: 0,
            oom_killed: false,
            started_at: None,
            ports: vec![],
            networks: vec![],
            spec: ContainerSpec {
                name: name.to_owned(),
                image: "understudy:latest".into(),
                cmd: vec!["shop".into(), service.into()],
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                labels,
                exposed: vec!["8080/tcp".into()],
                networks: vec![NetworkAttachment {
                    network: "shop_default".into(),
                    aliases: vec![service.to_owned()],
                }],
                ..ContainerSpec::default()
            },
        }
    }

    pub(crate) fn shop() -> (Group, BTreeMap<String, ContainerDetails>) {
        let mut store = details("shop_store_1", "store", 1, &[("STORE_DATA", "/data")]);
        store.spec.mounts.push(Mount {
            kind: MountKind::Volume,
            source: "shop_store-data".into(),
            target: "/data".into(),
            read_only: false,
        });
        let api1 = details("shop_api_1", "api", 1, &[("API_STORE", "store:8080")]);
        let api2 = details("shop_api_2", "api", 2, &[("API_STORE", "store:8080")]);
        let mut gw = details(
            "shop_gateway_1",
            "gateway",
            1,
            &[("GATEWAY_UPSTREAM", "api:8080")],
        );
        gw.spec.publish.push(Publish {
            container_port: 8080,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: Some(49200),
        });
        let all = [store, api1, api2, gw];
        let summaries: Vec<ContainerSummary> = all
            .iter()
            .map(|d| ContainerSummary {
                id: d.id.clone(),
                name: d.name.clone(),
                image: d.spec.image.clone(),
                state: d.state,
                health: d.health,
                status: String::new(),
                labels: d.spec.labels.clone(),
                ports: vec![],
            })
            .collect();
        let group = discover_compose_groups(&summaries).remove(0);
        let map = all.into_iter().map(|d| (d.id.clone(), d)).collect();
        (group, map)
    }

    #[test]
    fn captures_services_replicas_order_and_volumes() {
        let (group, details) = shop();
        let c = capture(
            &group,
            &details,
            SpecSource::Compose {
                project: "shop".into(),
            },
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let names: Vec<_> = c.spec.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["store", "api", "gateway"], "dependencies first");
        let api = c.spec.service("api").unwrap();
        assert_eq!(api.replicas, 2);
        assert_eq!(api.depends_on, ["store"]);
        assert_eq!(api.dependency_source, DependencySource::Environment);
        assert_eq!(api.image_id, "sha256:1234");
        assert!(api.container.name.is_empty());
        assert_eq!(c.spec.volumes, ["shop_store-data"]);
        assert_eq!(c.spec.networks, ["shop_default"]);
        assert_eq!(c.spec.published_services()[0].name, "gateway");
    }

    #[test]
    fn drifting_replicas_are_reported() {
        let (group, mut details) = shop();
        let api2 = details
            .values_mut()
            .find(|d| d.name == "shop_api_2")
            .unwrap();
        api2.spec.env.insert("API_WORKERS".into(), "8".into());
        let c = capture(
            &group,
            &details,
            SpecSource::Selector {
                selector: Selector::label("a", "b").to_string(),
            },
        );
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].contains("replica 2 (shop_api_2) differs"),
            "{}",
            c.warnings[0]
        );
    }

    #[test]
    fn compose_depends_on_label_wins_over_inference() {
        let (group, mut details) = shop();
        let gw = details
            .values_mut()
            .find(|d| d.name == "shop_gateway_1")
            .unwrap();
        gw.spec.labels.insert(
            labels::COMPOSE_DEPENDS_ON.into(),
            "store:service_started:false".into(),
        );
        let c = capture(
            &group,
            &details,
            SpecSource::Compose {
                project: "shop".into(),
            },
        );
        let g = c.spec.service("gateway").unwrap();
        assert_eq!(g.depends_on, ["store"]);
        assert_eq!(g.dependency_source, DependencySource::DependsOn);
    }
}
