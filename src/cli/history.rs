//! `understudy history`: the watch runs SQLite kept, and one run in full
//! (its verdicts, the faults it saw, every alert with its timing). It only
//! reads: a missing database is reported, never created (an older schema
//! is migrated forward on opening, as by every command that opens it).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::domain::series::{Rollup, SeriesKey};
use crate::domain::series_pattern::{PatternError, SeriesPattern};
use crate::shadow::tracking::{self, Owner};
use crate::store::{RunRecord, RunSpan, Store};
use crate::watch::history::buckets::{self, SeriesBuckets};
use crate::watch::history::{self, RunLine, RunState};

/// Arguments of `understudy history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// A run id (from the list): show that run in full.
    pub run: Option<i64>,
    /// List only the runs against this group.
    #[arg(long, short = 'g', conflicts_with = "run")]
    pub group: Option<String>,
    /// How many runs to list, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Print JSON (schema `understudy.history/v1`).
    #[arg(long)]
    pub json: bool,
    /// The history database (default: `<state dir>/understudy.db`).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// With RUN: print the stored buckets of the series this glob names
    /// (`ENV/SERVICE/[INSTANCE/]METRIC`, `*` any run of characters), e.g.
    /// `'shadow/gateway/latency_p99_ms'` or `'*/gateway/*'`.
    #[arg(long, requires = "run", value_name = "GLOB")]
    pub series: Option<String>,
    /// Bucket width for --series: `10s` or `1m`.
    #[arg(long, default_value = "10s", value_parser = parse_rollup)]
    pub rollup: Rollup,
    /// With --series naming one series: print it as `timestamp,value` CSV
    /// (the bucket means), which `understudy detect` reads.
    #[arg(long, requires = "series", conflicts_with = "json")]
    pub csv: bool,
}

fn parse_rollup(s: &str) -> Result<Rollup, String> {
    match s {
        "10s" => Ok(Rollup::TenSeconds),
        "1m" | "60s" => Ok(Rollup::OneMinute),
        _ => Err(format!("\"{s}\": the store keeps 10s and 1m buckets")),
    }
}

/// The JSON schema name.
pub const SCHEMA: &str = "understudy.history/v1";

