//! The metrics pane: the watch's state line, its last notice (wrapped, a
//! few rows at most), the services (`j`/`k` pick one), and for the
//! selected service five charts stacked — CPU %, memory, p99 latency,
//! error rate, throughput — each with production and the
//! shadow as two lines over the last five minutes (on the p99 chart, while
//! the Load tab drives the shadow, the load engine's own p99 as a dim
//! `client` line: corrected for coordinated omission) and the points the
//! detector flagged (score ≥ 0.5) as markers; beside them (or below, when
//! narrow) the alerts and the judges (`alerts`).
//!
//! CPU and memory are the service's instances summed per second; the
//! request metrics are the entry's service-level series (a service that is
//! not an entry has none, and a line says so). Each chart's title is its
//! legend: the metric, `prod` and `shadow` with their latest values in
//! their styles, and the flagged count. When rows are short, charts give
//! way to one line of latest values each, from the last chart up.

mod alerts;
#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget, Wrap};

use crate::console::model::Model;
use crate::console::model::watch::{
    CHARTED, Reading, WINDOW_MS, WatchPane, WatchState, per_request,
};
use crate::console::theme::Theme;
use crate::domain::series::{Environment, metric};
use crate::watch::points::client;

/// The alerts column's width when beside the charts.
const ALERTS_WIDTH: u16 = 46;
/// The pane is split side by side from this width on.
const SIDE_BY_SIDE: u16 = 110;
/// Rows the last notice may take at most (a fault's warm-up notice, the
/// longest, is four rows of a 180-column console).
const NOTICE_ROWS: u16 = 6;
/// Rows a chart needs: its title and three of plot.
const CHART_ROWS: u16 = 4;
/// The alerts' rows when stacked below the charts.
const ALERTS_ROWS: u16 = 8;

pub struct MetricsView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &MetricsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let pane = &model.watch;
        let block = super::tabs::block(title(model, theme), model, theme, area.width);
        let inner = block.inner(area);
        block.render(area, buf);
        if pane.run.is_none() {
            super::placeholder("no group selected", theme).render(inner, buf);
            return;
        }
        let notice_rows = pane.notice.as_deref().map_or(0, |text| {
            notice_rows(text, indented(inner).width, inner.height)
        });
        let [state, notice, services, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(notice_rows),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        state_line(pane, theme).render(state, buf);
        if let Some(text) = &pane.notice {
            Paragraph::new(text.as_str())
                .style(theme.muted)
                .wrap(Wrap { trim: true })
                .render(indented(notice), buf);
        }
        if pane.watched.is_none() {
            // Nothing followed yet (starting, or failed before).
            return;
        }
        services_line(pane, theme).render(services, buf);
        let (charts, alerts) = if body.width >= SIDE_BY_SIDE {
            let [c, a] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Length(ALERTS_WIDTH)])
                    .spacing(1)
                    .areas(body);
            (c, a)
        } else {
            let rows = ALERTS_ROWS.min(body.height / 3);
            let [c, a] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(rows)]).areas(body);
            (c, a)
        };
        if let Some(service) = pane.selected_service() {
            charts_for(pane, service, theme, charts, buf);
        }
        alerts::render(pane, theme, alerts, body.width >= SIDE_BY_SIDE, buf);
    }
}

/// ` Metrics · shop ⇄ shadow a1b2c3 `, or production alone.
fn title(model: &Model, theme: &Theme) -> Line<'static> {
    let pane = &model.watch;
    let (group, shadow) = match (&pane.watched, &pane.run) {
        (Some(w), _) => (w.group.clone(), w.shadow.clone()),
        (None, Some(r)) => (r.group.clone(), r.shadow.clone()),
        (None, None) => match model.selected_group() {
            Some(g) => (g.name.clone(), None),
            None => return Line::from(" Metrics "),
        },
    };
    let mut spans = vec![Span::raw(" Metrics · "), Span::styled(group, theme.prod)];
    if let Some(id) = shadow {
        spans.push(Span::raw(" ⇄ "));
        spans.push(Span::styled(format!("shadow {id}"), theme.shadow));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// Rows the run's last notice may take, under the state line: what it
/// needs at `width`, at most [`NOTICE_ROWS`] and a sixth of `height`
/// (at least one).
fn notice_rows(text: &str, width: u16, height: u16) -> u16 {
    let width = usize::from(width.max(1));
    let needed = text.chars().count().div_ceil(width);
    let needed = u16::try_from(needed).unwrap_or(u16::MAX);
    needed.min(NOTICE_ROWS).min((height / 6).max(1))
}

/// `area` less its first column (the pane's lines start after a space).
fn indented(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1).min(area.right()),
        width: area.width.saturating_sub(1),
        ..area
    }
}

