//! Shadows as the console shows them: each shadow's state (from
//! `shadow::teardown::shadows`) with its containers grouped like a group's
//! (clones by `io.understudy.service` and `io.understudy.number`, the
//! ingress relay as one more service), which shadow a group shows, and the
//! rows of the services pane with production and shadow aligned by service
//! and replica.
//!
//! Owns: pure derivations from listings. Does not own listing (`feed`).

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{ContainerSummary, Group, Instance, RunState, Service, labels};
use crate::shadow::naming;
use crate::shadow::tracking::ShadowState;

use super::Filter;

/// The service name the ingress relay is listed under (parentheses: no
/// compose service can be named so).
pub const RELAY_SERVICE: &str = "(ingress)";

/// One shadow on the engine with its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadow {
    pub state: ShadowState,
    /// Clones by service, sorted by name (replicas by number); the relay
    /// last, as [`RELAY_SERVICE`].
    pub services: Vec<Service>,
}

impl Shadow {
    /// The shadows of `states`, each with its containers from `containers`
    /// (a full listing; containers of no listed shadow are ignored).
    pub fn collect(states: Vec<ShadowState>, containers: &[ContainerSummary]) -> Vec<Self> {
        states
            .into_iter()
            .map(|state| {
                let own = containers
                    .iter()
                    .filter(|c| c.label(labels::SHADOW) == Some(state.id.as_str()));
                let services = services(own);
                Self { state, services }
            })
            .collect()
    }

    pub fn id(&self) -> &str {
        &self.state.id
    }

    pub fn containers(&self) -> impl Iterator<Item = &ContainerSummary> {
        self.services
            .iter()
            .flat_map(|s| s.instances.iter().map(|i| &i.container))
    }

    pub fn running_ids(&self) -> impl Iterator<Item = &str> {
        self.containers()
            .filter(|c| c.state == RunState::Running)
            .map(|c| c.id.as_str())
    }

    /// A container's name without `<group>-shadow-<id>-` (the pane's title
    /// names the shadow already).
    pub fn short_name<'a>(&self, name: &'a str) -> &'a str {
        let prefix = format!("{}-", naming::prefix(&self.state.group, &self.state.id));
        name.strip_prefix(&prefix).unwrap_or(name)
    }

    /// `gateway http://127.0.0.1:40000` per entry service, joined by ` · `.
    pub fn entry_text(&self) -> String {
        self.state
            .entry
            .iter()
            .map(|(service, url)| format!("{service} {url}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// A shadow's containers as services: clones by their service label and
/// replica number, the relay as [`RELAY_SERVICE`].
fn services<'a>(containers: impl Iterator<Item = &'a ContainerSummary>) -> Vec<Service> {
    let mut clones: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    let mut relays = Vec::new();
    for c in containers {
        let instance = |number| Instance {
            number,
            container: c.clone(),
        };
        match c.label(labels::ROLE) {
            Some(naming::ROLE_INGRESS) => relays.push(instance(relays.len() as u32 + 1)),
            Some(naming::ROLE_SHADOW) => {
                let Some(service) = c.label(labels::SERVICE) else {
                    continue;
                };
                let number = c
                    .label(naming::NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                clones
                    .entry(service.to_owned())
                    .or_default()
                    .push(instance(number));
            }
            _ => {}
        }
    }
    let mut out: Vec<Service> = clones
        .into_iter()
        .map(|(name, mut instances)| {
            instances.sort_by_key(|i| i.number);
            Service { name, instances }
        })
        .collect();
    if !relays.is_empty() {
        out.push(Service {
            name: RELAY_SERVICE.to_owned(),
            instances: relays,
        });
    }
    out
}

/// The shadow a group shows: its ready one, else its newest (a group may
/// have several, made with `shadow up --new`).
pub fn shadow_of<'a>(shadows: &'a [Shadow], group: &str) -> Option<&'a Shadow> {
    shadows
        .iter()
        .filter(|s| s.state.group == group)
        .max_by(|a, b| {
            (a.state.ready, a.state.created_unix, &b.state.id).cmp(&(
                b.state.ready,
                b.state.created_unix,
                &a.state.id,
            ))
        })
}

/// A row of the services pane with production and shadow side by side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairRow<'a> {
    /// A service, present on either side or both.
    Service {
        name: &'a str,
        prod: Option<&'a Service>,
        shadow: Option<&'a Service>,
    },
    /// Replica `number` of the service above; `index` counts replica rows
    /// from 0 (the cursor's unit).
    Replica {
        number: u32,
        prod: Option<&'a Instance>,
        shadow: Option<&'a Instance>,
        index: usize,
    },
}

