//! The load pane: the run's state (starting, running with its progress,
//! stopping, finished with the summary line, failed with one line), the
//! current second's numbers, target vs achieved rate and p50 / p99
//! (corrected) over the kept seconds as two charts, and errors by kind
//! (run totals and the last ten seconds, with a per-second trend). Side by
//! side when the pane is wide, stacked when not.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Paragraph, Sparkline, Widget};

use crate::console::model::Model;
use crate::console::model::load::{LoadPane, LoadRun, LoadSecond, RunState, ms};
use crate::console::theme::Theme;
use crate::traffic::stats::ErrorCounts;

/// Errors are summed over this many recent seconds.
const RECENT: usize = 10;
/// The errors table's width when beside the charts.
const ERRORS_WIDTH: u16 = 34;

pub struct LoadView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &LoadView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let pane = &model.load;
        let title = match &pane.run {
            Some(run) => Line::styled(
                format!(
                    " Load · shadow {} → {} {} ",
                    run.shadow, run.service, run.url
                ),
                theme.shadow.patch(theme.title),
            ),
            None => Line::from(match model.selected_group() {
                Some(g) => format!(" Load · {} ", g.name),
                None => " Load ".to_owned(),
            }),
        };
        let block = super::tabs::block(title, model, theme, area.width);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(run) = &pane.run else {
            idle(model, theme).render(inner, buf);
            return;
        };
        let [state, now, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        state_line(run, pane, theme, state.width).render(state, buf);
        now_line(pane.current(), theme, now.width).render(now, buf);
        if pane.history.is_empty() {
            return;
        }
        let wide = body.width >= 2 * ERRORS_WIDTH + 20;
        let (charts, errors) = if wide {
            let [c, e] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Length(ERRORS_WIDTH)])
                    .spacing(1)
                    .areas(body);
            (c, e)
        } else {
            let [c, e] = Layout::vertical([Constraint::Fill(1), Constraint::Length(7)]).areas(body);
            (c, e)
        };
        let [rate, latency] = if wide && charts.width >= 80 {
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
                .spacing(1)
                .areas(charts)
        } else {
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts)
        };
        rate_chart(pane, theme, rate, buf);
        latency_chart(pane, theme, latency, buf);
        errors_table(pane, theme, errors, buf);
    }
}

/// What to do before the first run.
fn idle<'a>(model: &Model, theme: &Theme) -> Paragraph<'a> {
    let text = match (model.selected_group(), model.entry_point()) {
        (None, _) => "no group selected".to_owned(),
        (Some(g), None) if model.selected_shadow().is_none() => format!(
            "{} has no shadow: s creates one, then L replays traffic on it",
            g.name
        ),
        (Some(_), None) => "the shadow has no entry point to send load to".to_owned(),
        (Some(_), Some((_, service, url))) => format!(
            "L replays {} on {service} {url} · P replays a profile file",
            crate::console::model::load::ProfileSource::Demo.describe()
        ),
    };
    Paragraph::new(Line::styled(text, theme.muted))
}

/// `◆ running the demo day … · 42/120 s · 1234 of 2160 requests`.
fn state_line(run: &LoadRun, pane: &LoadPane, theme: &Theme, width: u16) -> Line<'static> {
    let source = run.source.describe();
    let seconds = pane.current().map_or(0, |s| s.t + 1);
    let (text, style) = match &run.state {
        RunState::Starting => (
            format!("◆ starting {source}: reading it, probing the target …"),
            theme.shadow,
        ),
        RunState::Running {
            requests,
            duration_s,
        } => (
            format!(
                "◆ replaying {source} · {seconds}/{duration_s:.0} s · {} of {requests} requests sent · L stops",
                pane.requests
            ),
            theme.shadow,
        ),
        RunState::Stopping => (format!("◆ stopping {source} …"), theme.shadow),
        RunState::Finished(summary) => {
            let mark = if summary.cancelled { "■" } else { "✓" };
            (
                format!("{mark} {source} {}: {}", summary.ended(), summary.line()),
                if summary.cancelled {
                    theme.warn
                } else {
                    theme.ok
                },
            )
        }
        RunState::Failed(e) => (format!("✗ {source} failed: {e}"), theme.crit),
    };
    Line::styled(super::fit(&format!(" {text}"), usize::from(width)), style)
}

/// The latest second's numbers.
fn now_line(second: Option<&LoadSecond>, theme: &Theme, width: u16) -> Line<'static> {
    let Some(s) = second else {
        return Line::styled(" no second measured yet", theme.muted);
    };
    let mut text = format!(" t {} s · ", s.t);
    if let Some(target) = s.target_rps {
        let _ = write!(text, "target {target:.1}/s · ");
    }
    let _ = write!(
        text,
        "achieved {:.1}/s · p50 {} · p99 {} · max {} · errors {} · late {} · dropped {}",
        s.rps,
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        s.errors.total(),
        s.late,
        s.dropped
    );
    let style = if s.errors.total() > 0 || s.dropped > 0 {
        theme.warn
    } else {
        theme.text
    };
    Line::styled(super::fit(&text, usize::from(width)), style)
}

