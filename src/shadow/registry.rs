//! Which shadows exist and who is creating them: one JSON record per shadow
//! under `<state dir>/shadows/`, written before any resource is created.
//! `gc` compares the records with the labelled resources on the engine: a
//! resource whose shadow has no record, a failed record, or a record still
//! "creating" whose process is gone (killed halfway through `shadow up`) is
//! garbage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Lifecycle of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Ready,
    Failed,
    Removing,
}

/// A tracked shadow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowRecord {
    pub id: String,
    pub group: String,
    pub status: Status,
    /// The process that created it (or is creating it).
    pub pid: u32,
    /// Its start time in clock ticks since boot, to tell a reused PID apart.
    #[serde(default)]
    pub pid_start: Option<u64>,
    pub created_unix: u64,
    /// Entry service -> `http://127.0.0.1:PORT`.
    #[serde(default)]
    pub entry: BTreeMap<String, String>,
}

/// Why the registry could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("shadow registry {path:?}: {message}")]
pub struct RegistryError {
    pub path: PathBuf,
    pub message: String,
}

/// The record directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The registry under a state directory (created on first write).
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("shadows"),
        }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn err(path: &Path, e: impl std::fmt::Display) -> RegistryError {
        RegistryError {
            path: path.to_owned(),
            message: e.to_string(),
        }
    }

    /// Writes a record atomically (temp file + rename).
    pub fn put(&self, record: &ShadowRecord) -> Result<(), RegistryError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::err(&self.dir, e))?;
        let path = self.path(&record.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", record.id));
        let text = serde_json::to_string_pretty(record).map_err(|e| Self::err(&path, e))?;
        std::fs::write(&tmp, text).map_err(|e| Self::err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Self::err(&path, e))
    }

    pub fn get(&self, id: &str) -> Option<ShadowRecord> {
        let text = std::fs::read_to_string(self.path(id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Every readable record, sorted by creation time.
    pub fn list(&self) -> Vec<ShadowRecord> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut records: Vec<ShadowRecord> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect();
        records.sort_by(|a, b| (a.created_unix, &a.id).cmp(&(b.created_unix, &b.id)));
        records
    }

    pub fn remove(&self, id: &str) -> Result<(), RegistryError> {
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::err(&self.path(id), e)),
        }
    }
}

/// Start time (field 22 of `/proc/PID/stat`) of a live process.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/PID/stat` line (the command may hold spaces and
/// parentheses, so fields are counted after the last `)`).
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that wrote a record is still the same live process.
pub fn creator_alive(record: &ShadowRecord) -> bool {
    match (process_start(record.pid), record.pid_start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// What `gc` removes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GcDecision {
    /// Shadow ids whose resources are garbage, with the reason.
    pub collect: BTreeMap<String, String>,
    /// Records without resources and without a live creator.
    pub stale_records: Vec<String>,
}

/// Pure: decides which shadows are garbage, given the records, the ids that
/// have labelled resources on the engine, and which creators are alive.
pub fn decide_gc(
    records: &[ShadowRecord],
    ids_with_resources: &BTreeSet<String>,
    alive: &dyn Fn(&ShadowRecord) -> bool,
) -> GcDecision {
    let by_id: BTreeMap<&str, &ShadowRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut decision = GcDecision::default();
    for id in ids_with_resources {
        let reason = match by_id.get(id.as_str()) {
            None => Some("not tracked by any record".to_owned()),
            Some(r) => match r.status {
                Status::Failed => Some("its `shadow up` failed".to_owned()),
                Status::Creating | Status::Removing if !alive(r) => Some(format!(
                    "the process that was {} it (pid {}) is gone",
                    if r.status == Status::Creating {
                        "creating"
                    } else {
                        "removing"
                    },
                    r.pid
                )),
                Status::Ready | Status::Creating | Status::Removing => None,
            },
        };
        if let Some(reason) = reason {
            decision.collect.insert(id.clone(), reason);
        }
    }
    for r in records {
        let in_progress = matches!(r.status, Status::Creating | Status::Removing) && alive(r);
        if !ids_with_resources.contains(&r.id) && !in_progress {
            decision.stale_records.push(r.id.clone());
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: Status, pid: u32) -> ShadowRecord {
        ShadowRecord {
            id: id.into(),
            group: "shop".into(),
            status,
            pid,
            pid_start: None,
            created_unix: 1,
            entry: BTreeMap::new(),
        }
    }

    #[test]
    fn records_round_trip_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::new(dir.path());
        assert!(reg.list().is_empty());
        let mut r = record("a1b2c3", Status::Creating, 7);
        reg.put(&r).unwrap();
        r.status = Status::Ready;
        r.entry
            .insert("gateway".into(), "http://127.0.0.1:1".into());
        reg.put(&r).unwrap();
        assert_eq!(reg.get("a1b2c3"), Some(r.clone()));
        assert_eq!(reg.list(), [r]);
        reg.remove("a1b2c3").unwrap();
        reg.remove("a1b2c3").unwrap();
        assert!(reg.get("a1b2c3").is_none());
    }

    #[test]
    fn gc_collects_untracked_failed_and_orphaned_creations() {
        let records = vec![
            record("aaaaaa", Status::Ready, 1),
            record("bbbbbb", Status::Creating, 2),
            record("cccccc", Status::Creating, 3),
            record("dddddd", Status::Failed, 4),
            record("eeeeee", Status::Ready, 5),
        ];
        let ids: BTreeSet<String> = ["aaaaaa", "bbbbbb", "cccccc", "dddddd", "ffffff"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let alive = |r: &ShadowRecord| r.pid == 3;
        let d = decide_gc(&records, &ids, &alive);
        let collected: Vec<_> = d.collect.keys().map(String::as_str).collect();
        assert_eq!(collected, ["bbbbbb", "dddddd", "ffffff"]);
        assert!(d.collect["bbbbbb"].contains("pid 2"));
        assert_eq!(d.stale_records, ["eeeeee"]);
    }

    #[test]
    fn start_time_skips_the_command_name() {
        let stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        let me = process_start(std::process::id()).unwrap();
        assert!(me > 0);
    }
}
