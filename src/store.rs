//! SQLite persistence: history in one file, WAL (the only rusqlite user).
//!
//! Owns: the database file (default `<state dir>/understudy.db`), its
//! schema and migrations (`user_version`), and the tables for runs, alerts,
//! series rollups (10 s and 1 min buckets, upserted, kept per run) and the
//! audit trail of actions. Not owned: deciding what to write (the run and
//! `metrics`), the in-memory series (`metrics::series`), reports (files).
//!
//! # Shape
//!
//! rusqlite is blocking, so a dedicated thread owns the `Connection`
//! (STYLE §2, "Actors with Tokio"): [`Store`] is a clonable async handle
//! that sends each operation over a bounded channel and awaits its
//! oneshot reply. Rollups are written in batches, one transaction per
//! [`Store::write_rollups`]. The thread ends, and the connection closes
//! (checkpointing the WAL), when the last handle is dropped. Several
//! processes or handles may open the same file: WAL lets readers run beside
//! the writer, and writers wait for each other up to 5 s.

mod db;
mod schema;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::domain::series::{Alert, Bucket, Rollup, RollupRow, SeriesKey};
use crate::shadow::tracking::Owner;

use db::Db;

/// Which stored buckets a query reads: those run `run_id` wrote, starting
/// in `[from_ms, to_ms)`. For a run that wrote none (its buckets were
/// written before rollups named their run: schema 2 and older, stored as
/// run 0), the unnamed buckets in the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSpan {
    pub run_id: i64,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Operations queued before senders wait.
const QUEUE: usize = 64;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("creating the state directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("opening the history database {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: journal mode is {mode:?}, not \"wal\" (is it on a network file system?)", path.display())]
    NotWal { path: PathBuf, mode: String },
    #[error(
        "{}: schema version {found} is newer than this understudy knows ({known}); upgrade understudy",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("SQLite failed {context}")]
    Sql {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("table {table}, row {id}: {message}")]
    Corrupt {
        table: &'static str,
        id: i64,
        message: String,
    },
    #[error("starting the store thread")]
    Thread(#[source] std::io::Error),
    #[error("the store thread has stopped")]
    Closed,
}

/// The default database file: `<state dir>/understudy.db`.
pub fn default_path() -> PathBuf {
    crate::telemetry::state_dir().join("understudy.db")
}

/// A run to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRun {
    pub started_ms: i64,
    /// e.g. `scenario`, `console`.
    pub kind: String,
    /// What it ran against (group or scenario file).
    pub target: String,
    /// The process running it (`Owner::current()`), so a run that never
    /// ended can be told running from killed.
    pub owner: Option<Owner>,
    /// The shadow it watches beside production, if any.
    pub shadow: Option<String>,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub kind: String,
    pub target: String,
    pub summary: Option<serde_json::Value>,
    /// The process that ran it (none for runs written before schema 2).
    #[serde(default)]
    pub owner: Option<Owner>,
    /// The shadow it watched (none for runs without one, or written before
    /// schema 3: their summary names it).
    #[serde(default)]
    pub shadow: Option<String>,
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAudit {
    pub run_id: Option<i64>,
    pub time_ms: i64,
    /// Who: `operator`, `policy:<name>`, ...
    pub actor: String,
    pub action: serde_json::Value,
    /// e.g. `applied`, `refused`, `reverted`.
    pub outcome: String,
}

/// A recorded audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub run_id: Option<i64>,
    pub time_ms: i64,
    pub actor: String,
    pub action: serde_json::Value,
    pub outcome: String,
}

type Job = Box<dyn FnOnce(&mut Db) + Send>;

