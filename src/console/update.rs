//! `update(&mut Model, Msg) -> Vec<Cmd>`: every state change of the console,
//! pure (no await, no I/O, no clock). Keys go through the key table first;
//! actions are then handled per mode (the modal overlays first) and per pane.
//! Shadow operations, load runs, faults and the watch are only asked for
//! here (`Cmd::Shadow`, `Cmd::Load`, `Cmd::Faults`, `Cmd::Watch`);
//! `shadow`, `load`, `faults` and `watch` hold their transitions, `form`
//! the fault form and the path prompt. After every message but the watch's
//! own news, `watch::sync` starts or stops the watch to match the tab and
//! the selection.
//!
//! Owns: the meaning of messages and actions. Does not own which key means
//! what (`keymap`) or carrying out commands (`console::shell`).

use super::keymap::{self, Action, Key};
use super::model::faults::Section;
use super::model::{Mode, Model, Pane, Samples, Tab};
use super::msg::{Cmd, FaultCmd, LoadCmd, Msg};

use crossterm::event::KeyEvent;

mod faults;
mod form;
mod load;
mod shadow;
#[cfg(test)]
mod tests;
mod watch;

/// Applies one message; returns what the shell must do.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Cmd> {
    let own_news = matches!(msg, Msg::Watch(_));
    let mut cmds = apply(model, msg);
    // Quitting stops the watch itself, before `Cmd::Quit`.
    if !own_news && !cmds.contains(&Cmd::Quit) {
        cmds.extend(watch::sync(model, false));
    }
    cmds
}

fn apply(model: &mut Model, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(event) => key(model, &event),
        Msg::Action(action) => act(model, action),
        Msg::Resize(size) => {
            model.screen = size;
            if let Some(plan) = &mut model.plan {
                plan.resize(size);
            }
            Vec::new()
        }
        Msg::Tick(clock) => {
            model.clock = clock;
            Vec::new()
        }
        Msg::Engine(info) => {
            model.engine = Some(info);
            Vec::new()
        }
        Msg::Host(stats) => {
            model.host = Some(stats);
            Vec::new()
        }
        Msg::Groups(groups) => groups::replace(model, groups),
        Msg::Shadows(shadows) => shadow::listed(model, shadows),
        Msg::Shadow(event) => shadow::event(model, event),
        Msg::Stats(sample) => {
            services::record(model, sample);
            Vec::new()
        }
        Msg::FeedError(text) => {
            model.status.error = Some(text);
            Vec::new()
        }
        Msg::Load(event) => load::event(model, event),
        Msg::Faults(event) => faults::event(model, event),
        Msg::Watch(news) => watch::event(model, news),
    }
}

fn key(model: &mut Model, event: &KeyEvent) -> Vec<Cmd> {
    // A notice answers the previous key; the next one clears it.
    model.status.notice = None;
    let chain = keymap::chain(model.mode, model.focus, model.tab);
    match keymap::lookup(chain, Key::from_event(event)) {
        Some(action) => act(model, action),
        None if model.mode == Mode::Filter => {
            filter::edit(model, event);
            Vec::new()
        }
        None if model.mode == Mode::FaultForm => form::edit_form(model, event),
        None if model.mode == Mode::Prompt => form::edit_prompt(model, event),
        None => Vec::new(),
    }
}

