//! A schedule file's entries made concrete against the engine's listing
//! (pure): each entry's targets — one per container for instance, packet
//! and breach faults, the whole target otherwise — and each service's
//! replica count in its shadow, for the blast-radius limit. `understudy fault schedule`
//! and the console's schedule view both expand a file this way.

use std::collections::BTreeMap;

use crate::domain::ContainerSummary;

use super::catalog::{self, FaultRequest, Level};
use super::plan_file::ScheduleFile;
use super::schedule::{Entry, Target};
use super::target::{self, Resolution, Resolved, TargetError, TargetSpec};

/// What a schedule entry applies: the fault and its (whole) target.
pub type Planned = (FaultRequest, TargetSpec);
/// Replica count per service.
pub type Replicas = BTreeMap<String, usize>;

/// `file`'s entries with their concrete targets, and the replica count of
/// every service they touch.
pub fn resolve(
    file: &ScheduleFile,
    listing: &[ContainerSummary],
) -> Result<(Vec<Entry<Planned>>, Replicas), TargetError> {
    let mut entries = Vec::new();
    let mut replicas = Replicas::new();
    for e in &file.entries {
        let (request, spec) = &e.fault;
        let members = match target::resolve(spec, listing)? {
            Resolution::Containers(c) => c,
            Resolution::Edge { to, .. } => to,
        };
        for m in &members {
            if !replicas.contains_key(&m.service) {
                let count = service_size(m, listing)
                    .unwrap_or_else(|| members.iter().filter(|x| x.service == m.service).count());
                replicas.insert(m.service.clone(), count);
            }
        }
        let per_container = matches!(
            catalog::kind(&request.kind).map(|k| k.level),
            Some(Level::Instance | Level::Packet | Level::Breach)
        );
        let targets = if per_container {
            members
                .iter()
                .map(|m| Target {
                    name: m.name.clone(),
                    service: m.service.clone(),
                })
                .collect()
        } else {
            vec![Target {
                name: spec.to_string(),
                service: spec.to_string(),
            }]
        };
        entries.push(Entry {
            fault: e.fault.clone(),
            targets,
            trigger: e.trigger.clone(),
            duration: e.duration,
        });
    }
    Ok((entries, replicas))
}

/// How many replicas `member`'s service has in its shadow (a target of one
/// replica still limits the share of all of them); `None` for a container
/// outside any shadow's services.
fn service_size(member: &Resolved, listing: &[ContainerSummary]) -> Option<usize> {
    let whole = TargetSpec::Service {
        shadow: member.shadow.clone(),
        service: member.service.clone(),
    };
    match target::resolve(&whole, listing) {
        Ok(Resolution::Containers(all)) => Some(all.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::plan_file;
    use crate::fault::target::tests::engine;

    const FILE: &str = r#"
horizon = "5m"
[[fault]]
kind = "pause"
target = "a1b2c3/api"
at = "30s"
duration = "10s"
[[fault]]
kind = "latency"
target = "a1b2c3/api"
at = "1m"
duration = "10s"
set = { latency = "200ms" }
"#;

    #[test]
    fn instance_faults_fan_out_per_container_and_others_keep_their_target() {
        let file = plan_file::parse("s.toml", FILE).unwrap();
        let (entries, replicas) = resolve(&file, &engine()).unwrap();
        let names = |i: usize| -> Vec<String> {
            entries[i].targets.iter().map(|t| t.name.clone()).collect()
        };
        assert_eq!(
            names(0),
            ["shop-shadow-a1b2c3-api-1", "shop-shadow-a1b2c3-api-2"]
        );
        assert_eq!(names(1), ["a1b2c3/api"]);
        assert_eq!(replicas.get("api"), Some(&2));
    }

    /// The blast-radius limit is a share of all of a service's replicas,
    /// also when an entry names one replica.
    #[test]
    fn a_replica_target_counts_every_replica_of_its_service() {
        let one_replica = FILE.replacen("a1b2c3/api", "a1b2c3/api/1", 1);
        let (first_entry, _) = one_replica.split_at(one_replica.rfind("[[fault]]").unwrap());
        let file = plan_file::parse("s.toml", first_entry).unwrap();
        let (entries, replicas) = resolve(&file, &engine()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].targets.len(), 1);
        assert_eq!(replicas.get("api"), Some(&2));
    }

    #[test]
    fn a_target_that_matches_nothing_is_an_error() {
        let text = FILE.replace("a1b2c3/api", "a1b2c3/nope");
        let file = plan_file::parse("s.toml", &text).unwrap();
        assert!(resolve(&file, &engine()).is_err());
    }
}
