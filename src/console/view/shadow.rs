//! The shadow overlays: the plan waiting for confirmation (its text as
//! `shadow plan` prints it, wrapped and scrolled as the model says, refusals
//! in the crit role and a refused plan marked as such, the footer from the
//! key table) and the teardown confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect, Size};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::console::keymap::{self, Action, Context};
use crate::console::model::{Model, PlanOverlay};
use crate::console::theme::Theme;

use super::status::keys_line;

/// The plan overlay, centred in the rows between the header and the status
/// line.
pub fn render_plan(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let Some(overlay) = &model.plan else {
        return;
    };
    let screen = Size::new(area.width, area.height);
    let outer = overlay.outer(screen);
    let (above, below) = PlanOverlay::rows_around();
    let free = Rect {
        y: area.y + above.min(area.height),
        height: area.height.saturating_sub(above + below),
        ..area
    };
    let popup = free.centered(
        Constraint::Length(outer.width.min(free.width)),
        Constraint::Length(outer.height.min(free.height)),
    );
    let plan = &overlay.plan;
    let refused = plan.is_refused();
    let mut title = vec![Span::styled(
        format!(" Shadow plan · {} of {} ", plan.id, plan.group),
        theme.shadow.patch(theme.title),
    )];
    if refused {
        title.push(Span::styled("REFUSED: cannot be applied ", theme.crit));
    }
    let keys = keymap::bar_full(&[Context::Plan], |a| !(refused && a == Action::Confirm));
    let mut block = Block::bordered()
        .border_style(theme.shadow)
        .title(Line::from(title))
        .title_bottom(keys_line(&keys, popup.width.saturating_sub(16), theme));
    let inner = block.inner(popup);
    let visible = usize::from(inner.height);
    let shown: Vec<&String> = overlay
        .lines
        .iter()
        .skip(overlay.scroll)
        .take(visible)
        .collect();
    if overlay.lines.len() > visible {
        let last = overlay.scroll + shown.len();
        let position = format!(" {}–{last}/{} ", overlay.scroll + 1, overlay.lines.len());
        block = block.title_bottom(Line::styled(position, theme.muted).right_aligned());
    }
    let styles = line_styles(&overlay.lines, theme);
    let lines: Vec<Line<'_>> = shown
        .iter()
        .zip(styles.iter().skip(overlay.scroll))
        .map(|(text, style)| Line::styled(format!(" {text}"), *style))
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The style of each line of the plan: headings in the title role, the
/// refusals in crit, warnings and a missing host rule in warn.
fn line_styles(lines: &[String], theme: &Theme) -> Vec<Style> {
    let mut section = Style::default();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let heading = !line.is_empty() && !line.starts_with(' ');
        if heading {
            section = if line.starts_with("Refused") {
                theme.crit
            } else if line.starts_with("Warnings") {
                theme.warn
            } else {
                theme.text
            };
            out.push(theme.title.patch(section));
        } else if line.contains("NOT ISOLATED") {
            out.push(theme.warn);
        } else {
            out.push(theme.text.patch(section));
        }
    }
    out
}

/// "Remove shadow a1b2c3 of shop and everything it created? y/N".
pub fn render_confirm(frame: &mut Frame<'_>, area: Rect, model: &Model, theme: &Theme) {
    let Some(teardown) = &model.teardown else {
        return;
    };
    let question = format!(
        "Remove shadow {} of {} and everything it created? y/N",
        teardown.id, teardown.group
    );
    let detail = model
        .shadows
        .iter()
        .find(|s| s.id() == teardown.id)
        .map(|s| {
            format!(
                "{} containers ({} running), its networks and volumes",
                s.state.containers, s.state.running
            )
        })
        .unwrap_or_default();
    super::confirm::confirm_box(
        frame,
        area,
        ("Remove shadow", question, detail),
        Context::Confirm,
        theme,
    );
}