/// Where the run is, what it follows, the last fault.
fn state_line(pane: &WatchPane, theme: &Theme) -> Line<'static> {
    let Some(run) = &pane.run else {
        return Line::default();
    };
    let (text, style) = match &run.state {
        WatchState::Starting => (
            format!(
                " ◆ finding the containers of {} and its shadow …",
                run.group
            ),
            theme.shadow,
        ),
        WatchState::Watching => {
            let text = match &pane.watched {
                Some(w) => {
                    let beside = w.shadow.as_ref().map_or_else(
                        || "production alone".to_owned(),
                        |s| format!("beside shadow {s}"),
                    );
                    format!(
                        " ◆ watching {} (entry {}) {beside} · last {} min",
                        w.group,
                        w.entries.join(", "),
                        WINDOW_MS / 60_000
                    )
                }
                None => format!(" ◆ watching {}", run.group),
            };
            (text, theme.ok)
        }
        WatchState::Stopped => (
            " ■ the watch stopped · 4 starts it again".to_owned(),
            theme.warn,
        ),
        WatchState::Failed(e) => (
            format!(" ✗ watching {} failed: {e} · 4 retries", run.group),
            theme.crit,
        ),
    };
    let mut spans = vec![Span::styled(text, style)];
    if let Some(f) = &pane.fault {
        spans.push(Span::styled(
            format!(
                " · fault {} on {} {} ago",
                f.kind,
                f.target,
                alerts::duration(pane.latest_ms - f.t_ms)
            ),
            theme.warn,
        ));
    }
    Line::from(spans)
}

/// ` service  gateway  api  store  (j/k)`, the shown one highlighted.
fn services_line(pane: &WatchPane, theme: &Theme) -> Line<'static> {
    let services = pane.services();
    if services.is_empty() {
        return Line::default();
    }
    let shown = pane.selected_service();
    let mut spans = vec![Span::styled(" service ", theme.muted)];
    for s in &services {
        let style = if Some(*s) == shown {
            theme.selection
        } else {
            theme.text
        };
        spans.push(Span::styled(format!(" {s} "), style));
    }
    spans.push(Span::styled("  j/k", theme.muted));
    Line::from(spans)
}

/// How a chart reads its metric.
struct Spec {
    metric: &'static str,
    /// The load engine's view of the same on the shadow, drawn as a third,
    /// dim line when the Load tab drives it.
    client: Option<&'static str>,
    title: &'static str,
    /// Multiplies stored values into the shown unit.
    scale: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

/// One spec per charted metric, in [`CHARTED`]'s order.
const SPECS: [Spec; 5] = [
    Spec {
        metric: metric::CPU_PERCENT,
        client: None,
        title: "CPU %",
        scale: 1.0,
    },
    Spec {
        metric: metric::MEMORY_BYTES,
        client: None,
        title: "Memory MiB",
        scale: 1.0 / MIB,
    },
    Spec {
        metric: metric::LATENCY_P99_MS,
        client: Some(client::LATENCY_P99_MS),
        title: "p99 latency ms",
        scale: 1.0,
    },
    Spec {
        metric: metric::ERROR_RATE,
        client: None,
        title: "Errors %",
        scale: 100.0,
    },
    Spec {
        metric: metric::RPS,
        client: None,
        title: "Throughput /s",
        scale: 1.0,
    },
];

const _: () = assert!(SPECS.len() == CHARTED.len());

/// A chart's data: both sides (and the load engine's view of the shadow,
/// if any) as (seconds before the newest sample, value in the shown
/// unit), and the flagged points of any.
struct Series {
    prod: Vec<(f64, f64)>,
    shadow: Vec<(f64, f64)>,
    client: Vec<(f64, f64)>,
    flagged: Vec<(f64, f64)>,
    prod_last: Option<f64>,
    shadow_last: Option<f64>,
    client_last: Option<f64>,
}

impl Series {
    fn of(pane: &WatchPane, service: &str, spec: &Spec) -> Self {
        let mut flagged = Vec::new();
        let mut side = |env, metric_name: &str| {
            let readings: Vec<Reading> = pane.chart(env, service, metric_name);
            let last = readings.last().map(|r| r.value * spec.scale);
            let points = readings
                .iter()
                .map(|r| {
                    let p = (
                        (r.t_ms - pane.latest_ms) as f64 / 1000.0,
                        r.value * spec.scale,
                    );
                    if r.anomalous() {
                        flagged.push(p);
                    }
                    p
                })
                .collect();
            (points, last)
        };
        let (prod, prod_last) = side(Environment::Prod, spec.metric);
        let (shadow, shadow_last) = side(Environment::Shadow, spec.metric);
        let (client, client_last) = spec
            .client
            .map_or_else(|| (Vec::new(), None), |m| side(Environment::Shadow, m));
        Self {
            prod,
            shadow,
            client,
            flagged,
            prod_last,
            shadow_last,
            client_last,
        }
    }

