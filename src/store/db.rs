//! The blocking side: one `rusqlite::Connection` and the statements, run
//! only on the store's thread.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, Row, params};

use super::schema::MIGRATIONS;
use super::{AuditRecord, NewAudit, NewRun, RunRecord, RunSpan, StoreError};
use crate::domain::series::{Alert, Bucket, Rollup, RollupRow, SeriesKey, Severity};

/// The rollup rows a [`RunSpan`] query reads (`?1`: the run): the run's
/// own, or, for a run that wrote none, those written before buckets named
/// their run (run 0). One rule for every such query.
macro_rules! runs_buckets {
    () => {
        "(run_id = ?1 OR (run_id = 0 AND NOT EXISTS (SELECT 1 FROM rollups WHERE run_id = ?1)))"
    };
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { context, source }
}

/// The schema version this build writes.
pub(super) fn known_version() -> u32 {
    MIGRATIONS.len() as u32
}

pub(super) struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating) the file, turns WAL on and migrates.
    pub(super) fn open(path: &Path) -> Result<Db, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let open = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotWal {
                path: path.to_owned(),
                mode,
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open)?;
        let mut db = Db {
            conn,
            path: path.to_owned(),
        };
        db.migrate()?;
        Ok(db)
    }

    pub(super) fn user_version(&self) -> Result<u32, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql("reading user_version"))
    }

    pub(super) fn journal_mode(&self) -> Result<String, StoreError> {
        self.conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(sql("reading journal_mode"))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.user_version()?;
        let known = known_version();
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction()
                .map_err(sql("starting a migration"))?;
            tx.execute_batch(migration)
                .map_err(sql("migrating the schema"))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(sql("setting user_version"))?;
            tx.commit().map_err(sql("committing a migration"))?;
        }
        Ok(())
    }

    pub(super) fn begin_run(&self, run: &NewRun) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (started_ms, kind, target, owner, shadow) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run.started_ms,
                    run.kind,
                    run.target,
                    run.owner.as_ref().map(|o| serde_json::json!(o).to_string()),
                    run.shadow
                ],
            )
            .map_err(sql("inserting a run"))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub(super) fn end_run(
        &self,
        id: i64,
        ended_ms: i64,
        summary: Option<&serde_json::Value>,
    ) -> Result<bool, StoreError> {
        let summary = summary.map(serde_json::Value::to_string);
        let n = self
            .conn
            .execute(
                "UPDATE runs SET ended_ms = ?2, summary = ?3 WHERE id = ?1",
                params![id, ended_ms, summary],
            )
            .map_err(sql("ending a run"))?;
        Ok(n == 1)
    }

    /// The runs, newest first: all of them, or those against `target`.
    pub(super) fn runs(
        &self,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, started_ms, ended_ms, kind, target, summary, owner, shadow FROM runs
                 WHERE ?1 IS NULL OR target = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(sql("listing runs"))?;
        let rows = stmt
            .query_map(params![target, limit], run_row)
            .map_err(sql("listing runs"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse_json_columns(row.map_err(sql("reading a run"))?)?);
        }
        Ok(out)
    }

    /// One run by id, if the history holds it.
    pub(super) fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, started_ms, ended_ms, kind, target, summary, owner, shadow FROM runs WHERE id = ?1",
            )
            .map_err(sql("reading a run"))?;
        let mut rows = stmt
            .query_map([id], run_row)
            .map_err(sql("reading a run"))?;
        rows.next()
            .transpose()
            .map_err(sql("reading a run"))?
            .map(parse_json_columns)
            .transpose()
    }

    /// How many alerts a run recorded.
    pub(super) fn alert_count(&self, run_id: i64) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM alerts WHERE run_id = ?1")
            .and_then(|mut stmt| stmt.query_row([run_id], |row| row.get::<_, i64>(0)))
            .map(|n| n.max(0).unsigned_abs())
            .map_err(sql("counting alerts"))
    }

    pub(super) fn upsert_alert(&self, run_id: i64, alert: &Alert) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO alerts (run_id, id, series, score, severity, explanation, start_ms, end_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run_id, id) DO UPDATE SET
                   series = excluded.series, score = excluded.score,
                   severity = excluded.severity, explanation = excluded.explanation,
                   start_ms = excluded.start_ms, end_ms = excluded.end_ms",
            )
            .map_err(sql("preparing the alert upsert"))?;
        stmt.execute(params![
            run_id,
            alert.id as i64,
            alert.series.to_string(),
            alert.score,
            alert.severity.as_str(),
            alert.explanation,
            alert.start_ms,
            alert.end_ms,
        ])
        .map_err(sql("writing an alert"))?;
        Ok(())
    }

    pub(super) fn alerts(&self, run_id: i64) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, series, score, severity, explanation, start_ms, end_ms
                 FROM alerts WHERE run_id = ?1 ORDER BY id",
            )
            .map_err(sql("listing alerts"))?;
        let rows = stmt
            .query_map([run_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, f64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, i64>(5)?,
                    row.get::<_, Option<i64>>(6)?,
                ))
            })
            .map_err(sql("listing alerts"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, series, score, severity, explanation, start_ms, end_ms) =
                row.map_err(sql("reading an alert"))?;
            let corrupt = |message: String| StoreError::Corrupt {
                table: "alerts",
                id,
                message,
            };
            out.push(Alert {
                id: id as u64,
                series: series
                    .parse()
                    .map_err(|e: crate::domain::series::SeriesKeyError| corrupt(e.to_string()))?,
                score,
                severity: Severity::parse(&severity)
                    .ok_or_else(|| corrupt(format!("severity {severity:?}")))?,
                explanation,
                start_ms,
                end_ms,
            });
        }
        Ok(out)
    }

    /// Upserts run `run_id`'s rollup rows in one transaction; returns how
    /// many.
    pub(super) fn write_rollups(
        &mut self,
        run_id: i64,
        rows: &[RollupRow],
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(sql("starting a rollup batch"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO rollups (run_id, series, resolution, bucket_ms, count, sum, min, max, last)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (run_id, series, resolution, bucket_ms) DO UPDATE SET
                       count = excluded.count, sum = excluded.sum, min = excluded.min,
                       max = excluded.max, last = excluded.last",
                )
                .map_err(sql("preparing the rollup upsert"))?;
            for row in rows {
                let b = &row.bucket;
                stmt.execute(params![
                    run_id,
                    row.key.to_string(),
                    row.rollup.seconds(),
                    b.start_ms,
                    b.count,
                    b.sum,
                    b.min,
                    b.max,
                    b.last,
                ])
                .map_err(sql("writing a rollup"))?;
            }
        }
        tx.commit().map_err(sql("committing a rollup batch"))?;
        Ok(rows.len())
    }

    /// Buckets of one series that `scope`'s run wrote (or, if it wrote
    /// none, those written before buckets named their run: run 0),
    /// starting in its span, oldest first.
    pub(super) fn rollups(
        &self,
        scope: RunSpan,
        key: &SeriesKey,
        rollup: Rollup,
    ) -> Result<Vec<Bucket>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT bucket_ms, count, sum, min, max, last FROM rollups WHERE ",
                runs_buckets!(),
                " AND series = ?2 AND resolution = ?3 AND bucket_ms >= ?4 AND bucket_ms < ?5
                     ORDER BY bucket_ms"
            ))
            .map_err(sql("querying rollups"))?;
        let rows = stmt
            .query_map(
                params![
                    scope.run_id,
                    key.to_string(),
                    rollup.seconds(),
                    scope.from_ms,
                    scope.to_ms
                ],
                bucket,
            )
            .map_err(sql("querying rollups"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql("reading a rollup"))
    }

    /// The series with buckets of `rollup` in `scope`, sorted.
    pub(super) fn series_of(
        &self,
        scope: RunSpan,
        rollup: Rollup,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(
                "SELECT DISTINCT series FROM rollups WHERE ",
                runs_buckets!(),
                " AND resolution = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4
                     ORDER BY series"
            ))
            .map_err(sql("listing series"))?;
        let rows = stmt
            .query_map(
                params![scope.run_id, rollup.seconds(), scope.from_ms, scope.to_ms],
                |row| row.get(0),
            )
            .map_err(sql("listing series"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql("reading a series name"))
    }

    pub(super) fn append_audit(&self, entry: &NewAudit) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit (run_id, time_ms, actor, action, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![entry.run_id, entry.time_ms, entry.actor, entry.action.to_string(), entry.outcome],
            )
            .map_err(sql("appending to the audit"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Audit entries of a run (or of no run), oldest first.
    pub(super) fn audit(&self, run_id: Option<i64>) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, run_id, time_ms, actor, action, outcome FROM audit
                 WHERE run_id IS ?1 ORDER BY time_ms, id",
            )
            .map_err(sql("listing the audit"))?;
        let rows = stmt
            .query_map([run_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<i64>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })
            .map_err(sql("listing the audit"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, run_id, time_ms, actor, action, outcome) =
                row.map_err(sql("reading the audit"))?;
            let action = serde_json::from_str(&action).map_err(|e| StoreError::Corrupt {
                table: "audit",
                id,
                message: e.to_string(),
            })?;
            out.push(AuditRecord {
                id,
                run_id,
                time_ms,
                actor,
                action,
                outcome,
            });
        }
        Ok(out)
    }
}

/// A run row with its summary and owner still as text.
type RawRun = (RunRecord, Option<String>, Option<String>);

fn run_row(row: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        RunRecord {
            id: row.get(0)?,
            started_ms: row.get(1)?,
            ended_ms: row.get(2)?,
            kind: row.get(3)?,
            target: row.get(4)?,
            summary: None,
            owner: None,
            shadow: row.get(7)?,
        },
        row.get(5)?,
        row.get(6)?,
    ))
}

/// The run with its summary and owner parsed (either one not being the
/// JSON it should be makes the row corrupt).
fn parse_json_columns((mut run, summary, owner): RawRun) -> Result<RunRecord, StoreError> {
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
        table: "runs",
        id: run.id,
        message: format!("{what}: {e}"),
    };
    run.summary = summary
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| corrupt("summary", e))?;
    run.owner = owner
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| corrupt("owner", e))?;
    Ok(run)
}

fn bucket(row: &Row<'_>) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        start_ms: row.get(0)?,
        count: row.get(1)?,
        sum: row.get(2)?,
        min: row.get(3)?,
        max: row.get(4)?,
        last: row.get(5)?,
    })
}
