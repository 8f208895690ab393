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
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio_util::sync::CancellationToken;

use crate::domain::series::{Alert, AlertEvent, Environment, SeriesKey, VerdictOutcome};
use crate::domain::series_pattern::SeriesPattern;
use crate::fault::journal::{Journal, Record, Status};
use crate::metrics::coincide::{self, Coincidence};
use crate::metrics::requests::RequestAggregator;
use crate::metrics::scrape::TargetStatus;
use crate::platform::Platform;
use crate::store::{NewRun, Store};
use crate::traffic::parse::LogTemplate;
use crate::traffic::report::LoadReport;

use super::collect::{self, CollectError, Feed, Targets};
use super::core::{
    FAULT_ENDS_LEARNING_AT, LearningAtFault, PageUse, Verdicts, Watch, WatchConfig, WatchError,
    judged_metrics,
};
use super::points::{Point, ScrapeTarget, request_points, stats_points};
use super::sources::{self, ClientWindow, Replay};
use super::{second_of, unix_ms};

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
    /// Sample the host (CPU, memory, load) as `host/machine/*` series.
    pub host: bool,
    /// Prometheus targets, scraped every `scrape_every`.
    pub scrape: Vec<ScrapeTarget>,
    pub scrape_every: Duration,
    /// Drive the shadow's entry with this replay while watching.
    pub replay: Option<Replay>,
    /// Series that alert beyond the built-in set (`--page`).
    pub page: Vec<SeriesPattern>,
    /// The entries' access-log format (`--log-format`); `None`: each line's
    /// dialect is recognised by its shape.
    pub log_format: Option<Arc<LogTemplate>>,
}

impl RunOptions {
    /// Watch `group` beside its only shadow, with the host, no scrapes and
    /// no load of its own.
    pub fn new(group: impl Into<String>, state_dir: PathBuf) -> Self {
        RunOptions {
            group: group.into(),
            shadow: None,
            entry: Vec::new(),
            duration: None,
            state_dir,
            database: None,
            host: true,
            scrape: Vec::new(),
            scrape_every: Duration::from_secs(5),
            replay: None,
            page: Vec::new(),
            log_format: None,
        }
    }
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
    /// A judge's outcome, or the metrics it leaves out, changed (`vs` is
    /// `production` or `baseline`).
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
    /// The scrape targets' health at the end (`--scrape`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape: Vec<TargetStatus>,
    /// The load the watch sent to the shadow (`--replay`), schema
    /// `understudy.load/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<Box<LoadReport>>,
    /// Each `--page` pattern and how many series it made alerting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page: Vec<PageUse>,
    /// Production and shadow alerts on the same service and metric that
    /// opened at once: a cause both share, not the fault
    /// (`metrics::coincide`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coincident: Vec<Coincidence>,
}

/// Why a watch failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("--replay drives a shadow, and this watch has none (--shadow none)")]
    ReplayWithoutShadow,
    #[error("shadow {shadow:?} publishes none of the entries {entries:?}; is it up?")]
    NoShadowEntry {
        shadow: String,
        entries: Vec<String>,
    },
}

