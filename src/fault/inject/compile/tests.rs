use std::collections::BTreeMap;

use super::*;
use crate::domain::spec::{NetworkAttachment, Resources};
use crate::fault::catalog::request;
use crate::platform::NetworkEndpoint;
use crate::platform::recording::container;

fn resolved(name: &str, service: &str, n: u32) -> Resolved {
    Resolved {
        id: format!("id-{name}"),
        name: name.into(),
        shadow: "a1b2c3".into(),
        service: service.into(),
        number: n,
    }
}

fn facts() -> Facts {
    let mut api1 = container("api-1", &[]);
    api1.spec.resources = Resources {
        nano_cpus: Some(500_000_000),
        memory: Some(256 << 20),
        ..Resources::default()
    };
    api1.networks = vec![NetworkEndpoint {
        network: "shop-shadow-a1b2c3".into(),
        ip: Some("10.213.0.3".parse().unwrap()),
        aliases: vec!["api".into(), "shop_api_1".into()],
    }];
    api1.spec.networks = vec![NetworkAttachment {
        network: "shop-shadow-a1b2c3".into(),
        aliases: vec!["api".into()],
    }];
    api1.spec.env.insert("STORE_TOKEN".into(), "s3cret".into());
    let mut store = container("store-1", &[]);
    store.networks = vec![NetworkEndpoint {
        network: "shop-shadow-a1b2c3".into(),
        ip: Some("10.213.0.2".parse().unwrap()),
        aliases: vec!["store".into()],
    }];
    Facts {
        proxies: BTreeMap::from([(
            "store".to_owned(),
            ProxyFacts {
                container: "proxy-store".into(),
                routes: vec!["store-8080".into()],
            },
        )]),
        details: BTreeMap::from([("api-1".to_owned(), api1), ("store-1".to_owned(), store)]),
        caps: Some(Capabilities {
            root: true,
            nsenter: true,
            iptables: Some("iptables".into()),
            tc: true,
            netem: false,
            unavailable: None,
        }),
        has_understudy: BTreeMap::from([("api-1".to_owned(), true)]),
        host_cpus: 2,
    }
}

fn req(kind: &str, sets: &[(&str, &str)]) -> FaultRequest {
    let sets: Vec<(String, String)> = sets
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request(kind, &sets).unwrap()
}

fn api() -> Resolution {
    Resolution::Containers(vec![resolved("api-1", "api", 1)])
}

#[test]
fn pause_and_kill_revert_to_running() {
    let c = compile(&req("pause", &[]), &api(), &facts(), "f1").unwrap();
    assert_eq!(
        c.steps,
        [Step::Pause {
            container: "api-1".into()
        }]
    );
    assert_eq!(
        c.reverts,
        [RevertOp::Unpause {
            container: "api-1".into()
        }]
    );
    let c = compile(
        &req("kill", &[("signal", "SIGTERM")]),
        &api(),
        &facts(),
        "f1",
    )
    .unwrap();
    assert_eq!(c.steps[0].to_string(), "kill api-1 with SIGTERM");
    assert_eq!(
        c.reverts,
        [RevertOp::Start {
            container: "api-1".into()
        }]
    );
}

#[test]
fn cpu_throttle_keeps_the_knob_the_container_was_created_with() {
    let c = compile(
        &req("cpu-throttle", &[("cpus", "0.1")]),
        &api(),
        &facts(),
        "f1",
    )
    .unwrap();
    assert_eq!(
        c.steps[0],
        Step::Update {
            container: "api-1".into(),
            update: ResourceUpdate {
                nano_cpus: Some(100_000_000),
                ..ResourceUpdate::default()
            }
        }
    );
    assert_eq!(
        c.reverts[0],
        RevertOp::Restore {
            container: "api-1".into(),
            update: ResourceUpdate {
                nano_cpus: Some(500_000_000),
                ..ResourceUpdate::default()
            }
        }
    );
    let mut spec = ContainerSpec::default();
    spec.resources.cpu_quota = Some(50_000);
    spec.resources.cpu_period = Some(100_000);
    let (new, old) = cpu_updates(&spec, 0.2);
    assert_eq!((new.cpu_quota, new.nano_cpus), (Some(20_000), None));
    assert_eq!(old.cpu_quota, Some(50_000));
    let (new, old) = cpu_updates(&ContainerSpec::default(), 0.5);
    assert_eq!(
        (new.cpu_quota, old.cpu_quota),
        (Some(50_000), Some(-1)),
        "unlimited restores to -1"
    );
}

#[test]
fn memory_pressure_sends_swap_along() {
    let c = compile(
        &req("memory-pressure", &[("memory", "32m")]),
        &api(),
        &facts(),
        "f1",
    )
    .unwrap();
    assert_eq!(
        c.steps[0],
        Step::Update {
            container: "api-1".into(),
            update: ResourceUpdate {
                memory: Some(32 << 20),
                memory_swap: Some(32 << 20),
                ..ResourceUpdate::default()
            }
        }
    );
    assert_eq!(
        c.reverts[0],
        RevertOp::Restore {
            container: "api-1".into(),
            update: ResourceUpdate {
                memory: Some(256 << 20),
                memory_swap: Some(512 << 20),
                ..ResourceUpdate::default()
            }
        }
    );
}

