//! `understudy history`: the watch runs SQLite kept, and one run in full
//! (its verdicts, the faults it saw, every alert with its timing). It only
//! reads: a missing database is reported, never created (an older schema
//! is migrated forward on opening, as by every command that opens it).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::shadow::tracking::{self, Owner};
use crate::store::{RunRecord, Store};
use crate::watch::history::{self, RunLine, RunState};

/// Arguments of `understudy history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// A run id (from the list): show that run in full.
    pub run: Option<i64>,
    /// How many runs to list, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Print JSON (schema `understudy.history/v1`).
    #[arg(long)]
    pub json: bool,
    /// The history database (default: `<state dir>/understudy.db`).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
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
    match args.run {
        Some(id) => show(&store, id, args.json).await,
        None => list(&store, args.limit, args.json).await,
    }
}

async fn list(store: &Store, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let mut lines = Vec::new();
    for mut run in store.runs(limit).await? {
        let alerts = store.alert_count(run.id).await?;
        let state = state(&run);
        if json {
            run.summary = None;
        }
        lines.push(RunLine { run, alerts, state });
    }
    if json {
        let runs: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| {
                let mut v = serde_json::json!(l.run);
                v["alerts"] = l.alerts.into();
                v["state"] = state_name(&l.state).into();
                v
            })
            .collect();
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

async fn show(store: &Store, id: i64, json: bool) -> anyhow::Result<ExitCode> {
    let Some(run) = store.run(id).await? else {
        let latest = store.runs(1).await?.first().map(|r| r.id);
        match latest {
            Some(latest) => bail!(
                "no run {id} in {} (runs go up to {latest}; `understudy history` lists them)",
                store.path().display()
            ),
            None => bail!("no run {id}: {} holds no runs", store.path().display()),
        }
    };
    let alerts = store.alerts(id).await?;
    let state = state(&run);
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

/// The run's state, checking its process when it ran on this host.
fn state(run: &RunRecord) -> RunState {
    let here = tracking::host_name();
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
