//! Fault proxies on every service edge: each service with ports gets a
//! proxy container (our image) that takes the service's name on the shadow
//! network and forwards to the clones, which answer as `<service>-upstream`.
//! Callers keep calling `api:8080`; edge faults then need no change to the
//! application. Every proxy starts in the first tier: it resolves its
//! upstream per connection, so it needs nothing started before it, and it
//! is there before any caller.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::rewrite::rehash;
use super::{PlanOptions, PlannedContainer, PlannedUpload, Rewrite};
use crate::domain::spec::NetworkAttachment;
use crate::domain::{ContainerSpec, GroupSpec, ServiceSpec};
use crate::shadow::naming;

/// Where the proxy's configuration goes inside its container.
pub const CONFIG_DIR: &str = "/";
pub const CONFIG_NAME: &str = "understudy-proxy.toml";

fn ports(service: &ServiceSpec) -> Vec<u16> {
    let mut ports: Vec<u16> = service
        .container
        .exposed
        .iter()
        .filter(|e| e.ends_with("/tcp") || !e.contains('/'))
        .filter_map(|e| e.split('/').next()?.parse().ok())
        .chain(
            service
                .container
                .publish
                .iter()
                .filter(|p| p.protocol == "tcp")
                .map(|p| p.container_port),
        )
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// HTTP when the service's own healthcheck speaks HTTP (HTTP faults work
/// then), plain TCP otherwise.
fn protocol(service: &ServiceSpec) -> &'static str {
    let http = service
        .container
        .healthcheck
        .as_ref()
        .is_some_and(|h| h.test.iter().any(|w| w.contains("http://")));
    if http { "http" } else { "tcp" }
}

/// The proxy's TOML configuration.
pub fn config(service: &str, ports: &[u16], protocol: &str) -> String {
    let mut out = String::new();
    for p in ports {
        let _ = writeln!(
            out,
            "[[proxy]]\nname = \"{}\"\nlisten = \"0.0.0.0:{p}\"\nupstream = \"{}:{p}\"\nprotocol = \"{protocol}\"\n",
            naming::proxy_route(service, *p),
            naming::upstream_alias(service)
        );
    }
    out
}

fn proxy_container(
    service: &ServiceSpec,
    ports: &[u16],
    options: &PlanOptions,
    group: &str,
) -> PlannedContainer {
    let mut labels = naming::base_labels(
        &options.id,
        group,
        naming::ROLE_SHADOW,
        &options.owner,
        options.created_unix,
    );
    labels.insert(naming::COMPONENT.to_owned(), "proxy".to_owned());
    labels.insert(naming::FRONTS.to_owned(), service.name.clone());
    labels.insert(naming::PROXY_TOKEN.to_owned(), options.proxy_token.clone());
    let mut spec = ContainerSpec {
        name: naming::proxy(group, &options.id, &service.name),
        image: options.relay_image.clone(),
        cmd: vec![
            "proxy".into(),
            "--config".into(),
            format!("{CONFIG_DIR}{CONFIG_NAME}"),
            "--listen-control".into(),
            format!("0.0.0.0:{}", naming::PROXY_CONTROL_PORT),
        ],
        env: BTreeMap::from([(
            "UNDERSTUDY_PROXY_TOKEN".to_owned(),
            options.proxy_token.clone(),
        )]),
        labels,
        networks: vec![NetworkAttachment {
            network: naming::internal_network(group, &options.id),
            aliases: vec![service.name.clone()],
        }],
        stop_grace: Some(std::time::Duration::from_secs(1)),
        ..ContainerSpec::default()
    };
    rehash(&mut spec);
    PlannedContainer {
        service: service.name.clone(),
        number: 0,
        clone_of: None,
        spec,
        uploads: vec![PlannedUpload {
            dir: CONFIG_DIR.to_owned(),
            name: CONFIG_NAME.to_owned(),
            content: config(&service.name, ports, protocol(service)),
        }],
    }
}

/// Adds a proxy per service with ports, and moves its clones to the
/// upstream alias.
pub fn interpose(
    spec: &GroupSpec,
    options: &PlanOptions,
    tiers: &mut [Vec<PlannedContainer>],
    rewrites: &mut Vec<Rewrite>,
) {
    for service in &spec.services {
        let ports = ports(service);
        if ports.is_empty() || service.container.network_mode.is_some() {
            continue;
        }
        let clones = tiers
            .iter_mut()
            .flat_map(|t| t.iter_mut())
            .filter(|c| c.service == service.name);
        for clone in clones {
            for n in &mut clone.spec.networks {
                for a in &mut n.aliases {
                    if *a == service.name {
                        *a = naming::upstream_alias(&service.name);
                    }
                }
            }
            rehash(&mut clone.spec);
        }
        let proxy = proxy_container(service, &ports, options, &spec.group);
        rewrites.push(Rewrite {
            subject: service.name.clone(),
            change: format!(
                "fault proxy {} answers as {} ({} on {}); the clones answer as {}",
                proxy.spec.name,
                service.name,
                protocol(service),
                ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                naming::upstream_alias(&service.name)
            ),
            reason: "edge faults (latency, errors, resets...) on calls to this service need no change to the application".to_owned(),
        });
        if let Some(first) = tiers.first_mut() {
            first.push(proxy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_routes_every_port_to_the_upstream_alias() {
        let text = config("api", &[8080, 9090], "http");
        assert!(text.contains("name = \"api-8080\"\nlisten = \"0.0.0.0:8080\"\nupstream = \"api-upstream:8080\"\nprotocol = \"http\""), "{text}");
        assert!(text.contains("api-9090"));
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(parsed["proxy"].as_array().unwrap().len(), 2);
    }
}
