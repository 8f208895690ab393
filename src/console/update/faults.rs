//! The fault transitions: the catalog and active lists, Enter opening the
//! form, `x` and `!` with their confirmations, `R`, `o`, and the fault
//! task's news (journal readings, applied, expired, reverted, stopped,
//! resumed). One fault operation a key starts at a time (a request while
//! one runs only says so); TTL expiries and the global stop are never
//! refused.

use crate::console::model::faults::{
    CATALOG, FaultConfirm, FaultOp, Section, SessionFault, SessionState,
};
use crate::console::model::form::{self, FaultForm, Prompt, PromptFor};
use crate::console::model::{Mode, Model, Outcome};
use crate::console::msg::{AppliedFault, Cmd, FaultCmd, FaultEvent};

use super::{Action, moved};

/// Whether a fault operation runs; if so, says so on the status line.
pub fn busy(model: &mut Model) -> bool {
    let Some(op) = &model.faults.op else {
        return false;
    };
    model.status.notice = Some(format!(
        "{} … wait for it to finish (one fault operation at a time)",
        op.describe()
    ));
    true
}

fn stopped(model: &mut Model) -> bool {
    if model.faults.stopped {
        model.status.notice =
            Some("faults are STOPPED: R resumes before a new one can be applied".to_owned());
    }
    model.faults.stopped
}

/// Up / down in the list that has the cursor.
pub fn navigate(model: &mut Model, action: Action) {
    let pane = &mut model.faults;
    match pane.section {
        Section::Catalog => pane.catalog_cursor = moved(pane.catalog_cursor, CATALOG.len(), action),
        Section::Active => {
            pane.active_cursor = moved(pane.active_cursor, pane.active.len(), action);
        }
    }
}

/// Enter: the form for the kind under the cursor.
pub fn open_form(model: &mut Model) -> Vec<Cmd> {
    if model.faults.section == Section::Active {
        model.status.notice = Some(
            "x reverts the selected fault; pick a kind in the catalog (S-Tab) to apply one"
                .to_owned(),
        );
        return Vec::new();
    }
    if stopped(model) {
        return Vec::new();
    }
    let Some(entry) = model.faults.selected_kind() else {
        return Vec::new();
    };
    let target = default_target(model, entry.name);
    model.faults.form = Some(FaultForm::new(entry, &target));
    model.mode = Mode::FaultForm;
    Vec::new()
}

/// `SHADOW/SERVICE` for the service under the cursor in the selected
/// group's shadow; for an edge kind `SHADOW/FROM->SERVICE` with the
/// shadow's entry service (or another service) as the caller. Empty
/// without a shadow.
pub fn default_target(model: &Model, kind: &str) -> String {
    let Some(shadow) = model.selected_shadow() else {
        return String::new();
    };
    let Some(service) = model.selected_shadow_service() else {
        return format!("{}/", shadow.id());
    };
    if !form::aims_at_edge(kind) {
        return format!("{}/{service}", shadow.id());
    }
    let entry = shadow.state.entry.keys().find(|s| **s != service);
    let other = shadow
        .services
        .iter()
        .map(|s| &s.name)
        .find(|s| **s != service && s.as_str() != crate::console::model::RELAY_SERVICE);
    let from = entry.or(other).map_or("FROM", String::as_str);
    format!("{}/{from}->{service}", shadow.id())
}

/// `x`: ask before reverting the active fault under the cursor.
pub fn ask_revert(model: &mut Model) -> Vec<Cmd> {
    let Some(fault) = model.faults.selected_active().cloned() else {
        model.status.notice = Some("no active fault to revert".to_owned());
        return Vec::new();
    };
    if busy(model) {
        return Vec::new();
    }
    model.faults.confirm = Some(FaultConfirm::Revert {
        id: fault.id,
        kind: fault.kind,
        target: fault.target,
    });
    model.mode = Mode::FaultConfirm;
    Vec::new()
}

/// `!`: ask before stopping every fault (never refused).
pub fn ask_stop(model: &mut Model) -> Vec<Cmd> {
    model.faults.confirm = Some(FaultConfirm::StopAll);
    model.mode = Mode::FaultConfirm;
    Vec::new()
}

