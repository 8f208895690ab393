//! The faults pane: the global stop as a banner while it is in force, the
//! catalog (kind, level, a line of help) beside the active faults of the
//! journal (id, kind, target, remaining TTL, status, holder), and below
//! them the timeline (`timeline`). The list Tab moved the cursor to is
//! highlighted; side by side when the pane is wide, stacked when not.

mod timeline;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Cell, HighlightSpacing, Paragraph, Row, StatefulWidget, Table, TableState, Widget,
};

use crate::console::model::faults::{
    ActiveFault, CATALOG, FaultsPane, Section, remaining, status_name,
};
use crate::console::model::{Model, Pane};
use crate::console::theme::Theme;
use crate::fault::journal::Status;

pub struct FaultsView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &FaultsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let pane = &model.faults;
        let title = match model.selected_shadow() {
            Some(s) => Line::styled(
                format!(" Faults · shadow {} ", s.id()),
                theme.shadow.patch(theme.title),
            ),
            None => Line::from(" Faults "),
        };
        let block = super::tabs::block(title, model, theme, area.width);
        let inner = block.inner(area);
        block.render(area, buf);
        let banner = u16::from(pane.stopped);
        let timeline_rows = timeline::height(pane, inner.height);
        let [stop, lists, time] = Layout::vertical([
            Constraint::Length(banner),
            Constraint::Fill(1),
            Constraint::Length(timeline_rows),
        ])
        .areas(inner);
        if pane.stopped {
            stopped_banner(theme, stop.width).render(stop, buf);
        }
        let focused = super::focused(model, Pane::Services);
        let [catalog, active] = if lists.width >= 100 {
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .spacing(1)
                .areas(lists)
        } else {
            Layout::vertical([Constraint::Fill(3), Constraint::Fill(2)]).areas(lists)
        };
        let on = |section| focused && pane.section == section;
        catalog_table(pane, theme, on(Section::Catalog), catalog, buf);
        active_table(pane, theme, on(Section::Active), active, buf);
        timeline::render(pane, theme, time, buf);
    }
}

/// ` ■ STOPPED · every fault was reverted; new ones are refused · R resumes `.
fn stopped_banner(theme: &Theme, width: u16) -> Line<'static> {
    let text = " ■ STOPPED · every fault was reverted and new ones are refused · R resumes";
    let style = theme.crit.add_modifier(Modifier::REVERSED);
    let padded = format!("{:<width$}", text, width = usize::from(width));
    Line::styled(super::fit(&padded, usize::from(width)), style)
}

/// A list's heading: the focus role when its list has the cursor.
fn heading(text: String, on: bool, theme: &Theme) -> Line<'static> {
    let style = if on { theme.focus } else { theme.title };
    Line::styled(text, style)
}

fn selection(on: bool, theme: &Theme) -> Style {
    if on {
        theme.selection
    } else {
        Style::default()
    }
}

fn catalog_table(pane: &FaultsPane, theme: &Theme, on: bool, area: Rect, buf: &mut Buffer) {
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let hint = if on { " · Enter applies" } else { "" };
    heading(
        format!(" Catalog ({} kinds){hint}", CATALOG.len()),
        on,
        theme,
    )
    .render(head, buf);
    let help_width = usize::from(area.width.saturating_sub(2 + 16 + 9 + 2));
    let rows = CATALOG.iter().map(|e| {
        Row::new([
            Cell::from(e.name).style(theme.text),
            Cell::from(e.level).style(theme.muted),
            Cell::from(super::fit(&e.help, help_width)).style(theme.muted),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["KIND", "LEVEL", "WHAT IT DOES"]).style(theme.title))
    .row_highlight_style(selection(on, theme))
    .highlight_symbol("› ")
    .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(pane.catalog_cursor));
    StatefulWidget::render(table, body, buf, &mut state);
}

fn status_style(f: &ActiveFault, theme: &Theme) -> Style {
    match f.status {
        Status::Active => theme.warn,
        Status::Applying => theme.shadow,
        Status::Failed | Status::RevertFailed => theme.crit,
        Status::Reverted => theme.muted,
    }
}

fn active_table(pane: &FaultsPane, theme: &Theme, on: bool, area: Rect, buf: &mut Buffer) {
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let hint = if on && !pane.active.is_empty() {
        " · x reverts"
    } else {
        ""
    };
    let text = format!(
        " Active faults ({}, every process){hint}",
        pane.active.len()
    );
    heading(text, on, theme).render(head, buf);
    if pane.active.is_empty() {
        Paragraph::new(Line::styled("  no active faults", theme.muted)).render(body, buf);
        return;
    }
    let rows = pane.active.iter().map(|f| {
        let left = remaining(f.expires_ms, pane.now_ms);
        let holder_style = if f.mine { theme.shadow } else { theme.muted };
        Row::new([
            Cell::from(f.id.clone()).style(theme.text),
            Cell::from(f.kind.clone()).style(theme.text),
            Cell::from(f.target.clone()).style(theme.text),
            Cell::from(Line::from(left).right_aligned()).style(theme.text),
            Cell::from(status_name(f.status)).style(status_style(f, theme)),
            Cell::from(Span::styled(f.owner.clone(), holder_style)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(14),
            Constraint::Fill(2),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new([
            Cell::from("ID"),
            Cell::from("KIND"),
            Cell::from("TARGET"),
            Cell::from(Line::from("LEFT").right_aligned()),
            Cell::from("STATUS"),
            Cell::from("HOLDER"),
        ])
        .style(theme.title),
    )
    .row_highlight_style(selection(on, theme))
    .highlight_symbol("› ")
    .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(pane.active_cursor));
    StatefulWidget::render(table, body, buf, &mut state);
}