struct Session<'a, F: FnMut(&WatchEvent)> {
    watch: Watch,
    store: Option<Store>,
    run_id: Option<i64>,
    on_event: &'a mut F,
    /// Each judge's last printed headline ([`Verdict::headline`]).
    headlines: [Option<(VerdictOutcome, Vec<String>)>; 2],
    aggregators: HashMap<(Environment, String), RequestAggregator>,
    journal: Journal,
    shadow: Option<String>,
    /// Faults already active when the watch started, or already reported.
    seen: BTreeSet<String>,
    faults: Vec<FaultSeen>,
    scrape: Vec<TargetStatus>,
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
                let t_ms = second_of(unix_ms(stats.at));
                self.push(stats_points(&container, &stats), t_ms).await;
            }
            Some(Feed::Points { t_ms, points }) => self.push(points, t_ms).await,
            Some(Feed::ScrapeHealth(status)) => self.scrape = status,
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

    /// The main loop: feeds, ticks and the replay's end, until the
    /// duration, a cancel, or the last follower. Returns the replay's
    /// report if it ended, else the replay still running.
    async fn watch_until_done(
        &mut self,
        rx: &mut mpsc::Receiver<Feed>,
        mut replay: Option<ReplayTask>,
        options: &RunOptions,
        cancel: &CancellationToken,
    ) -> (Option<Box<LoadReport>>, Option<ReplayTask>) {
        let mut deadline = options
            .duration
            .map_or_else(far_future, |d| tokio::time::Instant::now() + d);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut ticks: u64 = 0;
        let mut replay_report = None;
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep_until(deadline) => break,
                feed = rx.recv() => if !self.feed(feed).await { break },
                _ = tick.tick() => {
                    ticks += 1;
                    self.tick(ticks).await;
                }
                report = async {
                    match replay.as_mut() {
                        Some(task) => task.await,
                        None => std::future::pending().await,
                    }
                }, if replay.is_some() => {
                    replay = None;
                    replay_report = report.ok().flatten().map(Box::new);
                    if options.duration.is_none() {
                        // The last seconds of the access logs still arrive.
                        deadline = tokio::time::Instant::now() + REPLAY_TAIL;
                    }
                }
            }
        }
        (replay_report, replay)
    }

    async fn new_faults(&mut self) {
        let Some(shadow) = self.shadow.clone() else {
            return;
        };
        for r in journal_records(&self.journal).await {
            if r.shadow != shadow || r.status != Status::Active || !self.seen.insert(r.id.clone()) {
                continue;
            }
            let t_ms = i64::try_from(r.created_ms).unwrap_or(i64::MAX);
            let at_fault = self.watch.fault_started(t_ms);
            self.headlines = [None, None];
            (self.on_event)(&WatchEvent::Fault {
                id: r.id.clone(),
                kind: r.request.kind.clone(),
                target: r.target.clone(),
                t_ms,
            });
            let warmup = self.watch.warmup_points();
            if let Some(notice) = learning_notice(&r.id, &at_fault, warmup) {
                (self.on_event)(&WatchEvent::Notice(notice));
            }
            self.faults.push(FaultSeen {
                id: r.id,
                kind: r.request.kind,
                target: r.target,
                start_ms: t_ms,
            });
        }
    }

    async fn push(&mut self, points: Vec<Point>, t_ms: i64) {
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
            let Some(headline) = v.headline() else {
                continue;
            };
            if self.headlines[i].as_ref() != Some(&headline) {
                let mut reasons = v.reasons.clone();
                if let Some((_, before)) = &self.headlines[i]
                    && let Some(back) = judged_again(before, &headline.1)
                {
                    reasons.push(back);
                }
                self.headlines[i] = Some(headline);
                (self.on_event)(&WatchEvent::Verdict {
                    vs,
                    outcome: v.outcome,
                    score: v.score,
                    reasons,
                });
            }
        }
        verdicts
    }

    async fn persist_rollups(&mut self, include_open: bool) {
        let rows = self.watch.store_mut().take_rollups(include_open);
        if let (Some(store), Some(run)) = (&self.store, self.run_id)
            && !rows.is_empty()
            && let Err(e) = store.write_rollups(run, rows).await
        {
            (self.on_event)(&WatchEvent::Notice(format!("history: {e}")));
        }
    }
}

/// The line for metrics a verdict left out at its last printing and
/// judges now (the loads compare again); `None` when there are none.
pub fn judged_again(before: &[String], now: &[String]) -> Option<String> {
    let back: Vec<&str> = before
        .iter()
        .filter(|m| !now.contains(m))
        .map(String::as_str)
        .collect();
    (!back.is_empty()).then(|| format!("loads compare again: {} judged", back.join(", ")))
}

/// Series named in full by [`learning_notice`]; the rest are counted.
const LEARNING_NAMED: usize = 3;

