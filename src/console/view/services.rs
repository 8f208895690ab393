//! The services pane: for the selected group, a header row per service
//! (replicas running / total, healthy count) and a row per replica (state,
//! health, CPU with a recent trend, memory, network and block I/O rates).
//! Columns that do not fit are dropped right to left, whole. When the group
//! has a shadow, `paired` shows production and shadow side by side (or
//! stacked on narrow terminals) from the cells built here.

mod paired;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Cell, HighlightSpacing, Row as TableRow, StatefulWidget, Table, TableState, Widget,
};

use crate::console::model::{Model, Pane, Row, Samples};
use crate::console::theme::Theme;
use crate::domain::units::{ByteRate, format_bytes};
use crate::domain::{ContainerSummary, Health, RunState, Service};

pub struct ServicesView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Replica,
    Name,
    State,
    Health,
    /// State and health in one (side by side): the health of a running
    /// container that has a check, else its state.
    Status,
    Cpu,
    Trend,
    Memory,
    NetRx,
    NetTx,
    BlkRead,
    BlkWrite,
}

/// A column: what it shows, its title, its width (0: computed).
type Column = (Col, &'static str, u16);

/// The columns by priority (left to right); `width` 0 means computed.
const COLUMNS: [Column; 11] = [
    (Col::Replica, "#", 2),
    (Col::Name, "NAME", 0),
    (Col::State, "STATE", 10),
    (Col::Health, "HEALTH", 10),
    (Col::Cpu, "CPU", 6),
    (Col::Trend, "TREND", 8),
    (Col::Memory, "MEMORY", 17),
    (Col::NetRx, "NET RX", 10),
    (Col::NetTx, "NET TX", 10),
    (Col::BlkRead, "BLK R", 10),
    (Col::BlkWrite, "BLK W", 10),
];

/// The columns of each side when production and shadow are side by side:
/// state and health merged, memory and network before the trend, so that a
/// half pane still shows CPU and memory.
const PAIRED_COLUMNS: [Column; 10] = [
    (Col::Replica, "#", 2),
    (Col::Name, "NAME", 0),
    (Col::Status, "STATE", 10),
    (Col::Cpu, "CPU", 6),
    (Col::Memory, "MEMORY", 17),
    (Col::NetRx, "NET RX", 10),
    (Col::NetTx, "NET TX", 10),
    (Col::Trend, "TREND", 8),
    (Col::BlkRead, "BLK R", 10),
    (Col::BlkWrite, "BLK W", 10),
];

const RIGHT_ALIGNED: [Col; 8] = [
    Col::Replica,
    Col::Cpu,
    Col::Memory,
    Col::NetRx,
    Col::NetTx,
    Col::BlkRead,
    Col::BlkWrite,
    Col::Trend,
];

/// The columns of `all` that fit in `available` cells with one space
/// between them. The name column shrinks (to no less than 4) before it is
/// dropped.
fn fit_columns(all: &[Column], available: u16, name_width: u16) -> Vec<Column> {
    let mut used = 0u16;
    let mut fitted = Vec::new();
    for &(col, title, width) in all {
        let want = if col == Col::Name { name_width } else { width };
        let gap = u16::from(!fitted.is_empty());
        if used + gap + want > available {
            let rest = available.saturating_sub(used + gap);
            if col == Col::Name && rest >= 4 {
                fitted.push((col, title, rest));
            }
            break;
        }
        used += gap + want;
        fitted.push((col, title, want));
    }
    fitted
}

impl Widget for &ServicesView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let focused = super::focused(model, Pane::Services);
        let group = model.selected_group();
        let title = match group {
            Some(g) => Line::from(format!(" Services · {} ", g.name)),
            None => Line::from(" Services "),
        };
        let mut block = super::tabs::block(title, model, theme, area.width);
        let filter = model.filter.text();
        if !filter.is_empty() {
            block = block.title_bottom(Line::styled(format!(" filter: {filter} "), theme.warn));
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if group.is_none() {
            super::placeholder("no group selected", theme).render(inner, buf);
            return;
        }
        if let (Some(pairs), Some(shadow)) = (model.paired_rows(), model.selected_shadow()) {
            if pairs.is_empty() {
                no_match(filter, inner, buf, theme);
            } else {
                let view = paired::Paired {
                    model,
                    shadow,
                    rows: &pairs,
                    theme,
                    focused,
                };
                view.render(inner, buf);
            }
            return;
        }
        let rows = model.service_rows();
        if rows.is_empty() {
            no_match(filter, inner, buf, theme);
            return;
        }
        render_table(model, &rows, inner, buf, theme, focused);
    }
}

