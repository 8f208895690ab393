//! Which shadows exist, whether they finished coming up, and whether their
//! creator still lives, read from the engine alone (labels), so every
//! process and user on the machine sees the same answer and `gc` never
//! depends on a local state directory.
//!
//! Every resource carries its creator (`owner-pid`, `owner-start`,
//! `owner-host`) and creation time; a shadow that came up completely also
//! has a small marker volume labelled `io.understudy.ready=true`. `gc`
//! collects a shadow without the marker whose creator is gone (killed
//! halfway through `shadow up`, or a failed `--keep-failed` apply).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::naming;
use crate::domain::ContainerSummary;
use crate::domain::labels;
use crate::platform::{NetworkSummary, VolumeSummary};

/// A creating process, as labels record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: u32,
    /// Start time in clock ticks since boot, to tell a reused PID apart.
    pub start: Option<u64>,
    pub host: String,
}

/// The machine's host name (`/proc/sys/kernel/hostname`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

impl Owner {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: process_start(pid),
            host: host_name(),
        }
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::from([
            (naming::OWNER_PID.to_owned(), self.pid.to_string()),
            (naming::OWNER_HOST.to_owned(), self.host.clone()),
        ]);
        if let Some(start) = self.start {
            out.insert(naming::OWNER_START.to_owned(), start.to_string());
        }
        out
    }

    pub fn from_labels(l: &BTreeMap<String, String>) -> Option<Self> {
        Some(Self {
            pid: l.get(naming::OWNER_PID)?.parse().ok()?,
            start: l.get(naming::OWNER_START).and_then(|s| s.parse().ok()),
            host: l.get(naming::OWNER_HOST).cloned().unwrap_or_default(),
        })
    }
}

