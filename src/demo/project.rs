//! The shop as a compose project, as pure data: the network, the volume and
//! every container spec with the labels Docker Compose (v1, file format 2.4)
//! would set, so `docker-compose -p shop ps` lists them as its own.
//!
//! `scenarios/shop/compose.yaml` describes the same project for
//! `docker-compose up -d`; a test keeps the two in step.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::labels;
use crate::domain::spec::{
    Healthcheck, Mount, MountKind, NetworkAttachment, Publish, Resources, RestartPolicy,
};
use crate::domain::{ContainerSpec, NetworkSpec, VolumeSpec};

/// The compose version written into labels (the one this machine runs).
pub const COMPOSE_VERSION: &str = "1.29.2";
/// The port every role listens on inside its container.
pub const ROLE_PORT: u16 = 8080;
/// The entry service, published on loopback.
pub const ENTRY_SERVICE: &str = "gateway";
/// The volume key holding the store's data.
pub const STORE_VOLUME: &str = "store-data";

/// Why a project name is not usable.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid project name {0:?}: use lowercase letters, digits, '-' and '_', starting with a letter or digit"
)]
pub struct ProjectNameError(pub String);

/// Checks a compose project name (`shop`, `game-day_2`).
pub fn validate_project(name: &str) -> Result<(), ProjectNameError> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 48;
    if ok {
        Ok(())
    } else {
        Err(ProjectNameError(name.to_owned()))
    }
}

/// One service of the project and how many replicas it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDef {
    pub name: &'static str,
    pub replicas: u32,
    /// The spec every replica shares (name and per-replica labels unset).
    pub template: ContainerSpec,
}

/// The project's default network.
pub fn network(project: &str) -> NetworkSpec {
    NetworkSpec {
        name: format!("{project}_default"),
        internal: false,
        subnet: None,
        labels: BTreeMap::from([
            (labels::COMPOSE_PROJECT.to_owned(), project.to_owned()),
            (labels::COMPOSE_NETWORK.to_owned(), "default".to_owned()),
            (
                labels::COMPOSE_VERSION.to_owned(),
                COMPOSE_VERSION.to_owned(),
            ),
            (labels::DEMO.to_owned(), project.to_owned()),
        ]),
        options: BTreeMap::new(),
    }
}

/// The store's named volume.
pub fn volume(project: &str) -> VolumeSpec {
    VolumeSpec {
        name: format!("{project}_{STORE_VOLUME}"),
        labels: BTreeMap::from([
            (labels::COMPOSE_PROJECT.to_owned(), project.to_owned()),
            (labels::COMPOSE_VOLUME.to_owned(), STORE_VOLUME.to_owned()),
            (
                labels::COMPOSE_VERSION.to_owned(),
                COMPOSE_VERSION.to_owned(),
            ),
            (labels::DEMO.to_owned(), project.to_owned()),
        ]),
    }
}

