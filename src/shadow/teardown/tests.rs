use super::*;
use crate::domain::{ContainerSummary, Health};
use crate::fixtures::{self, fake::Fake};
use crate::platform::{NetworkSummary, VolumeSummary};
use crate::shadow::naming;

/// Strips the creator from a resource's labels: a shadow `gc` may remove.
fn without_owner(labels: &mut std::collections::BTreeMap<String, String>) {
    for key in [naming::OWNER_PID, naming::OWNER_HOST, naming::OWNER_START] {
        labels.remove(key);
    }
}

/// Shadow a1b2c3 without a ready marker or a creator; beside it a ready
/// shadow d4e5f6 with a network (so no host rule is touched).
fn half_made_shadow_beside_a_ready_one() -> Fake {
    let fake = Fake::new();
    fake.with(|s| {
        for mut c in fixtures::shadow_containers() {
            without_owner(&mut c.labels);
            s.containers.push(c);
        }
        for mut n in fixtures::shadow_networks() {
            without_owner(&mut n.labels);
            s.networks.push(n);
        }
        let ready = fixtures::ready_marker();
        let other = |mut labels: std::collections::BTreeMap<String, String>| {
            labels.insert(labels::SHADOW.to_owned(), "d4e5f6".to_owned());
            labels
        };
        s.networks.push(NetworkSummary {
            id: "net-d4e5f6".into(),
            name: "shop-shadow-d4e5f6-internal".into(),
            internal: true,
            labels: other(fixtures::shadow_networks()[0].labels.clone()),
            subnets: vec![],
        });
        s.volumes.push(VolumeSummary {
            name: "shop-shadow-d4e5f6-ready".into(),
            labels: other(ready.labels),
        });
    });
    fake
}

/// A clone the engine finished creating after `gc` listed the shadow.
fn late_clone() -> ContainerSummary {
    let mut c = fixtures::shadow_container("api", 2, Health::Starting);
    without_owner(&mut c.labels);
    c
}

#[tokio::test(start_paused = true)]
async fn gc_also_removes_what_the_engine_created_after_its_listing() {
    let fake = half_made_shadow_beside_a_ready_one();
    let late = late_clone();
    fake.with(|s| s.late = vec![late.clone()]);

    let report = gc(&fake).await.unwrap();

    assert_eq!(report.removed.len(), 1, "{report:?}");
    let (removed, reason) = &report.removed[0];
    assert_eq!(removed.id, fixtures::SHADOW_ID);
    assert!(reason.contains("no creator"), "{reason}");
    assert!(removed.containers.contains(&late.name), "{removed:?}");
    assert_eq!(removed.networks.len(), 2, "{removed:?}");
    fake.with(|s| {
        let left = |l: &std::collections::BTreeMap<String, String>| {
            l.get(labels::SHADOW).map(String::as_str) == Some(fixtures::SHADOW_ID)
        };
        assert!(
            !s.containers.iter().any(|c| left(&c.labels)),
            "{:?}",
            s.containers
        );
        assert!(!s.networks.iter().any(|n| left(&n.labels)));
        // The ready shadow is untouched.
        assert_eq!(s.networks.len(), 1);
        assert_eq!(s.volumes.len(), 1);
    });
}

#[tokio::test(start_paused = true)]
async fn gc_leaves_a_ready_shadow_and_a_live_creators_alone() {
    let fake = half_made_shadow_beside_a_ready_one();
    // a1b2c3's containers record a creator that runs: this test's process
    // (on this host, so its PID and start time decide, never the clock).
    let creator = crate::shadow::tracking::Owner::current().labels();
    fake.with(|s| {
        for c in &mut s.containers {
            if c.labels.contains_key(labels::SHADOW) {
                c.labels.extend(creator.clone());
            }
        }
    });
    let report = gc(&fake).await.unwrap();
    assert!(report.removed.is_empty(), "{report:?}");
    assert_eq!(fake.with(|s| s.networks.len()), 3);
}

/// One shadow's network the engine will not remove: `gc` reports it and
/// still removes the other abandoned shadow.
#[tokio::test(start_paused = true)]
async fn gc_reports_a_shadow_it_cannot_remove_and_removes_the_rest() {
    let fake = half_made_shadow_beside_a_ready_one();
    fake.with(|s| {
        // A second abandoned shadow, b2c3d4: one network, stuck.
        let mut labels = s.networks[0].labels.clone();
        labels.insert(labels::SHADOW.to_owned(), "b2c3d4".to_owned());
        s.networks.push(NetworkSummary {
            id: "net-b2c3d4".into(),
            name: "shop-shadow-b2c3d4".into(),
            internal: true,
            labels,
            subnets: vec![],
        });
        s.stuck_networks.push("net-b2c3d4".into());
    });
    let report = gc(&fake).await.unwrap();
    let removed: Vec<&str> = report.removed.iter().map(|(r, _)| r.id.as_str()).collect();
    assert_eq!(removed, ["a1b2c3"], "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(
        report.errors[0].starts_with("shadow b2c3d4: ")
            && report.errors[0].contains("active endpoints"),
        "{report:?}"
    );
}

/// A host rule in memory: what was done to it, in order; `on_remove` runs
/// while it is being removed (a concurrent `shadow up`).
struct RuleLog {
    calls: std::sync::Mutex<Vec<&'static str>>,
    on_remove: Box<dyn Fn() + Send + Sync>,
}

impl RuleLog {
    fn new(on_remove: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            calls: std::sync::Mutex::new(Vec::new()),
            on_remove: Box::new(on_remove),
        }
    }

    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }
}

impl HostRule for RuleLog {
    async fn install(&self) -> Result<(), host_guard::GuardError> {
        self.calls.lock().unwrap().push("install");
        Ok(())
    }

    async fn remove(&self) -> Result<(), host_guard::GuardError> {
        self.calls.lock().unwrap().push("remove");
        (self.on_remove)();
        Ok(())
    }
}

#[tokio::test]
async fn the_host_rule_stays_while_a_shadow_network_exists() {
    let fake = Fake::with_shadow();
    let rule = RuleLog::new(|| {});
    assert_eq!(retire_rule(&fake, &rule).await.unwrap(), Retired::Kept);
    assert!(rule.calls().is_empty());
}

#[tokio::test]
async fn the_last_shadow_takes_the_host_rule_with_it() {
    let fake = Fake::new();
    let rule = RuleLog::new(|| {});
    assert_eq!(retire_rule(&fake, &rule).await.unwrap(), Retired::Removed);
    assert_eq!(rule.calls(), ["remove"]);
}

/// A `shadow up` creates its networks just as the last `down` removes the
/// rule (having found it still present, it did not install it): the rule
/// is put back, or the new shadow would reach the host's addresses. Seen
/// in the shadow drills, two at a time: "shadow reached the host".
#[tokio::test]
async fn a_shadow_network_that_appears_during_the_removal_gets_the_rule_back() {
    let fake = Fake::new();
    let concurrent = fake.clone();
    let rule = RuleLog::new(move || {
        concurrent.with(|s| s.networks.extend(fixtures::shadow_networks()));
    });
    assert_eq!(
        retire_rule(&fake, &rule).await.unwrap(),
        Retired::Reinstalled
    );
    assert_eq!(rule.calls(), ["remove", "install"]);
}
