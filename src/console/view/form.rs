//! The fault form and the path prompt, as modal overlays: one line per
//! field (name, the editable text, units and default), the focused field's
//! help, the validation error in the crit role, the keys in the bottom
//! border from the key table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui_textarea::TextArea;

use crate::console::keymap::{self, Context};
use crate::console::model::Model;
use crate::console::theme::Theme;

use super::status::keys_line;

/// The name column (with the `› ` marker) and the input column.
const NAME: u16 = 13;
const INPUT: u16 = 30;

/// A field's text styled for drawing (the model keeps only text and cursor).
fn styled_input(input: &TextArea<'static>, focused: bool, theme: &Theme) -> TextArea<'static> {
    let mut textarea = input.clone();
    let style = if focused {
        theme.selection
    } else {
        theme.text.add_modifier(Modifier::UNDERLINED)
    };
    textarea.set_style(style);
    textarea.set_cursor_line_style(style);
    textarea.set_placeholder_style(theme.muted);
    textarea.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        style
    });
    textarea
}

/// A centred box of `width` x `rows` inner rows with a title and key footer.
fn popup(
    frame: &mut Frame<'_>,
    area: Rect,
    (width, rows): (u16, u16),
    title: Line<'static>,
    context: Context,
    theme: &Theme,
) -> Rect {
    let width = width.min(area.width);
    let popup = area.centered(
        Constraint::Length(width),
        Constraint::Length((rows + 2).min(area.height)),
    );
    let keys = keymap::bar_full(&[context], |_| true);
    let block = Block::bordered()
        .border_style(theme.focus)
        .title(title)
        .title_bottom(keys_line(&keys, width.saturating_sub(4), theme));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    }
}

/// The fault form.
pub fn render_form(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let Some(form) = &model.faults.form else {
        return;
    };
    let rows = form.fields.len() as u16 + 3;
    let title = Line::from(vec![
        Span::styled(format!(" Apply {} ", form.kind), theme.focus),
        Span::styled(format!("({}) ", form.level), theme.muted),
    ]);
    let width = area.width.saturating_sub(4).min(100);
    let inner = popup(frame, area, (width, rows), title, Context::FaultForm, theme);
    let mut constraints = vec![Constraint::Length(1); form.fields.len()];
    constraints.extend([Constraint::Length(1); 3]);
    let lines = Layout::vertical(constraints).split(inner);
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let [name, input, hint] = Layout::horizontal([
            Constraint::Length(NAME),
            Constraint::Length(INPUT),
            Constraint::Fill(1),
        ])
        .spacing(1)
        .areas(lines[i]);
        let (marker, style) = if focused {
            ("› ", theme.focus)
        } else {
            ("  ", theme.text)
        };
        frame.render_widget(Line::styled(format!("{marker}{}", field.name), style), name);
        frame.render_widget(&styled_input(&field.input, focused, theme), input);
        let hint_style = if field.required && field.value().is_empty() {
            theme.warn
        } else {
            theme.muted
        };
        let text = super::fit(&field.hint, usize::from(hint.width));
        frame.render_widget(Line::styled(text, hint_style), hint);
    }
    let n = form.fields.len();
    if let Some(field) = form.fields.get(form.focus) {
        let help = format!("{}: {}", field.name, field.help);
        let text = super::fit(&help, usize::from(inner.width));
        frame.render_widget(Line::styled(text, theme.muted), lines[n + 1]);
    }
    if let Some(error) = &form.error {
        let text = super::fit(&format!("✗ {error}"), usize::from(inner.width));
        frame.render_widget(Paragraph::new(Line::styled(text, theme.crit)), lines[n + 2]);
    }
}

/// The path prompt.
pub fn render_prompt(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let Some(prompt) = &model.prompt else {
        return;
    };
    let title = Line::styled(format!(" {} ", prompt.purpose.title()), theme.focus);
    let width = area.width.saturating_sub(4).min(72);
    let inner = popup(frame, area, (width, 3), title, Context::Prompt, theme);
    let [input_row, _, error] = Layout::vertical([Constraint::Length(1); 3]).areas(inner);
    let [name, input] =
        Layout::horizontal([Constraint::Length(6), Constraint::Fill(1)]).areas(input_row);
    frame.render_widget(Line::styled("path", theme.focus), name);
    frame.render_widget(&styled_input(&prompt.input, true, theme), input);
    if let Some(e) = &prompt.error {
        let text = super::fit(&format!("✗ {e}"), usize::from(error.width));
        frame.render_widget(Line::styled(text, theme.crit), error);
    }
}