/// Start time (field 22 of `/proc/PID/stat`) of a live process.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/PID/stat` line (the command may hold spaces and
/// parentheses, so fields are counted after the last `)`); none for a
/// process that has exited but not been reaped yet (state `Z` or `X`: a
/// SIGKILLed holder whose parent has not waited for it is gone).
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    if matches!(fields.next()?, "Z" | "X" | "x") {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// How long a shadow created on another host counts as "being created".
pub const FOREIGN_CREATION_GRACE_S: u64 = 3600;

/// Whether the creator still runs: on this host by PID and start time;
/// for another host (a remote engine) only within a grace period.
pub fn owner_alive(owner: &Owner, created_unix: u64, now_unix: u64) -> bool {
    if owner.host != host_name() {
        return now_unix.saturating_sub(created_unix) < FOREIGN_CREATION_GRACE_S;
    }
    match (process_start(owner.pid), owner.start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// One shadow as the engine shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowState {
    pub id: String,
    pub group: String,
    /// The ready marker exists: `shadow up` completed.
    pub ready: bool,
    pub owner: Option<Owner>,
    pub created_unix: u64,
    pub containers: usize,
    pub running: usize,
    /// Entry service -> `http://127.0.0.1:PORT`, from the ingress.
    pub entry: BTreeMap<String, String>,
}

fn created(l: &BTreeMap<String, String>) -> u64 {
    l.get(naming::CREATED)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Pure: every shadow present in the listings, by id.
pub fn shadows(
    containers: &[ContainerSummary],
    networks: &[NetworkSummary],
    volumes: &[VolumeSummary],
) -> Vec<ShadowState> {
    let mut by_id: BTreeMap<String, ShadowState> = BTreeMap::new();
    let mut touch = |l: &BTreeMap<String, String>| -> Option<String> {
        let id = l.get(labels::SHADOW)?.clone();
        let state = by_id.entry(id.clone()).or_insert_with(|| ShadowState {
            id: id.clone(),
            group: l.get(labels::OF).cloned().unwrap_or_default(),
            ready: false,
            owner: Owner::from_labels(l),
            created_unix: created(l),
            containers: 0,
            running: 0,
            entry: BTreeMap::new(),
        });
        let c = created(l);
        if c != 0 && (state.created_unix == 0 || c < state.created_unix) {
            state.created_unix = c;
        }
        if l.get(naming::READY).map(String::as_str) == Some("true") {
            state.ready = true;
        }
        Some(id)
    };
    let mut container_ids = Vec::new();
    for c in containers {
        if let Some(id) = touch(&c.labels) {
            container_ids.push((id, c));
        }
    }
    for n in networks {
        touch(&n.labels);
    }
    // A fault's lease carries the shadow's labels (so `down` removes it)
    // but its holder is not the shadow's creator.
    for v in volumes
        .iter()
        .filter(|v| !v.labels.contains_key(labels::LEASE))
    {
        touch(&v.labels);
    }
    for (id, c) in container_ids {
        if let Some(state) = by_id.get_mut(&id) {
            state.containers += 1;
            if c.state == crate::domain::RunState::Running {
                state.running += 1;
            }
            for p in &c.ports {
                let key = format!("{}{}", naming::ROUTE_PREFIX, p.container_port);
                if let Some(route) = c.labels.get(&key) {
                    let service = route.split(':').next().unwrap_or(route).to_owned();
                    state.entry.insert(service, p.http_url());
                }
            }
        }
    }
    by_id.into_values().collect()
}

/// Pure: the shadows `gc` removes, with the reason.
pub fn decide_gc(
    states: &[ShadowState],
    alive: &dyn Fn(&Owner, u64) -> bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in states.iter().filter(|s| !s.ready) {
        match &s.owner {
            None => {
                out.insert(
                    s.id.clone(),
                    "it records no creator and never became ready".to_owned(),
                );
            }
            Some(o) if !alive(o, s.created_unix) => {
                out.insert(
                    s.id.clone(),
                    format!(
                        "it never became ready and its creator (pid {} on {}) is gone",
                        o.pid, o.host
                    ),
                );
            }
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Health, PortBinding, RunState};

    fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn container(id: &str, extra: &[(&str, &str)]) -> ContainerSummary {
        let mut labels = l(&[
            (labels::SHADOW, id),
            (labels::OF, "shop"),
            (naming::OWNER_PID, "7"),
            (naming::CREATED, "100"),
        ]);
        labels.extend(l(extra));
        ContainerSummary {
            id: format!("c-{id}"),
            name: format!("shop-shadow-{id}-x"),
            image: String::new(),
            state: RunState::Running,
            health: Health::None,
            status: String::new(),
            labels,
            ports: vec![],
        }
    }

    #[test]
    fn shadows_collect_counts_readiness_and_entry() {
        let mut ingress = container("aaaaaa", &[("io.understudy.route.10000", "gateway:8080")]);
        ingress.ports.push(PortBinding {
            container_port: 10_000,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: 40_000,
        });
        let mut stopped = container("aaaaaa", &[]);
        stopped.state = RunState::Exited;
        let marker = VolumeSummary {
            name: "shop-shadow-aaaaaa-ready".into(),
            labels: l(&[(labels::SHADOW, "aaaaaa"), (naming::READY, "true")]),
        };
        let net = NetworkSummary {
            id: "n".into(),
            name: "shop-shadow-bbbbbb".into(),
            internal: true,
            labels: l(&[(labels::SHADOW, "bbbbbb"), (labels::OF, "shop")]),
            subnets: vec![],
        };
        let states = shadows(&[ingress, stopped], &[net], &[marker]);
        assert_eq!(states.len(), 2);
        let a = &states[0];
        assert!(a.ready);
        assert_eq!((a.containers, a.running), (2, 1));
        assert_eq!(a.entry["gateway"], "http://127.0.0.1:40000");
        assert_eq!(a.owner.as_ref().unwrap().pid, 7);
        assert!(!states[1].ready);
        assert!(states[1].owner.is_none());
    }

    #[test]
    fn gc_spares_ready_and_live_creations() {
        let state = |id: &str, ready: bool, pid: Option<u32>| ShadowState {
            id: id.into(),
            group: "shop".into(),
            ready,
            owner: pid.map(|pid| Owner {
                pid,
                start: None,
                host: "h".into(),
            }),
            created_unix: 1,
            containers: 1,
            running: 1,
            entry: BTreeMap::new(),
        };
        let states = [
            state("aaaaaa", true, Some(1)),
            state("bbbbbb", false, Some(2)),
            state("cccccc", false, Some(3)),
            state("dddddd", false, None),
        ];
        let alive = |o: &Owner, _: u64| o.pid == 3;
        let d = decide_gc(&states, &alive);
        assert_eq!(
            d.keys().map(String::as_str).collect::<Vec<_>>(),
            ["bbbbbb", "dddddd"]
        );
        assert!(d["bbbbbb"].contains("pid 2"));
    }

    #[test]
    fn owners_round_trip_through_labels_and_this_process_lives() {
        let me = Owner::current();
        assert_eq!(Owner::from_labels(&me.labels()), Some(me.clone()));
        assert!(owner_alive(&me, 0, 0));
        let dead = Owner {
            pid: me.pid,
            start: me.start.map(|s| s + 1),
            host: me.host.clone(),
        };
        assert!(!owner_alive(&dead, 0, 0), "a reused PID is not the creator");
        let foreign = Owner {
            pid: 1,
            start: None,
            host: "elsewhere".into(),
        };
        assert!(owner_alive(&foreign, 1000, 1000 + 60));
        assert!(!owner_alive(
            &foreign,
            1000,
            1000 + FOREIGN_CREATION_GRACE_S
        ));
    }

    #[test]
    fn start_time_skips_the_command_name() {
        let stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert!(process_start(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn an_exited_process_not_yet_reaped_is_not_alive() {
        let zombie =
            "1234 (understudy) Z 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 0 0";
        assert_eq!(parse_start_time(zombie), None);
        // A real one: a child killed and not waited for.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(process_start(pid).is_some());
        child.kill().unwrap();
        let gone = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            process_start(pid).is_none()
        });
        assert!(gone, "a killed child counts as alive until reaped");
        child.wait().unwrap();
    }
}
