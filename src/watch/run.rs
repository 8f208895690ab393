//! The watch run (I/O wiring): followers in, [`Watch`] in the middle,
//! events out to the caller, history into SQLite.
//!
//! Every second: complete request seconds become points, both judges are
//! looked at (a change of outcome is an event), and the fault journal is
//! read — a fault that became active on the watched shadow restarts the
//! judges from its start. Every ten seconds sealed rollups go to SQLite;
//! alerts go there as they open, change and close. A database that cannot
//! be opened is a notice, not a failure: the watch still runs.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::series::{Alert, AlertEvent, Environment, SeriesKey, VerdictOutcome, metric};
use crate::domain::stats::ContainerStats;
use crate::fault::journal::{Journal, Status};
use crate::metrics::requests::{RequestAggregator, RequestSecond};
use crate::platform::Platform;
use crate::store::{NewRun, Store};

use super::collect::{self, CollectError, Feed, Followed, Targets};
use super::core::{Verdicts, Watch, WatchConfig, WatchError, judged_metrics};

/// The report's schema name.
pub const SCHEMA: &str = "understudy.watch/v1";

/// What to watch and for how long.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub group: String,
    /// A shadow id, `none`, or `None` for the group's only shadow.
    pub shadow: Option<String>,
    pub entry: Vec<String>,
    /// `None`: until cancelled.
    pub duration: Option<Duration>,
    /// Where the fault journal lives.
    pub state_dir: PathBuf,
    /// The SQLite file; `None`: no history.
    pub database: Option<PathBuf>,
}

/// Something the caller may show.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    Started(Targets),
    Alert(AlertEvent),
    /// A fault became active on the watched shadow at `t_ms`.
    Fault {
        id: String,
        kind: String,
        target: String,
        t_ms: i64,
    },
    /// A judge's outcome changed (`vs` is `production` or `baseline`).
    Verdict {
        vs: &'static str,
        outcome: VerdictOutcome,
        score: f64,
        reasons: Vec<String>,
    },
    Notice(String),
    /// Every sample, with the detector's score (for charts).
    Sample {
        key: SeriesKey,
        t_ms: i64,
        value: f64,
        score: f64,
    },
    /// Both judges, every second.
    Looked(Box<Verdicts>),
}

/// A fault the watch saw start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSeen {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub start_ms: i64,
}

/// The end-of-run report (`--json`), schema `understudy.watch/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchReport {
    pub schema: String,
    pub group: String,
    pub shadow: Option<String>,
    pub entries: Vec<String>,
    pub start_ms: i64,
    pub duration_s: f64,
    /// Samples pushed, series held, and the bytes both take in memory.
    pub points: u64,
    pub series: usize,
    pub memory_bytes: usize,
    pub alerts: Vec<Alert>,
    pub faults: Vec<FaultSeen>,
    pub verdicts: Verdicts,
    /// The run's id in the SQLite history, when it was written.
    pub run_id: Option<i64>,
}

/// Why a watch failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Watch(#[from] WatchError),
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The points of one complete request second.
fn request_points(env: Environment, service: &str, s: &RequestSecond) -> Vec<(SeriesKey, f64)> {
    let key = |m: &str| SeriesKey::service(env, service, m);
    let mut out = vec![(key(metric::RPS), s.requests as f64)];
    if s.requests > 0 {
        out.push((key(metric::ERROR_RATE), s.error_rate));
    }
    if let Some(p) = s.p50_ms {
        out.push((key(metric::LATENCY_P50_MS), p));
    }
    if let Some(p) = s.p99_ms {
        out.push((key(metric::LATENCY_P99_MS), p));
    }
    out
}

/// The points of one stats frame.
fn stats_points(c: &Followed, s: &ContainerStats) -> Vec<(SeriesKey, f64)> {
    let key = |m: &str| SeriesKey::instance(c.environment, &c.service, &c.instance, m);
    vec![
        (key(metric::CPU_PERCENT), s.cpu_percent),
        (key(metric::MEMORY_BYTES), s.mem_bytes as f64),
        (key(metric::NET_RX_BPS), s.net_rx_bps),
        (key(metric::NET_TX_BPS), s.net_tx_bps),
        (key(metric::BLK_READ_BPS), s.blk_read_bps),
        (key(metric::BLK_WRITE_BPS), s.blk_write_bps),
    ]
}

