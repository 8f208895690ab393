//! Production and its shadow in the services pane. Side by side when each
//! half holds at least the replica, name and state columns: a "Production"
//! and a "Shadow a1b2c3 · gateway http://…" title over one table whose rows
//! align the two sides by service and replica (a side without the row shows
//! empty cells), with each side's columns dropped right to left as the
//! pane narrows (`PAIRED_COLUMNS`). Narrower, stacked: the production rows,
//! then the shadow rows, each under its title, with the usual columns.
//! Production names use the `prod` role, shadow names the `shadow` role;
//! shadow containers are named without the `<group>-shadow-<id>-` prefix,
//! which the title carries.
//!
//! The cursor moves over replica pairs: side by side it highlights the
//! line, stacked it highlights the pair's row on both sides.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Cell, HighlightSpacing, Row as TableRow, StatefulWidget, Table, TableState, Widget,
};

use crate::console::model::{Model, PairRow, Shadow};
use crate::console::theme::Theme;
use crate::domain::{Instance, Service};

use super::{
    COLUMNS, Column, PAIRED_COLUMNS, Replica, blank_cells, container_cells, fit_columns,
    header_cells, live, service_cells,
};

/// The selected group's rows beside its shadow's.
pub struct Paired<'a> {
    pub model: &'a Model,
    pub shadow: &'a Shadow,
    pub rows: &'a [PairRow<'a>],
    pub theme: &'a Theme,
    pub focused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Prod,
    Shadow,
}

impl Side {
    fn pick<T>(self, prod: Option<T>, shadow: Option<T>) -> Option<T> {
        match self {
            Self::Prod => prod,
            Self::Shadow => shadow,
        }
    }
}