/// The kept seconds' time span as chart bounds.
fn x_bounds(pane: &LoadPane) -> [f64; 2] {
    let first = pane.history.front().map_or(0, |s| s.t) as f64;
    let last = pane.history.back().map_or(0, |s| s.t) as f64;
    [first, last.max(first + 1.0)]
}

/// A series to draw: its name, style and points.
type NamedSeries<'a> = (&'a str, Style, &'a [(f64, f64)]);

/// A chart of two series with their names in the title.
fn chart<'a>(
    title: &'a str,
    series: [NamedSeries<'a>; 2],
    x: [f64; 2],
    y_max: f64,
    theme: &Theme,
) -> Chart<'a> {
    let mut spans = vec![Span::styled(title, theme.title)];
    for (i, (name, style, _)) in series.iter().enumerate() {
        spans.push(Span::styled(
            if i == 0 { " · " } else { " vs " },
            theme.muted,
        ));
        spans.push(Span::styled(*name, *style));
    }
    let datasets = series
        .into_iter()
        .map(|(name, style, data)| super::chart_line(name, style, data))
        .collect();
    let top = super::chart_top(y_max);
    Chart::new(datasets)
        .block(Block::new().title(Line::from(spans)))
        .x_axis(Axis::default().bounds(x))
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .style(theme.muted)
                .labels([Line::from("0"), Line::from(super::short_number(top))]),
        )
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
}

fn rate_chart(pane: &LoadPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let target: Vec<(f64, f64)> = pane
        .history
        .iter()
        .filter_map(|s| s.target_rps.map(|r| (s.t as f64, r)))
        .collect();
    let achieved: Vec<(f64, f64)> = pane.history.iter().map(|s| (s.t as f64, s.rps)).collect();
    let max = target
        .iter()
        .chain(&achieved)
        .map(|(_, v)| *v)
        .fold(0.0, f64::max);
    let series = [
        ("target", theme.muted, target.as_slice()),
        ("achieved", theme.shadow, achieved.as_slice()),
    ];
    chart("Rate /s", series, x_bounds(pane), max, theme).render(area, buf);
}

fn latency_chart(pane: &LoadPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let p50: Vec<(f64, f64)> = pane.history.iter().map(|s| (s.t as f64, s.p50)).collect();
    let p99: Vec<(f64, f64)> = pane.history.iter().map(|s| (s.t as f64, s.p99)).collect();
    let max = p99.iter().chain(&p50).map(|(_, v)| *v).fold(0.0, f64::max);
    let series = [
        ("p50", theme.text, p50.as_slice()),
        ("p99", theme.warn, p99.as_slice()),
    ];
    chart("Latency ms (corrected)", series, x_bounds(pane), max, theme).render(area, buf);
}

/// Reads one kind's count.
type ErrorCount = fn(&ErrorCounts) -> u64;

/// Errors by kind: run totals, the last seconds, and a per-second trend.
fn errors_table(pane: &LoadPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let recent = pane.errors_last(RECENT);
    let rows: [(&str, ErrorCount); 5] = [
        ("connect", |e| e.connect),
        ("timeout", |e| e.timeout),
        ("4xx", |e| e.client),
        ("5xx", |e| e.server),
        ("io", |e| e.io),
    ];
    let mut lines = vec![Line::styled(
        format!(
            "{:<9}{:>10}{:>13}",
            "Errors",
            "total",
            format!("last {RECENT} s")
        ),
        theme.title,
    )];
    for (name, get) in rows {
        let (total, last) = (get(&pane.totals), get(&recent));
        let style = if last > 0 {
            theme.crit
        } else if total > 0 {
            theme.warn
        } else {
            theme.text
        };
        lines.push(Line::styled(
            format!("{name:<9}{total:>10}{last:>13}"),
            style,
        ));
    }
    let [table, trend] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    Paragraph::new(lines).render(table, buf);
    if trend.height == 0 {
        return;
    }
    let [name, spark] =
        Layout::horizontal([Constraint::Length(9), Constraint::Fill(1)]).areas(trend);
    Line::styled("per s", theme.muted).render(name, buf);
    let width = usize::from(spark.width);
    let skip = pane.history.len().saturating_sub(width);
    let data: Vec<u64> = pane
        .history
        .iter()
        .skip(skip)
        .map(|s| s.errors.total())
        .collect();
    Sparkline::default()
        .data(&data)
        .style(theme.crit)
        .render(spark, buf);
}