struct Session<'a, F: FnMut(&WatchEvent)> {
    watch: Watch,
    store: Option<Store>,
    run_id: Option<i64>,
    on_event: &'a mut F,
    outcomes: [Option<VerdictOutcome>; 2],
    aggregators: HashMap<(Environment, String), RequestAggregator>,
    journal: Journal,
    shadow: Option<String>,
    /// Faults already active when the watch started, or already reported.
    seen: BTreeSet<String>,
    faults: Vec<FaultSeen>,
}

impl<F: FnMut(&WatchEvent)> Session<'_, F> {
    async fn feed(&mut self, feed: Option<Feed>) -> bool {
        match feed {
            Some(Feed::Record {
                environment,
                service,
                record,
            }) => {
                let agg = self
                    .aggregators
                    .entry((environment, service.clone()))
                    .or_default();
                let seconds = agg.push(&record);
                for second in seconds {
                    self.push(
                        request_points(environment, &service, &second),
                        second.t * 1000,
                    )
                    .await;
                }
            }
            Some(Feed::Stats { container, stats }) => {
                let t_ms = unix_ms(stats.at).div_euclid(1000) * 1000;
                self.push(stats_points(&container, &stats), t_ms).await;
            }
            Some(Feed::Notice(text)) => (self.on_event)(&WatchEvent::Notice(text)),
            None => {
                (self.on_event)(&WatchEvent::Notice("every follower ended".to_owned()));
                return false;
            }
        }
        true
    }

    /// Once a second: quiet request seconds, new faults, a look.
    async fn tick(&mut self, ticks: u64) {
        let now_s = unix_ms(SystemTime::now()).div_euclid(1000);
        let mut points = Vec::new();
        for ((environment, service), agg) in &mut self.aggregators {
            for second in agg.flush_before(now_s - 1) {
                points.push((
                    request_points(*environment, service, &second),
                    second.t * 1000,
                ));
            }
        }
        for (p, t_ms) in points {
            self.push(p, t_ms).await;
        }
        self.new_faults().await;
        self.look();
        if ticks % 10 == 0 {
            self.persist_rollups(false).await;
        }
    }

    async fn new_faults(&mut self) {
        let Some(shadow) = self.shadow.clone() else {
            return;
        };
        let journal = self.journal.clone();
        // A file read: off the runtime's worker threads.
        let records = tokio::task::spawn_blocking(move || journal.records())
            .await
            .unwrap_or_default();
        for r in records {
            if r.shadow != shadow || r.status != Status::Active || !self.seen.insert(r.id.clone()) {
                continue;
            }
            let t_ms = i64::try_from(r.created_ms).unwrap_or(i64::MAX);
            self.watch.fault_started(t_ms);
            self.outcomes = [None, None];
            (self.on_event)(&WatchEvent::Fault {
                id: r.id.clone(),
                kind: r.request.kind.clone(),
                target: r.target.clone(),
                t_ms,
            });
            self.faults.push(FaultSeen {
                id: r.id,
                kind: r.request.kind,
                target: r.target,
                start_ms: t_ms,
            });
        }
    }

    async fn push(&mut self, points: Vec<(SeriesKey, f64)>, t_ms: i64) {
        for (key, value) in points {
            let pushed = self.watch.push_scored(&key, t_ms, value);
            (self.on_event)(&WatchEvent::Sample {
                score: pushed.score,
                key,
                t_ms,
                value,
            });
            if let Some(event) = pushed.event {
                self.alert(event).await;
            }
        }
    }

    async fn alert(&mut self, event: AlertEvent) {
        if let (Some(store), Some(run)) = (&self.store, self.run_id)
            && let Err(e) = store.upsert_alert(run, event.alert().clone()).await
        {
            (self.on_event)(&WatchEvent::Notice(format!("history: {e}")));
        }
        (self.on_event)(&WatchEvent::Alert(event));
    }

    fn look(&mut self) -> Verdicts {
        let verdicts = self.watch.look();
        (self.on_event)(&WatchEvent::Looked(Box::new(verdicts.clone())));
        let looks = [
            ("production", Some(&verdicts.vs_production)),
            ("baseline", verdicts.vs_baseline.as_ref()),
        ];
        for (i, (vs, verdict)) in looks.into_iter().enumerate() {
            let Some(v) = verdict else { continue };
            let judged = v
                .metrics
                .iter()
                .any(|m| m.outcome != crate::domain::series::MetricOutcome::NoData);
            if judged && self.outcomes[i] != Some(v.outcome) {
                self.outcomes[i] = Some(v.outcome);
                (self.on_event)(&WatchEvent::Verdict {
                    vs,
                    outcome: v.outcome,
                    score: v.score,
                    reasons: v.reasons.clone(),
                });
            }
        }
        verdicts
    }

    async fn persist_rollups(&mut self, include_open: bool) {
        let rows = self.watch.store_mut().take_rollups(include_open);
        if let Some(store) = &self.store
            && !rows.is_empty()
            && let Err(e) = store.write_rollups(rows).await
        {
            (self.on_event)(&WatchEvent::Notice(format!("history: {e}")));
        }
    }
}

