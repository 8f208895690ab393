//! Drawing: the whole screen from an immutable `&Model` and the theme. No
//! I/O, no locks, no clock: what is drawn is a function of its inputs, which
//! is what the snapshot tests pin.
//!
//! Layout, top to bottom: header (engine, clock), the groups pane and the
//! right pane (the tab shown: services, load, faults or metrics, with the
//! tab strip in its top border), the filter box (while editing or when a
//! filter is set), the status line, the key bar; the help overlay, the
//! shadow plan, a confirmation, the fault form or the path prompt on top
//! when open.
//! Each part lives in its own module under `view/`.

mod confirm;
mod faults;
mod filter;
mod form;
mod groups;
mod header;
mod help;
mod load;
mod metrics;
mod services;
mod shadow;
mod status;
mod tabs;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Dataset, GraphType, Paragraph};

use super::model::{Mode, Model, Pane, Tab};
use super::theme::Theme;

#[cfg(test)]
mod tests;

/// Draws the console.
pub fn draw(frame: &mut Frame<'_>, model: &Model, theme: &Theme) {
    let area = frame.area();
    let filter_rows = u16::from(model.mode == Mode::Filter || !model.filter.text().is_empty());
    let [top, body, filter_area, status_area, keys_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(filter_rows),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [left, right] = Layout::horizontal([
        Constraint::Length(groups_width(area.width)),
        Constraint::Fill(1),
    ])
    .areas(body);

    frame.render_widget(&header::HeaderView { model, theme }, top);
    frame.render_widget(&groups::GroupsView { model, theme }, left);
    match model.tab {
        Tab::Services => frame.render_widget(&services::ServicesView { model, theme }, right),
        Tab::Load => frame.render_widget(&load::LoadView { model, theme }, right),
        Tab::Faults => frame.render_widget(&faults::FaultsView { model, theme }, right),
        Tab::Metrics => frame.render_widget(&metrics::MetricsView { model, theme }, right),
    }
    if filter_rows > 0 {
        filter::render(frame, filter_area, model, theme);
    }
    frame.render_widget(&status::StatusView { model, theme }, status_area);
    frame.render_widget(&status::KeysView { model, theme }, keys_area);
    match model.mode {
        Mode::Help => help::render(frame, area, model.tab, theme),
        Mode::Plan => shadow::render_plan(frame, area, model, theme),
        Mode::Confirm => shadow::render_confirm(frame, area, model, theme),
        Mode::FaultForm => form::render_form(frame, area, model, theme),
        Mode::Prompt => form::render_prompt(frame, area, model, theme),
        Mode::FaultConfirm => confirm::render_fault_confirm(frame, area, model, theme),
        Mode::Normal | Mode::Filter => {}
    }
}

/// The groups pane's width: a quarter of the screen, within 18..=32 columns.
fn groups_width(total: u16) -> u16 {
    (total / 4).clamp(18, 32).min(total)
}

/// A pane's frame: focused panes use the focus role for border and title.
fn pane_block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused { theme.focus } else { theme.border };
    Block::bordered()
        .border_style(border)
        .title(title.style(if focused { theme.focus } else { theme.title }))
}

/// Whether `pane` has the focus (and no overlay hides it).
fn focused(model: &Model, pane: Pane) -> bool {
    model.focus == pane && model.mode == Mode::Normal
}

/// Cuts `text` to `width` columns, marking a cut with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// A paragraph with one muted line: empty states and placeholders.
fn placeholder<'a>(text: &'a str, theme: &Theme) -> Paragraph<'a> {
    Paragraph::new(Line::from(Span::styled(text, theme.muted)))
}

/// A rounded-up top for a chart's y axis: 1, 2, 2.5, 5 or 10 times a power
/// of ten, 1 at the least (the load and metrics charts).
fn chart_top(max: f64) -> f64 {
    if max <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|s| s * magnitude)
        .find(|v| *v >= max)
        .unwrap_or(max)
}

/// A value in a chart's axis or legend: `250`, `12.3`, `0.04` (whole from
/// 100 on, one decimal, two below 1: an error rate).
fn short_number(value: f64) -> String {
    if value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// One series of a chart, drawn as a braille line.
fn chart_line<'a>(name: &'a str, style: Style, data: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

/// The style for a share of capacity: crit from 90 %, warn from 75 %.
fn load_style(percent: f64, theme: &Theme) -> Style {
    if percent >= 90.0 {
        theme.crit
    } else if percent >= 75.0 {
        theme.warn
    } else {
        theme.text
    }
}

/// ok when all are ready, crit when none, warn in between; muted when empty.
fn readiness_style(ready: usize, total: usize, theme: &Theme) -> Style {
    if total == 0 {
        theme.muted
    } else if ready == total {
        theme.ok
    } else if ready == 0 {
        theme.crit
    } else {
        theme.warn
    }
}