fn act(model: &mut Model, action: Action) -> Vec<Cmd> {
    // Quitting works from anywhere (a signal sends it as an action).
    if action == Action::Quit {
        return quit(model);
    }
    match model.mode {
        Mode::Plan => return shadow::plan_action(model, action),
        Mode::Confirm => return shadow::confirm_action(model, action),
        Mode::FaultForm => return form::form_action(model, action),
        Mode::Prompt => return form::prompt_action(model, action),
        Mode::FaultConfirm => return faults::confirm_action(model, action),
        Mode::Normal | Mode::Help | Mode::Filter => {}
    }
    match action {
        Action::Quit => quit(model),
        Action::Refresh => vec![Cmd::Refresh],
        Action::ToggleHelp => {
            model.mode = match model.mode {
                Mode::Help => Mode::Normal,
                Mode::Normal | Mode::Filter => Mode::Help,
                // Overlays handle their keys above.
                overlay => overlay,
            };
            Vec::new()
        }
        Action::OpenFilter => filter::open(model),
        Action::KeepFilter => filter::keep(model),
        Action::ClearFilter => filter::clear(model),
        Action::FocusNext => {
            focus_step(model, true);
            Vec::new()
        }
        Action::FocusPrev => {
            focus_step(model, false);
            Vec::new()
        }
        Action::ShowTab(tab) => {
            model.tab = tab;
            model.focus = Pane::Services;
            // Asking for the metrics tab again retries a stopped watch.
            watch::sync(model, tab == Tab::Metrics)
        }
        Action::ToggleLoad => load::toggle(model),
        Action::ReplayFile => load::ask_file(model),
        Action::OpenFaultForm => faults::open_form(model),
        Action::RevertFault => faults::ask_revert(model),
        Action::StopAllFaults => faults::ask_stop(model),
        Action::ResumeFaults => faults::resume(model),
        Action::LoadSchedule => faults::ask_schedule(model),
        Action::FocusGroups => {
            model.focus = Pane::Groups;
            Vec::new()
        }
        Action::FocusServices | Action::Open => {
            model.focus = Pane::Services;
            Vec::new()
        }
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            match (model.focus, model.tab) {
                (Pane::Groups, _) => return groups::navigate(model, action),
                (Pane::Services, Tab::Services) => services::navigate(model, action),
                (Pane::Services, Tab::Faults) => faults::navigate(model, action),
                (Pane::Services, Tab::Metrics) => watch::navigate(model, action),
                (Pane::Services, Tab::Load) => {}
            }
            Vec::new()
        }
        Action::CreateShadow => shadow::create(model),
        Action::RemoveShadow => shadow::remove(model),
        // Only the overlays bind these.
        Action::Confirm
        | Action::Cancel
        | Action::PageUp
        | Action::PageDown
        | Action::FieldNext
        | Action::FieldPrev => Vec::new(),
    }
}

/// Leaving: stop the load run and the watch, and revert the faults this
/// console holds (the fault task reverts them before the terminal is given
/// back).
fn quit(model: &mut Model) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if let Some(run) = model.load.run.as_ref().filter(|r| r.active()) {
        cmds.push(Cmd::Load(LoadCmd::Stop { run: run.id }));
    }
    cmds.extend(watch::stop(model));
    let held = model.faults.held().count();
    let applying = matches!(
        model.faults.op,
        Some(super::model::faults::FaultOp::Applying { .. })
    );
    if held > 0 || applying {
        model.status.notice = Some(format!(
            "reverting the fault{} this console applied before quitting…",
            if held == 1 { "" } else { "s" }
        ));
        cmds.push(Cmd::Faults(FaultCmd::RevertSession));
    }
    cmds.push(Cmd::Quit);
    cmds
}

/// Tab / S-Tab: between the two panes; on the faults tab the right pane
/// has two stops, the catalog and the active faults.
fn focus_step(model: &mut Model, forward: bool) {
    if model.tab != Tab::Faults {
        model.focus = match model.focus {
            Pane::Groups => Pane::Services,
            Pane::Services => Pane::Groups,
        };
        return;
    }
    let here = match (model.focus, model.faults.section) {
        (Pane::Groups, _) => 0,
        (Pane::Services, Section::Catalog) => 1,
        (Pane::Services, Section::Active) => 2,
    };
    let next = if forward {
        (here + 1) % 3
    } else {
        (here + 2) % 3
    };
    (model.focus, model.faults.section) = match next {
        0 => (Pane::Groups, model.faults.section),
        1 => (Pane::Services, Section::Catalog),
        _ => (Pane::Services, Section::Active),
    };
}

/// The cursor position after a move within `len` items.
fn moved(cursor: usize, len: usize, action: Action) -> usize {
    let last = len.saturating_sub(1);
    match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (cursor + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => cursor.min(last),
    }
}

/// The groups pane: selection follows the cursor; a new selection asks the
/// feed for that group's stats.
mod groups {
    use crate::domain::Group;

