//! The groups pane: every compose project with its service count and how
//! many containers are ready, coloured by readiness; a group with a shadow
//! gets a second line (`◆ a1b2c3 ready`, `+1` when it has more shadows),
//! shortened as width requires.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{HighlightSpacing, List, ListItem, ListState, StatefulWidget, Widget, Wrap};

use ratatui::text::Text;

use crate::console::model::{Model, Pane, Shadow, shadow_of};
use crate::console::theme::Theme;
use crate::domain::Group;

pub struct GroupsView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &GroupsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (model, theme) = (self.model, self.theme);
        let focused = super::focused(model, Pane::Groups);
        let block = super::pane_block(Line::from(" Groups "), focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(groups) = &model.groups else {
            super::placeholder("listing…", theme).render(inner, buf);
            return;
        };
        if groups.is_empty() {
            super::placeholder("no compose projects", theme)
                .wrap(Wrap { trim: true })
                .render(inner, buf);
            return;
        }
        // Two columns go to the highlight symbol.
        let width = (inner.width as usize).saturating_sub(2);
        let items: Vec<ListItem<'_>> = groups
            .iter()
            .map(|g| {
                let mut text = Text::from(group_line(g, width, theme));
                if let Some(shadow) = shadow_of(&model.shadows, &g.name) {
                    let others = model
                        .shadows
                        .iter()
                        .filter(|s| s.state.group == g.name)
                        .count()
                        - 1;
                    text.push_line(shadow_line(shadow, others, width, theme));
                }
                ListItem::new(text)
            })
            .collect();
        let highlight = if focused {
            theme.selection
        } else {
            theme.title
        };
        let list = List::new(items)
            .highlight_style(highlight)
            .highlight_symbol("› ")
            .highlight_spacing(HighlightSpacing::Always);
        let selected = model.selected_group().map(|_| model.groups_pane.cursor);
        let mut state = ListState::default().with_selected(selected);
        StatefulWidget::render(list, inner, buf, &mut state);
    }
}

/// `shop       3 svc 3/4`: the name left, counts right; the counts shrink to
/// `3/4` when the pane is narrow.
fn group_line<'a>(group: &Group, width: usize, theme: &Theme) -> Line<'a> {
    let (ready, total) = (group.ready_count(), group.container_count());
    let services = format!("{} svc ", group.services.len());
    let counts = format!("{ready}/{total}");
    let mut right = services.len() + counts.len();
    let show_services = width >= right + 6;
    if !show_services {
        right = counts.len();
    }
    let name_width = width.saturating_sub(right + 1);
    let name = super::fit(&group.name, name_width);
    let pad = width.saturating_sub(name.chars().count() + right);
    let mut spans = vec![Span::styled(name, theme.prod), Span::raw(" ".repeat(pad))];
    if show_services {
        spans.push(Span::styled(services, theme.muted));
    }
    spans.push(Span::styled(
        counts,
        super::readiness_style(ready, total, theme),
    ));
    Line::from(spans)
}

/// `  ◆ a1b2c3 ready +1`: the shadow the group shows, in the shadow role,
/// its state (ready, or partial while or after a failed creation), and how
/// many more it has; parts drop right to left as width requires.
fn shadow_line<'a>(shadow: &Shadow, others: usize, width: usize, theme: &Theme) -> Line<'a> {
    let (state, state_style) = if shadow.state.ready {
        ("ready", theme.ok)
    } else {
        ("partial", theme.warn)
    };
    let id = format!("◆ {}", shadow.id());
    let more = if others > 0 {
        format!(" +{others}")
    } else {
        String::new()
    };
    // Indent, state, more: the first that fits.
    let choices = [
        (true, true, true),
        (true, true, false),
        (false, true, false),
        (false, false, false),
    ];
    let fits = |&(indent, with_state, with_more): &(bool, bool, bool)| {
        let len = 2 * usize::from(indent)
            + id.chars().count()
            + if with_state { state.len() + 1 } else { 0 }
            + if with_more { more.len() } else { 0 };
        len <= width
    };
    let Some(&(indent, with_state, with_more)) = choices.iter().find(|c| fits(c)) else {
        return Line::styled("◆", theme.shadow);
    };
    let mut spans = Vec::new();
    if indent {
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(id, theme.shadow));
    if with_state {
        spans.push(Span::styled(format!(" {state}"), state_style));
    }
    if with_more && !more.is_empty() {
        spans.push(Span::styled(more, theme.muted));
    }
    Line::from(spans)
}