fn no_match(filter: &str, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let text = format!("no container matches \"{filter}\"");
    super::placeholder(&text, theme).render(area, buf);
}

/// The name column's width for these names: 4 to 32 columns.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> u16 {
    names
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 32) as u16
}

/// The samples to show for a container: only while it runs.
fn live<'a>(model: &'a Model, c: &ContainerSummary) -> Option<&'a Samples> {
    model
        .samples(&c.id)
        .filter(|_| c.state == RunState::Running)
}

/// The header cells of `columns`.
fn header_cells(columns: &[Column], theme: &Theme) -> Vec<Cell<'static>> {
    columns
        .iter()
        .map(|(col, title, _)| aligned(*col, (*title).to_owned(), theme.title))
        .collect()
}

fn render_table(
    model: &Model,
    rows: &[Row<'_>],
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    focused: bool,
) {
    let name_width = name_width(rows.iter().map(|r| match r {
        Row::Service(s) => s.name.as_str(),
        Row::Container { instance, .. } => instance.container.name.as_str(),
    }));
    // One cell goes to the highlight symbol.
    let columns = fit_columns(&COLUMNS, area.width.saturating_sub(1), name_width);
    let header = TableRow::new(header_cells(&columns, theme));
    let table_rows = rows.iter().map(|row| match row {
        Row::Service(service) => {
            TableRow::new(service_cells(service, theme.title, &columns, theme))
        }
        Row::Container { instance, .. } => {
            let c = &instance.container;
            let replica = Replica {
                number: instance.number,
                name: &c.name,
                name_style: theme.text,
            };
            TableRow::new(container_cells(
                &replica,
                c,
                live(model, c),
                &columns,
                theme,
            ))
        }
    });
    let selected = rows.iter().position(
        |r| matches!(r, Row::Container { index, .. } if *index == model.services_pane.cursor),
    );
    let table = Table::new(
        table_rows,
        columns.iter().map(|(_, _, w)| Constraint::Length(*w)),
    )
    .header(header)
    .column_spacing(1)
    .row_highlight_style(if focused {
        theme.selection
    } else {
        theme.title
    })
    .highlight_symbol("›")
    .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(selected);
    StatefulWidget::render(table, area, buf, &mut state);
}

fn aligned<'a>(col: Col, text: String, style: Style) -> Cell<'a> {
    let line = Line::styled(text, style);
    Cell::from(if RIGHT_ALIGNED.contains(&col) {
        line.right_aligned()
    } else {
        line
    })
}

/// The cells of a service's header row; the name in `name_style`.
fn service_cells(
    service: &Service,
    name_style: Style,
    columns: &[Column],
    theme: &Theme,
) -> Vec<Cell<'static>> {
    let total = service.instances.len();
    let running = service.running();
    let checked = service
        .instances
        .iter()
        .filter(|i| i.container.health != Health::None)
        .count();
    let healthy = service.healthy();
    let cells = columns.iter().map(|(col, _, width)| match col {
        Col::Name => Cell::from(Span::styled(
            super::fit(&service.name, *width as usize),
            name_style,
        )),
        Col::State | Col::Status => Cell::from(Span::styled(
            format!("{running}/{total} up"),
            super::readiness_style(running, total, theme),
        )),
        Col::Health if checked > 0 => Cell::from(Span::styled(
            format!("{healthy} healthy"),
            super::readiness_style(healthy, checked, theme),
        )),
        _ => Cell::from(""),
    });
    cells.collect()
}

/// How a replica row names its container.
struct Replica<'a> {
    number: u32,
    name: &'a str,
    name_style: Style,
}

/// The cells of a replica's row.
fn container_cells(
    replica: &Replica<'_>,
    c: &ContainerSummary,
    samples: Option<&Samples>,
    columns: &[Column],
    theme: &Theme,
) -> Vec<Cell<'static>> {
    let cells = columns.iter().map(|(col, _, width)| {
        let (text, style) = match col {
            Col::Replica => (replica.number.to_string(), theme.muted),
            Col::Name => (
                super::fit(replica.name, *width as usize),
                replica.name_style,
            ),
            Col::Status if c.state == RunState::Running && c.health != Health::None => {
                health_cell(c.health, theme)
            }
            Col::State | Col::Status => (c.state.to_string(), state_style(c.state, theme)),
            Col::Health => health_cell(c.health, theme),
            _ => match samples {
                Some(s) => stat_cell(*col, s, *width, theme),
                None => ("-".to_owned(), theme.muted),
            },
        };
        aligned(*col, text, style)
    });
    cells.collect()
}