/// Production and shadow aligned by service (sorted by name, the relay
/// last) and replica number; a replica pair passes the filter when either
/// side does, a service shows when any of its pairs passes.
pub fn paired_rows<'a>(group: &'a Group, shadow: &'a Shadow, filter: &Filter) -> Vec<PairRow<'a>> {
    let mut names: BTreeSet<&str> = group.services.iter().map(|s| s.name.as_str()).collect();
    names.extend(
        shadow
            .services
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| *n != RELAY_SERVICE),
    );
    let relay = shadow.services.iter().any(|s| s.name == RELAY_SERVICE);
    let ordered = names.into_iter().chain(relay.then_some(RELAY_SERVICE));
    let mut rows = Vec::new();
    let mut index = 0;
    for name in ordered {
        let prod = group.service(name);
        let shade = shadow.services.iter().find(|s| s.name == name);
        let numbers: BTreeSet<u32> = prod
            .into_iter()
            .chain(shade)
            .flat_map(|s| s.instances.iter().map(|i| i.number))
            .collect();
        let find = |side: Option<&'a Service>, n: u32| {
            side.and_then(|s| s.instances.iter().find(|i| i.number == n))
        };
        let passes =
            |i: Option<&Instance>| i.is_some_and(|i| filter.matches(&i.container.name, name));
        let pairs: Vec<(u32, Option<&Instance>, Option<&Instance>)> = numbers
            .into_iter()
            .map(|n| (n, find(prod, n), find(shade, n)))
            .filter(|(_, p, s)| passes(*p) || passes(*s))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        rows.push(PairRow::Service {
            name,
            prod,
            shadow: shade,
        });
        for (number, p, s) in pairs {
            rows.push(PairRow::Replica {
                number,
                prod: p,
                shadow: s,
                index,
            });
            index += 1;
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures;

    fn shop_shadow() -> Shadow {
        fixtures::shadows().remove(0)
    }

    #[test]
    fn clones_group_by_service_and_number_and_the_relay_comes_last() {
        let shadow = shop_shadow();
        let names: Vec<&str> = shadow.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "gateway", "store", RELAY_SERVICE]);
        assert_eq!(shadow.id(), "a1b2c3");
        assert!(shadow.state.ready);
        assert_eq!(shadow.entry_text(), "gateway http://127.0.0.1:40000");
        assert_eq!(
            shadow.short_name("shop-shadow-a1b2c3-api-1"),
            "api-1",
            "the id is in the title"
        );
        assert_eq!(shadow.short_name("other"), "other");
        // Production containers in the same listing are not the shadow's.
        assert!(shadow.containers().all(|c| c.name.contains("-shadow-")));
    }

    #[test]
    fn a_group_shows_its_ready_shadow_then_its_newest() {
        let mut shadows = fixtures::shadows();
        let mut partial = shadows[0].clone();
        partial.state.id = "ffffff".into();
        partial.state.ready = false;
        partial.state.created_unix += 100;
        shadows.push(partial.clone());
        assert_eq!(shadow_of(&shadows, "shop").map(Shadow::id), Some("a1b2c3"));
        shadows[0].state.ready = false;
        assert_eq!(shadow_of(&shadows, "shop").map(Shadow::id), Some("ffffff"));
        assert!(shadow_of(&shadows, "payments").is_none());
    }

    #[test]
    fn rows_align_by_service_and_replica_with_gaps_on_either_side() {
        let groups = fixtures::groups();
        let shop = groups.iter().find(|g| g.name == "shop").unwrap();
        let shadow = shop_shadow();
        let rows = paired_rows(shop, &shadow, &Filter::default());
        let text: Vec<String> = rows
            .iter()
            .map(|r| match r {
                PairRow::Service { name, .. } => format!("[{name}]"),
                PairRow::Replica {
                    number,
                    prod,
                    shadow,
                    index,
                } => format!(
                    "{index}:{number} {} | {}",
                    prod.map_or("-", |i| i.container.name.as_str()),
                    shadow.map_or("-", |i| i.container.name.as_str())
                ),
            })
            .collect();
        assert_eq!(
            text,
            [
                "[api]",
                "0:1 shop-api-1 | shop-shadow-a1b2c3-api-1",
                "1:2 shop-api-2 | -",
                "[gateway]",
                "2:1 shop-gateway-1 | shop-shadow-a1b2c3-gateway-1",
                "[store]",
                "3:1 shop-store-1 | shop-shadow-a1b2c3-store-1",
                "[(ingress)]",
                "4:1 - | shop-shadow-a1b2c3-ingress",
            ]
        );
        let mut filter = Filter::default();
        filter.input.insert_str("shadow-a1b2c3-api");
        let rows = paired_rows(shop, &shadow, &filter);
        assert_eq!(rows.len(), 2, "{rows:?}");
    }
}
