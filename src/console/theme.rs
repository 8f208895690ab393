//! The semantic theme: one style per role (ok, warn, crit, muted, focus,
//! prod, shadow, title, border, selection, ...), loaded from TOML. The
//! built-in default is `themes/default.toml`; a user file overrides the roles
//! it names. `NO_COLOR` turns every role into modifiers only.
//!
//! Owns: roles, parsing, error positions, monochrome. Views ask for roles and
//! never name colours.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

/// The built-in theme.
pub const DEFAULT_TOML: &str = include_str!("../../themes/default.toml");

/// Why a theme could not be loaded. Positions are 1-based.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("cannot read theme file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// A style as written in a theme file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

/// The text being parsed, for error positions.
struct Source<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, offset: usize, message: String) -> ThemeError {
        let (line, column) = line_column(self.text, offset);
        ThemeError::Invalid {
            origin: self.origin.to_owned(),
            line,
            column,
            message,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn colour(value: &Spanned<String>, src: &Source<'_>) -> Result<Color, ThemeError> {
    Color::from_str(value.get_ref()).map_err(|_| {
        src.error(
            value.span().start,
            format!(
                "unknown colour \"{}\"; use a name like \"red\" or \"darkgray\", \
                 an index \"0\"-\"255\", or \"#rrggbb\"",
                value.get_ref()
            ),
        )
    })
}

fn modifier(value: &Spanned<String>, src: &Source<'_>) -> Result<Modifier, ThemeError> {
    Ok(match value.get_ref().to_ascii_lowercase().as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossed_out" | "strikethrough" => Modifier::CROSSED_OUT,
        other => {
            return Err(src.error(
                value.span().start,
                format!(
                    "unknown modifier \"{other}\"; use bold, dim, italic, underlined, \
                     reversed or crossed_out"
                ),
            ));
        }
    })
}

impl StyleSpec {
    fn to_style(&self, src: &Source<'_>) -> Result<Style, ThemeError> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(fg, src)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(bg, src)?);
        }
        for m in &self.modifiers {
            style = style.add_modifier(modifier(m, src)?);
        }
        Ok(style)
    }
}

/// Keeps a style's modifiers, drops its colours, adds the role's fallback.
fn monochrome(style: Style, fallback: Modifier) -> Style {
    Style::default()
        .add_modifier(style.add_modifier | fallback)
        .remove_modifier(style.sub_modifier)
}

macro_rules! roles {
    ($($(#[doc = $doc:literal])* $role:ident => $mono:expr;)*) => {
        /// One style per semantic role.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct Theme {
            $($(#[doc = $doc])* pub $role: Style,)*
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $($role: Option<StyleSpec>,)*
        }

        impl Theme {
            fn overlay(mut self, file: &ThemeFile, src: &Source<'_>) -> Result<Self, ThemeError> {
                $(if let Some(spec) = &file.$role {
                    self.$role = spec.to_style(src)?;
                })*
                Ok(self)
            }

            /// The theme without colours: modifiers only (for `NO_COLOR`).
            #[must_use]
            pub fn monochrome(self) -> Self {
                Self { $($role: monochrome(self.$role, $mono),)* }
            }
        }
    };
}

roles! {
    /// Ordinary text.
    text => Modifier::empty();
    /// Running, healthy, ready.
    ok => Modifier::empty();
    /// Degraded: starting, partly ready, busy.
    warn => Modifier::BOLD;
    /// Broken: exited, unhealthy, unreachable.
    crit => Modifier::BOLD | Modifier::REVERSED;
    /// Secondary text and missing values.
    muted => Modifier::DIM;
    /// The focused pane's border and title.
    focus => Modifier::BOLD;
    /// Production things.
    prod => Modifier::empty();
    /// Shadow things.
    shadow => Modifier::ITALIC;
    /// Titles and headings.
    title => Modifier::BOLD;
    /// Borders of unfocused panes.
    border => Modifier::empty();
    /// The row under the cursor in the focused pane.
    selection => Modifier::REVERSED;
    /// The header line.
    header => Modifier::REVERSED;
    /// Key names in the bar and the help.
    key => Modifier::BOLD;
}

impl Theme {
    /// The built-in theme.
    pub fn builtin() -> Result<Self, ThemeError> {
        Self::default().with_toml(DEFAULT_TOML, "themes/default.toml")
    }

    /// This theme with the roles `text` sets replaced; `origin` names the
    /// text in errors.
    pub fn with_toml(self, text: &str, origin: &str) -> Result<Self, ThemeError> {
        let src = Source { origin, text };
        let file: ThemeFile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let near = text.get(span.clone()).unwrap_or("").trim();
            let mut message = e.message().trim_end().to_owned();
            if !near.is_empty() && !message.contains(near) {
                let near: String = near.chars().take(40).collect();
                message = format!("{message} (at \"{near}\")");
            }
            src.error(span.start, message)
        })?;
        self.overlay(&file, &src)
    }

    /// The built-in theme, overridden by `path` if given, made monochrome
    /// when `no_color`.
    pub fn load(path: Option<&Path>, no_color: bool) -> Result<Self, ThemeError> {
        let mut theme = Self::builtin()?;
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
                path: path.display().to_string(),
                source,
            })?;
            theme = theme.with_toml(&text, &path.display().to_string())?;
        }
        Ok(if no_color { theme.monochrome() } else { theme })
    }
}

