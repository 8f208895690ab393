//! The help overlay: every binding of the key table, by context, centred
//! over the screen. Sections keep the table's order and are spread over the
//! fewest columns that fit the screen, balanced by height; each column
//! aligns its own keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::console::keymap::{self, Context};
use crate::console::theme::Theme;

use super::status::keys_line;

/// A section: its title and (keys, description) lines.
type Section = (&'static str, Vec<(String, &'static str)>);

/// A column: the sections `start..end`.
type Column = (usize, usize);

/// Blank columns between two columns of sections.
const GAP: u16 = 3;

pub fn render(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let sections = keymap::help_sections();
    let columns = layout(&sections, area);
    let rendered: Vec<Vec<Line<'static>>> = columns
        .iter()
        .map(|&(start, end)| column_lines(&sections[start..end], theme))
        .collect();
    let widths: Vec<u16> = rendered.iter().map(|c| width_of(c)).collect();
    let inner_width = widths.iter().sum::<u16>() + GAP * (widths.len() as u16).saturating_sub(1);
    let height = rendered.iter().map(Vec::len).max().unwrap_or(0) as u16 + 2;
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
    let mut x = inner.x;
    for (lines, width) in rendered.into_iter().zip(widths) {
        let at = Rect {
            x,
            width: width.min(inner.right().saturating_sub(x)),
            ..inner
        };
        frame.render_widget(Paragraph::new(lines), at);
        x = x.saturating_add(width + GAP).min(inner.right());
    }
}

/// The sections of each column: the fewest columns whose
/// balanced split fits `area`; else the lowest split that is narrow enough;
/// else one column.
fn layout(sections: &[Section], area: Rect) -> Vec<Column> {
    let rows = area.height.saturating_sub(2);
    let mut narrow_enough = None;
    for k in 1..=sections.len() {
        let columns = balanced(sections, k);
        let (width, height) = size(sections, &columns);
        if width + 2 > area.width {
            continue;
        }
        if height <= rows {
            return columns;
        }
        let lower = narrow_enough
            .as_ref()
            .is_none_or(|(h, _): &(u16, _)| height < *h);
        if lower {
            narrow_enough = Some((height, columns));
        }
    }
    narrow_enough.map_or_else(|| vec![(0, sections.len())], |(_, columns)| columns)
}

/// Rows a run of sections takes in one column (a blank line between two).
fn height_of(sections: &[Section]) -> u16 {
    let lines: usize = sections.iter().map(|(_, lines)| lines.len() + 1).sum();
    (lines + sections.len().saturating_sub(1)) as u16
}

/// The split of `sections` into `k` consecutive columns with the lowest
/// tallest column (the table is small: every split is tried).
fn balanced(sections: &[Section], k: usize) -> Vec<Column> {
    fn best(sections: &[Section], start: usize, k: usize) -> Option<(u16, Vec<Column>)> {
        let n = sections.len();
        if k == 1 {
            return (start < n).then(|| (height_of(&sections[start..]), vec![(start, n)]));
        }
        (start + 1..=n.saturating_sub(k - 1))
            .filter_map(|end| {
                let (rest, mut columns) = best(sections, end, k - 1)?;
                let tallest = height_of(&sections[start..end]).max(rest);
                columns.insert(0, (start, end));
                Some((tallest, columns))
            })
            .min_by_key(|(tallest, _)| *tallest)
    }
    best(sections, 0, k.clamp(1, sections.len().max(1)))
        .map_or_else(|| vec![(0, sections.len())], |(_, columns)| columns)
}

/// The inner width and height of a split.
fn size(sections: &[Section], columns: &[Column]) -> (u16, u16) {
    let widths = columns.iter().map(|&(s, e)| column_width(&sections[s..e]));
    let width = widths.sum::<u16>() + GAP * (columns.len() as u16).saturating_sub(1);
    let height = columns
        .iter()
        .map(|&(s, e)| height_of(&sections[s..e]))
        .max()
        .unwrap_or(0);
    (width, height)
}

fn key_width(sections: &[Section]) -> usize {
    sections
        .iter()
        .flat_map(|(_, lines)| lines.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(0)
}

fn column_width(sections: &[Section]) -> u16 {
    let keys = key_width(sections);
    sections
        .iter()
        .flat_map(|(title, lines)| {
            let entries = lines
                .iter()
                .map(move |(_, desc)| 2 + keys + 2 + desc.chars().count());
            std::iter::once(title.chars().count()).chain(entries)
        })
        .max()
        .unwrap_or(0) as u16
}

fn column_lines(sections: &[Section], theme: &Theme) -> Vec<Line<'static>> {
    let keys = key_width(sections);
    let mut out = Vec::new();
    for (i, (title, lines)) in sections.iter().enumerate() {
        if i > 0 {
            out.push(Line::default());
        }
        out.push(Line::styled((*title).to_owned(), theme.title));
        out.extend(lines.iter().map(|(k, desc)| {
            Line::from(vec![
                Span::styled(format!("  {k:<keys$}"), theme.key),
                Span::styled(format!("  {desc}"), theme.text),
            ])
        }));
    }
    out
}

fn width_of(lines: &[Line<'_>]) -> u16 {
    lines.iter().map(Line::width).max().unwrap_or(0) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_spread_over_the_fewest_columns_that_fit() {
        let sections = keymap::help_sections();
        let tall = layout(&sections, Rect::new(0, 0, 200, 200));
        assert_eq!(tall, [(0, sections.len())], "one column when it fits");
        let short = layout(&sections, Rect::new(0, 0, 140, 34));
        assert!(short.len() > 1);
        let (width, height) = size(&sections, &short);
        assert!(width + 2 <= 140 && height <= 32, "{width}x{height}");
        // Every section is placed once, in order.
        let placed: Vec<usize> = short.iter().flat_map(|&(s, e)| s..e).collect();
        assert_eq!(placed, (0..sections.len()).collect::<Vec<_>>());
    }
}
