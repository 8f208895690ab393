//! The schema, as migrations numbered by SQLite's `user_version` pragma:
//! migration `i` (0-based) takes the database from version `i` to `i + 1`,
//! in one transaction. Append new migrations; never edit applied ones.

/// Every migration, in order.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: runs, alerts, rollups, audit.
    r"
    CREATE TABLE runs (
        id         INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        ended_ms   INTEGER,
        kind       TEXT NOT NULL,
        target     TEXT NOT NULL,
        summary    TEXT -- JSON
    );
    CREATE TABLE alerts (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        id          INTEGER NOT NULL,
        series      TEXT NOT NULL, -- env/service[/instance]/metric
        score       REAL NOT NULL,
        severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        explanation TEXT NOT NULL,
        start_ms    INTEGER NOT NULL,
        end_ms      INTEGER,
        PRIMARY KEY (run_id, id)
    );
    CREATE INDEX alerts_by_series ON alerts (series, start_ms);
    CREATE TABLE rollups (
        series     TEXT NOT NULL,
        resolution INTEGER NOT NULL, -- bucket width, seconds
        bucket_ms  INTEGER NOT NULL, -- bucket start, Unix ms
        count      INTEGER NOT NULL,
        sum        REAL NOT NULL,
        min        REAL NOT NULL,
        max        REAL NOT NULL,
        last       REAL NOT NULL,
        PRIMARY KEY (series, resolution, bucket_ms)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        run_id  INTEGER REFERENCES runs(id),
        time_ms INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL, -- JSON
        outcome TEXT NOT NULL
    );
    CREATE INDEX audit_by_run ON audit (run_id, time_ms);
    ",
    // 2: the process that runs each run (JSON `{pid, start, host}`), so a
    // run without an end can be told running from killed.
    r"
    ALTER TABLE runs ADD COLUMN owner TEXT;
    ",
    // 3: rollups keyed by the run that wrote them, so two watches of the
    // same series at the same time (the console's and a CI game day's)
    // keep their own buckets instead of overwriting each other's. Buckets
    // written before this migration keep run 0 and are found by time.
    // And the shadow a run watches, known from its start (the summary,
    // which also names it, is written only at its end).
    r"
    ALTER TABLE runs ADD COLUMN shadow TEXT;
    CREATE TABLE rollups_by_run (
        run_id     INTEGER NOT NULL, -- runs(id); 0: written before migration 3
        series     TEXT NOT NULL,
        resolution INTEGER NOT NULL,
        bucket_ms  INTEGER NOT NULL,
        count      INTEGER NOT NULL,
        sum        REAL NOT NULL,
        min        REAL NOT NULL,
        max        REAL NOT NULL,
        last       REAL NOT NULL,
        PRIMARY KEY (run_id, series, resolution, bucket_ms)
    ) WITHOUT ROWID;
    INSERT INTO rollups_by_run
        SELECT 0, series, resolution, bucket_ms, count, sum, min, max, last FROM rollups;
    DROP TABLE rollups;
    ALTER TABLE rollups_by_run RENAME TO rollups;
    ",
];
