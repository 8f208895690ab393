//! The header line: the product, the engine (endpoint, version, API), the
//! host (CPU, memory, load) when it fits, and the clock text the tick
//! injected.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::console::model::Model;
use crate::console::theme::Theme;

pub struct HeaderView<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl Widget for &HeaderView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        buf.set_style(area, theme.header);
        let engine = match &self.model.engine {
            Some(e) => format!(
                "{} · Docker {} · API {}",
                e.endpoint, e.version, e.api_version
            ),
            None => "connecting to the engine…".to_owned(),
        };
        // The host goes next to the clock only when 40 columns are left
        // for the title and the engine.
        let bare_clock = format!("{} ", self.model.clock);
        let clock = match self.model.host {
            Some(h) => {
                let with_host = format!("host {} · {bare_clock}", h.summary());
                if usize::from(area.width) >= with_host.chars().count() + 40 {
                    with_host
                } else {
                    bare_clock
                }
            }
            None => bare_clock,
        };
        let clock_width = clock.chars().count() as u16;
        let left_width = area.width.saturating_sub(clock_width + 1);
        let title = Span::styled(" understudy ", theme.header.patch(theme.title));
        let rest = super::fit(&engine, (left_width as usize).saturating_sub(13));
        Line::from(vec![title, Span::raw(" "), Span::raw(rest)]).render(
            Rect {
                width: left_width,
                ..area
            },
            buf,
        );
        if area.width > clock_width + 14 {
            Line::from(clock).right_aligned().render(area, buf);
        }
    }
}
