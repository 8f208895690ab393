//! The shadow operation in flight, the plan overlay (the plan's text wrapped
//! to the screen, and where it is scrolled to) and the teardown
//! confirmation. The overlay's geometry lives here so that `update` pages by
//! exactly what `view` shows.
//!
//! Owns: that state and its geometry. Does not own running operations
//! (`console::ops`) or drawing (`view::shadow`).

use ratatui::layout::Size;

use crate::shadow::plan::{ShadowPlan, render_text};

/// The shadow operation running in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Capturing the group and planning its shadow.
    Planning { group: String },
    /// Applying a confirmed plan; `step` says what it is doing.
    Applying {
        id: String,
        group: String,
        step: Option<String>,
    },
    /// Tearing a shadow down.
    Removing { id: String, group: String },
}

impl Operation {
    /// `creating shadow a1b2c3 of shop`.
    pub fn describe(&self) -> String {
        match self {
            Self::Planning { group } => format!("planning a shadow of {group}"),
            Self::Applying { id, group, .. } => format!("creating shadow {id} of {group}"),
            Self::Removing { id, group } => format!("removing shadow {id} of {group}"),
        }
    }

    /// What to tell the user when the console quits while this runs (the
    /// operation is aborted, so its own clean-up never runs).
    pub fn interrupted_note(&self) -> Option<String> {
        match self {
            Self::Planning { .. } => None,
            Self::Applying { id, group, .. } => Some(format!(
                "understudy: quit while creating shadow {id} of {group}; it was interrupted. \
                 `understudy shadow gc` removes what it left (or `understudy shadow down {id}`)."
            )),
            Self::Removing { id, group } => Some(format!(
                "understudy: quit while removing shadow {id} of {group}; it was interrupted. \
                 Run `understudy shadow down {id}` to finish."
            )),
        }
    }
}

/// Columns and rows the plan overlay leaves free around it: none at the
/// sides (it covers both panes); the header above and the status and key
/// bar below.
const MARGIN_X: u16 = 0;
const ROWS_ABOVE: u16 = 1;
const ROWS_BELOW: u16 = 2;
/// The overlay's border and the padding inside it (one column each side).
const BORDER: u16 = 2;
const PADDING_X: u16 = 2;

/// The plan waiting for confirmation, as wrapped lines and a scroll offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOverlay {
    pub plan: Box<ShadowPlan>,
    /// `render_text(&plan)`.
    pub text: String,
    /// `text` wrapped to the overlay's width.
    pub lines: Vec<String>,
    /// The first line shown.
    pub scroll: usize,
}

impl PlanOverlay {
    pub fn new(plan: Box<ShadowPlan>, screen: Size) -> Self {
        let text = render_text(&plan);
        let lines = wrap(&text, Self::text_width(screen));
        Self {
            plan,
            text,
            lines,
            scroll: 0,
        }
    }

    /// The widest text the overlay holds on this screen.
    pub fn text_width(screen: Size) -> usize {
        usize::from(
            screen
                .width
                .saturating_sub(2 * MARGIN_X + BORDER + PADDING_X),
        )
        .max(20)
    }

    /// The most rows of text the overlay shows at once on this screen.
    pub fn page(screen: Size) -> usize {
        usize::from(
            screen
                .height
                .saturating_sub(ROWS_ABOVE + ROWS_BELOW + BORDER),
        )
        .max(1)
    }

    /// The overlay's outer size on this screen: the full width (it covers
    /// both panes), as tall as its lines up to a page.
    pub fn outer(&self, screen: Size) -> Size {
        let width = screen.width.saturating_sub(2 * MARGIN_X);
        let rows = self.lines.len().min(Self::page(screen)) as u16;
        Size::new(width, rows + BORDER)
    }

    /// The rows above and below the overlay the view keeps free.
    pub const fn rows_around() -> (u16, u16) {
        (ROWS_ABOVE, ROWS_BELOW)
    }

    pub fn max_scroll(&self, screen: Size) -> usize {
        self.lines.len().saturating_sub(Self::page(screen))
    }

    /// Re-wraps for a new screen size, keeping the scroll in range.
    pub fn resize(&mut self, screen: Size) {
        self.lines = wrap(&self.text, Self::text_width(screen));
        self.scroll = self.scroll.min(self.max_scroll(screen));
    }
}

/// The shadow a teardown confirmation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teardown {
    pub id: String,
    pub group: String,
}

/// Wraps each line of `text` at spaces to `width` columns; continuation
/// lines keep the line's indentation plus four columns. Words longer than a
/// line are cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push(line.trim_end().to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let continuation = " ".repeat((indent + 4).min(width / 2));
        let mut current = line[..indent].to_owned();
        let mut fresh = true;
        for word in line[indent..].split(' ').filter(|w| !w.is_empty()) {
            let used = current.chars().count();
            let need = word.chars().count() + usize::from(!fresh);
            if !fresh && used + need > width {
                out.push(std::mem::replace(&mut current, continuation.clone()));
                fresh = true;
            }
            if !fresh {
                current.push(' ');
            }
            let room = width.saturating_sub(current.chars().count());
            if word.chars().count() > room {
                current.extend(word.chars().take(room));
            } else {
                current.push_str(word);
            }
            fresh = false;
        }
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_short_lines_and_indents_continuations() {
        let text = "Rewrites\n  api: image pinned to sha256:1234 because production runs it\nx";
        assert_eq!(
            wrap(text, 30),
            [
                "Rewrites",
                "  api: image pinned to",
                "      sha256:1234 because",
                "      production runs it",
                "x",
            ]
        );
        for line in wrap(text, 30) {
            assert!(line.chars().count() <= 30, "{line:?}");
        }
        let long = wrap("  averyveryverylongwordwithoutspaces", 10);
        assert!(long.iter().all(|l| l.chars().count() <= 10), "{long:?}");
    }

    #[test]
    fn the_page_is_what_the_screen_leaves_free() {
        assert_eq!(PlanOverlay::page(Size::new(100, 30)), 25);
        assert_eq!(PlanOverlay::page(Size::new(100, 3)), 1);
        assert_eq!(PlanOverlay::text_width(Size::new(100, 30)), 96);
    }

    #[test]
    fn interrupted_operations_say_how_to_clean_up() {
        let apply = Operation::Applying {
            id: "a1b2c3".into(),
            group: "shop".into(),
            step: None,
        };
        assert!(
            apply
                .interrupted_note()
                .unwrap()
                .contains("`understudy shadow gc`")
        );
        let remove = Operation::Removing {
            id: "a1b2c3".into(),
            group: "shop".into(),
        };
        assert!(
            remove
                .interrupted_note()
                .unwrap()
                .contains("`understudy shadow down a1b2c3`")
        );
        let plan = Operation::Planning {
            group: "shop".into(),
        };
        assert_eq!(plan.interrupted_note(), None, "planning creates nothing");
    }
}
