//! Fault leases: the engine's copy of who holds which fault.
//!
//! The journal (`<state>/faults/journal.jsonl`) is private to one state
//! directory: another operator on the same Docker engine (another user,
//! another `UNDERSTUDY_STATE_DIR`, another host on a remote engine) cannot
//! read it. So every applied fault also takes a *lease*: an empty Docker
//! volume `understudy-lease-<fault id>` whose labels name the fault, its
//! holder (host, PID, start time), the shadow containers it touches, its
//! expiry and whether it was detached. The lease is taken right after the
//! journal's first write and released when the fault is reverted.
//!
//! The sweep of `gc` and `fault stop-all` (`fault::sweep`) clears fault
//! leftovers only off containers that no *live* fault holds: a lease whose
//! fault this journal knows follows the journal; any other lease holds its
//! containers while [`standing`] says so (not expired, and the holder alive
//! or the fault detached; a holder on another host counts as alive until
//! the fault expires, since its PID cannot be checked from here). A stale
//! lease is released by the sweep, which then clears its containers as
//! before. A shadow's `down` removes its leases with it (they carry the
//! shadow's labels); `shadow list` and `gc`'s shadow pass ignore them.
//!
//! Pure, apart from [`take`], [`release`] and [`list`] (the engine calls).

use std::collections::BTreeMap;

use crate::domain::{Selector, VolumeSpec, labels};
use crate::platform::{Platform, PlatformError, VolumeSummary};
use crate::shadow::naming;
use crate::shadow::tracking::Owner;

use super::journal::{Record, Status};

/// Label: the fault id of a lease (its presence marks a lease volume).
pub const LEASE: &str = labels::LEASE;
/// Label: the containers the fault touches, comma-separated.
pub const CONTAINERS: &str = "io.understudy.lease.containers";
/// Label: when the fault's TTL ends (ms since the epoch); absent: until reverted.
pub const EXPIRES: &str = "io.understudy.lease.expires";
/// Label: `true` when the fault was left in place on purpose (`--detach`).
pub const DETACHED: &str = "io.understudy.lease.detached";
/// Label: the fault's kind (`pause`, `latency`, ...).
pub const KIND: &str = "io.understudy.lease.kind";
/// Label: the target as written (`a1b2c3/gateway->api`).
pub const TARGET: &str = "io.understudy.lease.target";
/// Label: the containers whose state the fault owns (paused, stopped, its
/// limits, networks or spec; `RevertOp::owned_container`), comma-separated.
pub const OWNS: &str = "io.understudy.lease.owns";

/// One fault's lease, as the engine holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    pub fault_id: String,
    pub kind: String,
    pub target: String,
    /// The shadow id and the group it clones (labels, so `shadow down` and
    /// the test guards remove the lease with the shadow).
    pub shadow: String,
    pub group: String,
    pub holder: Owner,
    pub containers: Vec<String>,
    /// Those of `containers` whose state it owns: no second such fault there.
    pub owns: Vec<String>,
    pub expires_ms: Option<u64>,
    pub detached: bool,
}

/// Whether a lease still holds its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Held,
    /// Release it; the reason, for the report.
    Stale(&'static str),
}

/// The volume name of fault `fault_id`'s lease.
pub fn volume_name(fault_id: &str) -> String {
    format!("understudy-lease-{fault_id}")
}

impl Lease {
    /// The lease of a journalled fault on a shadow of `group`.
    pub fn of(record: &Record, group: &str) -> Self {
        Lease {
            fault_id: record.id.clone(),
            kind: record.request.kind.clone(),
            target: record.target.clone(),
            shadow: record.shadow.clone(),
            group: group.to_owned(),
            holder: record.owner.clone(),
            containers: record.containers.clone(),
            owns: super::journal::owned_containers(&record.reverts)
                .into_iter()
                .collect(),
            expires_ms: record.expires_ms,
            detached: record.detached,
        }
    }

