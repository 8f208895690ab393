//! The fault form and the path prompt: keys not in the key table edit the
//! focused one-line field; Enter validates (errors stay in the form and
//! nothing is applied) and asks the fault task (or the load task) for the
//! work; Esc closes.

use ratatui_textarea::{Input, Key as TextKey, TextArea};

use crate::console::model::faults::FaultOp;
use crate::console::model::form::PromptFor;
use crate::console::model::load::ProfileSource;
use crate::console::model::{Mode, Model};
use crate::console::msg::{Cmd, FaultCmd};

use super::{Action, KeyEvent};

/// Hands a key to a one-line textarea; keys that would add a line or a tab
/// are dropped. Whether the text changed.
pub fn edit_line(input: &mut TextArea<'static>, event: &KeyEvent) -> bool {
    let key = Input::from(*event);
    let multiline = matches!(
        key,
        Input {
            key: TextKey::Enter | TextKey::Tab | TextKey::Char('\n' | '\r'),
            ..
        } | Input {
            key: TextKey::Char('m' | 'j'),
            ctrl: true,
            ..
        }
    );
    !multiline && input.input(key)
}

/// A key the form's bindings do not take: it edits the focused field.
pub fn edit_form(model: &mut Model, event: &KeyEvent) -> Vec<Cmd> {
    if let Some(form) = model.faults.form.as_mut() {
        if let Some(field) = form.focused() {
            if edit_line(&mut field.input, event) {
                form.error = None;
            }
        }
    }
    Vec::new()
}

/// A key the prompt's bindings do not take: it edits the path.
pub fn edit_prompt(model: &mut Model, event: &KeyEvent) -> Vec<Cmd> {
    if let Some(prompt) = model.prompt.as_mut() {
        if edit_line(&mut prompt.input, event) {
            prompt.error = None;
        }
    }
    Vec::new()
}

fn close_form(model: &mut Model) {
    model.faults.form = None;
    model.mode = Mode::Normal;
}

/// A bound key in the fault form.
pub fn form_action(model: &mut Model, action: Action) -> Vec<Cmd> {
    let Some(form) = model.faults.form.as_mut() else {
        model.mode = Mode::Normal;
        return Vec::new();
    };
    match action {
        Action::FieldNext => form.step(true),
        Action::FieldPrev => form.step(false),
        Action::Cancel => close_form(model),
        Action::Confirm => return submit(model),
        _ => {}
    }
    Vec::new()
}

/// Enter in the form: validate, then apply in the background.
fn submit(model: &mut Model) -> Vec<Cmd> {
    let Some(form) = model.faults.form.as_mut() else {
        return Vec::new();
    };
    let valid = match form.validate() {
        Ok(valid) => valid,
        Err(e) => {
            form.error = Some(e);
            return Vec::new();
        }
    };
    if model.faults.stopped {
        form.error = Some("faults are STOPPED: R resumes before one can be applied".to_owned());
        return Vec::new();
    }
    if super::faults::busy(model) {
        return Vec::new();
    }
    close_form(model);
    model.status.outcome = None;
    model.faults.op = Some(FaultOp::Applying {
        kind: valid.request.kind.clone(),
        target: valid.target.to_string(),
    });
    vec![Cmd::Faults(FaultCmd::Apply {
        request: valid.request,
        target: valid.target,
        ttl: valid.ttl,
    })]
}

/// A bound key in the path prompt.
pub fn prompt_action(model: &mut Model, action: Action) -> Vec<Cmd> {
    let Some(prompt) = model.prompt.as_mut() else {
        model.mode = Mode::Normal;
        return Vec::new();
    };
    match action {
        Action::Cancel => {
            model.prompt = None;
            model.mode = Mode::Normal;
            Vec::new()
        }
        Action::Confirm => {
            let path = prompt.value().to_owned();
            if path.is_empty() {
                prompt.error = Some("type a path (Esc cancels)".to_owned());
                return Vec::new();
            }
            let purpose = prompt.purpose;
            model.prompt = None;
            model.mode = Mode::Normal;
            match purpose {
                PromptFor::Profile => super::load::start(model, ProfileSource::File(path.into())),
                PromptFor::Schedule => super::faults::load_schedule(model, path),
            }
        }
        _ => Vec::new(),
    }
}
