//! The filter box: a `/` prompt and the ratatui-textarea holding the filter
//! text (the textarea is styled from the theme at draw time; the model keeps
//! only its text and cursor).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

use crate::console::model::{Mode, Model};
use crate::console::theme::Theme;

const PROMPT: &str = " filter / ";

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let editing = model.mode == Mode::Filter;
    let hint = if editing { "" } else { " Esc clears " };
    let [prompt, input, hint_area] = Layout::horizontal([
        Constraint::Length(PROMPT.len() as u16),
        Constraint::Fill(1),
        Constraint::Length(hint.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Line::from(Span::styled(PROMPT, theme.key)), prompt);
    let mut textarea = model.filter.input.clone();
    textarea.set_style(theme.text);
    textarea.set_placeholder_style(theme.muted);
    textarea.set_cursor_line_style(theme.text);
    textarea.set_selection_style(theme.selection);
    frame.render_widget(&textarea, input);
    frame.render_widget(Line::from(Span::styled(hint, theme.muted)), hint_area);
}