/// The SQLite history and this run's id in it; a notice, not a failure,
/// when it cannot be opened.
async fn open_history(
    options: &RunOptions,
    start_ms: i64,
    on_event: &mut impl FnMut(&WatchEvent),
) -> (Option<Store>, Option<i64>) {
    let Some(path) = &options.database else {
        return (None, None);
    };
    let store = match Store::open(path).await {
        Ok(s) => s,
        Err(e) => {
            on_event(&WatchEvent::Notice(format!("no history: {e}")));
            return (None, None);
        }
    };
    let run = NewRun {
        started_ms: start_ms,
        kind: "watch".to_owned(),
        target: options.group.clone(),
    };
    match store.begin_run(run).await {
        Ok(id) => (Some(store), Some(id)),
        Err(e) => {
            on_event(&WatchEvent::Notice(format!("history: {e}")));
            (Some(store), None)
        }
    }
}

/// A deadline that never comes (a watch without `--duration`).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

/// Runs a watch until `duration` ends or `cancel` fires.
pub async fn run<P: Platform>(
    platform: &P,
    options: &RunOptions,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(&WatchEvent),
) -> Result<WatchReport, RunError> {
    let start = SystemTime::now();
    let start_ms = unix_ms(start);
    let targets = collect::discover(
        platform,
        &options.group,
        options.shadow.as_deref(),
        &options.entry,
    )
    .await?;
    on_event(&WatchEvent::Started(targets.clone()));
    let config = WatchConfig::new(judged_metrics(&targets.entries, &targets.services));
    let watch = Watch::new(config, start_ms)?;
    let (store, run_id) = open_history(options, start_ms, &mut on_event).await;
    let (tx, mut rx) = mpsc::channel(4096);
    let followers_cancel = cancel.child_token();
    let mut followers = collect::spawn(platform, &targets, start, &tx, &followers_cancel);
    drop(tx);
    let journal = Journal::new(&options.state_dir);
    let seen = journal
        .records()
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .map(|r| r.id)
        .collect();
    let mut run = Session {
        watch,
        store,
        run_id,
        on_event: &mut on_event,
        outcomes: [None, None],
        aggregators: HashMap::new(),
        journal,
        shadow: targets.shadow.clone(),
        seen,
        faults: Vec::new(),
    };
    let deadline = options
        .duration
        .map_or_else(far_future, |d| tokio::time::Instant::now() + d);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep_until(deadline) => break,
            feed = rx.recv() => if !run.feed(feed).await { break },
            _ = tick.tick() => {
                ticks += 1;
                run.tick(ticks).await;
            }
        }
    }
    followers_cancel.cancel();
    while followers.join_next().await.is_some() {}
    let end_ms = unix_ms(SystemTime::now());
    for event in run.watch.finish(end_ms) {
        run.alert(event).await;
    }
    run.persist_rollups(true).await;
    let verdicts = run.look();
    let report = WatchReport {
        schema: SCHEMA.to_owned(),
        group: targets.group.clone(),
        shadow: targets.shadow.clone(),
        entries: targets.entries.clone(),
        start_ms,
        duration_s: (end_ms - start_ms) as f64 / 1000.0,
        points: run.watch.points(),
        series: run.watch.store().len(),
        memory_bytes: run.watch.store().bytes() + run.watch.detector_bytes(),
        alerts: run.watch.alerts(),
        faults: std::mem::take(&mut run.faults),
        verdicts,
        run_id: run.run_id,
    };
    if let (Some(store), Some(id)) = (&run.store, run.run_id) {
        let summary = serde_json::to_value(&report).ok();
        if let Err(e) = store.end_run(id, end_ms, summary).await {
            (run.on_event)(&WatchEvent::Notice(format!("history: {e}")));
        }
    }
    Ok(report)
}