impl Paired<'_> {
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let name_width = super::name_width(self.names());
        // One column for the highlight symbol, three for " │ ".
        let half = area.width.saturating_sub(4) / 2;
        let columns = fit_columns(&PAIRED_COLUMNS, half, name_width);
        if columns.len() >= 3 {
            self.side_by_side(&columns, area, buf);
        } else {
            let columns = fit_columns(&COLUMNS, area.width.saturating_sub(1), name_width);
            self.stacked(&columns, area, buf);
        }
    }

    /// Every name the name column shows.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().flat_map(move |row| match row {
            PairRow::Service { name, .. } => vec![*name],
            PairRow::Replica { prod, shadow, .. } => {
                let prod = prod.map(|i| i.container.name.as_str());
                let shadow = shadow.map(|i| self.shadow.short_name(&i.container.name));
                prod.into_iter().chain(shadow).collect()
            }
        })
    }

    fn name_style(&self, side: Side) -> Style {
        match side {
            Side::Prod => self.theme.prod,
            Side::Shadow => self.theme.shadow,
        }
    }

    /// "Production" / "Shadow a1b2c3 · gateway http://127.0.0.1:40000" in
    /// `width` columns: without the service names, then without the URLs,
    /// before anything is cut.
    fn title(&self, side: Side, width: usize) -> (String, Style) {
        let theme = self.theme;
        match side {
            Side::Prod => (
                super::super::fit("Production", width),
                theme.prod.patch(theme.title),
            ),
            Side::Shadow => {
                let state = &self.shadow.state;
                let mut name = format!("Shadow {}", state.id);
                if !state.ready {
                    name.push_str(" (partial)");
                }
                let urls: Vec<&str> = state.entry.values().map(String::as_str).collect();
                let candidates = [
                    format!("{name} · {}", self.shadow.entry_text()),
                    format!("{name} · {}", urls.join(" · ")),
                ];
                let text = candidates
                    .into_iter()
                    .filter(|_| !urls.is_empty())
                    .find(|t| t.chars().count() <= width)
                    .unwrap_or_else(|| super::super::fit(&name, width));
                (text, theme.shadow.patch(theme.title))
            }
        }
    }

    fn highlight(&self) -> Style {
        if self.focused {
            self.theme.selection
        } else {
            self.theme.title
        }
    }

    fn table<'r>(
        &self,
        rows: Vec<TableRow<'r>>,
        widths: Vec<u16>,
        header: TableRow<'r>,
    ) -> Table<'r> {
        Table::new(rows, widths.into_iter().map(Constraint::Length))
            .header(header)
            .column_spacing(1)
            .row_highlight_style(self.highlight())
            .highlight_symbol("›")
            .highlight_spacing(HighlightSpacing::Always)
    }

    /// One side's cells of a row (empty when the side lacks it).
    fn cells(
        &self,
        side: Side,
        row: &PairRow<'_>,
        columns: &[Column],
    ) -> Option<Vec<Cell<'static>>> {
        let theme = self.theme;
        let style = self.name_style(side);
        match row {
            PairRow::Service { prod, shadow, .. } => {
                let service: &Service = side.pick(*prod, *shadow)?;
                Some(service_cells(
                    service,
                    style.patch(theme.title),
                    columns,
                    theme,
                ))
            }
            PairRow::Replica {
                number,
                prod,
                shadow,
                ..
            } => {
                let instance: &Instance = side.pick(*prod, *shadow)?;
                let c = &instance.container;
                let name = match side {
                    Side::Prod => c.name.as_str(),
                    Side::Shadow => self.shadow.short_name(&c.name),
                };
                let replica = Replica {
                    number: *number,
                    name,
                    name_style: style,
                };
                Some(container_cells(
                    &replica,
                    c,
                    live(self.model, c),
                    columns,
                    theme,
                ))
            }
        }
    }

    fn selected(&self) -> Option<usize> {
        let cursor = self.model.services_pane.cursor;
        self.rows
            .iter()
            .position(|r| matches!(r, PairRow::Replica { index, .. } if *index == cursor))
    }

    fn side_by_side(&self, columns: &[Column], area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let side = columns.iter().map(|c| c.2).sum::<u16>() + columns.len() as u16 - 1;
        let [titles, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let separator = || Cell::from(Span::styled("│", theme.border));
        for (side_of, x) in [
            (Side::Prod, titles.x + 1),
            (Side::Shadow, titles.x + side + 4),
        ] {
            let width = side.min(titles.right().saturating_sub(x));
            let (text, style) = self.title(side_of, width as usize);
            let at = Rect { x, width, ..titles };
            Line::styled(text, style).render(at, buf);
        }
        let sep_x = titles.x + side + 2;
        if sep_x < titles.right() {
            Span::styled("│", theme.border).render(
                Rect {
                    x: sep_x,
                    width: 1,
                    ..titles
                },
                buf,
            );
        }
        let mut header = header_cells(columns, theme);
        header.push(separator());
        header.extend(header_cells(columns, theme));
        let rows: Vec<TableRow<'_>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = self
                    .cells(Side::Prod, row, columns)
                    .unwrap_or_else(|| blank_cells(columns));
                cells.push(separator());
                cells.extend(
                    self.cells(Side::Shadow, row, columns)
                        .unwrap_or_else(|| blank_cells(columns)),
                );
                TableRow::new(cells)
            })
            .collect();
        let widths: Vec<u16> = columns
            .iter()
            .map(|c| c.2)
            .chain([1])
            .chain(columns.iter().map(|c| c.2))
            .collect();
        let table = self.table(rows, widths, TableRow::new(header));
        let mut state = TableState::default().with_selected(self.selected());
        StatefulWidget::render(table, body, buf, &mut state);
    }

    fn stacked(&self, columns: &[Column], area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let cursor = self.model.services_pane.cursor;
        let mut rows: Vec<TableRow<'_>> = Vec::new();
        let mut titles = Vec::new();
        let mut picked = Vec::new();
        let title_width = usize::from(area.width.saturating_sub(1));
        for side in [Side::Prod, Side::Shadow] {
            titles.push((rows.len(), self.title(side, title_width)));
            rows.push(TableRow::new(blank_cells(columns)));
            for row in self.rows {
                if let Some(cells) = self.cells(side, row, columns) {
                    if matches!(row, PairRow::Replica { index, .. } if *index == cursor) {
                        picked.push(rows.len());
                    }
                    rows.push(TableRow::new(cells));
                }
            }
        }
        // The table highlights the first; the other side's twin is styled alike.
        if let Some(&twin) = picked.get(1) {
            let row = std::mem::take(&mut rows[twin]);
            rows[twin] = row.style(self.highlight());
        }
        let widths = columns.iter().map(|c| c.2).collect();
        let table = self.table(rows, widths, TableRow::new(header_cells(columns, theme)));
        let mut state = TableState::default().with_selected(picked.first().copied());
        StatefulWidget::render(table, area, buf, &mut state);
        // Titles over their (blank) rows, where visible.
        let visible = usize::from(area.height.saturating_sub(1));
        for (index, (text, style)) in titles {
            let Some(offset) = index.checked_sub(state.offset()).filter(|o| *o < visible) else {
                continue;
            };
            let at = Rect {
                x: area.x + 1,
                y: area.y + 1 + offset as u16,
                width: area.width.saturating_sub(1),
                height: 1,
            };
            Line::styled(text, style).render(at, buf);
        }
    }
}