fn healthcheck() -> Healthcheck {
    Healthcheck {
        test: vec![
            "CMD".into(),
            "/understudy".into(),
            "probe".into(),
            format!("http://127.0.0.1:{ROLE_PORT}/healthz"),
        ],
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        retries: 3,
        start_period: Duration::ZERO,
    }
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn template(role: &str, image: &str, env: BTreeMap<String, String>) -> ContainerSpec {
    ContainerSpec {
        image: image.to_owned(),
        cmd: vec!["shop".into(), role.into()],
        env,
        healthcheck: Some(healthcheck()),
        restart: RestartPolicy::UnlessStopped,
        exposed: vec![format!("{ROLE_PORT}/tcp")],
        stop_grace: Some(Duration::from_secs(5)),
        resources: Resources {
            memory: Some(256 * 1024 * 1024),
            pids_limit: Some(256),
            ..Resources::default()
        },
        ..ContainerSpec::default()
    }
}

/// The services in start order (dependencies first).
pub fn services(project: &str, image: &str) -> Vec<ServiceDef> {
    let mut store = template("store", image, env(&[("STORE_DATA", "/data")]));
    store.mounts.push(Mount {
        kind: MountKind::Volume,
        source: volume(project).name,
        target: "/data".into(),
        read_only: false,
    });
    let mut api = template(
        "api",
        image,
        env(&[
            ("API_STORE", "store:8080"),
            ("API_CPU_MS", "5ms"),
            ("API_WORKERS", "4"),
            ("API_QUEUE", "32"),
        ]),
    );
    api.resources.nano_cpus = Some(500_000_000);
    let mut gateway = template("gateway", image, env(&[("GATEWAY_UPSTREAM", "api:8080")]));
    gateway.publish.push(Publish {
        container_port: ROLE_PORT,
        protocol: "tcp".into(),
        host_ip: "127.0.0.1".into(),
        host_port: None,
    });
    vec![
        ServiceDef {
            name: "store",
            replicas: 1,
            template: store,
        },
        ServiceDef {
            name: "api",
            replicas: 2,
            template: api,
        },
        ServiceDef {
            name: ENTRY_SERVICE,
            replicas: 1,
            template: gateway,
        },
    ]
}

/// A stable hash of a service template (compose's `config-hash` role: the
/// same for every replica, different when the configuration changes).
pub fn config_hash(template: &ContainerSpec) -> String {
    let json = serde_json::to_vec(template).unwrap_or_default();
    let digest = Sha256::digest(&json);
    crate::domain::units::hex(&digest)
}

/// The container name compose v1 gives replica `n` of `service`.
pub fn container_name(project: &str, service: &str, n: u32) -> String {
    format!("{project}_{service}_{n}")
}

/// The full spec of replica `n` of `service`.
pub fn container_spec(project: &str, service: &ServiceDef, n: u32) -> ContainerSpec {
    let mut spec = service.template.clone();
    spec.name = container_name(project, service.name, n);
    spec.labels = BTreeMap::from([
        (labels::COMPOSE_PROJECT.to_owned(), project.to_owned()),
        (labels::COMPOSE_SERVICE.to_owned(), service.name.to_owned()),
        (labels::COMPOSE_NUMBER.to_owned(), n.to_string()),
        (labels::COMPOSE_ONEOFF.to_owned(), "False".to_owned()),
        (
            labels::COMPOSE_CONFIG_HASH.to_owned(),
            config_hash(&service.template),
        ),
        (
            labels::COMPOSE_VERSION.to_owned(),
            COMPOSE_VERSION.to_owned(),
        ),
        (labels::DEMO.to_owned(), project.to_owned()),
    ]);
    spec.networks = vec![NetworkAttachment {
        network: network(project).name,
        aliases: vec![service.name.to_owned()],
    }];
    spec
}

/// Every container of the project, in start order.
pub fn all_containers(project: &str, image: &str) -> Vec<ContainerSpec> {
    services(project, image)
        .iter()
        .flat_map(|s| (1..=s.replicas).map(move |n| container_spec(project, s, n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_containers_with_compose_labels() {
        let all = all_containers("shop", "understudy:latest");
        let names: Vec<_> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["shop_store_1", "shop_api_1", "shop_api_2", "shop_gateway_1"]
        );
        for c in &all {
            assert_eq!(c.labels[labels::COMPOSE_PROJECT], "shop");
            assert_eq!(c.labels[labels::COMPOSE_ONEOFF], "False");
            assert!(
                !c.labels.contains_key(labels::ROLE),
                "demo is production, never a role"
            );
            assert_eq!(c.networks[0].network, "shop_default");
        }
        assert_eq!(
            all[1].labels[labels::COMPOSE_CONFIG_HASH],
            all[2].labels[labels::COMPOSE_CONFIG_HASH],
            "replicas share the config hash"
        );
        assert_ne!(
            all[0].labels[labels::COMPOSE_CONFIG_HASH],
            all[1].labels[labels::COMPOSE_CONFIG_HASH]
        );
    }

    #[test]
    fn api_is_cpu_limited_and_only_the_gateway_publishes_on_loopback() {
        let all = all_containers("shop", "img");
        assert_eq!(all[1].resources.nano_cpus, Some(500_000_000));
        let published: Vec<_> = all.iter().filter(|c| !c.publish.is_empty()).collect();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].name, "shop_gateway_1");
        assert_eq!(published[0].publish[0].host_ip, "127.0.0.1");
        assert_eq!(all[0].mounts[0].source, "shop_store-data");
    }

    #[test]
    fn healthchecks_use_the_binary_in_exec_form() {
        for c in all_containers("shop", "img") {
            let test = &c.healthcheck.unwrap().test;
            assert_eq!(test[0], "CMD");
            assert_eq!(test[1], "/understudy");
        }
    }

    #[test]
    fn project_names_are_checked() {
        assert!(validate_project("shop").is_ok());
        assert!(validate_project("game-day_2").is_ok());
        let e = validate_project("Shop!").unwrap_err().to_string();
        assert!(e.contains("\"Shop!\""), "{e}");
        assert!(validate_project("").is_err());
        assert!(validate_project("-x").is_err());
    }
}
