use std::collections::BTreeSet;

use super::*;
use crate::domain::SpecSource;
use crate::domain::labels;
use crate::shadow::capture::{capture, tests::shop};
use crate::shadow::naming;

/// Options for shadow a1b2c3 of shop: fixed subnets, owner and time.
pub(crate) fn options() -> PlanOptions {
    PlanOptions {
        id: "a1b2c3".into(),
        entry: vec![],
        volumes: VolumeMode::Snapshot,
        allow: BTreeSet::new(),
        consistent: false,
        internal_subnet: "10.213.0.0/26".parse().unwrap(),
        edge_subnet: "10.213.0.64/28".parse().unwrap(),
        relay_image: "understudy:latest".into(),
        proxies: false,
        proxy_token: "t0ken".into(),
        owner: crate::shadow::tracking::Owner {
            pid: 42,
            start: Some(7),
            host: "test-host".into(),
        },
        pool: "10.213.0.0/16".parse().unwrap(),
        created_unix: 1_800_000_000,
        guard: GuardCapability::Available {
            iptables: "iptables".into(),
        },
    }
}

/// The spec of shop (the capture module's fixture), as compose describes it.
pub(crate) fn shop_spec() -> GroupSpec {
    let (group, details) = shop();
    capture(
        &group,
        &details,
        SpecSource::Compose {
            project: "shop".into(),
        },
    )
    .spec
}

#[test]
fn clones_are_named_labelled_pinned_and_internal() {
    let p = plan(&shop_spec(), &options()).unwrap();
    let names: Vec<_> = p.containers().map(|c| c.spec.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "shop-shadow-a1b2c3-store-1",
            "shop-shadow-a1b2c3-api-1",
            "shop-shadow-a1b2c3-api-2",
            "shop-shadow-a1b2c3-gateway-1"
        ]
    );
    assert_eq!(p.tiers.len(), 3, "store, api, gateway");
    for c in p.containers() {
        let l = &c.spec.labels;
        assert_eq!(l[labels::ROLE], "shadow");
        assert_eq!(l[labels::SHADOW], "a1b2c3");
        assert_eq!(l[labels::OF], "shop");
        assert_eq!(l[labels::SERVICE], c.service);
        assert!(
            !l.contains_key(labels::COMPOSE_PROJECT),
            "compose must not adopt a shadow"
        );
        assert_eq!(l["io.understudy.orig.com.docker.compose.project"], "shop");
        assert!(c.spec.publish.is_empty(), "no host ports on clones");
        assert_eq!(c.spec.image, "sha256:1234");
        assert_eq!(c.spec.networks.len(), 1);
        assert_eq!(c.spec.networks[0].network, "shop-shadow-a1b2c3");
        assert!(c.spec.networks[0].aliases.contains(&c.service));
        assert!(c.spec.labels.contains_key(naming::SPEC_HASH));
    }
    let api2 = p
        .containers()
        .find(|c| c.spec.name.ends_with("api-2"))
        .unwrap();
    assert!(
        api2.spec.networks[0]
            .aliases
            .contains(&"shop_api_2".to_owned()),
        "production names resolve too"
    );
    assert_eq!(api2.clone_of.as_deref(), Some("shop_api_2"));
    assert!(p.networks[0].internal);
    assert_eq!(p.networks[0].subnet.as_deref(), Some("10.213.0.0/26"));
    assert_eq!(
        p.networks[0].options["com.docker.network.bridge.name"],
        "shda1b2c3n0"
    );
}

