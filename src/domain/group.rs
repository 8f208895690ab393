//! Resource groups: containers selected by compose project or label selector,
//! organised into services with numbered replicas. Discovery is pure: it takes
//! the platform's container list and returns groups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::container::{ContainerSummary, Health, RunState};
use super::labels;
use super::selector::Selector;

/// How a group was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// A compose project (`com.docker.compose.project`).
    Compose,
    /// Any label selector.
    Selector,
}

/// A group of services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub kind: GroupKind,
    /// The labels that select the group's containers.
    pub selector: Selector,
    /// Services sorted by name.
    pub services: Vec<Service>,
}

/// A service and its replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// Replicas sorted by number.
    pub instances: Vec<Instance>,
}

/// One replica of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// 1-based replica number.
    pub number: u32,
    pub container: ContainerSummary,
}

impl Group {
    /// Every container of the group, service by service.
    pub fn containers(&self) -> impl Iterator<Item = &ContainerSummary> {
        self.services
            .iter()
            .flat_map(|s| s.instances.iter().map(|i| &i.container))
    }

    pub fn container_count(&self) -> usize {
        self.services.iter().map(|s| s.instances.len()).sum()
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Containers that are running and healthy (or have no healthcheck).
    pub fn ready_count(&self) -> usize {
        self.containers()
            .filter(|c| c.health.is_ready(c.state))
            .count()
    }
}

impl Service {
    pub fn running(&self) -> usize {
        self.instances
            .iter()
            .filter(|i| i.container.state == RunState::Running)
            .count()
    }

    pub fn healthy(&self) -> usize {
        self.instances
            .iter()
            .filter(|i| i.container.health == Health::Healthy)
            .count()
    }
}

fn is_compose_member(c: &ContainerSummary) -> bool {
    c.label(labels::COMPOSE_PROJECT).is_some()
        && c.label(labels::COMPOSE_ONEOFF) != Some("True")
        && c.label(labels::ROLE).is_none()
}

/// Groups every compose project found in `containers` (one-off `run`
/// containers and understudy's own containers excluded), sorted by name.
pub fn discover_compose_groups(containers: &[ContainerSummary]) -> Vec<Group> {
    let mut by_project: BTreeMap<&str, Vec<&ContainerSummary>> = BTreeMap::new();
    for c in containers.iter().filter(|c| is_compose_member(c)) {
        if let Some(project) = c.label(labels::COMPOSE_PROJECT) {
            by_project.entry(project).or_default().push(c);
        }
    }
    by_project
        .into_iter()
        .map(|(project, members)| Group {
            name: project.to_owned(),
            kind: GroupKind::Compose,
            selector: Selector::label(labels::COMPOSE_PROJECT, project),
            services: into_services(&members),
        })
        .collect()
}

/// The group of containers matching `selector`, named after the selector.
pub fn select_group(selector: &Selector, containers: &[ContainerSummary]) -> Group {
    let members: Vec<&ContainerSummary> = containers
        .iter()
        .filter(|c| selector.matches(&c.labels))
        .filter(|c| c.label(labels::COMPOSE_ONEOFF) != Some("True"))
        .collect();
    Group {
        name: selector.to_string(),
        kind: GroupKind::Selector,
        selector: selector.clone(),
        services: into_services(&members),
    }
}

/// The service a container belongs to: compose's label, then understudy's,
/// then its name without a trailing replica number (`web-2` -> `web`).
pub fn service_name(c: &ContainerSummary) -> String {
    if let Some(s) = c
        .label(labels::COMPOSE_SERVICE)
        .or_else(|| c.label(labels::SERVICE))
    {
        return s.to_owned();
    }
    strip_replica_suffix(&c.name).to_owned()
}

fn strip_replica_suffix(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|ch: char| ch.is_ascii_digit());
    if trimmed.len() < name.len() {
        if let Some(base) = trimmed
            .strip_suffix('-')
            .or_else(|| trimmed.strip_suffix('_'))
        {
            if !base.is_empty() {
                return base;
            }
        }
    }
    name
}

fn replica_number(c: &ContainerSummary) -> Option<u32> {
    c.label(labels::COMPOSE_NUMBER)
        .and_then(|n| n.parse().ok())
        .or_else(|| {
            let digits = c
                .name
                .rsplit(['-', '_'])
                .next()
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?;
            digits.parse().ok()
        })
}