pub async fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let path = args.db.clone().unwrap_or_else(crate::store::default_path);
    if !path.exists() {
        if args.run.is_some() {
            bail!(
                "no history at {} (`understudy watch` writes it; --db names another file)",
                path.display()
            );
        }
        if args.json {
            println!("{}", serde_json::json!({"schema": SCHEMA, "runs": []}));
        } else {
            println!(
                "no history yet: {} does not exist (`understudy watch` writes it)",
                path.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&path)
        .await
        .with_context(|| format!("reading the history {}", path.display()))?;
    match (args.run, &args.series) {
        (Some(id), Some(glob)) => series(&store, id, glob, &args).await,
        (Some(id), None) => show(&store, id, args.json).await,
        (None, _) => list(&store, args.group.as_deref(), args.limit, args.json).await,
    }
}

async fn list(
    store: &Store,
    group: Option<&str>,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let runs = match group {
        Some(g) => store.runs_of(g, limit).await?,
        None => store.runs(limit).await?,
    };
    if runs.is_empty() && !json {
        if let Some(g) = group {
            println!("no runs of group {g:?} in {}", store.path().display());
            return Ok(ExitCode::SUCCESS);
        }
    }
    let here = tracking::host_name();
    let mut lines = Vec::new();
    for run in runs {
        let alerts = store.alert_count(run.id).await?;
        let state = state(&run, &here);
        lines.push(RunLine { run, alerts, state });
    }
    if json {
        let runs: Vec<serde_json::Value> = lines.iter().map(list_entry).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"schema": SCHEMA, "runs": runs}))?
        );
    } else {
        print!(
            "{}",
            history::list(&lines, &store.path().display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `id`, or an error naming the runs there are.
async fn find(store: &Store, id: i64) -> anyhow::Result<RunRecord> {
    if let Some(run) = store.run(id).await? {
        return Ok(run);
    }
    let latest = store.runs(1).await?.first().map(|r| r.id);
    match latest {
        Some(latest) => bail!(
            "no run {id} in {} (runs go up to {latest}; `understudy history` lists them)",
            store.path().display()
        ),
        None => bail!("no run {id}: {} holds no runs", store.path().display()),
    }
}

async fn show(store: &Store, id: i64, json: bool) -> anyhow::Result<ExitCode> {
    let run = find(store, id).await?;
    let alerts = store.alerts(id).await?;
    let state = state(&run, &tracking::host_name());
    if json {
        let out = serde_json::json!({
            "schema": SCHEMA, "run": run, "state": state_name(&state), "alerts": alerts
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", history::detail(&run, &state, &alerts));
    }
    Ok(ExitCode::SUCCESS)
}

/// A run of the JSON list: the run without its report, plus its alert
/// count, state, shadow and the verdicts' outcomes and scores (what a
/// script asks of a game day: did it pass).
fn list_entry(l: &RunLine) -> serde_json::Value {
    let mut v = serde_json::json!(RunRecord {
        summary: None,
        ..l.run.clone()
    });
    let verdict = |which: &str| {
        history::verdict_of(&l.run, which).map_or(
            serde_json::Value::Null,
            |v| serde_json::json!({"outcome": v.get("outcome"), "score": v.get("score")}),
        )
    };
    v["alerts"] = l.alerts.into();
    v["state"] = state_name(&l.state).into();
    v["shadow"] = history::shadow(&l.run).into();
    v["vs_production"] = verdict("vs_production");
    v["vs_baseline"] = verdict("vs_baseline");
    v
}

/// The run's state, checking its process when it ran on this host
/// (`here`).
fn state(run: &RunRecord, here: &str) -> RunState {
    RunState::of(run, |owner: &Owner| {
        (owner.host == here).then(|| tracking::owner_alive(owner, 0, 0))
    })
}

/// `ended`, `running`, `killed` or `unknown`, for JSON.
fn state_name(state: &RunState) -> &'static str {
    match state {
        RunState::Ended => "ended",
        RunState::Running { .. } => "running",
        RunState::Killed => "killed",
        RunState::Unknown { .. } => "unknown",
    }
}

/// `--series`: the buckets of the matching series over the run's span (from
/// the bucket holding its start to its end, or to now if it has none).
async fn series(
    store: &Store,
    id: i64,
    glob: &str,
    args: &HistoryArgs,
) -> anyhow::Result<ExitCode> {
    let pattern: SeriesPattern = glob.parse().map_err(|e| match e {
        PatternError::Everything(_) => anyhow::anyhow!(
            "--series \"{glob}\" matches every series; name a service or metric, e.g. 'shadow/gateway/latency_p99_ms'"
        ),
        other @ PatternError::Empty(_) => anyhow::anyhow!(other),
    })?;
    let run = find(store, id).await?;
    let rollup = args.rollup;
    let from = run.started_ms - rollup.width_ms();
    let to = run
        .ended_ms
        .unwrap_or_else(|| crate::watch::unix_ms(std::time::SystemTime::now()))
        + 1;
    let scope = RunSpan {
        run_id: run.id,
        from_ms: from,
        to_ms: to,
    };
    let stored = store.series_of(scope, rollup).await?;
    if stored.is_empty() {
        bail!(
            "run {id} stored no series in {} s buckets (it ended, or was killed, before its first were written)",
            rollup.seconds()
        );
    }
    let names: Vec<&String> = stored.iter().filter(|k| pattern.matches(k)).collect();
    if names.is_empty() {
        let some = stored
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = stored.len().saturating_sub(12);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        bail!(
            "--series \"{glob}\" matches none of the {} series run {id} stored at {} s: {some}{more}",
            stored.len(),
            rollup.seconds()
        );
    }
    if args.csv && names.len() > 1 {
        let listed = names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        bail!(
            "--csv prints one series and \"{glob}\" matches {}: {listed}",
            names.len()
        );
    }
    let mut all = Vec::new();
    for name in names {
        let key: SeriesKey = name
            .parse()
            .with_context(|| format!("series {name:?} in the history"))?;
        all.push(SeriesBuckets {
            key: name.clone(),
            rollup,
            buckets: store.rollups(scope, key, rollup).await?,
        });
    }
    if args.csv {
        print!("{}", buckets::csv(&all[0]));
    } else if args.json {
        let series: Vec<serde_json::Value> = all
            .iter()
            .map(|s| serde_json::json!({"key": s.key, "rollup_s": rollup.seconds(), "buckets": s.buckets}))
            .collect();
        let out = serde_json::json!({"schema": SCHEMA, "run": run.id, "series": series});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", buckets::table(run.started_ms, &all));
    }
    Ok(ExitCode::SUCCESS)
}
