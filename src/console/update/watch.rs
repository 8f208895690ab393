//! The metrics transitions: a watch runs while the metrics tab is shown,
//! on the selected group and the shadow the console shows beside it
//! ([`sync`], after every message: opening the tab starts it, leaving the
//! tab or the group stops it, another group or shadow restarts it); `j`/`k`
//! pick the service the charts show; the run's news fills the pane. One run
//! at a time; news of an older run is dropped.

use crate::console::keymap::Action;
use crate::console::model::watch::{FaultSeen, WatchRun, WatchState, Watched};
use crate::console::model::{Model, Tab};
use crate::console::msg::{Cmd, WatchCmd, WatchNews};

use super::moved;

#[cfg(test)]
mod tests;

/// What the watch should follow now: the selected group and the shadow
/// shown beside it, while the metrics tab is shown.
fn wanted(model: &Model) -> Option<(String, Option<String>)> {
    if model.tab != Tab::Metrics {
        return None;
    }
    let group = model.selected_group()?.name.clone();
    let shadow = model.selected_shadow().map(|s| s.id().to_owned());
    Some((group, shadow))
}

/// Whether the run follows `group` beside `shadow`: what it reported
/// following once started, else what it was asked for.
fn follows(model: &Model, run: &WatchRun, group: &str, shadow: Option<&str>) -> bool {
    if run.group != group {
        return false;
    }
    match &model.watch.watched {
        Some(w) => w.shadow.as_deref() == shadow,
        None => run.shadow.as_deref() == shadow,
    }
}

/// Starts, stops or restarts the watch to match the tab, the group and its
/// shadow. `retry`: the tab was asked for again, so a run that stopped or
/// failed on the same target starts over.
pub fn sync(model: &mut Model, retry: bool) -> Vec<Cmd> {
    let want = wanted(model);
    let Some((group, shadow)) = want else {
        return stop(model);
    };
    if let Some(run) = &model.watch.run
        && follows(model, run, &group, shadow.as_deref())
        && (run.active() || !retry)
    {
        return Vec::new();
    }
    let mut cmds = stop(model);
    let id = model.watch.next_id;
    model.watch.next_id += 1;
    model.watch.reset();
    model.watch.run = Some(WatchRun {
        id,
        group: group.clone(),
        shadow: shadow.clone(),
        state: WatchState::Starting,
    });
    cmds.push(Cmd::Watch(WatchCmd::Start {
        run: id,
        group,
        shadow,
    }));
    cmds
}

/// Stops the run if it goes (its data stays on screen until the next).
pub fn stop(model: &mut Model) -> Vec<Cmd> {
    match model.watch.run.as_mut().filter(|r| r.active()) {
        Some(run) => {
            run.state = WatchState::Stopped;
            vec![Cmd::Watch(WatchCmd::Stop { run: run.id })]
        }
        None => Vec::new(),
    }
}

/// `j`/`k` on the tab: the service the charts show.
pub fn navigate(model: &mut Model, action: Action) {
    let len = model.watch.services().len();
    model.watch.cursor = moved(model.watch.cursor, len, action);
}

/// News from the run.
pub fn event(model: &mut Model, news: WatchNews) -> Vec<Cmd> {
    let pane = &mut model.watch;
    let Some(run) = pane.run.as_mut().filter(|r| r.id == news.run()) else {
        return Vec::new();
    };
    if let WatchNews::Ended { result, .. } = news {
        run.state = match result {
            Ok(()) => WatchState::Stopped,
            Err(e) => WatchState::Failed(e),
        };
        return Vec::new();
    }
    if !run.active() {
        return Vec::new();
    }
    match news {
        WatchNews::Started {
            group,
            shadow,
            entries,
            services,
            ..
        } => {
            run.state = WatchState::Watching;
            pane.watched = Some(Watched {
                group,
                shadow,
                entries,
                services,
            });
            pane.cursor = pane.cursor.min(pane.services().len().saturating_sub(1));
        }
        WatchNews::Samples { points, .. } => pane.record(points),
        WatchNews::Alert { event, .. } => pane.alert(event),
        WatchNews::Looked { verdicts, .. } => pane.verdicts = Some(verdicts),
        WatchNews::Fault {
            kind, target, t_ms, ..
        } => pane.fault = Some(FaultSeen { kind, target, t_ms }),
        WatchNews::Notice { text, .. } => pane.notice = Some(text),
        WatchNews::Ended { .. } => {}
    }
    Vec::new()
}