/// The async handle to the store's thread. Clone it freely.
#[derive(Debug, Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating) the database at `path`, enables WAL and migrates,
    /// on the store's own thread.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        let (ready, opened) = oneshot::channel();
        let at = path.clone();
        std::thread::Builder::new()
            .name("understudy-store".into())
            .spawn(move || {
                let mut db = match Db::open(&at) {
                    Ok(db) => {
                        let _ = ready.send(Ok(()));
                        db
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                while let Some(job) = queue.blocking_recv() {
                    job(&mut db);
                }
            })
            .map_err(StoreError::Thread)?;
        opened.await.map_err(|_| StoreError::Closed)??;
        Ok(Store { jobs, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the store's thread and returns its result.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            let _ = reply.send(f(db));
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// The schema version (`PRAGMA user_version`).
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.call(|db| db.user_version()).await
    }

    /// `PRAGMA journal_mode` (`wal`).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        self.call(|db| db.journal_mode()).await
    }

    /// Records the start of a run; returns its id.
    pub async fn begin_run(&self, run: NewRun) -> Result<i64, StoreError> {
        self.call(move |db| db.begin_run(&run)).await
    }

    /// Records the end of a run; false when there is no such run.
    pub async fn end_run(
        &self,
        id: i64,
        ended_ms: i64,
        summary: Option<serde_json::Value>,
    ) -> Result<bool, StoreError> {
        self.call(move |db| db.end_run(id, ended_ms, summary.as_ref()))
            .await
    }

    /// The latest runs, newest first.
    pub async fn runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.call(move |db| db.runs(None, limit)).await
    }

    /// Inserts an alert or updates it (same run and id): write it when it
    /// opens, changes and closes.
    /// The runs against one target (group), newest first.
    pub async fn runs_of(&self, target: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let target = target.to_owned();
        self.call(move |db| db.runs(Some(&target), limit)).await
    }

    /// One run by id (`None`: the history holds no such run).
    pub async fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.call(move |db| db.run(id)).await
    }

    /// How many alerts a run recorded.
    pub async fn alert_count(&self, run_id: i64) -> Result<u64, StoreError> {
        self.call(move |db| db.alert_count(run_id)).await
    }

    pub async fn upsert_alert(&self, run_id: i64, alert: Alert) -> Result<(), StoreError> {
        self.call(move |db| db.upsert_alert(run_id, &alert)).await
    }

    /// A run's alerts by id.
    pub async fn alerts(&self, run_id: i64) -> Result<Vec<Alert>, StoreError> {
        self.call(move |db| db.alerts(run_id)).await
    }

    /// Upserts a batch of run `run_id`'s rollup buckets in one transaction;
    /// returns how many rows were written. Each run keeps its own buckets:
    /// two watches of the same series at the same time do not overwrite
    /// each other's.
    pub async fn write_rollups(
        &self,
        run_id: i64,
        rows: Vec<RollupRow>,
    ) -> Result<usize, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        self.call(move |db| db.write_rollups(run_id, &rows)).await
    }

    /// A series' buckets of one run, oldest first (see [`RunSpan`]).
    pub async fn rollups(
        &self,
        scope: RunSpan,
        key: SeriesKey,
        rollup: Rollup,
    ) -> Result<Vec<Bucket>, StoreError> {
        self.call(move |db| db.rollups(scope, &key, rollup)).await
    }

    /// The series (keys as written) with buckets of `rollup` in one run,
    /// sorted (see [`RunSpan`]).
    pub async fn series_of(
        &self,
        scope: RunSpan,
        rollup: Rollup,
    ) -> Result<Vec<String>, StoreError> {
        self.call(move |db| db.series_of(scope, rollup)).await
    }

    /// Appends an audit entry; returns its id.
    pub async fn append_audit(&self, entry: NewAudit) -> Result<i64, StoreError> {
        self.call(move |db| db.append_audit(&entry)).await
    }

    /// The audit entries of a run (`None`: those outside any run).
    pub async fn audit(&self, run_id: Option<i64>) -> Result<Vec<AuditRecord>, StoreError> {
        self.call(move |db| db.audit(run_id)).await
    }
}

#[cfg(test)]
mod tests;
