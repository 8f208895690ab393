//! Fault targets (pure): `SHADOW/SERVICE` (all replicas), `SHADOW/SERVICE/N`
//! (one replica), `SHADOW/FROM->TO` (an edge), or a container by name, and
//! their resolution against the engine's listing. Only containers labelled
//! `io.understudy.role=shadow` ever resolve; the injector checks again at
//! the lowest layer.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::domain::{ContainerSummary, labels};
use crate::shadow::naming;

/// What a fault is aimed at, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TargetSpec {
    Service {
        shadow: String,
        service: String,
    },
    Replica {
        shadow: String,
        service: String,
        number: u32,
    },
    Edge {
        shadow: String,
        from: String,
        to: String,
    },
    Container {
        name: String,
    },
}

/// Why a target did not parse or resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "invalid target {0:?}: write SHADOW/SERVICE, SHADOW/SERVICE/N, SHADOW/FROM->TO, or use --container NAME"
    )]
    Syntax(String),
    #[error("no shadow {shadow:?}; shadows: {}", list(.known))]
    UnknownShadow { shadow: String, known: Vec<String> },
    #[error("shadow {shadow} has no service {service:?}; its services: {}", list(.known))]
    UnknownService {
        shadow: String,
        service: String,
        known: Vec<String>,
    },
    #[error("{service} in shadow {shadow} has no replica {number}; it has {count}")]
    UnknownReplica {
        shadow: String,
        service: String,
        number: u32,
        count: usize,
    },
    #[error("no container named {0:?}")]
    UnknownContainer(String),
    #[error(
        "{name:?} is not a shadow container (it lacks the label {}=shadow); faults only ever touch shadows",
        labels::ROLE
    )]
    NotShadow { name: String },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

impl FromStr for TargetSpec {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || TargetError::Syntax(text.to_owned());
        let (shadow, rest) = text.split_once('/').ok_or_else(err)?;
        if shadow.is_empty() || rest.is_empty() {
            return Err(err());
        }
        let shadow = shadow.to_owned();
        if let Some((from, to)) = rest.split_once("->") {
            if from.is_empty() || to.is_empty() || to.contains('/') {
                return Err(err());
            }
            return Ok(Self::Edge {
                shadow,
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        match rest.split_once('/') {
            None => Ok(Self::Service {
                shadow,
                service: rest.to_owned(),
            }),
            Some((service, n)) => Ok(Self::Replica {
                shadow,
                service: service.to_owned(),
                number: n.parse().map_err(|_| err())?,
            }),
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service { shadow, service } => write!(f, "{shadow}/{service}"),
            Self::Replica {
                shadow,
                service,
                number,
            } => write!(f, "{shadow}/{service}/{number}"),
            Self::Edge { shadow, from, to } => write!(f, "{shadow}/{from}->{to}"),
            Self::Container { name } => f.write_str(name),
        }
    }
}

/// A resolved shadow container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub id: String,
    pub name: String,
    pub shadow: String,
    pub service: String,
    pub number: u32,
}

/// What a target resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Resolution {
    /// Containers to act on.
    Containers(Vec<Resolved>),
    /// An edge: the callers (`from`) and the callees (`to`).
    Edge {
        from: Vec<Resolved>,
        to: Vec<Resolved>,
    },
}

fn is_shadow_clone(c: &ContainerSummary) -> bool {
    c.label(labels::ROLE) == Some(naming::ROLE_SHADOW)
}

