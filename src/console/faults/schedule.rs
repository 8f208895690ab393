//! A schedule file shown as its timeline: parsed (`fault::plan_file`), its
//! targets resolved against the engine's listing (one target per container
//! for instance, packet and breach kinds, as `fault schedule` does), and
//! expanded with its seed and blast-radius limits. Nothing is applied.

use std::collections::BTreeMap;

use crate::console::model::faults::{ScheduleEvent, ScheduleView};
use crate::fault::catalog::{self, FaultRequest, Level};
use crate::fault::target::{self, Resolution, TargetSpec};
use crate::fault::{plan_file, schedule};
use crate::platform::Platform;

type Planned = (FaultRequest, TargetSpec);

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
    let mut entries = Vec::new();
    let mut replicas = BTreeMap::new();
    for e in &file.entries {
        let (request, spec) = &e.fault;
        let members = match target::resolve(spec, &listing).map_err(|e| e.to_string())? {
            Resolution::Containers(c) => c,
            Resolution::Edge { to, .. } => to,
        };
        for m in &members {
            let count = members.iter().filter(|x| x.service == m.service).count();
            replicas.insert(m.service.clone(), count);
        }
        let per_container = matches!(
            catalog::kind(&request.kind).map(|k| k.level),
            Some(Level::Instance | Level::Packet | Level::Breach)
        );
        let targets = if per_container {
            members
                .iter()
                .map(|m| schedule::Target {
                    name: m.name.clone(),
                    service: m.service.clone(),
                })
                .collect()
        } else {
            vec![schedule::Target {
                name: spec.to_string(),
                service: spec.to_string(),
            }]
        };
        entries.push(schedule::Entry::<Planned> {
            fault: e.fault.clone(),
            targets,
            trigger: e.trigger.clone(),
            duration: e.duration,
        });
    }
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
