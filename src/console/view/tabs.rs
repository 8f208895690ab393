//! The right pane's frame: the tab's own title on the left and the tab
//! strip (`1 Services  2 Load  3 Faults  4 Metrics`, the shown one
//! highlighted, the faults tab marked while faults are stopped) on the
//! right of its top border, shortened or left out when the pane is too
//! narrow.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::console::model::{Model, Pane, Tab};
use crate::console::theme::Theme;

/// The right pane's block for the shown tab.
pub fn block<'a>(title: Line<'a>, model: &Model, theme: &Theme, width: u16) -> Block<'a> {
    let focused = super::focused(model, Pane::Services);
    let room = usize::from(width).saturating_sub(title.width() + 4);
    let block = super::pane_block(title, focused, theme);
    match [strip(model, theme, false), strip(model, theme, true)]
        .into_iter()
        .find(|s| s.width() <= room)
    {
        Some(strip) => block.title(strip.right_aligned()),
        None => block,
    }
}

/// ` 1 Services  2 Load  3 Faults  4 Metrics `, or ` 1 2 3 4 ` when `short`.
fn strip(model: &Model, theme: &Theme, short: bool) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, tab) in Tab::ALL.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(if short { " " } else { "  " }));
        }
        let shown = model.tab == tab;
        let key_style = if shown {
            theme.focus.add_modifier(Modifier::REVERSED)
        } else {
            theme.key
        };
        spans.push(Span::styled(tab.key().to_string(), key_style));
        if !short {
            let style = if shown { theme.focus } else { theme.muted };
            spans.push(Span::styled(format!(" {}", tab.name()), style));
        }
        if tab == Tab::Faults && model.faults.stopped {
            spans.push(Span::styled(
                if short { "!" } else { " STOPPED" },
                theme.crit,
            ));
        }
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}
