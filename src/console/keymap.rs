//! The one key table. It maps keys to [`Action`]s per [`Context`], and the
//! same table generates the help bar and the `?` overlay, so what the screen
//! says a key does is what the key does.
//!
//! Owns: key normalisation (crossterm's `KeyEvent` to [`Key`]), the bindings,
//! lookup, and the text of the bar and the overlay. Does not own what an
//! action does (`update`) or how the help is drawn (`view::help`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Mode, Pane};

/// A key as bindings name it: the code plus Ctrl / Alt. Shift is part of the
/// character (`G`) or the code (`BackTab`), so it is not tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn char(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
        }
    }

    /// The key a terminal event names.
    pub fn from_event(event: &KeyEvent) -> Self {
        Self {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// The event a user pressing this key produces (for tests and replays).
    pub fn to_event(self) -> KeyEvent {
        let mut modifiers = KeyModifiers::NONE;
        if self.ctrl {
            modifiers |= KeyModifiers::CONTROL;
        }
        if self.alt {
            modifiers |= KeyModifiers::ALT;
        }
        if matches!(self.code, KeyCode::BackTab)
            || matches!(self.code, KeyCode::Char(c) if c.is_ascii_uppercase())
        {
            modifiers |= KeyModifiers::SHIFT;
        }
        KeyEvent::new(self.code, modifiers)
    }

    /// How the help names the key: `q`, `Ctrl-c`, `↓`, `Tab`, `S-Tab`.
    pub fn label(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::Left => "←".to_owned(),
            KeyCode::Right => "→".to_owned(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::BackTab => "S-Tab".to_owned(),
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            other => format!("{other:?}"),
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("Ctrl-{base}"),
            (false, true) => format!("Alt-{base}"),
            (false, false) => base,
        }
    }
}

/// What a key asks for. `update` gives each its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    ToggleHelp,
    OpenFilter,
    /// Leave the filter box keeping the text.
    KeepFilter,
    /// Empty the filter (and leave the box).
    ClearFilter,
    FocusNext,
    FocusPrev,
    FocusGroups,
    FocusServices,
    Up,
    Down,
    Top,
    Bottom,
    /// Enter on a group: show its services.
    Open,
    /// Re-list containers now.
    Refresh,
    /// Plan a shadow of the selected group (the plan opens for confirmation).
    CreateShadow,
    /// Ask to tear down the selected group's shadow.
    RemoveShadow,
    /// Yes, in an overlay: apply the plan, remove the shadow.
    Confirm,
    /// No, in an overlay: close it and do nothing.
    Cancel,
    PageUp,
    PageDown,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// The normal mode, whichever pane has focus.
    Global,
    /// The normal mode with the groups pane focused.
    Groups,
    /// The help overlay is open.
    Help,
    /// The filter box is being edited; keys not bound here edit the text.
    Filter,
    /// The shadow plan overlay is open (modal).
    Plan,
    /// A yes/no confirmation is open (modal).
    Confirm,
}

impl Context {
    pub const ALL: [Self; 6] = [
        Self::Global,
        Self::Groups,
        Self::Filter,
        Self::Help,
        Self::Plan,
        Self::Confirm,
    ];

    /// The heading of the context's section in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "Anywhere",
            Self::Groups => "Groups pane",
            Self::Help => "Help overlay",
            Self::Filter => "Filter box (other keys edit the text)",
            Self::Plan => "Shadow plan",
            Self::Confirm => "Confirmation",
        }
    }
}

/// One line of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
    /// Shown in the one-line bar (everything is shown in the overlay).
    pub bar: bool,
}

const fn bind(
    context: Context,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    bar: bool,
) -> Binding {
    Binding {
        context,
        keys,
        action,
        help,
        bar,
    }
}

use Action as A;
use Context as C;

