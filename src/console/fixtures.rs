//! Test fixtures shared by the console's tests: three compose projects
//! (`blog` down, `payments` ready, `shop` with gateway / api x2 / store, one
//! api replica still starting), an engine, and stats with fixed numbers.

use std::time::{Duration, SystemTime};

use crate::domain::group::discover_compose_groups;
use crate::domain::labels;
use crate::domain::stats::ContainerStats;
use crate::domain::{ContainerSummary, Group, Health, RunState};
use crate::platform::EngineInfo;

use super::model::Model;
use super::msg::Msg;
use super::update::update;

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
    let mut out = Vec::new();
    for second in 0..8 {
        for (name, cpu, mem, rates) in &series {
            out.push(sample(name, second, cpu[second as usize], *mem, *rates));
        }
    }
    out
}

/// The console with `shop` selected, the engine known, stats flowing and the
/// clock at 12:00:00, built through `update` as the real console is.
pub fn model() -> Model {
    let mut model = Model::new(Some("shop".into()));
    update(&mut model, Msg::Tick("12:00:00".into()));
    update(&mut model, Msg::Engine(engine()));
    update(&mut model, Msg::Groups(groups()));
    for sample in shop_stats() {
        update(&mut model, Msg::Stats(sample));
    }
    model
}
