//! The help overlay: every binding of the key table, by context, in one or
//! two columns, centred over the screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::console::keymap::{self, Context};
use crate::console::theme::Theme;

use super::status::keys_line;

pub fn render(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let sections = keymap::help_sections();
    let key_width = sections
        .iter()
        .flat_map(|(_, lines)| lines.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(0);
    let rendered: Vec<Vec<Line<'static>>> = sections
        .iter()
        .map(|(title, lines)| section(title, lines, key_width, theme))
        .collect();
    let widths: Vec<u16> = rendered.iter().map(|s| width_of(s)).collect();
    let first_width = widths.first().copied().unwrap_or(0);
    let rest_width = widths.iter().skip(1).copied().max().unwrap_or(0);
    let two_columns = first_width + rest_width + 3 + 2 <= area.width;

    let (left, right) = if two_columns {
        let mut rest = Vec::new();
        for (i, s) in rendered.iter().skip(1).enumerate() {
            if i > 0 {
                rest.push(Line::default());
            }
            rest.extend(s.iter().cloned());
        }
        (rendered.first().cloned().unwrap_or_default(), rest)
    } else {
        let mut all = Vec::new();
        for (i, s) in rendered.iter().enumerate() {
            if i > 0 {
                all.push(Line::default());
            }
            all.extend(s.iter().cloned());
        }
        (all, Vec::new())
    };
    let inner_width = if two_columns {
        first_width + 3 + rest_width
    } else {
        widths.iter().copied().max().unwrap_or(0)
    };
    let height = left.len().max(right.len()) as u16 + 2;
    let popup = area.centered(
        Constraint::Length((inner_width + 2).min(area.width)),
        Constraint::Length(height.min(area.height)),
    );
    let close = keys_line(
        &keymap::bar(&[Context::Help]),
        popup.width.saturating_sub(4),
        theme,
    );
    let block = Block::bordered()
        .border_style(theme.focus)
        .title(Line::styled(" Keys ", theme.focus))
        .title_bottom(close);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let [l, _, r] = Layout::horizontal([
        Constraint::Length(if two_columns {
            first_width
        } else {
            inner.width
        }),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(left), l);
    if two_columns {
        frame.render_widget(Paragraph::new(right), r);
    }
}

fn section(
    title: &str,
    lines: &[(String, &'static str)],
    key_width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(title.to_owned(), theme.title)];
    out.extend(lines.iter().map(|(keys, desc)| {
        Line::from(vec![
            Span::styled(format!("  {keys:<key_width$}"), theme.key),
            Span::styled(format!("  {desc}"), theme.text),
        ])
    }));
    out
}

fn width_of(lines: &[Line<'_>]) -> u16 {
    lines.iter().map(Line::width).max().unwrap_or(0) as u16
}