/// Every binding. Within a context chain a key appears once (tested).
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(C::Groups, &[Key::plain(KeyCode::Enter)], A::Open, "show services", true),
    bind(C::Global, &[Key::char('q'), Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::Global, &[Key::char('?')], A::ToggleHelp, "help", true),
    bind(C::Global, &[Key::char('/')], A::OpenFilter, "filter", true),
    bind(C::Global, &[Key::plain(KeyCode::Tab)], A::FocusNext, "next pane", true),
    bind(C::Global, &[Key::plain(KeyCode::BackTab)], A::FocusPrev, "previous pane", false),
    bind(C::Global, &[Key::char('h'), Key::plain(KeyCode::Left)], A::FocusGroups, "groups pane", false),
    bind(C::Global, &[Key::char('l'), Key::plain(KeyCode::Right)], A::FocusServices, "services pane", false),
    bind(C::Global, &[Key::char('j'), Key::plain(KeyCode::Down)], A::Down, "down", true),
    bind(C::Global, &[Key::char('k'), Key::plain(KeyCode::Up)], A::Up, "up", true),
    bind(C::Global, &[Key::char('g'), Key::plain(KeyCode::Home)], A::Top, "top", false),
    bind(C::Global, &[Key::char('G'), Key::plain(KeyCode::End)], A::Bottom, "bottom", false),
    bind(C::Global, &[Key::char('r')], A::Refresh, "refresh now", false),
    bind(C::Global, &[Key::plain(KeyCode::Esc)], A::ClearFilter, "clear filter", false),
    bind(C::Global, &[Key::char('s')], A::CreateShadow, "create shadow", true),
    bind(C::Global, &[Key::char('D')], A::RemoveShadow, "remove shadow", true),
    bind(C::Filter, &[Key::plain(KeyCode::Enter)], A::KeepFilter, "keep filter", true),
    bind(C::Filter, &[Key::plain(KeyCode::Esc)], A::ClearFilter, "clear filter", true),
    bind(C::Filter, &[Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::Help, &[Key::char('?'), Key::plain(KeyCode::Esc)], A::ToggleHelp, "close help", true),
    bind(C::Help, &[Key::char('q'), Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::Plan, &[Key::plain(KeyCode::Enter), Key::char('y')], A::Confirm, "apply", true),
    bind(C::Plan, &[Key::plain(KeyCode::Esc), Key::char('n')], A::Cancel, "cancel", true),
    bind(C::Plan, &[Key::char('j'), Key::plain(KeyCode::Down)], A::Down, "scroll down", true),
    bind(C::Plan, &[Key::char('k'), Key::plain(KeyCode::Up)], A::Up, "scroll up", true),
    bind(C::Plan, &[Key::plain(KeyCode::PageDown), Key::char(' ')], A::PageDown, "page down", true),
    bind(C::Plan, &[Key::plain(KeyCode::PageUp)], A::PageUp, "page up", true),
    bind(C::Plan, &[Key::char('g'), Key::plain(KeyCode::Home)], A::Top, "top", false),
    bind(C::Plan, &[Key::char('G'), Key::plain(KeyCode::End)], A::Bottom, "bottom", false),
    bind(C::Plan, &[Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::Confirm, &[Key::char('y')], A::Confirm, "yes, remove", true),
    bind(C::Confirm, &[Key::char('n'), Key::plain(KeyCode::Esc), Key::plain(KeyCode::Enter)], A::Cancel, "no, keep it", true),
    bind(C::Confirm, &[Key::ctrl('c')], A::Quit, "quit", true),
];

/// The contexts that apply in a mode with a pane focused, most specific first.
pub fn chain(mode: Mode, focus: Pane) -> &'static [Context] {
    match (mode, focus) {
        (Mode::Help, _) => &[Context::Help],
        (Mode::Filter, _) => &[Context::Filter],
        (Mode::Plan, _) => &[Context::Plan],
        (Mode::Confirm, _) => &[Context::Confirm],
        (Mode::Normal, Pane::Groups) => &[Context::Groups, Context::Global],
        (Mode::Normal, Pane::Services) => &[Context::Global],
    }
}

/// The bindings of a chain, in lookup order.
pub fn bindings(chain: &[Context]) -> impl Iterator<Item = &'static Binding> + '_ {
    chain
        .iter()
        .flat_map(|context| BINDINGS.iter().filter(move |b| b.context == *context))
}

/// The action `key` triggers in `chain`, if any.
pub fn lookup(chain: &[Context], key: Key) -> Option<Action> {
    bindings(chain)
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}

/// `j/↓`: the keys of a binding as the help shows them.
pub fn keys_label(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("/")
}

/// The bar entries for a chain: (first key, description).
pub fn bar(chain: &[Context]) -> Vec<(String, &'static str)> {
    bar_where(chain, |_| true)
}

/// [`bar`] for the actions `keep` accepts (a refused plan has no "apply").
pub fn bar_where(chain: &[Context], keep: impl Fn(Action) -> bool) -> Vec<(String, &'static str)> {
    bindings(chain)
        .filter(|b| b.bar && keep(b.action))
        .map(|b| {
            let key = b.keys.first().map(|k| k.label()).unwrap_or_default();
            (key, b.help)
        })
        .collect()
}

/// The bar entries of a chain with every key of each binding (`Enter/y
/// apply`), for an overlay's own footer; `keep` filters by action.
pub fn bar_full(chain: &[Context], keep: impl Fn(Action) -> bool) -> Vec<(String, &'static str)> {
    bindings(chain)
        .filter(|b| b.bar && keep(b.action))
        .map(|b| (keys_label(b), b.help))
        .collect()
}

/// The overlay's sections: a title and (keys, description) lines each.
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    Context::ALL
        .iter()
        .map(|context| {
            let lines = BINDINGS
                .iter()
                .filter(|b| b.context == *context)
                .map(|b| (keys_label(b), b.help))
                .collect();
            (context.title(), lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn all_chains() -> Vec<&'static [Context]> {
        let mut chains = Vec::new();
        for mode in [
            Mode::Normal,
            Mode::Help,
            Mode::Filter,
            Mode::Plan,
            Mode::Confirm,
        ] {
            for focus in [Pane::Groups, Pane::Services] {
                chains.push(chain(mode, focus));
            }
        }
        chains
    }

    #[test]
    fn no_key_is_bound_twice_in_a_chain() {
        for chain in all_chains() {
            let mut seen = HashSet::new();
            for binding in bindings(chain) {
                for key in binding.keys {
                    assert!(
                        seen.insert(*key),
                        "{} bound twice in {chain:?}",
                        key.label()
                    );
                }
            }
        }
    }

    #[test]
    fn every_binding_is_reachable_in_some_chain() {
        for binding in BINDINGS {
            assert!(
                all_chains().iter().any(|c| c.contains(&binding.context)),
                "{binding:?} is in no chain"
            );
        }
    }

    #[test]
    fn every_key_in_the_help_dispatches_its_action() {
        for chain in all_chains() {
            for binding in bindings(chain) {
                for key in binding.keys {
                    let event = key.to_event();
                    assert_eq!(
                        lookup(chain, Key::from_event(&event)),
                        Some(binding.action),
                        "{} in {chain:?}",
                        key.label()
                    );
                }
            }
        }
    }

    #[test]
    fn help_sections_list_every_binding_once() {
        let listed: usize = help_sections().iter().map(|(_, lines)| lines.len()).sum();
        assert_eq!(listed, BINDINGS.len());
        let (title, global) = &help_sections()[0];
        assert_eq!(*title, "Anywhere");
        assert!(global.contains(&("q/Ctrl-c".to_owned(), "quit")));
        assert!(global.contains(&("j/↓".to_owned(), "down")));
    }

    #[test]
    fn shift_and_alt_are_normalised() {
        let shifted_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(Key::from_event(&shifted_g), Key::char('G'));
        let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
        assert_eq!(
            lookup(chain(Mode::Normal, Pane::Groups), Key::from_event(&alt_q)),
            None
        );
        assert_eq!(Key::ctrl('c').label(), "Ctrl-c");
    }

    #[test]
    fn bar_follows_the_context() {
        let groups = bar(chain(Mode::Normal, Pane::Groups));
        assert_eq!(groups[0], ("Enter".to_owned(), "show services"));
        let services = bar(chain(Mode::Normal, Pane::Services));
        assert!(services.iter().all(|(_, d)| *d != "show services"));
        let filter = bar(chain(Mode::Filter, Pane::Services));
        assert_eq!(filter[0], ("Enter".to_owned(), "keep filter"));
        let plan = bar_full(chain(Mode::Plan, Pane::Groups), |_| true);
        assert_eq!(plan[0], ("Enter/y".to_owned(), "apply"));
        assert_eq!(plan[1], ("Esc/n".to_owned(), "cancel"));
        let refused = bar_full(chain(Mode::Plan, Pane::Groups), |a| a != Action::Confirm);
        assert_eq!(refused[0], ("Esc/n".to_owned(), "cancel"));
    }

    #[test]
    fn modal_overlays_let_only_their_own_keys_through() {
        for mode in [Mode::Plan, Mode::Confirm] {
            for focus in [Pane::Groups, Pane::Services] {
                let chain = chain(mode, focus);
                for key in [
                    Key::char('q'),
                    Key::char('s'),
                    Key::char('D'),
                    Key::char('/'),
                    Key::char('?'),
                    Key::plain(KeyCode::Tab),
                ] {
                    assert_eq!(
                        lookup(chain, key),
                        None,
                        "{} leaks into {mode:?}",
                        key.label()
                    );
                }
                assert_eq!(lookup(chain, Key::ctrl('c')), Some(Action::Quit));
                assert_eq!(lookup(chain, Key::char('y')), Some(Action::Confirm));
                assert_eq!(lookup(chain, Key::char('n')), Some(Action::Cancel));
                assert_eq!(
                    lookup(chain, Key::plain(KeyCode::Esc)),
                    Some(Action::Cancel)
                );
            }
        }
        // Enter applies a plan but answers "no" to a removal (y/N).
        assert_eq!(
            lookup(&[Context::Plan], Key::plain(KeyCode::Enter)),
            Some(Action::Confirm)
        );
        assert_eq!(
            lookup(&[Context::Confirm], Key::plain(KeyCode::Enter)),
            Some(Action::Cancel)
        );
    }

    #[test]
    fn ctrl_c_quits_in_every_chain() {
        for chain in all_chains() {
            assert_eq!(
                lookup(chain, Key::ctrl('c')),
                Some(Action::Quit),
                "{chain:?}"
            );
        }
    }

    #[test]
    fn shadow_keys_work_from_both_panes() {
        for focus in [Pane::Groups, Pane::Services] {
            let chain = chain(Mode::Normal, focus);
            assert_eq!(lookup(chain, Key::char('s')), Some(Action::CreateShadow));
            assert_eq!(lookup(chain, Key::char('D')), Some(Action::RemoveShadow));
        }
    }
}
