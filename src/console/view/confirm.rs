//! Yes/no confirmations: a box with the question, a blank line and a
//! detail, centred, its keys in the bottom border from the key table. The
//! teardown confirmation, reverting a fault, and the global stop.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::console::keymap::{self, Context};
use crate::console::model::Model;
use crate::console::model::faults::FaultConfirm;
use crate::console::theme::Theme;

use super::status::keys_line;

/// A confirmation box titled `title` in the crit role.
pub fn confirm_box(
    frame: &mut Frame<'_>,
    area: Rect,
    (title, question, detail): (&str, String, String),
    context: Context,
    theme: &Theme,
) {
    let keys = keymap::bar_full(&[context], |_| true);
    let widest = question.chars().count().max(detail.chars().count()) as u16;
    let width = (widest + 4).min(area.width.saturating_sub(4));
    let text = vec![
        Line::styled(question, theme.title),
        Line::default(),
        Line::styled(detail, theme.muted),
    ];
    let inner_width = usize::from(width.saturating_sub(4)).max(1);
    let rows: usize = text
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1))
        .sum();
    let popup = area.centered(
        Constraint::Length(width),
        Constraint::Length((rows as u16 + 2).min(area.height)),
    );
    let block = Block::bordered()
        .border_style(theme.crit)
        .title(Line::styled(format!(" {title} "), theme.crit))
        .title_bottom(keys_line(&keys, width.saturating_sub(4), theme));
    let inner = block.inner(popup);
    let padded = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    // A blank column each side, so the panes' text does not touch the box.
    let margin = Rect {
        x: popup.x.saturating_sub(1).max(area.x),
        width: (popup.width + 2).min(area.width),
        ..popup
    };
    frame.render_widget(Clear, margin);
    frame.render_widget(block, popup);
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), padded);
}

/// "Revert fault …? y/N" or "Revert every fault and block new ones? y/N".
pub fn render_fault_confirm(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let Some(confirm) = &model.faults.confirm else {
        return;
    };
    let parts = match confirm {
        FaultConfirm::Revert { id, kind, target } => {
            let holder = model
                .faults
                .active
                .iter()
                .find(|f| f.id == *id)
                .map_or_else(String::new, |f| format!("held by {}", f.owner));
            (
                "Revert fault",
                format!("Revert fault {id} ({kind} on {target})? y/N"),
                holder,
            )
        }
        FaultConfirm::StopAll => {
            let n = model.faults.active.len();
            (
                "Stop all faults",
                "Revert every fault and block new ones? y/N".to_owned(),
                format!(
                    "{n} active fault{} in the journal, every process's; new faults are refused until R resumes",
                    if n == 1 { "" } else { "s" }
                ),
            )
        }
    };
    confirm_box(frame, area, parts, Context::FaultConfirm, theme);
}