#[test]
fn packet_faults_need_the_capability_and_netem() {
    let c = compile(
        &req("packet-drop", &[("percent", "30%")]),
        &api(),
        &facts(),
        "f9",
    )
    .unwrap();
    let Step::Netns { commands, .. } = &c.steps[0] else {
        panic!()
    };
    assert!(commands[0].join(" ").contains("--probability 0.3000"));
    assert!(matches!(&c.reverts[0], RevertOp::Netns { commands, .. } if commands[0][2] == "-D"));
    let e = compile(&req("packet-latency", &[]), &api(), &facts(), "f9").unwrap_err();
    assert_eq!(e, CompileError::NoNetem);
    assert!(e.to_string().contains("understudy fault apply latency"));
    let mut no_root = facts();
    no_root.caps.as_mut().unwrap().unavailable = Some("not running as root".into());
    assert!(
        compile(&req("packet-drop", &[]), &api(), &no_root, "f9")
            .unwrap_err()
            .to_string()
            .contains("not running as root")
    );
}

#[test]
fn partitions_cut_both_sides() {
    let edge = Resolution::Edge {
        from: vec![resolved("api-1", "api", 1)],
        to: vec![resolved("store-1", "store", 1)],
    };
    let c = compile(&req("partition", &[]), &edge, &facts(), "f3").unwrap();
    assert_eq!(c.containers, ["api-1", "store-1"]);
    let text: Vec<String> = c.steps.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("-d 10.213.0.2"), "{text:?}");
    assert!(text[1].contains("-d 10.213.0.3"), "{text:?}");
    assert!(
        compile(&req("partition", &[]), &api(), &facts(), "f3").is_err(),
        "needs an edge"
    );
}

#[test]
fn breach_drills() {
    let c = compile(&req("quarantine", &[]), &api(), &facts(), "f4").unwrap();
    assert_eq!(
        c.steps,
        [Step::Disconnect {
            container: "api-1".into(),
            network: "shop-shadow-a1b2c3".into()
        }]
    );
    assert_eq!(
        c.reverts,
        [RevertOp::Reconnect {
            container: "api-1".into(),
            network: "shop-shadow-a1b2c3".into(),
            aliases: vec!["api".into(), "shop_api_1".into()]
        }]
    );
    let c = compile(
        &req("credential-revocation", &[("var", "STORE_TOKEN")]),
        &api(),
        &facts(),
        "f5",
    )
    .unwrap();
    let Step::Recreate { spec, .. } = &c.steps[0] else {
        panic!()
    };
    assert!(!spec.env.contains_key("STORE_TOKEN"));
    let RevertOp::Recreate { spec: original, .. } = &c.reverts[0] else {
        panic!()
    };
    assert_eq!(original.env["STORE_TOKEN"], "s3cret");
    let c = compile(
        &req("resource-hijack", &[("share", "10%")]),
        &api(),
        &facts(),
        "f6",
    )
    .unwrap();
    assert_eq!(
        c.steps[0],
        Step::Update {
            container: "api-1".into(),
            update: ResourceUpdate {
                nano_cpus: Some(50_000_000),
                ..ResourceUpdate::default()
            }
        }
    );
    assert!(matches!(&c.steps[1], Step::Spawn { argv, .. } if argv[1] == "burn"));
    assert!(
        matches!(&c.reverts[0], RevertOp::Upload { dir, .. } if dir == "/"),
        "the burner stops when its stop file appears: {:?}",
        c.reverts
    );
}

#[test]
fn service_faults_cover_replicas() {
    let two = Resolution::Containers(vec![
        resolved("api-1", "api", 1),
        resolved("api-2", "api", 2),
    ]);
    let c = compile(&req("outage", &[]), &two, &facts(), "f7").unwrap();
    assert_eq!(c.steps.len(), 2);
    assert!(matches!(c.steps[0], Step::Stop { .. }));
    let c = compile(
        &req("degrade", &[("fault", "pause"), ("share", "50%")]),
        &two,
        &facts(),
        "f8",
    )
    .unwrap();
    assert_eq!(
        c.steps,
        [Step::Pause {
            container: "api-1".into()
        }]
    );
    let c = compile(&req("dns-loss", &[]), &api(), &facts(), "f8").unwrap();
    assert_eq!(
        c.steps[1],
        Step::Connect {
            container: "api-1".into(),
            network: "shop-shadow-a1b2c3".into(),
            aliases: vec!["shop_api_1".into()]
        }
    );
}

#[test]
fn edge_faults_go_to_the_callee_proxy_limited_to_the_callers() {
    let edge = Resolution::Edge {
        from: vec![resolved("api-1", "api", 1)],
        to: vec![resolved("store-1", "store", 1)],
    };
    let c = compile(
        &req("latency", &[("latency", "200ms")]),
        &edge,
        &facts(),
        "f1",
    )
    .unwrap();
    let Step::ProxyAdd {
        container,
        route,
        words,
    } = &c.steps[0]
    else {
        panic!("{:?}", c.steps)
    };
    assert_eq!(
        (container.as_str(), route.as_str()),
        ("proxy-store", "store-8080")
    );
    assert_eq!(words[0], "latency");
    assert!(words.contains(&"latency=200ms".to_owned()), "{words:?}");
    assert!(
        words.contains(&"sources=10.213.0.3/32".to_owned()),
        "{words:?}"
    );
    assert!(
        matches!(&c.reverts[0], RevertOp::ProxyFaults { kind, ids, .. } if kind == "latency" && ids.is_empty())
    );
    let reverse = Resolution::Edge {
        from: vec![resolved("store-1", "store", 1)],
        to: vec![resolved("api-1", "api", 1)],
    };
    let e = compile(
        &req("latency", &[("latency", "1s")]),
        &reverse,
        &facts(),
        "f1",
    )
    .unwrap_err();
    assert!(e.to_string().contains("--no-proxies"), "{e}");
    assert!(
        compile(
            &req("latency", &[("latency", "1s")]),
            &api(),
            &facts(),
            "f1"
        )
        .is_err(),
        "needs an edge"
    );
}