/// `R`: allow faults again.
pub fn resume(model: &mut Model) -> Vec<Cmd> {
    if !model.faults.stopped {
        model.status.notice = Some("faults are not stopped".to_owned());
        return Vec::new();
    }
    if busy(model) {
        return Vec::new();
    }
    model.status.outcome = None;
    model.faults.op = Some(FaultOp::Resuming);
    vec![Cmd::Faults(FaultCmd::Resume)]
}

/// `o`: ask for a schedule file to show.
pub fn ask_schedule(model: &mut Model) -> Vec<Cmd> {
    if busy(model) {
        return Vec::new();
    }
    model.prompt = Some(Prompt::new(PromptFor::Schedule));
    model.mode = Mode::Prompt;
    Vec::new()
}

/// The prompt's path for a schedule.
pub fn load_schedule(model: &mut Model, path: String) -> Vec<Cmd> {
    if busy(model) {
        return Vec::new();
    }
    model.faults.op = Some(FaultOp::LoadingSchedule { path: path.clone() });
    vec![Cmd::Faults(FaultCmd::LoadSchedule { path })]
}

/// A key in a fault confirmation.
pub fn confirm_action(model: &mut Model, action: Action) -> Vec<Cmd> {
    let answer = match action {
        Action::Confirm => true,
        Action::Cancel => false,
        _ => return Vec::new(),
    };
    let confirm = model.faults.confirm.take();
    model.mode = Mode::Normal;
    match (confirm, answer) {
        (Some(FaultConfirm::StopAll), true) => {
            model.status.outcome = None;
            model.faults.op = Some(FaultOp::Stopping);
            vec![Cmd::Faults(FaultCmd::StopAll)]
        }
        (Some(FaultConfirm::Revert { id, .. }), true) => {
            if busy(model) {
                return Vec::new();
            }
            model.status.outcome = None;
            if let Some(f) = model.faults.session_mut(&id) {
                f.state = SessionState::Reverting;
            }
            model.faults.op = Some(FaultOp::Reverting { id: id.clone() });
            vec![Cmd::Faults(FaultCmd::Revert { id })]
        }
        (Some(FaultConfirm::StopAll), false) => {
            model.status.notice = Some("nothing stopped".to_owned());
            Vec::new()
        }
        (Some(FaultConfirm::Revert { id, .. }), false) => {
            model.status.notice = Some(format!("kept fault {id}"));
            Vec::new()
        }
        (None, _) => Vec::new(),
    }
}

/// News from the fault task.
pub fn event(model: &mut Model, event: FaultEvent) -> Vec<Cmd> {
    match event {
        FaultEvent::Recovered { reverted } => {
            if !reverted.is_empty() {
                succeed(
                    model,
                    format!(
                        "reverted {} fault{} left by processes that are gone, or expired: {}",
                        reverted.len(),
                        plural(reverted.len()),
                        reverted.join(", ")
                    ),
                );
            }
        }
        FaultEvent::Journal {
            active,
            stopped,
            now_ms,
        } => journal(model, active, stopped, now_ms),
        FaultEvent::Applied {
            kind,
            target,
            result,
        } => {
            finish_op(model, |op| matches!(op, FaultOp::Applying { .. }));
            match result {
                Ok(applied) => applied_fault(model, applied),
                Err(e) => fail(model, format!("applying {kind} on {target} failed: {e}")),
            }
        }
        FaultEvent::Expired { id } => return expired(model, &id),
        FaultEvent::Reverted { id, result, now_ms } => reverted(model, &id, result, now_ms),
        FaultEvent::Stopped(result) => {
            finish_op(model, |op| *op == FaultOp::Stopping);
            match result {
                Ok(n) => {
                    model.faults.stopped = true;
                    let now = model.faults.now_ms;
                    for f in model.faults.session.iter_mut().filter(|f| f.held()) {
                        f.state = SessionState::Reverted;
                        f.ended_ms = Some(now);
                    }
                    model.faults.active.clear();
                    model.faults.active_cursor = 0;
                    succeed(
                        model,
                        format!(
                            "faults STOPPED: {n} reverted; new faults are refused until R resumes"
                        ),
                    );
                }
                Err(e) => fail(model, format!("stopping every fault failed: {e}")),
            }
        }
        FaultEvent::Resumed(result) => {
            finish_op(model, |op| *op == FaultOp::Resuming);
            match result {
                Ok(()) => {
                    model.faults.stopped = false;
                    succeed(model, "faults allowed again".to_owned());
                }
                Err(e) => fail(model, format!("resuming faults failed: {e}")),
            }
        }
        FaultEvent::ScheduleLoaded(result) => {
            finish_op(model, |op| matches!(op, FaultOp::LoadingSchedule { .. }));
            match result {
                Ok(view) => {
                    succeed(
                        model,
                        format!(
                            "schedule {}: {} events over {:.0} s (seed {}; shown, not run)",
                            view.path,
                            view.events.len(),
                            view.horizon_s,
                            view.seed
                        ),
                    );
                    model.faults.schedule = Some(view);
                }
                Err(e) => fail(model, format!("cannot show the schedule: {e}")),
            }
        }
        FaultEvent::Note(text) => model.status.notice = Some(text),
    }
    Vec::new()
}