#[test]
fn the_entry_gets_a_loopback_ingress_on_an_edge_network() {
    let p = plan(&shop_spec(), &options()).unwrap();
    let ingress = p.ingress.as_ref().unwrap();
    assert_eq!(
        ingress.routes,
        [IngressRoute {
            service: "gateway".into(),
            service_port: 8080,
            relay_port: 10_000
        }]
    );
    assert_eq!(ingress.spec.labels[labels::ROLE], "ingress");
    assert!(
        ingress
            .spec
            .publish
            .iter()
            .all(|p| p.host_ip == "127.0.0.1" && p.host_port.is_none())
    );
    assert_eq!(ingress.spec.networks[0].network, "shop-shadow-a1b2c3-edge");
    assert_eq!(ingress.spec.networks[1].network, "shop-shadow-a1b2c3");
    assert_eq!(ingress.spec.cmd, ["relay", "10000=gateway:8080"]);
    assert_eq!(
        ingress.spec.labels["io.understudy.route.10000"],
        "gateway:8080"
    );
    assert_eq!(ingress.spec.labels[naming::OWNER_PID], "42");
    assert_eq!(p.ready_marker.name, "shop-shadow-a1b2c3-ready");
    assert_eq!(p.ready_marker.labels[naming::READY], "true");
    assert_eq!(p.networks.len(), 2);
    assert!(!p.networks[1].internal);
    assert!(
        p.rewrites
            .iter()
            .any(|r| r.change.contains("host ports dropped"))
    );
}

#[test]
fn entry_override_and_unknown_entry() {
    let mut o = options();
    o.entry = vec!["api".into()];
    let p = plan(&shop_spec(), &o).unwrap();
    assert_eq!(p.ingress.unwrap().routes[0].service, "api");
    o.entry = vec!["nope".into()];
    let e = plan(&shop_spec(), &o).unwrap_err().to_string();
    assert!(e.contains("\"nope\"") && e.contains("gateway"), "{e}");
}

#[test]
fn volumes_follow_the_mode() {
    let p = plan(&shop_spec(), &options()).unwrap();
    assert_eq!(p.volumes.len(), 1);
    let v = &p.volumes[0];
    assert_eq!(v.spec.name, "shop-shadow-a1b2c3-shop_store-data");
    assert_eq!(
        v.copy_from,
        Some(("shop_store_1".to_owned(), "/data".to_owned()))
    );
    assert_eq!(v.copy_into.0, "shop-shadow-a1b2c3-store-1");
    let store = p.containers().next().unwrap();
    assert_eq!(store.spec.mounts[0].source, v.spec.name);

    let mut o = options();
    o.volumes = VolumeMode::ReadOnly;
    let p = plan(&shop_spec(), &o).unwrap();
    assert!(p.volumes.is_empty());
    let m = &p.containers().next().unwrap().spec.mounts[0];
    assert!(m.read_only && m.source == "shop_store-data");

    o.volumes = VolumeMode::Tmpfs;
    let p = plan(&shop_spec(), &o).unwrap();
    assert_eq!(
        p.containers().next().unwrap().spec.mounts[0].kind,
        crate::domain::spec::MountKind::Tmpfs
    );

    o.volumes = VolumeMode::Refuse;
    let p = plan(&shop_spec(), &o).unwrap();
    assert!(p.is_refused());
    assert_eq!(p.refusals[0].service, "store");
}

#[test]
fn risky_settings_are_refused_unless_allowed() {
    let mut spec = shop_spec();
    let api = spec.services.iter_mut().find(|s| s.name == "api").unwrap();
    api.container.security.privileged = true;
    api.container.network_mode = Some("host".into());
    let p = plan(&spec, &options()).unwrap();
    let settings: Vec<_> = p.refusals.iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(settings, ["network_mode: host", "privileged: true"]);
    assert_eq!(p.refusals[1].allow.as_deref(), Some("privileged"));
    let mut o = options();
    o.allow = [Allowance::Privileged, Allowance::HostNetwork]
        .into_iter()
        .collect();
    assert!(!plan(&spec, &o).unwrap().is_refused());
}

#[test]
fn external_hosts_are_flagged() {
    let mut spec = shop_spec();
    let api = spec.services.iter_mut().find(|s| s.name == "api").unwrap();
    api.container.env.insert(
        "PAYMENTS_URL".into(),
        "https://payments.example.com/v1".into(),
    );
    api.container
        .env
        .insert("LOCAL".into(), "http://localhost:9000".into());
    let p = plan(&spec, &options()).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("payments.example.com"));
    assert!(p.warnings[0].contains("PAYMENTS_URL"));
}

