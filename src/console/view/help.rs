//! The help overlay: every binding of the key table, by context, centred
//! over the screen. Sections keep the table's order and are spread over the
//! fewest columns that fit the screen, balanced by height; each column
//! aligns its own keys. When all of them do not fit (a classic 80x24
//! terminal), the overlay keeps the sections of where the operator is —
//! the global keys, the groups pane, the filter, the current tab's keys and
//! its dialogs — and its bottom line says how many others a larger
//! terminal shows.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::console::keymap::{self, Context};
use crate::console::model::Tab;
use crate::console::theme::Theme;

use super::status::keys_line;

/// A section: its title and (keys, description) lines.
type Section = (&'static str, Vec<(String, &'static str)>);

/// A column: the sections `start..end`.
type Column = (usize, usize);

/// Blank columns between two columns of sections.
const GAP: u16 = 3;

/// Whether a context's keys matter on `tab`; `dialogs`: also the keys of
/// its modal dialogs (which show their own keys while open).
fn concerns(context: Context, tab: Tab, dialogs: bool) -> bool {
    match context {
        Context::Global | Context::Groups | Context::Filter => true,
        Context::Load => tab == Tab::Load,
        Context::Faults => tab == Tab::Faults,
        Context::Help => dialogs,
        Context::Plan | Context::Confirm => dialogs && tab == Tab::Services,
        Context::FaultForm | Context::FaultConfirm => dialogs && tab == Tab::Faults,
        Context::Prompt => dialogs && matches!(tab, Tab::Load | Tab::Faults),
    }
}

/// What the overlay shows on `area`: the sections, their columns, and how
/// many sections were left out. Every section whole if that fits; else
/// the sections that concern `tab` (whole, then flowed over columns, then
/// without the dialogs' keys).
fn arrange(area: Rect, tab: Tab) -> (Vec<Section>, Vec<Column>, usize) {
    let all = keymap::help_sections();
    let total = all.len();
    let columns = layout(&all, area);
    if fits(&all, &columns, area) {
        return (all, columns, 0);
    }
    let mut last = None;
    for dialogs in [true, false] {
        let kept: Vec<Section> = Context::ALL
            .iter()
            .zip(&all)
            .filter(|(context, _)| concerns(**context, tab, dialogs))
            .map(|(_, section)| section.clone())
            .collect();
        let left_out = total - kept.len();
        let columns = layout(&kept, area);
        if fits(&kept, &columns, area) {
            return (kept, columns, left_out);
        }
        let (flowed, columns) = flow(&kept, area.height.saturating_sub(2));
        if fits(&flowed, &columns, area) {
            return (flowed, columns, left_out);
        }
        last = Some((flowed, columns, left_out));
    }
    last.unwrap_or_else(|| (Vec::new(), Vec::new(), total))
}

/// Whether `columns` of `sections` fit `area` whole.
fn fits(sections: &[Section], columns: &[Column], area: Rect) -> bool {
    let (width, height) = size(sections, columns);
    width + 2 <= area.width && height + 2 <= area.height
}

/// Sections poured into columns of `rows`, a section that does not fit
/// continuing (under its title again) in the next column.
fn flow(sections: &[Section], rows: u16) -> (Vec<Section>, Vec<Column>) {
    let rows = usize::from(rows);
    let mut out: Vec<Section> = Vec::new();
    let mut columns = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (title, lines) in sections {
        let mut rest = lines.as_slice();
        loop {
            let gap = usize::from(used > 0);
            let room = rows.saturating_sub(used + gap + 1);
            if used > 0 && room < rest.len().clamp(1, 2) {
                columns.push((start, out.len()));
                start = out.len();
                used = 0;
                continue;
            }
            let take = rest.len().min(room.max(1));
            out.push((*title, rest[..take].to_vec()));
            used += gap + 1 + take;
            rest = &rest[take..];
            if rest.is_empty() {
                break;
            }
            columns.push((start, out.len()));
            start = out.len();
            used = 0;
        }
    }
    if out.len() > start {
        columns.push((start, out.len()));
    }
    (out, columns)
}

pub fn render(frame: &mut Frame<'_>, area: Rect, tab: Tab, theme: &Theme) {
    let (sections, columns, left_out) = arrange(area, tab);
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
    let mut block = Block::bordered()
        .border_style(theme.focus)
        .title(Line::styled(" Keys ", theme.focus))
        .title_bottom(close);
    if left_out > 0 {
        block = block.title_bottom(
            Line::styled(
                format!(" {left_out} more sections on a larger terminal "),
                theme.text,
            )
            .right_aligned(),
        );
    }
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

    #[test]
    fn a_small_terminal_shows_every_key_of_the_current_tab_without_clipping() {
        let all = keymap::help_sections();
        let lines_of = |sections: &[Section], title: &str| -> usize {
            sections
                .iter()
                .filter(|(t, _)| *t == title)
                .map(|(_, l)| l.len())
                .sum()
        };
        for area in [Rect::new(0, 0, 80, 24), Rect::new(0, 0, 100, 26)] {
            for tab in [Tab::Services, Tab::Load, Tab::Faults, Tab::Metrics] {
                let (sections, columns, left_out) = arrange(area, tab);
                assert!(left_out > 0, "{tab:?} at {area:?}");
                assert!(fits(&sections, &columns, area), "{tab:?} at {area:?}");
                let placed: Vec<usize> = columns.iter().flat_map(|&(s, e)| s..e).collect();
                assert_eq!(placed, (0..sections.len()).collect::<Vec<_>>());
                let mut own = vec![Context::Global, Context::Groups, Context::Filter];
                own.extend(match tab {
                    Tab::Load => Some(Context::Load),
                    Tab::Faults => Some(Context::Faults),
                    Tab::Services | Tab::Metrics => None,
                });
                for context in own {
                    let title = context.title();
                    let expected = lines_of(&all, title);
                    assert_eq!(lines_of(&sections, title), expected, "{tab:?} {title}");
                }
            }
        }
        let (whole, _, left_out) = arrange(Rect::new(0, 0, 200, 200), Tab::Load);
        assert_eq!((whole.len(), left_out), (all.len(), 0));
    }

    #[test]
    fn flowing_continues_a_tall_section_in_the_next_column() {
        let tall: Section = ("Tall", (0..10).map(|i| (i.to_string(), "x")).collect());
        let short: Section = ("Short", vec![("a".to_owned(), "y")]);
        let (out, columns) = flow(&[tall, short], 6);
        // 5 lines under the title per column of 6 rows, then the short one.
        assert_eq!(columns, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(out[0].1.len(), 5);
        assert_eq!((out[1].0, out[1].1.len()), ("Tall", 5));
        assert_eq!(out[2].0, "Short");
        assert!(columns.iter().all(|&(s, e)| height_of(&out[s..e]) <= 6));
    }
}