/// A fresh reading of the journal: the active list, the stop, the time;
/// this console's faults that left the journal were reverted elsewhere
/// (`fault revert`, `gc`, another console's stop).
fn journal(
    model: &mut Model,
    active: Vec<crate::console::model::faults::ActiveFault>,
    stopped: bool,
    now_ms: u64,
) {
    let pane = &mut model.faults;
    for f in pane.session.iter_mut().filter(|f| f.held()) {
        if !active.iter().any(|a| a.id == f.id) {
            f.state = SessionState::Reverted;
            f.ended_ms = Some(now_ms);
        }
    }
    pane.active = active;
    pane.active_cursor = pane.active_cursor.min(pane.active.len().saturating_sub(1));
    pane.stopped = stopped;
    pane.now_ms = now_ms;
}

fn applied_fault(model: &mut Model, applied: AppliedFault) {
    let ttl_s = applied.expires_ms.saturating_sub(applied.applied_ms) / 1000;
    succeed(
        model,
        format!(
            "fault {}: {} on {} for {ttl_s} s ({}); this console reverts it",
            applied.id,
            applied.kind,
            applied.target,
            applied.containers.join(", ")
        ),
    );
    model.faults.now_ms = model.faults.now_ms.max(applied.applied_ms);
    model.faults.session.push(SessionFault {
        id: applied.id,
        kind: applied.kind,
        target: applied.target,
        applied_ms: applied.applied_ms,
        expires_ms: applied.expires_ms,
        ended_ms: None,
        state: SessionState::Active,
    });
}

/// A held fault's TTL ended: revert it (unless that is under way).
fn expired(model: &mut Model, id: &str) -> Vec<Cmd> {
    let Some(f) = model.faults.session_mut(id) else {
        return Vec::new();
    };
    if f.state != SessionState::Active {
        return Vec::new();
    }
    f.state = SessionState::Reverting;
    vec![Cmd::Faults(FaultCmd::Revert { id: id.to_owned() })]
}

fn reverted(model: &mut Model, id: &str, result: Result<(), String>, now_ms: u64) {
    finish_op(
        model,
        |op| matches!(op, FaultOp::Reverting { id: i } if i == id),
    );
    model.faults.now_ms = model.faults.now_ms.max(now_ms);
    if let Some(f) = model.faults.session_mut(id) {
        f.ended_ms = Some(now_ms);
        f.state = match &result {
            Ok(()) => SessionState::Reverted,
            Err(e) => SessionState::RevertFailed(e.clone()),
        };
    }
    match result {
        Ok(()) => {
            model.faults.active.retain(|a| a.id != id);
            let len = model.faults.active.len();
            model.faults.active_cursor = model.faults.active_cursor.min(len.saturating_sub(1));
            succeed(model, format!("reverted fault {id}"));
        }
        Err(e) => fail(
            model,
            format!("reverting fault {id} failed: {e} (`understudy gc` tries again)"),
        ),
    }
}

/// Clears the operation in flight if `done` says this news ends it.
fn finish_op(model: &mut Model, done: impl Fn(&FaultOp) -> bool) {
    if model.faults.op.as_ref().is_some_and(done) {
        model.faults.op = None;
    }
    // A notice about it ("wait for it to finish") has had its day.
    model.status.notice = None;
}

fn succeed(model: &mut Model, text: String) {
    model.status.outcome = Some(Outcome { ok: true, text });
}

fn fail(model: &mut Model, text: String) {
    model.status.outcome = Some(Outcome { ok: false, text });
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
