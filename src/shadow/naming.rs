//! Names and labels of everything a shadow creates (pure).
//!
//! Containers are `<group>-shadow-<id>-<service>-<n>`; networks
//! `<group>-shadow-<id>` (internal) and `<group>-shadow-<id>-edge`; their
//! Linux bridges `shd<id>n0` / `shd<id>e` (15-character limit), so one host
//! rule (`-i shd+`) covers every shadow. Every resource carries
//! `io.understudy.role`, `io.understudy.shadow=<id>` and
//! `io.understudy.of=<group>`, plus the creating process and time for `gc`.

use std::collections::BTreeMap;

use rand::Rng;

use crate::domain::labels;

/// Label: PID of the process that created the resource.
pub const OWNER_PID: &str = "io.understudy.owner-pid";
/// Label: that process's start time (clock ticks since boot).
pub const OWNER_START: &str = "io.understudy.owner-start";
/// Label: the host that process ran on.
pub const OWNER_HOST: &str = "io.understudy.owner-host";
/// Label on the marker volume of a shadow that came up completely.
pub const READY: &str = "io.understudy.ready";
/// Label prefix on the ingress: `io.understudy.route.<relay port>=<service>:<port>`.
pub const ROUTE_PREFIX: &str = "io.understudy.route.";
/// Label: creation time, seconds since the Unix epoch.
pub const CREATED: &str = "io.understudy.created";
/// Label: hash of the rewritten container spec, to detect drift.
pub const SPEC_HASH: &str = "io.understudy.spec-hash";
/// Label: replica number within the service.
pub const NUMBER: &str = "io.understudy.number";
/// Prefix under which production's compose labels are kept, renamed so that
/// `docker-compose` never adopts or removes a shadow container.
pub const ORIGINAL_PREFIX: &str = "io.understudy.orig.";
/// Role of application clones.
pub const ROLE_SHADOW: &str = "shadow";
/// Role of the ingress relay.
pub const ROLE_INGRESS: &str = "ingress";
/// Label: what a helper inside the shadow is (`proxy`); clones have none.
pub const COMPONENT: &str = "io.understudy.component";
/// Label on a fault proxy: the service it fronts.
pub const FRONTS: &str = "io.understudy.fronts";
/// Label on a fault proxy: its control API token (readable only by those
/// who can already exec into the shadow).
pub const PROXY_TOKEN: &str = "io.understudy.proxy-token";
/// Where fault proxies listen for control, inside the shadow.
pub const PROXY_CONTROL_PORT: u16 = 8474;

/// The alias a proxied service's clones answer to (the proxy holds the
/// service's own name).
pub fn upstream_alias(service: &str) -> String {
    format!("{service}-upstream")
}

/// The fault proxy fronting `service`.
pub fn proxy(group: &str, id: &str, service: &str) -> String {
    format!("{}-proxy-{service}", prefix(group, id))
}

/// The name of a proxy route: the service and the port.
pub fn proxy_route(service: &str, port: u16) -> String {
    format!("{service}-{port}")
}

/// A new shadow id: six lowercase hex digits.
pub fn new_id() -> String {
    format!("{:06x}", rand::rng().random_range(0..0x100_0000u32))
}

/// Whether text is a well-formed shadow id.
pub fn is_id(text: &str) -> bool {
    text.len() == 6
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A group name made safe for Docker object names (`app=shop,tier=web` ->
/// `app-shop-tier-web`).
pub fn slug(group: &str) -> String {
    let mut out = String::new();
    for c in group.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '.' || c == '_');
    let mut s: String = trimmed.chars().take(40).collect();
    if s.is_empty() {
        s.push_str("group");
    }
    s
}

pub fn prefix(group: &str, id: &str) -> String {
    format!("{}-shadow-{id}", slug(group))
}

pub fn container(group: &str, id: &str, service: &str, n: u32) -> String {
    format!("{}-{service}-{n}", prefix(group, id))
}

pub fn ingress(group: &str, id: &str) -> String {
    format!("{}-ingress", prefix(group, id))
}

pub fn internal_network(group: &str, id: &str) -> String {
    prefix(group, id)
}

pub fn edge_network(group: &str, id: &str) -> String {
    format!("{}-edge", prefix(group, id))
}

pub fn volume(group: &str, id: &str, source: &str) -> String {
    format!("{}-{}", prefix(group, id), slug(source))
}

/// Linux bridge of the internal network.
pub fn internal_bridge(id: &str) -> String {
    format!("shd{id}n0")
}

/// Linux bridge of the edge network.
pub fn edge_bridge(id: &str) -> String {
    format!("shd{id}e")
}

/// The labels every resource of shadow `id` carries.
pub fn base_labels(
    id: &str,
    group: &str,
    role: &str,
    owner: &super::tracking::Owner,
    created: u64,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::from([
        (labels::ROLE.to_owned(), role.to_owned()),
        (labels::SHADOW.to_owned(), id.to_owned()),
        (labels::OF.to_owned(), group.to_owned()),
        (CREATED.to_owned(), created.to_string()),
    ]);
    out.extend(owner.labels());
    out
}

/// The marker volume created when a shadow is completely up.
pub fn ready_marker(group: &str, id: &str) -> String {
    format!("{}-ready", prefix(group, id))
}

/// Production labels as a shadow keeps them: compose's renamed under
/// [`ORIGINAL_PREFIX`], understudy's own dropped, the rest unchanged.
pub fn carried_labels(production: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    production
        .iter()
        .filter(|(k, _)| !k.starts_with("io.understudy."))
        .map(|(k, v)| {
            if k.starts_with("com.docker.compose.") {
                (format!("{ORIGINAL_PREFIX}{k}"), v.clone())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_contract() {
        assert_eq!(
            container("shop", "a1b2c3", "api", 2),
            "shop-shadow-a1b2c3-api-2"
        );
        assert_eq!(ingress("shop", "a1b2c3"), "shop-shadow-a1b2c3-ingress");
        assert_eq!(internal_bridge("a1b2c3"), "shda1b2c3n0");
        assert!(internal_bridge("a1b2c3").len() <= 15);
        assert!(edge_bridge("a1b2c3").len() <= 15);
        assert_eq!(
            volume("shop", "a1b2c3", "shop_store-data"),
            "shop-shadow-a1b2c3-shop_store-data"
        );
    }

    #[test]
    fn selector_groups_become_valid_names() {
        assert_eq!(slug("app=shop,tier=web"), "app-shop-tier-web");
        assert_eq!(slug("Shop"), "shop");
        assert_eq!(slug("==="), "group");
    }

    #[test]
    fn ids_are_six_hex_digits() {
        for _ in 0..50 {
            let id = new_id();
            assert!(is_id(&id), "{id}");
        }
        assert!(!is_id("ABCDEF"));
        assert!(!is_id("abc"));
    }

    #[test]
    fn compose_labels_are_renamed_and_ours_dropped() {
        let prod = BTreeMap::from([
            ("com.docker.compose.project".to_owned(), "shop".to_owned()),
            ("io.understudy.demo".to_owned(), "shop".to_owned()),
            ("team".to_owned(), "payments".to_owned()),
        ]);
        let carried = carried_labels(&prod);
        assert_eq!(carried.len(), 2);
        assert_eq!(
            carried["io.understudy.orig.com.docker.compose.project"],
            "shop"
        );
        assert_eq!(carried["team"], "payments");
    }
}