    fn max(&self) -> f64 {
        self.prod
            .iter()
            .chain(&self.shadow)
            .chain(&self.client)
            .map(|(_, v)| *v)
            .fold(0.0, f64::max)
    }

    /// `CPU %  prod 12.3  shadow 14.1  • 2 flagged`: the legend.
    fn title(&self, spec: &Spec, theme: &Theme) -> Line<'static> {
        let value = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), super::short_number);
        let mut spans = vec![
            Span::styled(spec.title, theme.title),
            Span::styled("  prod ", theme.prod),
            Span::styled(value(self.prod_last), theme.prod),
            Span::styled("  shadow ", theme.shadow),
            Span::styled(value(self.shadow_last), theme.shadow),
        ];
        if self.client_last.is_some() {
            spans.push(Span::styled("  client ", theme.muted));
            spans.push(Span::styled(value(self.client_last), theme.muted));
        }
        if !self.flagged.is_empty() {
            spans.push(Span::styled(
                format!("  • {} flagged", self.flagged.len()),
                theme.crit,
            ));
        }
        Line::from(spans)
    }
}

/// The selected service's charts, as many as the rows allow; the others as
/// one line each.
fn charts_for(pane: &WatchPane, service: &str, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let entry = pane.is_entry(service);
    let specs: Vec<&Spec> = SPECS
        .iter()
        .filter(|s| entry || !per_request(s.metric))
        .collect();
    let note = u16::from(!entry);
    let rows = area.height.saturating_sub(note);
    let total = specs.len() as u16;
    // The most charts such that the rest still get a line each.
    let charts = (0..=total)
        .rev()
        .find(|k| k * CHART_ROWS + (total - k) <= rows)
        .unwrap_or(0);
    let mut constraints: Vec<Constraint> = (0..charts).map(|_| Constraint::Fill(1)).collect();
    constraints.extend((charts..total).map(|_| Constraint::Length(1)));
    constraints.push(Constraint::Length(note));
    let areas = Layout::vertical(constraints).split(area);
    for (i, spec) in specs.iter().enumerate() {
        let Some(&at) = areas.get(i) else { break };
        let series = Series::of(pane, service, spec);
        if i < usize::from(charts) {
            chart(&series, spec, theme, at, buf);
        } else {
            series.title(spec, theme).render(at, buf);
        }
    }
    if let Some(&at) = areas.last().filter(|_| note > 0) {
        Line::styled(
            format!("{service} is not an entry: no request metrics (latency, errors, throughput)"),
            theme.muted,
        )
        .render(at, buf);
    }
}

fn chart(series: &Series, spec: &Spec, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 2 || area.width < 8 {
        series.title(spec, theme).render(area, buf);
        return;
    }
    let top = super::chart_top(series.max());
    let datasets = vec![
        super::chart_line("prod", theme.prod, &series.prod),
        super::chart_line("shadow", theme.shadow, &series.shadow),
        super::chart_line("client", theme.muted, &series.client),
        Dataset::default()
            .name("flagged")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(theme.crit)
            .data(&series.flagged),
    ];
    let window = (WINDOW_MS / 1000) as f64;
    Chart::new(datasets)
        .block(Block::new().title(series.title(spec, theme)))
        .x_axis(Axis::default().bounds([-window, 0.0]))
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .style(theme.muted)
                .labels([Line::from("0"), Line::from(super::short_number(top))]),
        )
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
        .render(area, buf);
}
