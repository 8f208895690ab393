//! The timeline under the fault lists: the faults this console applied as
//! bars over the last five minutes (held in the shadow role, reverted
//! muted, a failed revert in crit), and a loaded schedule's events over
//! its horizon (shown, not run).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::console::model::faults::{FaultsPane, SessionFault, SessionState, TIMELINE_SPAN_MS};
use crate::console::theme::Theme;

/// Bars shown per part at most.
const MAX_ROWS: usize = 5;

/// The time the session timeline ends at.
fn now(pane: &FaultsPane) -> u64 {
    let latest = pane.session.iter().map(|f| f.applied_ms).max().unwrap_or(0);
    pane.now_ms.max(latest)
}

/// The session's faults that overlap the window, most recent last.
fn visible(pane: &FaultsPane) -> Vec<&SessionFault> {
    let now = now(pane);
    let start = now.saturating_sub(TIMELINE_SPAN_MS);
    let shown: Vec<&SessionFault> = pane
        .session
        .iter()
        .filter(|f| f.ended_ms.unwrap_or(now) >= start)
        .collect();
    let skip = shown.len().saturating_sub(MAX_ROWS);
    shown.into_iter().skip(skip).collect()
}

/// Rows the timeline wants out of `available`.
pub fn height(pane: &FaultsPane, available: u16) -> u16 {
    let session = visible(pane).len().max(1) + 1;
    let schedule = pane
        .schedule
        .as_ref()
        .map_or(0, |s| s.events.len().clamp(1, MAX_ROWS) + 1);
    ((session + schedule) as u16).min(available / 2)
}

pub fn render(pane: &FaultsPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let session_rows = visible(pane).len().max(1) as u16 + 1;
    let [session, schedule] =
        Layout::vertical([Constraint::Length(session_rows), Constraint::Fill(1)]).areas(area);
    render_session(pane, theme, session, buf);
    render_schedule(pane, theme, schedule, buf);
}

/// The label column's width and the bar's.
fn columns(width: u16) -> (u16, u16) {
    let label = (width / 2).min(40);
    (label, width.saturating_sub(label + 1))
}

/// A heading with axis labels over the bar column.
fn heading(text: &str, from: &str, to: &str, width: u16, theme: &Theme) -> Line<'static> {
    let (label, bar) = columns(width);
    let mut spans = vec![Span::styled(
        format!(
            "{:<w$}",
            super::super::fit(text, usize::from(label)),
            w = usize::from(label) + 1
        ),
        theme.title,
    )];
    let gap = usize::from(bar).saturating_sub(from.chars().count() + to.chars().count());
    if usize::from(bar) > from.len() + to.len() {
        spans.push(Span::styled(
            format!("{from}{}{to}", "·".repeat(gap)),
            theme.muted,
        ));
    }
    Line::from(spans)
}

/// A row: its label and a bar filled over `[from, until)` of `[start, end)`.
fn bar_line(
    label: &str,
    (from, until): (f64, f64),
    (start, end): (f64, f64),
    width: u16,
    style: Style,
    theme: &Theme,
) -> Line<'static> {
    let (label_width, bar) = columns(width);
    let span = (end - start).max(1e-9);
    let cells: String = (0..bar)
        .map(|c| {
            let lo = start + span * f64::from(c) / f64::from(bar);
            let hi = start + span * f64::from(c + 1) / f64::from(bar);
            if from < hi && until > lo { '█' } else { ' ' }
        })
        .collect();
    Line::from(vec![
        Span::styled(
            format!(
                "{:<w$}",
                super::super::fit(label, usize::from(label_width)),
                w = usize::from(label_width) + 1
            ),
            theme.text,
        ),
        Span::styled(cells, style),
    ])
}

fn render_session(pane: &FaultsPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let now = now(pane) as f64;
    let start = now - TIMELINE_SPAN_MS as f64;
    let mut lines = vec![heading(
        " Timeline · this console's faults",
        "-5m",
        "now",
        area.width,
        theme,
    )];
    let faults = visible(pane);
    if faults.is_empty() {
        lines.push(Line::styled(
            "  faults applied from here show as bars (Enter on a kind)",
            theme.muted,
        ));
    }
    for f in faults {
        let style = match f.state {
            SessionState::Active | SessionState::Reverting => theme.shadow,
            SessionState::Reverted => theme.muted,
            SessionState::RevertFailed(_) => theme.crit,
        };
        let until = f.ended_ms.map_or(now, |e| e as f64);
        let label = format!("  {} {} {}", f.id, f.kind, f.target);
        lines.push(bar_line(
            &label,
            (f.applied_ms as f64, until),
            (start, now),
            area.width,
            style,
            theme,
        ));
    }
    Paragraph::new(lines).render(area, buf);
}

fn render_schedule(pane: &FaultsPane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(schedule) = &pane.schedule else {
        return;
    };
    let title = format!(
        " Schedule {} · seed {} · {} events{} · shown, not run",
        schedule.path,
        schedule.seed,
        schedule.events.len(),
        if schedule.cut > 0 {
            format!(", {} cut", schedule.cut)
        } else {
            String::new()
        }
    );
    let end = format!("{:.0}s", schedule.horizon_s);
    let mut lines = vec![heading(&title, "0s", &end, area.width, theme)];
    for e in schedule.events.iter().take(MAX_ROWS) {
        let label = format!("  {:>5.0}s {}", e.at_s, e.label);
        lines.push(bar_line(
            &label,
            (e.at_s, e.until_s),
            (0.0, schedule.horizon_s),
            area.width,
            theme.warn,
            theme,
        ));
    }
    if schedule.events.is_empty() {
        lines.push(Line::styled("  no events within the horizon", theme.muted));
    }
    Paragraph::new(lines).render(area, buf);
}