    /// The volume that carries it.
    pub fn spec(&self) -> VolumeSpec {
        let mut l = self.holder.labels();
        l.insert(LEASE.to_owned(), self.fault_id.clone());
        l.insert(labels::SHADOW.to_owned(), self.shadow.clone());
        l.insert(labels::OF.to_owned(), self.group.clone());
        l.insert(CONTAINERS.to_owned(), self.containers.join(","));
        l.insert(OWNS.to_owned(), self.owns.join(","));
        l.insert(DETACHED.to_owned(), self.detached.to_string());
        l.insert(KIND.to_owned(), self.kind.clone());
        l.insert(TARGET.to_owned(), self.target.clone());
        if let Some(e) = self.expires_ms {
            l.insert(EXPIRES.to_owned(), e.to_string());
        }
        VolumeSpec {
            name: volume_name(&self.fault_id),
            labels: l,
        }
    }

    /// Reads a lease back from its volume's labels; the error names the
    /// volume and the offending label and value.
    pub fn from_volume(name: &str, l: &BTreeMap<String, String>) -> Result<Self, String> {
        let bad = |key: &str| {
            format!(
                "lease volume {name:?}: label {key} = {:?} is not valid",
                l.get(key).map_or("(missing)", String::as_str)
            )
        };
        let fault_id = l.get(LEASE).filter(|v| !v.is_empty()).ok_or(bad(LEASE))?;
        let holder = Owner::from_labels(l).ok_or(bad(naming::OWNER_PID))?;
        let expires_ms = match l.get(EXPIRES) {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| bad(EXPIRES))?),
        };
        let detached = match l.get(DETACHED).map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(bad(DETACHED)),
        };
        let list = |key: &str| -> Vec<String> {
            l.get(key)
                .map(|v| {
                    v.split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Lease {
            fault_id: fault_id.clone(),
            kind: l.get(KIND).cloned().unwrap_or_default(),
            target: l.get(TARGET).cloned().unwrap_or_default(),
            shadow: l.get(labels::SHADOW).cloned().unwrap_or_default(),
            group: l.get(labels::OF).cloned().unwrap_or_default(),
            holder,
            containers: list(CONTAINERS),
            owns: list(OWNS),
            expires_ms,
            detached,
        })
    }

    /// The holder, for reports: `pid 4242 on host-a`.
    pub fn holder_text(&self) -> String {
        format!("pid {} on {}", self.holder.pid, self.holder.host)
    }
}

/// Pure: whether `lease` still holds its containers. `journalled` is the
/// status this state directory's journal has for the same fault (it knows
/// best); otherwise the journal's own rule applies (`journal::lapsed`).
/// `holder_alive`: see [`holder_alive`].
pub fn standing(
    lease: &Lease,
    journalled: Option<Status>,
    holder_alive: bool,
    now_ms: u64,
) -> Standing {
    match journalled {
        Some(status) if status.needs_revert() => Standing::Held,
        Some(_) => Standing::Stale("reverted"),
        None => super::journal::lapsed(lease.expires_ms, lease.detached, holder_alive, now_ms)
            .map_or(Standing::Held, Standing::Stale),
    }
}

/// Whether a lease's holder still runs: on this host (`here`) by PID and
/// start time; a holder on another host cannot be checked from here, so it
/// counts as alive (its lease then lapses at its expiry).
pub fn holder_alive(lease: &Lease, here: &str) -> bool {
    // On this host `owner_alive` reads the PID's start time; the creation
    // times it takes only matter for another host.
    lease.holder.host != here || crate::shadow::tracking::owner_alive(&lease.holder, 0, 0)
}

/// Takes the lease on the engine.
pub async fn take(platform: &impl Platform, lease: &Lease) -> Result<(), PlatformError> {
    platform.create_volume(&lease.spec()).await.map(|_| ())
}

/// Releases fault `fault_id`'s lease; absent is fine.
pub async fn release(platform: &impl Platform, fault_id: &str) -> Result<(), PlatformError> {
    platform.remove_volume(&volume_name(fault_id)).await
}