/// What to tell the operator when fault `id` starts while shadow series
/// are still learning their baseline (of `warmup` points): those with
/// enough points now score the fault against them; those with fewer learn
/// the fault as normal, so their alerts may never come. `None` when every
/// series had its baseline.
pub fn learning_notice(id: &str, at_fault: &LearningAtFault, warmup: u32) -> Option<String> {
    let LearningAtFault { ended, learning } = at_fault;
    let mut parts = Vec::new();
    if !ended.is_empty() {
        parts.push(format!(
            "{} score it against the points they had, a thinner baseline than usual",
            named_learning(ended, warmup)
        ));
    }
    if !learning.is_empty() {
        parts.push(format!(
            "{} had fewer than {FAULT_ENDS_LEARNING_AT} points: they learn the fault as normal \
             and may not alert on it",
            named_learning(learning, warmup)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "fault {id} began while {} shadow series still learned their baseline: {}. The judge \
         vs baseline compares with the time before it; for full baselines, start faults once \
         the shadow's series have {warmup} points (about {warmup} s into a watch)",
        ended.len() + learning.len(),
        parts.join("; ")
    ))
}

/// The first [`LEARNING_NAMED`] series with their points of `warmup`, the
/// rest counted.
fn named_learning(series: &[(SeriesKey, u64)], warmup: u32) -> String {
    let named = series
        .iter()
        .take(LEARNING_NAMED)
        .map(|(key, n)| format!("{key} ({n} of {warmup})"))
        .collect::<Vec<_>>()
        .join(", ");
    match series.len().saturating_sub(LEARNING_NAMED) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

/// The SQLite history and this run's id in it; a notice, not a failure,
/// when it cannot be opened.
async fn open_history(
    options: &RunOptions,
    shadow: Option<&str>,
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
        owner: Some(crate::shadow::tracking::Owner::current()),
        shadow: shadow.map(str::to_owned),
    };
    match store.begin_run(run).await {
        Ok(id) => (Some(store), Some(id)),
        Err(e) => {
            on_event(&WatchEvent::Notice(format!("history: {e}")));
            (Some(store), None)
        }
    }
}

/// The replay task (`--replay`) and its report.
type ReplayTask = tokio::task::JoinHandle<Option<LoadReport>>;

/// How long a watch without `--duration` goes on after its replay ended.
const REPLAY_TAIL: Duration = Duration::from_secs(3);

/// The shadow's entry the replay drives: the first entry service its
/// ingress routes, and its URL. Checked before the run begins (and goes
/// into the history), so a watch that cannot replay leaves no run behind.
async fn replay_entry<P: Platform>(
    platform: &P,
    targets: &Targets,
) -> Result<(String, String), RunError> {
    let Some(shadow) = &targets.shadow else {
        return Err(RunError::ReplayWithoutShadow);
    };
    let states = crate::shadow::teardown::shadows(platform)
        .await
        .map_err(CollectError::from)?;
    let entry = states.iter().find(|s| &s.id == shadow).and_then(|s| {
        targets
            .entries
            .iter()
            .find_map(|e| s.entry.get(e).map(|url| (e.clone(), url.clone())))
    });
    entry.ok_or_else(|| RunError::NoShadowEntry {
        shadow: shadow.clone(),
        entries: targets.entries.clone(),
    })
}

/// Starts the watch's inputs beyond the engine: the host, the scrape
/// targets, an outside load's seconds, and the replay (whose task is
/// returned: its report ends the run).
fn spawn_sources(
    options: &RunOptions,
    followers: &mut tokio::task::JoinSet<()>,
    tx: &mpsc::Sender<Feed>,
    cancel: &CancellationToken,
    client: Option<UnboundedReceiver<ClientWindow>>,
    replay: Option<(Replay, (String, String))>,
) -> Option<ReplayTask> {
    if options.host {
        sources::spawn_host(tx, cancel);
    }
    if !options.scrape.is_empty() {
        followers.spawn(sources::scrape_loop(
            options.scrape.clone(),
            options.scrape_every,
            tx.clone(),
            cancel.clone(),
        ));
    }
    if let Some(windows) = client {
        followers.spawn(sources::client_loop(windows, tx.clone(), cancel.clone()));
    }
    replay.map(|(replay, (service, url))| {
        tokio::spawn(sources::drive_replay(
            replay,
            service,
            url,
            tx.clone(),
            cancel.child_token(),
        ))
    })
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
    on_event: impl FnMut(&WatchEvent),
) -> Result<WatchReport, RunError> {
    run_with_client(platform, options, cancel, on_event, None).await
}

/// The journal's records: a file read, off the runtime's worker threads.
async fn journal_records(journal: &Journal) -> Vec<Record> {
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || journal.records())
        .await
        .unwrap_or_default()
}

