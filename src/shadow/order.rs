//! Service dependencies and start order (pure): parsing compose's
//! `depends_on` label, inferring dependencies from environment values that
//! name other services, finding hosts outside the group, and a stable
//! topological order that tolerates cycles.

use std::collections::{BTreeMap, BTreeSet};

/// Names in compose's `com.docker.compose.depends_on` label
/// (`store:service_started:false,db:service_healthy:true`).
pub fn parse_depends_on_label(value: &str) -> Vec<String> {
    let mut names: Vec<String> = value
        .split(',')
        .filter_map(|item| item.split(':').next())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Host names an environment value points at: the host of a URL
/// (`http://store:8080/x`, `postgres://u:p@db/app`), a `host:port` pair, or
/// a bare word that is one of `known` (a service name or alias).
pub fn referenced_hosts(value: &str, known: &BTreeSet<String>) -> Vec<String> {
    let mut hosts = Vec::new();
    for token in value.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        if token.is_empty() {
            continue;
        }
        if let Some(host) = host_of(token) {
            hosts.push(host);
        } else if known.contains(token) {
            hosts.push(token.to_owned());
        }
    }
    hosts.sort();
    hosts.dedup();
    hosts
}

fn host_of(token: &str) -> Option<String> {
    let rest = match token.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() => rest,
        _ => {
            // host:port
            let (host, port) = token.rsplit_once(':')?;
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return valid_host(host).then(|| host.to_ascii_lowercase());
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        return None; // IPv6 literal: never a service name
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    valid_host(host).then(|| host.to_ascii_lowercase())
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        && host.chars().any(|c| c.is_ascii_alphabetic() || c == '.')
        && !host.starts_with('.')
        && !host.ends_with('.')
}

/// Whether a host stays inside the container (loopback) or is an address
/// literal; neither is a dependency on another service.
pub fn is_local_or_literal(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() || host.ends_with(".localhost")
}

/// Orders services so each comes after its dependencies; among services
/// whose dependencies are met, alphabetical. Edges that would close a cycle
/// are ignored and returned, so the caller can warn about them.
pub fn start_order(
    deps: &BTreeMap<String, BTreeSet<String>>,
) -> (Vec<String>, Vec<(String, String)>) {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::new();
    let mut ignored = Vec::new();
    let mut remaining: BTreeMap<String, BTreeSet<String>> = deps
        .iter()
        .map(|(s, d)| {
            let known: BTreeSet<String> = d
                .iter()
                .filter(|x| deps.contains_key(*x) && *x != s)
                .cloned()
                .collect();
            (s.clone(), known)
        })
        .collect();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .iter()
            .filter(|(_, d)| d.iter().all(|x| placed.contains(x)))
            .map(|(s, _)| s.clone())
            .collect();
        if ready.is_empty() {
            // A cycle: release the alphabetically first service by dropping
            // its unmet edges.
            let (service, unmet) = remaining
                .iter()
                .next()
                .map(|(s, d)| (s.clone(), d.clone()))
                .unwrap_or_default();
            for dep in unmet.iter().filter(|d| !placed.contains(*d)) {
                ignored.push((service.clone(), dep.clone()));
            }
            remaining.insert(service, BTreeSet::new());
            continue;
        }
        for s in ready {
            remaining.remove(&s);
            placed.insert(s.clone());
            order.push(s);
        }
    }
    (order, ignored)
}

/// Groups services into tiers that can start together: tier n holds the
/// services whose dependencies are all in earlier tiers.
pub fn tiers(order: &[String], deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    for s in order {
        let l = deps
            .get(s)
            .into_iter()
            .flatten()
            .filter_map(|d| level.get(d.as_str()).map(|l| l + 1))
            .max()
            .unwrap_or(0);
        level.insert(s, l);
    }
    let depth = level.values().copied().max().map_or(0, |m| m + 1);
    let mut out = vec![Vec::new(); depth];
    for s in order {
        out[level[s.as_str()]].push(s.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn depends_on_label_names() {
        assert_eq!(
            parse_depends_on_label("store:service_started:false,db:service_healthy:true"),
            ["db", "store"]
        );
        assert!(parse_depends_on_label("").is_empty());
    }

    #[test]
    fn hosts_from_urls_pairs_and_known_words() {
        let known = set(&["store", "api"]);
        assert_eq!(referenced_hosts("store:8080", &known), ["store"]);
        assert_eq!(
            referenced_hosts("postgres://user:pw@db.internal:5432/app", &known),
            ["db.internal"]
        );
        assert_eq!(referenced_hosts("http://api/v1?x=1", &known), ["api"]);
        assert_eq!(referenced_hosts("api", &known), ["api"]);
        assert!(referenced_hosts("5ms", &known).is_empty());
        assert!(
            referenced_hosts("12:30", &known).is_empty(),
            "a time is not a host"
        );
        assert_eq!(
            referenced_hosts("a:1,b.example.com:2", &known),
            ["a", "b.example.com"]
        );
        assert!(is_local_or_literal("127.0.0.1"));
        assert!(is_local_or_literal("localhost"));
        assert!(!is_local_or_literal("store"));
    }

    #[test]
    fn order_puts_dependencies_first_and_breaks_cycles() {
        let deps: BTreeMap<String, BTreeSet<String>> = [
            ("gateway".to_owned(), set(&["api"])),
            ("api".to_owned(), set(&["store", "unknown"])),
            ("store".to_owned(), set(&[])),
            ("worker".to_owned(), set(&["store"])),
        ]
        .into_iter()
        .collect();
        let (order, ignored) = start_order(&deps);
        assert_eq!(order, ["store", "api", "worker", "gateway"]);
        assert!(ignored.is_empty());
        let t = tiers(&order, &deps);
        assert_eq!(
            t,
            vec![vec!["store"], vec!["api", "worker"], vec!["gateway"]]
        );

        let cyclic: BTreeMap<String, BTreeSet<String>> =
            [("a".to_owned(), set(&["b"])), ("b".to_owned(), set(&["a"]))]
                .into_iter()
                .collect();
        let (order, ignored) = start_order(&cyclic);
        assert_eq!(order, ["a", "b"]);
        assert_eq!(ignored, [("a".to_owned(), "b".to_owned())]);
    }
}
