//! The shadow transitions: the shadows listed, `s` asking for a plan, the
//! plan overlay (scroll, apply, cancel), `D` and its confirmation, and the
//! results of the operations the shell runs. One operation at a time: a
//! request while one runs only says so.

use std::fmt::Write as _;

use crate::console::model::{Mode, Model, Operation, Outcome, PlanOverlay, Shadow, Teardown};
use crate::console::msg::{Cmd, ShadowCmd, ShadowEvent};
use crate::shadow::apply::ApplyReport;

use super::{Action, moved};

#[cfg(test)]
mod tests;

/// A fresh listing of the shadows.
pub fn listed(model: &mut Model, shadows: Vec<Shadow>) -> Vec<Cmd> {
    model.shadows = shadows;
    super::services::reconcile(model);
    Vec::new()
}

/// Whether an operation runs; if so, says so on the status line.
fn busy(model: &mut Model) -> bool {
    let Some(op) = &model.op else {
        return false;
    };
    model.status.notice = Some(format!(
        "{} … wait for it to finish (one shadow operation at a time)",
        op.describe()
    ));
    true
}

/// The selected group's name, or a notice that none is selected.
fn selected_group(model: &mut Model) -> Option<String> {
    let name = model.selected_group().map(|g| g.name.clone());
    if name.is_none() {
        model.status.notice = Some("select a group first".to_owned());
    }
    name
}

/// `s`: plan a shadow of the selected group.
pub fn create(model: &mut Model) -> Vec<Cmd> {
    if busy(model) {
        return Vec::new();
    }
    let Some(group) = selected_group(model) else {
        return Vec::new();
    };
    model.status.outcome = None;
    model.op = Some(Operation::Planning {
        group: group.clone(),
    });
    vec![Cmd::Shadow(ShadowCmd::Plan { group })]
}

/// `D`: ask before tearing down the selected group's shadow.
pub fn remove(model: &mut Model) -> Vec<Cmd> {
    if busy(model) {
        return Vec::new();
    }
    let Some(group) = selected_group(model) else {
        return Vec::new();
    };
    let Some(id) = model.selected_shadow().map(|s| s.id().to_owned()) else {
        model.status.notice = Some(format!("{group} has no shadow (s creates one)"));
        return Vec::new();
    };
    model.teardown = Some(Teardown { id, group });
    model.mode = Mode::Confirm;
    Vec::new()
}

/// A key in the plan overlay.
pub fn plan_action(model: &mut Model, action: Action) -> Vec<Cmd> {
    let screen = model.screen;
    let Some(overlay) = model.plan.as_mut() else {
        model.mode = Mode::Normal;
        return Vec::new();
    };
    let page = PlanOverlay::page(screen);
    let last = overlay.max_scroll(screen);
    match action {
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            overlay.scroll = moved(overlay.scroll, last + 1, action);
        }
        Action::PageDown => overlay.scroll = (overlay.scroll + page).min(last),
        Action::PageUp => overlay.scroll = overlay.scroll.saturating_sub(page),
        Action::Confirm => return apply(model),
        Action::Cancel => {
            let group = overlay.plan.group.clone();
            close_overlays(model);
            model.status.notice = Some(format!("no shadow of {group} created"));
        }
        _ => {}
    }
    Vec::new()
}

fn close_overlays(model: &mut Model) {
    model.plan = None;
    model.teardown = None;
    model.mode = Mode::Normal;
}

/// Enter/y on the plan: apply it, unless it is refused.
fn apply(model: &mut Model) -> Vec<Cmd> {
    if let Some(overlay) = &model.plan {
        if overlay.plan.is_refused() {
            let n = overlay.plan.refusals.len();
            model.status.notice = Some(format!(
                "the plan is refused ({n} setting{} under \"Refused\"); it cannot be applied",
                if n == 1 { "" } else { "s" }
            ));
            return Vec::new();
        }
    }
    if busy(model) {
        return Vec::new();
    }
    let Some(overlay) = model.plan.take() else {
        return Vec::new();
    };
    close_overlays(model);
    model.status.outcome = None;
    model.op = Some(Operation::Applying {
        id: overlay.plan.id.clone(),
        group: overlay.plan.group.clone(),
        step: None,
    });
    vec![Cmd::Shadow(ShadowCmd::Apply(overlay.plan))]
}