    use super::{Action, Cmd, Model, moved};

    pub fn navigate(model: &mut Model, action: Action) -> Vec<Cmd> {
        let len = model.groups().len();
        if len == 0 {
            return Vec::new();
        }
        let cursor = moved(model.groups_pane.cursor, len, action);
        select(model, cursor)
    }

    /// Puts the cursor on `cursor` and, if that changes the selected group,
    /// resets the services pane and asks the feed to watch the new group.
    fn select(model: &mut Model, cursor: usize) -> Vec<Cmd> {
        model.groups_pane.cursor = cursor;
        let name = model.groups().get(cursor).map(|g| g.name.clone());
        if name == model.groups_pane.selected {
            return Vec::new();
        }
        model.groups_pane.selected.clone_from(&name);
        model.services_pane.cursor = 0;
        model.stats.clear();
        // The last operation's outcome was about the group left.
        model.status.outcome = None;
        vec![Cmd::WatchGroup(name)]
    }

    /// A fresh listing: keeps the selection by name, or falls back to the
    /// nearest position; clears the feed error (the engine answered).
    pub fn replace(model: &mut Model, groups: Vec<Group>) -> Vec<Cmd> {
        let first_listing = model.groups.is_none();
        model.status.error = None;
        model.groups = Some(groups);
        let wanted = model.groups_pane.selected.clone();
        let found = wanted
            .as_deref()
            .and_then(|name| model.groups().iter().position(|g| g.name == name));
        let cmds = if let Some(index) = found {
            model.groups_pane.cursor = index;
            // The first listing starts the stats for a preselected group.
            if first_listing {
                vec![Cmd::WatchGroup(wanted)]
            } else {
                Vec::new()
            }
        } else {
            if first_listing {
                if let Some(name) = &wanted {
                    model.status.notice = Some(format!("no group named \"{name}\""));
                }
            }
            let len = model.groups().len();
            let cursor = model.groups_pane.cursor.min(len.saturating_sub(1));
            select(model, cursor)
        };
        super::services::reconcile(model);
        cmds
    }
}

/// The services pane: cursor over container rows, samples per container.
mod services {
    use crate::domain::stats::ContainerStats;

    use super::{Action, Model, Samples, moved};

    pub fn navigate(model: &mut Model, action: Action) {
        let len = model.container_row_count();
        model.services_pane.cursor = moved(model.services_pane.cursor, len, action);
    }

    /// Keeps the cursor in range and drops samples of containers that are
    /// gone or no longer running (production's and its shadow's).
    pub fn reconcile(model: &mut Model) {
        let len = model.container_row_count();
        model.services_pane.cursor = model.services_pane.cursor.min(len.saturating_sub(1));
        let running = model.watched_ids();
        model.stats.retain(|id, _| running.contains(id));
    }

    /// Records a sample if its container belongs to the selected group or
    /// its shadow (a late sample of a group just left is dropped).
    pub fn record(model: &mut Model, sample: ContainerStats) {
        if !model.shows_container(&sample.container_id) {
            return;
        }
        match model.stats.get_mut(&sample.container_id) {
            Some(samples) => samples.push(sample),
            None => {
                model
                    .stats
                    .insert(sample.container_id.clone(), Samples::new(sample));
            }
        }
    }
}

/// The filter box: a single-line ratatui-textarea.
mod filter {
    use super::{Cmd, KeyEvent, Mode, Model, form, services};

    pub fn open(model: &mut Model) -> Vec<Cmd> {
        model.mode = Mode::Filter;
        model.filter.set_editing(true);
        Vec::new()
    }

    pub fn keep(model: &mut Model) -> Vec<Cmd> {
        model.mode = Mode::Normal;
        model.filter.set_editing(false);
        Vec::new()
    }

    pub fn clear(model: &mut Model) -> Vec<Cmd> {
        model.filter.input.clear();
        services::reconcile(model);
        keep(model)
    }

    /// Hands a key to the one-line textarea.
    pub fn edit(model: &mut Model, event: &KeyEvent) {
        if form::edit_line(&mut model.filter.input, event) {
            model.services_pane.cursor = 0;
            services::reconcile(model);
        }
    }
}
