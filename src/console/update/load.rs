//! The load transitions: `L` starts the demo day on the selected group's
//! shadow (or stops the run), `P` asks for a file to replay, and the run's
//! news (started, a second measured, finished or failed). One run at a
//! time; messages of an older run are dropped. Each measured second also
//! goes to the metrics tab's watch when it watches the same shadow, which
//! scores it as `shadow/ENTRY/client_*` series.

use crate::console::model::form::{Prompt, PromptFor};
use crate::console::model::load::{LoadRun, ProfileSource, RunState};
use crate::console::model::{Mode, Model, Outcome, Tab};
use crate::console::msg::{Cmd, LoadCmd, LoadEvent, LoadSpec, WatchCmd};
use crate::traffic::report::Window;

/// `L`: stop the run, or start the demo day.
pub fn toggle(model: &mut Model) -> Vec<Cmd> {
    if let Some(run) = model.load.run.as_mut().filter(|r| r.active()) {
        if run.state == RunState::Stopping {
            model.status.notice = Some("the load run is stopping…".to_owned());
            return Vec::new();
        }
        run.state = RunState::Stopping;
        return vec![Cmd::Load(LoadCmd::Stop { run: run.id })];
    }
    start(model, ProfileSource::Demo)
}

/// `P`: ask for a file to replay (when a run could start).
pub fn ask_file(model: &mut Model) -> Vec<Cmd> {
    if model.load.active() {
        model.status.notice = Some("a load run is in progress: L stops it first".to_owned());
        return Vec::new();
    }
    if entry(model).is_none() {
        return Vec::new();
    }
    model.prompt = Some(Prompt::new(PromptFor::Profile));
    model.mode = Mode::Prompt;
    Vec::new()
}

/// Starts a run of `source` on the selected group's shadow's entry point.
pub fn start(model: &mut Model, source: ProfileSource) -> Vec<Cmd> {
    if model.load.active() {
        model.status.notice = Some("a load run is in progress: L stops it first".to_owned());
        return Vec::new();
    }
    let Some((shadow, service, url)) = entry(model) else {
        return Vec::new();
    };
    let id = model.load.next_id;
    model.load.next_id += 1;
    model.load.reset();
    model.load.run = Some(LoadRun {
        id,
        shadow,
        service,
        url: url.clone(),
        source: source.clone(),
        state: RunState::Starting,
    });
    model.tab = Tab::Load;
    vec![Cmd::Load(LoadCmd::Start(LoadSpec {
        run: id,
        url,
        source,
    }))]
}

/// The entry point load goes to, or a notice saying why there is none.
fn entry(model: &mut Model) -> Option<(String, String, String)> {
    if let Some(entry) = model.entry_point() {
        return Some(entry);
    }
    let notice = match (model.selected_group(), model.selected_shadow()) {
        (None, _) => "select a group first".to_owned(),
        (Some(g), None) => format!(
            "{} has no shadow: s creates one, then L replays traffic on it",
            g.name
        ),
        (Some(g), Some(s)) => format!(
            "shadow {} of {} has no entry point to send load to",
            s.id(),
            g.name
        ),
    };
    model.status.notice = Some(notice);
    None
}

/// News from the run.
pub fn event(model: &mut Model, event: LoadEvent) -> Vec<Cmd> {
    let run_id = match &event {
        LoadEvent::Started { run, .. }
        | LoadEvent::Window { run, .. }
        | LoadEvent::Finished { run, .. } => *run,
    };
    let Some(run) = model.load.run.as_mut().filter(|r| r.id == run_id) else {
        return Vec::new();
    };
    match event {
        LoadEvent::Started {
            requests,
            duration_s,
            ..
        } => {
            if run.state == RunState::Starting {
                run.state = RunState::Running {
                    requests,
                    duration_s,
                };
            }
        }
        LoadEvent::Window { window, .. } => {
            if run.active() {
                let (shadow, entry) = (run.shadow.clone(), run.service.clone());
                model.load.record(&window);
                return to_watch(model, &shadow, entry, window);
            }
        }
        LoadEvent::Finished { result, .. } => {
            let what = format!("replay on {} {}", run.service, run.url);
            model.status.outcome = Some(match &result {
                Ok(summary) => Outcome {
                    ok: true,
                    text: format!("{what} {}: {}", summary.ended(), summary.line()),
                },
                Err(e) => Outcome {
                    ok: false,
                    text: format!("{what} failed: {e}"),
                },
            });
            run.state = match result {
                Ok(summary) => RunState::Finished(summary),
                Err(e) => RunState::Failed(e),
            };
        }
    }
    Vec::new()
}

/// The command handing a second of load on `shadow`'s `entry` to the
/// metrics tab's watch, if it watches that shadow.
fn to_watch(model: &Model, shadow: &str, entry: String, window: Box<Window>) -> Vec<Cmd> {
    let watch = &model.watch;
    let Some(run) = watch.run.as_ref().filter(|r| r.active()) else {
        return Vec::new();
    };
    if watch.watched.as_ref().and_then(|w| w.shadow.as_deref()) != Some(shadow) {
        return Vec::new();
    }
    vec![Cmd::Watch(WatchCmd::Client {
        run: run.id,
        entry,
        window,
    })]
}

#[cfg(test)]
mod tests;