fn resolved(c: &ContainerSummary) -> Option<Resolved> {
    Some(Resolved {
        id: c.id.clone(),
        name: c.name.clone(),
        shadow: c.label(labels::SHADOW)?.to_owned(),
        service: c.label(labels::SERVICE)?.to_owned(),
        number: c
            .label(naming::NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
    })
}

fn service_members(
    all: &[Resolved],
    shadow: &str,
    service: &str,
) -> Result<Vec<Resolved>, TargetError> {
    let in_shadow: Vec<&Resolved> = all.iter().filter(|r| r.shadow == shadow).collect();
    if in_shadow.is_empty() {
        let mut known: Vec<String> = all.iter().map(|r| r.shadow.clone()).collect();
        known.sort();
        known.dedup();
        return Err(TargetError::UnknownShadow {
            shadow: shadow.to_owned(),
            known,
        });
    }
    let mut members: Vec<Resolved> = in_shadow
        .iter()
        .filter(|r| r.service == service)
        .map(|r| (*r).clone())
        .collect();
    if members.is_empty() {
        let mut known: Vec<String> = in_shadow.iter().map(|r| r.service.clone()).collect();
        known.sort();
        known.dedup();
        return Err(TargetError::UnknownService {
            shadow: shadow.to_owned(),
            service: service.to_owned(),
            known,
        });
    }
    members.sort_by_key(|r| r.number);
    Ok(members)
}

/// Resolves `spec` against every container on the engine.
pub fn resolve(
    spec: &TargetSpec,
    containers: &[ContainerSummary],
) -> Result<Resolution, TargetError> {
    let clones: Vec<Resolved> = containers
        .iter()
        .filter(|c| is_shadow_clone(c))
        .filter_map(resolved)
        .collect();
    match spec {
        TargetSpec::Service { shadow, service } => Ok(Resolution::Containers(service_members(
            &clones, shadow, service,
        )?)),
        TargetSpec::Replica {
            shadow,
            service,
            number,
        } => {
            let members = service_members(&clones, shadow, service)?;
            let count = members.len();
            let one = members.into_iter().find(|r| r.number == *number).ok_or(
                TargetError::UnknownReplica {
                    shadow: shadow.clone(),
                    service: service.clone(),
                    number: *number,
                    count,
                },
            )?;
            Ok(Resolution::Containers(vec![one]))
        }
        TargetSpec::Edge { shadow, from, to } => Ok(Resolution::Edge {
            from: service_members(&clones, shadow, from)?,
            to: service_members(&clones, shadow, to)?,
        }),
        TargetSpec::Container { name } => {
            let c = containers
                .iter()
                .find(|c| c.name == *name || c.id.starts_with(name.as_str()))
                .ok_or_else(|| TargetError::UnknownContainer(name.clone()))?;
            if !is_shadow_clone(c) {
                return Err(TargetError::NotShadow {
                    name: c.name.clone(),
                });
            }
            resolved(c)
                .map(|r| Resolution::Containers(vec![r]))
                .ok_or(TargetError::NotShadow {
                    name: c.name.clone(),
                })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{Health, RunState};

    fn c(name: &str, l: &[(&str, &str)]) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name:x>64}"),
            name: name.into(),
            image: String::new(),
            state: RunState::Running,
            health: Health::Healthy,
            status: String::new(),
            labels: l
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            ports: vec![],
        }
    }

    fn clone(name: &str, shadow: &str, service: &str, n: &str) -> ContainerSummary {
        c(
            name,
            &[
                (labels::ROLE, "shadow"),
                (labels::SHADOW, shadow),
                (labels::SERVICE, service),
                (naming::NUMBER, n),
            ],
        )
    }

    /// Shadow a1b2c3 of shop (api x2, gateway, its ingress) and a production api.
    pub(crate) fn engine() -> Vec<ContainerSummary> {
        vec![
            clone("shop-shadow-a1b2c3-api-1", "a1b2c3", "api", "1"),
            clone("shop-shadow-a1b2c3-api-2", "a1b2c3", "api", "2"),
            clone("shop-shadow-a1b2c3-gateway-1", "a1b2c3", "gateway", "1"),
            c(
                "shop_api_1",
                &[
                    (labels::COMPOSE_PROJECT, "shop"),
                    (labels::COMPOSE_SERVICE, "api"),
                ],
            ),
            c(
                "shop-shadow-a1b2c3-ingress",
                &[
                    (labels::ROLE, "ingress"),
                    (labels::SHADOW, "a1b2c3"),
                    (labels::SERVICE, "ingress"),
                ],
            ),
        ]
    }

    #[test]
    fn target_syntax() {
        assert_eq!(
            "a1b2c3/api".parse::<TargetSpec>().unwrap(),
            TargetSpec::Service {
                shadow: "a1b2c3".into(),
                service: "api".into()
            }
        );
        assert_eq!(
            "a1b2c3/api/2".parse::<TargetSpec>().unwrap().to_string(),
            "a1b2c3/api/2"
        );
        assert_eq!(
            "a1b2c3/gateway->api".parse::<TargetSpec>().unwrap(),
            TargetSpec::Edge {
                shadow: "a1b2c3".into(),
                from: "gateway".into(),
                to: "api".into()
            }
        );
        for bad in [
            "api",
            "/api",
            "a1b2c3/",
            "a1b2c3/api/x",
            "a1b2c3/->api",
            "a1b2c3/a->b/1",
        ] {
            let e = bad.parse::<TargetSpec>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn services_replicas_and_edges_resolve_to_clones_only() {
        let all = engine();
        let Resolution::Containers(api) = resolve(&"a1b2c3/api".parse().unwrap(), &all).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            api.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["shop-shadow-a1b2c3-api-1", "shop-shadow-a1b2c3-api-2"]
        );
        let Resolution::Containers(one) = resolve(&"a1b2c3/api/2".parse().unwrap(), &all).unwrap()
        else {
            panic!()
        };
        assert_eq!(one[0].number, 2);
        let Resolution::Edge { from, to } =
            resolve(&"a1b2c3/gateway->api".parse().unwrap(), &all).unwrap()
        else {
            panic!()
        };
        assert_eq!((from.len(), to.len()), (1, 2));
    }

    #[test]
    fn errors_list_what_exists() {
        let all = engine();
        let e = resolve(&"ffffff/api".parse().unwrap(), &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("shadows: a1b2c3"), "{e}");
        let e = resolve(&"a1b2c3/db".parse().unwrap(), &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("its services: api, gateway"), "{e}");
        let e = resolve(&"a1b2c3/api/3".parse().unwrap(), &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no replica 3; it has 2"), "{e}");
    }

    #[test]
    fn production_and_helpers_are_refused_by_name() {
        let all = engine();
        let e = resolve(
            &TargetSpec::Container {
                name: "shop_api_1".into(),
            },
            &all,
        )
        .unwrap_err();
        assert_eq!(
            e,
            TargetError::NotShadow {
                name: "shop_api_1".into()
            }
        );
        assert!(e.to_string().contains("io.understudy.role=shadow"));
        assert!(
            resolve(
                &TargetSpec::Container {
                    name: "shop-shadow-a1b2c3-ingress".into()
                },
                &all
            )
            .is_err()
        );
        assert!(
            resolve(
                &TargetSpec::Container {
                    name: "shop-shadow-a1b2c3-api-1".into()
                },
                &all
            )
            .is_ok()
        );
    }
}
