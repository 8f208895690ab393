//! The metrics pane's alerts column: the judges' outcome on one line (the
//! shadow vs production, and vs its own pre-fault baseline once a fault
//! started) with the first reason when one fails, then the kept alerts,
//! open ones first and newest first: severity and series, then how long,
//! the other environment's alert that opened at once (a shared cause,
//! `metrics::coincide`) and the explanation. Times are relative to the newest sample (no clock).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::console::model::watch::WatchPane;
use crate::console::theme::Theme;
use crate::domain::series::{Alert, Severity, Verdict, VerdictOutcome};
use crate::metrics::coincide;

/// Draws the column; `beside`: to the right of the charts (a rule on its
/// left), else below them (a rule above).
pub fn render(pane: &WatchPane, theme: &Theme, area: Rect, beside: bool, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let open = pane.open_alerts();
    let title = Line::from(vec![
        Span::styled("Alerts", theme.title),
        Span::styled(
            format!(" · {open} open · {} kept", pane.alerts.len()),
            if open > 0 { theme.crit } else { theme.muted },
        ),
    ]);
    let block = Block::new()
        .borders(if beside { Borders::LEFT } else { Borders::TOP })
        .border_style(theme.border)
        .title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    let width = usize::from(inner.width);
    let mut lines = judge_lines(pane, theme, width);
    if pane.alerts.is_empty() {
        lines.push(Line::styled("no alerts", theme.muted));
    }
    let ordered = pane
        .alerts
        .iter()
        .filter(|a| a.end_ms.is_none())
        .chain(pane.alerts.iter().filter(|a| a.end_ms.is_some()));
    let pairs = coincide::coincidences(&pane.alerts);
    for alert in ordered {
        if lines.len() >= usize::from(inner.height) {
            break;
        }
        let partner = coincide::partner_of(&pairs, alert.id);
        lines.extend(alert_lines(alert, partner, pane.latest_ms, theme, width));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// `judge vs prod pass 100 · vs baseline FAIL 40` and the first reason
/// of a look that did not pass (a failing metric, or why metrics were left
/// out).
fn judge_lines(pane: &WatchPane, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let Some(v) = &pane.verdicts else {
        return vec![Line::styled(
            super::super::fit("judge: no look yet", width),
            theme.muted,
        )];
    };
    let mut spans = vec![Span::styled("judge vs prod ", theme.muted)];
    spans.push(outcome(Some(&v.vs_production), theme));
    spans.push(Span::styled(" · vs baseline ", theme.muted));
    spans.push(outcome(v.vs_baseline.as_ref(), theme));
    let mut lines = vec![Line::from(spans)];
    let failing = [Some(&v.vs_production), v.vs_baseline.as_ref()]
        .into_iter()
        .flatten()
        .filter(|v| v.outcome != VerdictOutcome::Pass && v.judged())
        .find_map(|v| v.reasons.first());
    if let Some(reason) = failing {
        lines.push(Line::styled(
            super::super::fit(&format!("  {reason}"), width),
            theme.warn,
        ));
    }
    lines
}

/// `pass 100`, `marginal 60`, `FAIL 0`, `gathering`, or `–` (no fault yet).
fn outcome(verdict: Option<&Verdict>, theme: &Theme) -> Span<'static> {
    match verdict {
        None => Span::styled("–", theme.muted),
        Some(v) if !v.judged() => Span::styled("gathering", theme.muted),
        Some(v) => {
            let (word, style) = match v.outcome {
                VerdictOutcome::Pass => ("pass", theme.ok),
                VerdictOutcome::Marginal => ("marginal", theme.warn),
                VerdictOutcome::Fail => ("FAIL", theme.crit),
            };
            Span::styled(format!("{word} {:.0}", v.score), style)
        }
    }
}

/// `● critical shadow/api/latency_p99_ms`, then how long and the
/// explanation; `partner`: the other environment's alert that opened at
/// once (`metrics::coincide`), named at the front of the second line so a
/// narrow pane keeps it.
fn alert_lines(
    alert: &Alert,
    partner: Option<String>,
    now_ms: i64,
    theme: &Theme,
    width: usize,
) -> [Line<'static>; 2] {
    let style = match (alert.end_ms, alert.severity) {
        (Some(_), _) => theme.muted,
        (None, Severity::Critical) => theme.crit,
        (None, Severity::Warning) => theme.warn,
        (None, Severity::Info) => theme.text,
    };
    let when = match alert.end_ms {
        None => format!("open {}", duration(now_ms - alert.start_ms)),
        Some(end) => format!(
            "closed {} ago, lasted {}",
            duration(now_ms - end),
            duration(end - alert.start_ms)
        ),
    };
    let mark = if alert.end_ms.is_none() { "●" } else { "○" };
    let head = format!("{mark} {} {}", alert.severity, alert.series);
    let shared = partner.map_or_else(String::new, |p| format!("shared cause with {p}? · "));
    let explanation = format!("  {shared}{when} · {}", alert.explanation);
    [
        Line::styled(super::super::fit(&head, width), style),
        Line::styled(super::super::fit(&explanation, width), theme.muted),
    ]
}

/// `42 s`, `3m05s`, `1h02m`; negative spans read as `0 s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    }
}