fn into_services(members: &[&ContainerSummary]) -> Vec<Service> {
    let mut by_service: BTreeMap<String, Vec<&ContainerSummary>> = BTreeMap::new();
    for c in members {
        by_service.entry(service_name(c)).or_default().push(c);
    }
    by_service
        .into_iter()
        .map(|(name, mut cs)| {
            cs.sort_by(|a, b| (replica_number(a), &a.name).cmp(&(replica_number(b), &b.name)));
            let mut used = std::collections::BTreeSet::new();
            let mut next = 1;
            let instances = cs
                .into_iter()
                .map(|c| {
                    let number = match replica_number(c) {
                        Some(n) if used.insert(n) => n,
                        _ => {
                            while used.contains(&next) {
                                next += 1;
                            }
                            used.insert(next);
                            next
                        }
                    };
                    Instance {
                        number,
                        container: c.clone(),
                    }
                })
                .collect();
            Service { name, instances }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn container(name: &str, label_pairs: &[(&str, &str)]) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name:0>64}"),
            name: name.to_owned(),
            image: "img".into(),
            state: RunState::Running,
            health: Health::Healthy,
            status: "Up".into(),
            labels: label_pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ports: vec![],
        }
    }

    fn compose(project: &str, service: &str, n: &str) -> ContainerSummary {
        container(
            &format!("{project}_{service}_{n}"),
            &[
                (labels::COMPOSE_PROJECT, project),
                (labels::COMPOSE_SERVICE, service),
                (labels::COMPOSE_NUMBER, n),
                (labels::COMPOSE_ONEOFF, "False"),
            ],
        )
    }

    #[test]
    fn compose_projects_become_groups_with_services_and_replicas() {
        let cs = vec![
            compose("shop", "api", "2"),
            compose("shop", "gateway", "1"),
            compose("shop", "api", "1"),
            compose("shop", "store", "1"),
            compose("blog", "web", "1"),
        ];
        let groups = discover_compose_groups(&cs);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].name, "blog");
        let shop = &groups[1];
        assert_eq!(shop.kind, GroupKind::Compose);
        let names: Vec<_> = shop.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "gateway", "store"]);
        let api = shop.service("api").unwrap();
        let numbers: Vec<_> = api.instances.iter().map(|i| i.number).collect();
        assert_eq!(numbers, [1, 2]);
        assert_eq!(api.instances[0].container.name, "shop_api_1");
        assert_eq!(shop.container_count(), 4);
    }

    #[test]
    fn oneoff_and_understudy_containers_are_not_members() {
        let mut run = compose("shop", "api", "1");
        run.labels
            .insert(labels::COMPOSE_ONEOFF.into(), "True".into());
        let mut shadow = compose("shop", "api", "3");
        shadow.labels.insert(labels::ROLE.into(), "shadow".into());
        let groups = discover_compose_groups(&[run, shadow, compose("shop", "api", "2")]);
        assert_eq!(groups[0].container_count(), 1);
    }

    #[test]
    fn selector_groups_derive_services_from_names() {
        let cs = vec![
            container("web-1", &[("app", "blog"), ("tier", "web")]),
            container("web-2", &[("app", "blog"), ("tier", "web")]),
            container("db", &[("app", "blog"), ("tier", "db")]),
            container("other", &[("app", "shop")]),
        ];
        let sel: Selector = "app=blog".parse().unwrap();
        let g = select_group(&sel, &cs);
        assert_eq!(g.name, "app=blog");
        assert_eq!(g.kind, GroupKind::Selector);
        let names: Vec<_> = g.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        let web = g.service("web").unwrap();
        assert_eq!(
            web.instances.iter().map(|i| i.number).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(g.service("db").unwrap().instances[0].number, 1);
    }

    #[test]
    fn replica_suffix_only_strips_a_separated_number() {
        assert_eq!(strip_replica_suffix("web-12"), "web");
        assert_eq!(strip_replica_suffix("shop_api_2"), "shop_api");
        assert_eq!(strip_replica_suffix("redis6"), "redis6");
        assert_eq!(strip_replica_suffix("-1"), "-1");
    }

    #[test]
    fn duplicate_numbers_get_fresh_ones() {
        let a = container("x-1", &[("app", "a")]);
        let mut b = container("x-1b", &[("app", "a"), (labels::SERVICE, "x")]);
        b.labels.insert(labels::COMPOSE_NUMBER.into(), "1".into());
        let g = select_group(&"app=a".parse().unwrap(), &[a, b]);
        let numbers: Vec<_> = g.services[0].instances.iter().map(|i| i.number).collect();
        assert_eq!(numbers, [1, 2]);
    }
}