/// Whether `NO_COLOR` asks for no colour: set to any non-empty value.
pub fn no_color(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_theme_parses_and_sets_every_role() {
        let theme = Theme::builtin().unwrap();
        assert_eq!(theme.ok.fg, Some(Color::Green));
        assert!(theme.crit.add_modifier.contains(Modifier::BOLD));
        assert_eq!(theme.header.bg, Some(Color::Cyan));
        assert_eq!(theme.selection.bg, Some(Color::Rgb(0x2a, 0x3b, 0x4d)));
    }

    #[test]
    fn the_light_theme_parses() {
        let text = include_str!("../../themes/light.toml");
        let theme = Theme::builtin()
            .unwrap()
            .with_toml(text, "light.toml")
            .unwrap();
        assert_eq!(theme.ok.fg, Some(Color::Rgb(0x1a, 0x7f, 0x37)));
    }

    #[test]
    fn a_user_file_overrides_only_the_roles_it_names() {
        let theme = Theme::builtin()
            .unwrap()
            .with_toml(
                "ok = { fg = \"blue\", modifiers = [\"italic\"] }\n",
                "mine.toml",
            )
            .unwrap();
        assert_eq!(
            theme.ok,
            Style::default()
                .fg(Color::Blue)
                .add_modifier(Modifier::ITALIC)
        );
        assert_eq!(theme.warn.fg, Some(Color::Yellow));
    }

    #[test]
    fn a_bad_colour_names_file_line_column_and_value() {
        let text = "ok = { fg = \"green\" }\nwarn = { fg = \"yelow\" }\n";
        let err = Theme::builtin()
            .unwrap()
            .with_toml(text, "mine.toml")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("mine.toml:2:15: unknown colour \"yelow\""),
            "{msg}"
        );
    }

    #[test]
    fn a_bad_modifier_is_located() {
        let text = "crit = { modifiers = [\"bold\", \"blink\"] }\n";
        let msg = Theme::builtin()
            .unwrap()
            .with_toml(text, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("t.toml:1:31: unknown modifier \"blink\""),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_role_is_located() {
        let text = "\n\nokay = { fg = \"green\" }\n";
        let msg = Theme::builtin()
            .unwrap()
            .with_toml(text, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("t.toml:3:1: unknown field `okay`"), "{msg}");
    }

    #[test]
    fn a_syntax_error_is_located_with_the_text() {
        let text = "ok = { fg = \"green\" }\nwarn = { fg = yellow }\n";
        let msg = Theme::builtin()
            .unwrap()
            .with_toml(text, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("t.toml:2:"), "{msg}");
        assert!(msg.contains("\"yellow\""), "{msg}");
    }

    #[test]
    fn load_reads_a_file_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "focus = { fg = \"#ff0000\" }\n").unwrap();
        let theme = Theme::load(Some(&path), false).unwrap();
        assert_eq!(theme.focus.fg, Some(Color::Rgb(255, 0, 0)));
        let missing = dir.path().join("nope.toml");
        let msg = Theme::load(Some(&missing), false).unwrap_err().to_string();
        assert!(msg.contains("nope.toml"), "{msg}");
    }

    #[test]
    fn no_color_keeps_only_modifiers() {
        let theme = Theme::load(None, true).unwrap();
        for style in [
            theme.ok,
            theme.crit,
            theme.selection,
            theme.header,
            theme.muted,
        ] {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
        assert!(
            theme
                .crit
                .add_modifier
                .contains(Modifier::BOLD | Modifier::REVERSED)
        );
        assert!(theme.selection.add_modifier.contains(Modifier::REVERSED));
        assert!(theme.muted.add_modifier.contains(Modifier::DIM));
    }

    #[test]
    fn no_color_means_any_non_empty_value() {
        use std::ffi::OsStr;
        assert!(!no_color(None));
        assert!(!no_color(Some(OsStr::new(""))));
        assert!(no_color(Some(OsStr::new("1"))));
        assert!(no_color(Some(OsStr::new("false"))));
    }
}