/// The faults active when the watch starts: not this watch's to announce.
async fn active_faults(journal: &Journal) -> BTreeSet<String> {
    journal_records(journal)
        .await
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .map(|r| r.id)
        .collect()
}

/// [`run`], also charting and alerting on the seconds of a load that
/// someone else drives on the shadow (the console's Load tab), as
/// `shadow/ENTRY/client_*` series.
pub async fn run_with_client<P: Platform>(
    platform: &P,
    options: &RunOptions,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(&WatchEvent),
    client: Option<UnboundedReceiver<ClientWindow>>,
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
    let replay = match &options.replay {
        Some(r) => Some((r.clone(), replay_entry(platform, &targets).await?)),
        None => None,
    };
    on_event(&WatchEvent::Started(targets.clone()));
    let config = WatchConfig {
        page: options.page.clone(),
        ..WatchConfig::new(judged_metrics(&targets.entries, &targets.services))
    };
    let watch = Watch::new(config, start_ms)?;
    let (store, run_id) =
        open_history(options, targets.shadow.as_deref(), start_ms, &mut on_event).await;
    let (tx, mut rx) = mpsc::channel(4096);
    let followers_cancel = cancel.child_token();
    let mut followers = collect::spawn(
        platform,
        &targets,
        options.log_format.as_ref(),
        start,
        &tx,
        &followers_cancel,
    );
    let replay = spawn_sources(
        options,
        &mut followers,
        &tx,
        &followers_cancel,
        client,
        replay,
    );
    drop(tx);
    let journal = Journal::new(&options.state_dir);
    let seen = active_faults(&journal).await;
    let mut run = Session {
        watch,
        store,
        run_id,
        on_event: &mut on_event,
        headlines: [None, None],
        aggregators: HashMap::new(),
        journal,
        shadow: targets.shadow.clone(),
        seen,
        faults: Vec::new(),
        scrape: Vec::new(),
    };
    let (mut replay_report, replay) = run.watch_until_done(&mut rx, replay, options, cancel).await;
    followers_cancel.cancel();
    if let Some(task) = replay {
        // Cancelled with the followers: its report says how far it got.
        replay_report = task.await.ok().flatten().map(Box::new);
    }
    while followers.join_next().await.is_some() {}
    let end_ms = unix_ms(SystemTime::now());
    for event in run.watch.finish(end_ms) {
        run.alert(event).await;
    }
    run.persist_rollups(true).await;
    let verdicts = run.look();
    let alerts = run.watch.alerts();
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
        coincident: coincide::coincidences(&alerts),
        alerts,
        faults: std::mem::take(&mut run.faults),
        verdicts,
        run_id: run.run_id,
        scrape: std::mem::take(&mut run.scrape),
        replay: replay_report,
        page: run.watch.page_uses(),
    };
    if let (Some(store), Some(id)) = (&run.store, run.run_id) {
        let summary = serde_json::to_value(&report).ok();
        if let Err(e) = store.end_run(id, end_ms, summary).await {
            (run.on_event)(&WatchEvent::Notice(format!("history: {e}")));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
