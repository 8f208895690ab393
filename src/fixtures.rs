//! Test fixtures of the engine's side, shared by the unit tests above the
//! platform seam (console, watch, shadow teardown): three compose projects
//! (`blog` down, `payments` ready, `shop` with gateway / api x2 / store,
//! one api replica still starting), an engine, and stats with fixed
//! numbers; shadow a1b2c3 of `shop` (clones of gateway, api 1 and store,
//! the ingress relay on 127.0.0.1:40000, ready) with its stats and a fixed
//! plan; and a fake platform holding them (`fake`). The console's models
//! built from them are in `console::fixtures`.

pub mod fake;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::domain::group::discover_compose_groups;
use crate::domain::labels;
use crate::domain::stats::ContainerStats;
use crate::domain::{ContainerSummary, Group, Health, PortBinding, RunState};
use crate::platform::{EngineInfo, NetworkSummary, VolumeSummary};
use crate::shadow::naming;
use crate::shadow::plan::{self, Refusal, ShadowPlan};
use crate::shadow::tracking::Owner;

const MIB: u64 = 1024 * 1024;

/// A compose container `{project}-{service}-{n}` with a fixed id.
pub fn container(
    project: &str,
    service: &str,
    n: u32,
    state: RunState,
    health: Health,
) -> ContainerSummary {
    let name = format!("{project}-{service}-{n}");
    ContainerSummary {
        id: format!("{name:0>64}"),
        name,
        image: "understudy:latest".into(),
        state,
        health,
        status: String::new(),
        labels: [
            (labels::COMPOSE_PROJECT, project.to_owned()),
            (labels::COMPOSE_SERVICE, service.to_owned()),
            (labels::COMPOSE_NUMBER, n.to_string()),
            (labels::COMPOSE_ONEOFF, "False".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        ports: vec![],
    }
}

pub fn containers() -> Vec<ContainerSummary> {
    use Health::{Healthy, Starting};
    use RunState::{Exited, Running};
    vec![
        container("blog", "web", 1, Exited, Health::None),
        container("payments", "ledger", 1, Running, Healthy),
        container("payments", "ledger", 2, Running, Healthy),
        container("payments", "db", 1, Running, Health::None),
        container("shop", "gateway", 1, Running, Healthy),
        container("shop", "api", 1, Running, Healthy),
        container("shop", "api", 2, Running, Starting),
        container("shop", "store", 1, Running, Healthy),
    ]
}

pub fn groups() -> Vec<Group> {
    discover_compose_groups(&containers())
}

pub fn engine() -> EngineInfo {
    EngineInfo {
        endpoint: "unix:///var/run/docker.sock".into(),
        version: "27.5.1".into(),
        api_version: "1.47".into(),
        os: "Ubuntu 24.04".into(),
        kernel: "6.8.0".into(),
        cpus: 8,
        memory_bytes: 16 * 1024 * MIB,
    }
}

/// The id of a shop container by name, e.g. `shop-api-2`.
pub fn id(name: &str) -> String {
    format!("{name:0>64}")
}

/// A sample with the given CPU and memory; rates fixed per container.
pub fn sample(name: &str, second: u64, cpu: f64, mem_mib: u64, rates: [f64; 4]) -> ContainerStats {
    ContainerStats {
        container_id: id(name),
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(second),
        cpu_percent: cpu,
        mem_bytes: mem_mib * MIB,
        mem_limit: 256 * MIB,
        net_rx_bps: rates[0],
        net_tx_bps: rates[1],
        blk_read_bps: rates[2],
        blk_write_bps: rates[3],
        pids: 4,
    }
}

/// Eight seconds of samples, a second of every container at a time:
/// `(name, cpu per second, memory MiB, rates)` per container.
fn seconds<N: AsRef<str>>(series: &[(N, [f64; 8], u64, [f64; 4])]) -> Vec<ContainerStats> {
    (0..8u64)
        .flat_map(|second| {
            series.iter().map(move |(name, cpu, mem, rates)| {
                sample(name.as_ref(), second, cpu[second as usize], *mem, *rates)
            })
        })
        .collect()
}

/// Eight seconds of samples for the running shop containers.
pub fn shop_stats() -> Vec<ContainerStats> {
    let series: [(&str, [f64; 8], u64, [f64; 4]); 4] = [
        (
            "shop-gateway-1",
            [8.0, 9.5, 11.0, 10.2, 12.0, 14.5, 13.0, 12.5],
            48,
            [12_595.0, 49_152.0, 0.0, 4096.0],
        ),
        (
            "shop-api-1",
            [20.0, 25.0, 31.0, 40.0, 38.5, 36.0, 35.1, 37.2],
            201,
            [30_720.0, 92_160.0, 0.0, 0.0],
        ),
        (
            "shop-api-2",
            [5.0, 15.0, 40.0, 70.0, 85.0, 91.0, 95.5, 92.4],
            64,
            [1_024.0, 512.0, 0.0, 0.0],
        ),
        (
            "shop-store-1",
            [2.0, 2.5, 3.0, 2.0, 4.0, 3.5, 3.0, 3.1],
            120,
            [2_048.0, 8_192.0, 65_536.0, 1_258_291.0],
        ),
    ];
    seconds(&series)
}

/// The shadow of `shop` the fixtures hold.
pub const SHADOW_ID: &str = "a1b2c3";

fn shadow_labels(role: &str) -> BTreeMap<String, String> {
    let owner = Owner {
        pid: 42,
        start: Some(7),
        host: "test-host".into(),
    };
    naming::base_labels(SHADOW_ID, "shop", role, &owner, 1_800_000_000)
}

/// Clone `n` of shop's `service` in shadow a1b2c3.
pub fn shadow_container(service: &str, n: u32, health: Health) -> ContainerSummary {
    let name = naming::container("shop", SHADOW_ID, service, n);
    let mut labels = shadow_labels(naming::ROLE_SHADOW);
    labels.insert(labels::SERVICE.to_owned(), service.to_owned());
    labels.insert(naming::NUMBER.to_owned(), n.to_string());
    labels.insert(
        format!("{}{}", naming::ORIGINAL_PREFIX, labels::COMPOSE_PROJECT),
        "shop".to_owned(),
    );
    ContainerSummary {
        id: id(&name),
        name,
        image: "understudy:latest".into(),
        state: RunState::Running,
        health,
        status: String::new(),
        labels,
        ports: vec![],
    }
}

/// The ingress relay of shadow a1b2c3: gateway on 127.0.0.1:40000.
pub fn relay_container() -> ContainerSummary {
    let name = naming::ingress("shop", SHADOW_ID);
    let mut labels = shadow_labels(naming::ROLE_INGRESS);
    labels.insert(
        format!("{}10000", naming::ROUTE_PREFIX),
        "gateway:8080".to_owned(),
    );
    ContainerSummary {
        id: id(&name),
        name,
        image: "understudy:latest".into(),
        state: RunState::Running,
        health: Health::None,
        status: String::new(),
        labels,
        ports: vec![PortBinding {
            container_port: 10_000,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: 40_000,
        }],
    }
}

/// Shadow a1b2c3's containers: no clone of api 2 (so rows have gaps).
pub fn shadow_containers() -> Vec<ContainerSummary> {
    vec![
        shadow_container("gateway", 1, Health::Healthy),
        shadow_container("api", 1, Health::Healthy),
        shadow_container("store", 1, Health::Healthy),
        relay_container(),
    ]
}

pub fn shadow_networks() -> Vec<NetworkSummary> {
    [
        (naming::internal_network("shop", SHADOW_ID), true),
        (naming::edge_network("shop", SHADOW_ID), false),
    ]
    .into_iter()
    .map(|(name, internal)| NetworkSummary {
        id: format!("net-{name}"),
        name,
        internal,
        labels: shadow_labels(naming::ROLE_SHADOW),
        subnets: vec![],
    })
    .collect()
}

/// The marker of a shadow that came up completely.
pub fn ready_marker() -> VolumeSummary {
    let mut labels = shadow_labels(naming::ROLE_SHADOW);
    labels.insert(naming::READY.to_owned(), "true".to_owned());
    VolumeSummary {
        name: naming::ready_marker("shop", SHADOW_ID),
        labels,
    }
}

/// Production and shadow containers in one listing.
pub fn containers_with_shadow() -> Vec<ContainerSummary> {
    let mut all = containers();
    all.extend(shadow_containers());
    all
}

/// Eight seconds of samples for shadow a1b2c3's containers.
pub fn shadow_stats() -> Vec<ContainerStats> {
    let series: [(String, [f64; 8], u64, [f64; 4]); 4] = [
        (
            naming::container("shop", SHADOW_ID, "gateway", 1),
            [1.0, 1.5, 2.0, 2.2, 2.0, 2.5, 3.0, 2.5],
            40,
            [512.0, 1_024.0, 0.0, 0.0],
        ),
        (
            naming::container("shop", SHADOW_ID, "api", 1),
            [4.0, 5.0, 6.0, 8.0, 7.5, 6.0, 6.1, 6.3],
            96,
            [2_048.0, 4_096.0, 0.0, 0.0],
        ),
        (
            naming::container("shop", SHADOW_ID, "store", 1),
            [1.0, 1.0, 1.5, 1.0, 1.0, 1.2, 1.1, 1.0],
            80,
            [256.0, 512.0, 0.0, 8_192.0],
        ),
        (
            naming::ingress("shop", SHADOW_ID),
            [0.5, 0.4, 0.6, 0.5, 0.5, 0.4, 0.5, 0.3],
            8,
            [512.0, 512.0, 0.0, 0.0],
        ),
    ];
    seconds(&series)
}

/// A fixed plan of shadow a1b2c3 of shop (the shadow module's own capture
/// fixture, planned with fixed subnets, owner and time).
pub fn plan() -> ShadowPlan {
    use crate::shadow::plan::tests::{options, shop_spec};
    plan::plan(&shop_spec(), &options()).unwrap()
}

/// [`plan`] with a privileged store, which is refused.
pub fn refused_plan() -> ShadowPlan {
    let mut plan = plan();
    plan.refusals.push(Refusal {
        service: "store".into(),
        setting: "privileged: true".into(),
        reason: "a privileged clone could reach the host".into(),
        allow: Some("privileged".into()),
    });
    plan
}