/// A key in the teardown confirmation.
pub fn confirm_action(model: &mut Model, action: Action) -> Vec<Cmd> {
    match action {
        Action::Confirm => {
            let teardown = model.teardown.take();
            close_overlays(model);
            let Some(Teardown { id, group }) = teardown else {
                return Vec::new();
            };
            if busy(model) {
                return Vec::new();
            }
            model.status.outcome = None;
            model.op = Some(Operation::Removing {
                id: id.clone(),
                group: group.clone(),
            });
            vec![Cmd::Shadow(ShadowCmd::Remove { id, group })]
        }
        Action::Cancel => {
            if let Some(Teardown { id, group }) = model.teardown.take() {
                model.status.notice = Some(format!("kept shadow {id} of {group}"));
            }
            close_overlays(model);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// News from the operation in flight.
pub fn event(model: &mut Model, event: ShadowEvent) -> Vec<Cmd> {
    if !matches!(event, ShadowEvent::Step(_)) {
        // A notice about it ("wait for it to finish") has had its day.
        model.status.notice = None;
    }
    match event {
        ShadowEvent::Step(text) => {
            if let Some(Operation::Applying { step, .. }) = &mut model.op {
                *step = Some(text);
            }
            Vec::new()
        }
        ShadowEvent::Planned { group, result } => {
            model.op = None;
            match result {
                Ok(plan) => {
                    if model.mode == Mode::Filter {
                        super::filter::keep(model);
                    }
                    model.teardown = None;
                    model.plan = Some(PlanOverlay::new(plan, model.screen));
                    model.mode = Mode::Plan;
                }
                Err(e) => fail(model, format!("cannot plan a shadow of {group}: {e}")),
            }
            Vec::new()
        }
        ShadowEvent::Applied { id, group, result } => {
            model.op = None;
            match result {
                Ok(report) => succeed(model, ready_text(&report)),
                Err(e) => fail(
                    model,
                    format!("creating shadow {id} of {group} failed: {e}"),
                ),
            }
            vec![Cmd::Refresh]
        }
        ShadowEvent::Removed { id, group, result } => {
            model.op = None;
            match result {
                Ok(removed) => {
                    model.shadows.retain(|s| s.id() != id);
                    super::services::reconcile(model);
                    succeed(
                        model,
                        format!(
                            "removed shadow {id} of {group} ({} containers, {} networks, {} volumes)",
                            removed.containers.len(),
                            removed.networks.len(),
                            removed.volumes.len()
                        ),
                    );
                }
                Err(e) => fail(
                    model,
                    format!("removing shadow {id} of {group} failed: {e}"),
                ),
            }
            vec![Cmd::Refresh]
        }
    }
}

fn succeed(model: &mut Model, text: String) {
    model.status.outcome = Some(Outcome { ok: true, text });
}

fn fail(model: &mut Model, text: String) {
    model.status.outcome = Some(Outcome { ok: false, text });
}

/// `shadow a1b2c3 ready in 1.6 s · gateway http://127.0.0.1:40000`, then
/// the first warning (the host rule, say) if any.
fn ready_text(report: &ApplyReport) -> String {
    let mut text = format!(
        "shadow {} ready in {:.1} s",
        report.id,
        report.ready_ms as f64 / 1000.0
    );
    for (service, url) in &report.entry {
        let _ = write!(text, " · {service} {url}");
    }
    if let Some(first) = report.warnings.first() {
        let _ = write!(text, " · warning: {first}");
        if report.warnings.len() > 1 {
            let _ = write!(text, " (+{} more in the log)", report.warnings.len() - 1);
        }
    }
    text
}