/// Empty cells for a side with no such row.
fn blank_cells(columns: &[Column]) -> Vec<Cell<'static>> {
    columns.iter().map(|_| Cell::from("")).collect()
}

fn state_style(state: RunState, theme: &Theme) -> Style {
    match state {
        RunState::Running => theme.ok,
        RunState::Paused | RunState::Restarting | RunState::Created => theme.warn,
        RunState::Exited | RunState::Dead | RunState::Removing => theme.crit,
        RunState::Unknown => theme.muted,
    }
}

fn health_cell(health: Health, theme: &Theme) -> (String, Style) {
    match health {
        Health::None => ("-".to_owned(), theme.muted),
        Health::Healthy => (health.to_string(), theme.ok),
        Health::Starting => (health.to_string(), theme.warn),
        Health::Unhealthy => (health.to_string(), theme.crit),
    }
}

fn stat_cell(col: Col, samples: &Samples, width: u16, theme: &Theme) -> (String, Style) {
    let s = &samples.latest;
    match col {
        Col::Cpu => (
            format!("{:.1}%", s.cpu_percent),
            super::load_style(s.cpu_percent, theme),
        ),
        Col::Trend => (sparkline(&samples.cpu, width as usize), theme.focus),
        Col::Memory if s.mem_limit > 0 => {
            let percent = s.mem_bytes as f64 / s.mem_limit as f64 * 100.0;
            let text = format!(
                "{}/{}",
                format_bytes(s.mem_bytes),
                format_bytes(s.mem_limit)
            );
            (text, super::load_style(percent, theme))
        }
        Col::Memory => (format_bytes(s.mem_bytes), theme.text),
        Col::NetRx => (ByteRate(s.net_rx_bps).to_string(), theme.text),
        Col::NetTx => (ByteRate(s.net_tx_bps).to_string(), theme.text),
        Col::BlkRead => (ByteRate(s.blk_read_bps).to_string(), theme.text),
        Col::BlkWrite => (ByteRate(s.blk_write_bps).to_string(), theme.text),
        Col::Replica | Col::Name | Col::State | Col::Health | Col::Status => {
            (String::new(), theme.text)
        }
    }
}

/// The last `width` values as bars, scaled to the largest (at least 10 %,
/// so an idle container draws flat).
fn sparkline(values: &std::collections::VecDeque<f64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let skip = values.len().saturating_sub(width);
    let max = values.iter().copied().fold(10.0_f64, f64::max);
    values
        .iter()
        .skip(skip)
        .map(|v| {
            let level = (v.max(0.0) / max * 7.0).round() as usize;
            BARS[level.min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_drop_right_to_left_whole() {
        let all = fit_columns(&COLUMNS, 200, 16);
        assert_eq!(all.len(), COLUMNS.len());
        // 2 + 1 + 16 + 1 + 10 + 1 + 10 = 41 cells for four columns.
        let narrow = fit_columns(&COLUMNS, 41, 16);
        let cols: Vec<Col> = narrow.iter().map(|c| c.0).collect();
        assert_eq!(cols, [Col::Replica, Col::Name, Col::State, Col::Health]);
        let used: u16 = narrow.iter().map(|c| c.2).sum::<u16>() + narrow.len() as u16 - 1;
        assert_eq!(used, 41);
        assert_eq!(
            fit_columns(&COLUMNS, 40, 16).len(),
            3,
            "HEALTH is dropped whole"
        );
        let tiny = fit_columns(&COLUMNS, 12, 16);
        assert_eq!(tiny, [(Col::Replica, "#", 2), (Col::Name, "NAME", 9)]);
    }

    #[test]
    fn sparkline_scales_to_the_peak() {
        let values = [0.0, 50.0, 100.0].into_iter().collect();
        assert_eq!(sparkline(&values, 8), "▁▅█");
        assert_eq!(sparkline(&values, 2), "▅█");
        let idle = [1.0, 1.0].into_iter().collect();
        assert_eq!(sparkline(&idle, 8), "▂▂");
    }
}