/// Every lease on the engine, and an error line per unreadable one.
pub async fn list(platform: &impl Platform) -> Result<(Vec<Lease>, Vec<String>), PlatformError> {
    let selector = Selector {
        terms: vec![crate::domain::selector::Term {
            key: LEASE.to_owned(),
            value: None,
        }],
    };
    let volumes = platform.list_volumes(Some(&selector)).await?;
    Ok(parse_all(&volumes))
}

/// The leases whose fault `records` (a journal) does not know: another
/// state directory's.
pub fn not_in(leases: Vec<Lease>, records: &[Record]) -> Vec<Lease> {
    leases
        .into_iter()
        .filter(|l| records.iter().all(|r| r.id != l.fault_id))
        .collect()
}

/// The check after taking a lease (the busy check before it is a read
/// before a write, so two applies in the same instant can both pass it):
/// the first other lease that still holds one of the containers whose
/// state fault `own_id` would own (`wanted`), with that container. Its
/// standing is judged as the sweep judges it (`records`: this state
/// directory's journal; `alive`: [`holder_alive`]). Of two racing applies
/// at least the later one's listing shows the other's lease, since each
/// lists only after its own lease exists; both back off if both see each
/// other, which is safe: neither touches the container.
pub fn rival<'a>(
    leases: &'a [Lease],
    own_id: &str,
    wanted: &std::collections::BTreeSet<String>,
    records: &[Record],
    alive: impl Fn(&Lease) -> bool,
    now_ms: u64,
) -> Option<(&'a str, &'a Lease)> {
    leases
        .iter()
        .filter(|l| l.fault_id != own_id)
        .filter(|l| {
            let journalled = records.iter().find(|r| r.id == l.fault_id);
            standing(l, journalled.map(|r| r.status), alive(l), now_ms) == Standing::Held
        })
        .find_map(|l| {
            l.owns
                .iter()
                .find(|c| wanted.contains(*c))
                .map(|c| (c.as_str(), l))
        })
}