#[test]
fn the_plan_text_shows_every_part() {
    let mut o = options();
    o.guard = GuardCapability::Unavailable {
        reason: "not running as root".into(),
    };
    let text = render_text(&plan(&shop_spec(), &o).unwrap());
    for needle in [
        "Shadow a1b2c3 of shop",
        "+ shop-shadow-a1b2c3  (internal, 10.213.0.0/26, bridge shda1b2c3n0)",
        "snapshot of shop_store_1:/data",
        "1. shop-shadow-a1b2c3-store-1 (clone of shop_store_1)",
        "127.0.0.1:<ephemeral> -> gateway:8080",
        "NOT ISOLATED FROM THE HOST: not running as root",
        "why:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn planning_is_deterministic() {
    let a = plan(&shop_spec(), &options()).unwrap();
    let b = plan(&shop_spec(), &options()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn container_network_mode_is_remapped_to_the_peer_clone() {
    let mut spec = shop_spec();
    for s in &mut spec.services {
        s.instances.clear(); // as from a compose file: nothing runs yet
    }
    let api = spec.services.iter_mut().find(|s| s.name == "api").unwrap();
    api.container.network_mode = Some("container:shop-store-1".into());
    let mut o = options();
    o.allow = [Allowance::ContainerNetwork].into_iter().collect();
    let p = plan(&spec, &o).unwrap();
    let api1 = p
        .containers()
        .find(|c| c.spec.name.ends_with("api-1"))
        .unwrap();
    assert_eq!(
        api1.spec.network_mode.as_deref(),
        Some("container:shop-shadow-a1b2c3-store-1")
    );
    o.allow.clear();
    assert!(
        plan(&spec, &o)
            .unwrap()
            .refusals
            .iter()
            .any(|r| r.allow.as_deref() == Some("container-network"))
    );
}

#[test]
fn fault_proxies_take_the_service_names() {
    let mut o = options();
    o.proxies = true;
    let p = plan(&shop_spec(), &o).unwrap();
    let names: Vec<_> = p.containers().map(|c| c.spec.name.as_str()).collect();
    assert!(names.contains(&"shop-shadow-a1b2c3-proxy-api"), "{names:?}");
    let proxy = p
        .containers()
        .find(|c| c.spec.name == "shop-shadow-a1b2c3-proxy-api")
        .unwrap();
    assert_eq!(proxy.spec.networks[0].aliases, ["api"]);
    assert_eq!(
        proxy.spec.labels[labels::ROLE],
        "shadow",
        "faults may reach it"
    );
    assert!(
        !proxy.spec.labels.contains_key(labels::SERVICE),
        "targets never resolve to it"
    );
    assert_eq!(proxy.spec.labels[naming::FRONTS], "api");
    assert_eq!(proxy.spec.env["UNDERSTUDY_PROXY_TOKEN"], "t0ken");
    assert!(
        proxy.uploads[0]
            .content
            .contains("upstream = \"api-upstream:8080\"")
    );
    let api1 = p
        .containers()
        .find(|c| c.spec.name.ends_with("api-1"))
        .unwrap();
    assert!(
        api1.spec.networks[0]
            .aliases
            .contains(&"api-upstream".to_owned())
    );
    assert!(!api1.spec.networks[0].aliases.contains(&"api".to_owned()));
    // The proxy starts with the first tier: before its service and its callers.
    let tier = p
        .tiers
        .iter()
        .position(|t| t.iter().any(|c| c.spec.name == proxy.spec.name))
        .unwrap();
    let api_tier = p
        .tiers
        .iter()
        .position(|t| t.iter().any(|c| c.spec.name == api1.spec.name))
        .unwrap();
    assert_eq!(tier, 0);
    assert!(tier <= api_tier);
}
