//! A schedule file shown as its timeline: parsed (`fault::plan_file`), its
//! targets resolved against the engine's listing (`fault::plan_targets`, as
//! `fault schedule` does), and expanded with its seed and blast-radius
//! limits. Nothing is applied.

use crate::console::model::faults::{ScheduleEvent, ScheduleView};
use crate::fault::{plan_file, plan_targets, schedule};
use crate::platform::Platform;

/// Reads, resolves and expands the schedule at `path`.
pub async fn load<P: Platform>(platform: &P, path: &str) -> Result<ScheduleView, String> {
    let owned = path.to_owned();
    let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(&owned))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("reading {path}: {e}"))?;
    let file = plan_file::parse(path, &text).map_err(|e| e.to_string())?;
    let listing = platform
        .list_containers(None)
        .await
        .map_err(|e| format!("listing containers: {e}"))?;
    let (entries, replicas) = plan_targets::resolve(&file, &listing).map_err(|e| e.to_string())?;
    let timeline = schedule::timeline(&entries, file.horizon, file.seed, file.limits, &replicas);
    Ok(ScheduleView {
        path: path.to_owned(),
        seed: file.seed,
        horizon_s: file.horizon.as_secs_f64(),
        events: timeline
            .events
            .iter()
            .map(|e| ScheduleEvent {
                at_s: e.at.as_secs_f64(),
                until_s: e.until.as_secs_f64(),
                label: format!("{} on {}", e.fault.0.kind, e.target.name),
            })
            .collect(),
        cut: timeline.cut.len(),
    })
}
