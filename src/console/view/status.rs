//! The status line and the key bar generated from the key table for the
//! current mode and focus. The status line shows the first of: the feed's
//! error, a notice, the shadow operation in flight, how the last one ended,
//! a summary.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::console::keymap::{self, Action};
use crate::console::model::{Mode, Model, Operation};
use crate::console::theme::Theme;

pub struct StatusView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &StatusView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let width = area.width as usize;
        let line = if let Some(error) = &model.status.error {
            Line::from(Span::styled(
                super::fit(&format!(" ✗ {error}"), width),
                theme.crit,
            ))
        } else if let Some(notice) = &model.status.notice {
            Line::from(Span::styled(
                super::fit(&format!(" {notice}"), width),
                theme.warn,
            ))
        } else if let Some(op) = &model.op {
            let mut text = format!(" ◆ {}", op.describe());
            if let Operation::Applying {
                step: Some(step), ..
            } = op
            {
                text.push_str(": ");
                text.push_str(step);
            }
            text.push_str(" …");
            Line::from(Span::styled(super::fit(&text, width), theme.shadow))
        } else if let Some(op) = &model.faults.op {
            let text = format!(" ◆ {} …", op.describe());
            Line::from(Span::styled(super::fit(&text, width), theme.shadow))
        } else if let Some(outcome) = &model.status.outcome {
            let (mark, style) = if outcome.ok {
                ("✓", theme.ok)
            } else {
                ("✗", theme.crit)
            };
            Line::from(Span::styled(
                super::fit(&format!(" {mark} {}", outcome.text), width),
                style,
            ))
        } else {
            Line::from(Span::styled(
                super::fit(&summary(model), width),
                theme.muted,
            ))
        };
        line.render(area, buf);
    }
}

/// ` 3 groups · shop: 4 containers, 3 ready · live stats for 4`
fn summary(model: &Model) -> String {
    let Some(groups) = &model.groups else {
        return " listing containers…".to_owned();
    };
    let mut text = format!(
        " {} group{}",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" }
    );
    if groups.is_empty() {
        text.push_str(" · start the sample one with `understudy demo up`");
    }
    if let Some(g) = model.selected_group() {
        let _ = write!(
            text,
            " · {}: {} containers, {} ready · live stats for {}",
            g.name,
            g.container_count(),
            g.ready_count(),
            model.stats.len()
        );
    }
    if let Some(run) = model.load.run.as_ref().filter(|r| r.active()) {
        let _ = write!(text, " · load on {}", run.service);
    }
    let held = model.faults.held().count();
    if held > 0 {
        let _ = write!(
            text,
            " · {held} fault{} held",
            if held == 1 { "" } else { "s" }
        );
    }
    if model.faults.stopped {
        text.push_str(" · faults STOPPED");
    }
    text
}

pub struct KeysView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &KeysView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let model = self.model;
        let chain = keymap::chain(model.mode, model.focus, model.tab);
        let refused =
            model.mode == Mode::Plan && model.plan.as_ref().is_some_and(|p| p.plan.is_refused());
        let entries = keymap::bar_where(chain, |a| !(refused && a == Action::Confirm));
        keys_line(&entries, area.width, self.theme).render(area, buf);
    }
}

/// `key desc` pairs, as many as fit whole.
pub fn keys_line(entries: &[(String, &str)], width: u16, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, desc) in entries {
        let entry = key.chars().count() + desc.chars().count() + 3;
        if used + entry > width as usize {
            break;
        }
        used += entry;
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {desc} "), theme.muted));
    }
    Line::from(spans)
}