fn parse_all(volumes: &[VolumeSummary]) -> (Vec<Lease>, Vec<String>) {
    let mut leases = Vec::new();
    let mut errors = Vec::new();
    for v in volumes {
        match Lease::from_volume(&v.name, &v.labels) {
            Ok(l) => leases.push(l),
            Err(e) => errors.push(e),
        }
    }
    (leases, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(host: &str, expires_ms: Option<u64>, detached: bool) -> Lease {
        Lease {
            fault_id: "0badf00d".into(),
            kind: "pause".into(),
            target: "a1b2c3/api".into(),
            shadow: "a1b2c3".into(),
            group: "shop".into(),
            holder: Owner {
                pid: 4242,
                start: Some(77),
                host: host.into(),
            },
            containers: vec![
                "shop-shadow-a1b2c3-api-1".into(),
                "shop-shadow-a1b2c3-api-2".into(),
            ],
            owns: vec!["shop-shadow-a1b2c3-api-1".into()],
            expires_ms,
            detached,
        }
    }

    #[test]
    fn a_lease_round_trips_through_its_volume_labels() {
        for l in [
            lease("h", Some(1_000), false),
            lease("h", None, true),
            Lease {
                containers: vec![],
                owns: vec![],
                ..lease("other", None, false)
            },
        ] {
            let spec = l.spec();
            assert_eq!(spec.name, "understudy-lease-0badf00d");
            assert_eq!(spec.labels[labels::SHADOW], "a1b2c3");
            assert_eq!(spec.labels[labels::OF], "shop");
            assert!(spec.labels.contains_key(labels::LEASE));
            assert_eq!(Lease::from_volume(&spec.name, &spec.labels), Ok(l));
        }
    }

    #[test]
    fn a_malformed_lease_names_the_volume_label_and_value() {
        let mut labels = lease("h", Some(5), false).spec().labels;
        labels.insert(EXPIRES.into(), "soon".into());
        let err = Lease::from_volume("understudy-lease-x", &labels).unwrap_err();
        assert!(err.contains("understudy-lease-x"), "{err}");
        assert!(err.contains(EXPIRES) && err.contains("\"soon\""), "{err}");
        labels.remove(naming::OWNER_PID);
        let err = Lease::from_volume("v", &labels).unwrap_err();
        assert!(err.contains("(missing)"), "{err}");
        let (ok, errors) = parse_all(&[
            VolumeSummary {
                name: "good".into(),
                labels: lease("h", None, false).spec().labels,
            },
            VolumeSummary {
                name: "bad".into(),
                labels,
            },
        ]);
        assert_eq!((ok.len(), errors.len()), (1, 1));
    }

    #[test]
    fn a_rival_is_another_standing_lease_on_a_wanted_container() {
        let wanted: std::collections::BTreeSet<String> =
            ["shop-shadow-a1b2c3-api-1".to_owned()].into();
        let mine = Lease {
            fault_id: "mine".into(),
            ..lease("h", None, false)
        };
        let other_replica = Lease {
            fault_id: "replica".into(),
            owns: vec!["shop-shadow-a1b2c3-api-2".into()],
            ..lease("h", None, false)
        };
        let theirs = lease("h", Some(1_000), false);
        let alive = |_: &Lease| true;
        let none: &[Record] = &[];
        let all = [mine.clone(), other_replica.clone(), theirs.clone()];
        let found = rival(&all, "mine", &wanted, none, alive, 999);
        assert_eq!(found, Some(("shop-shadow-a1b2c3-api-1", &theirs)));
        // Our own lease and another container's are no rivals.
        let leases = [mine, other_replica];
        assert_eq!(rival(&leases, "mine", &wanted, none, alive, 999), None);
        // A lapsed lease is none either: expired, or its holder gone.
        let theirs = [theirs];
        assert_eq!(rival(&theirs, "mine", &wanted, none, alive, 1_000), None);
        assert_eq!(
            rival(&theirs, "mine", &wanted, none, |_: &Lease| false, 999),
            None
        );
    }

    #[test]
    fn the_journal_that_knows_the_fault_decides() {
        let l = lease("h", Some(100), false);
        // Even expired or with a dead holder: our journal still has it to revert.
        assert_eq!(
            standing(&l, Some(Status::RevertFailed), false, 500),
            Standing::Held
        );
        assert_eq!(
            standing(&l, Some(Status::Reverted), true, 0),
            Standing::Stale("reverted")
        );
    }

    #[test]
    fn a_foreign_lease_holds_while_its_holder_lives_or_it_is_detached() {
        let foreground = lease("h", Some(1_000), false);
        assert_eq!(standing(&foreground, None, true, 999), Standing::Held);
        assert_eq!(
            standing(&foreground, None, false, 999),
            Standing::Stale("its holder is gone")
        );
        assert_eq!(
            standing(&foreground, None, true, 1_000),
            Standing::Stale("expired")
        );
        let detached = lease("h", Some(1_000), true);
        assert_eq!(standing(&detached, None, false, 999), Standing::Held);
        assert_eq!(
            standing(&detached, None, false, 1_001),
            Standing::Stale("expired")
        );
        let untimed = lease("h", None, false);
        assert_eq!(
            standing(&untimed, None, false, u64::MAX),
            Standing::Stale("its holder is gone")
        );
    }

    #[test]
    fn a_holder_on_another_host_holds_until_expiry() {
        let remote = lease("elsewhere", Some(1_000), false);
        let alive = holder_alive(&remote, "h");
        assert!(alive, "another host's PID is not checked from here");
        assert_eq!(standing(&remote, None, alive, 999), Standing::Held);
        assert_eq!(
            standing(&remote, None, alive, 1_000),
            Standing::Stale("expired")
        );
        let forever = lease("elsewhere", None, false);
        assert_eq!(
            standing(&forever, None, holder_alive(&forever, "h"), u64::MAX),
            Standing::Held
        );
        // On this host a PID that does not run is gone.
        let here = crate::shadow::tracking::host_name();
        let mut dead = lease(&here, None, false);
        dead.holder.pid = u32::MAX - 1;
        assert!(!holder_alive(&dead, &here));
        dead.holder = Owner::current();
        assert!(holder_alive(&dead, &here));
    }
}
