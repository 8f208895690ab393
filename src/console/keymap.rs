//! The one key table. It maps keys to [`Action`]s per [`Context`], and the
//! same table generates the help bar and the `?` overlay, so what the screen
//! says a key does is what the key does.
//!
//! Owns: key normalisation (crossterm's `KeyEvent` to [`Key`]), the bindings,
//! lookup, and the text of the bar and the overlay. Does not own what an
//! action does (`update`) or how the help is drawn (`view::help`).
//!
//! The chain of contexts depends on the mode, the focused pane and the tab
//! the right pane shows: the load tab adds [`Context::Load`] (whichever
//! pane has focus), the faults tab with the right pane focused adds
//! [`Context::Faults`]. The modal overlays (the plan, the confirmations,
//! the fault form, the path prompt) have a context of their own and
//! nothing else, so no other key gets through; Ctrl-C quits in every one.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Mode, Pane, Tab};

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
            KeyCode::Delete => "Del".to_owned(),
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
    /// Show this tab in the right pane.
    ShowTab(Tab),
    /// Start replay traffic on the selected group's shadow, or stop it.
    ToggleLoad,
    /// Ask for a profile file to replay.
    ReplayFile,
    /// Open the fault form for the kind under the cursor.
    OpenFaultForm,
    /// Ask to revert the active fault under the cursor.
    RevertFault,
    /// Ask to revert every fault and block new ones.
    StopAllFaults,
    /// Allow faults again after a stop.
    ResumeFaults,
    /// Ask for a schedule file whose timeline to show.
    LoadSchedule,
    /// The next field of the fault form.
    FieldNext,
    /// The previous field of the fault form.
    FieldPrev,
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
    /// The right pane shows the load tab (either pane focused).
    Load,
    /// The right pane shows the faults tab and has focus.
    Faults,
    /// The fault form is open (modal); keys not bound here edit the field.
    FaultForm,
    /// A path prompt is open (modal); keys not bound here edit the path.
    Prompt,
    /// A fault confirmation is open (modal): revert one, or stop all.
    FaultConfirm,
}

impl Context {
    pub const ALL: [Self; 11] = [
        Self::Global,
        Self::Groups,
        Self::Load,
        Self::Faults,
        Self::Filter,
        Self::Help,
        Self::Plan,
        Self::Confirm,
        Self::FaultForm,
        Self::Prompt,
        Self::FaultConfirm,
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
            Self::Load => "Load tab",
            Self::Faults => "Faults tab (focused)",
            Self::FaultForm => "Fault form (other keys edit the field)",
            Self::Prompt => "Path prompt (other keys edit the path)",
            Self::FaultConfirm => "Fault confirmation",
        }
    }
}

/// Whether a binding shows in the one-line bar (everything is shown in the
/// overlay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bar {
    Hidden,
    Shown,
    /// Shown only where this context is in the chain (a global key the
    /// load or faults tab advertises).
    In(Context),
}

impl Bar {
    pub fn shows(self, chain: &[Context]) -> bool {
        match self {
            Self::Hidden => false,
            Self::Shown => true,
            Self::In(context) => chain.contains(&context),
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
    pub bar: Bar,
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
        bar: if bar { Bar::Shown } else { Bar::Hidden },
    }
}

/// A binding shown in the bar only where `shown_in` is in the chain.
const fn bind_in(
    context: Context,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    shown_in: Context,
) -> Binding {
    Binding {
        context,
        keys,
        action,
        help,
        bar: Bar::In(shown_in),
    }
}

use Action as A;
use Context as C;

/// Every binding. Within a context chain a key appears once (tested).
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(C::Groups, &[Key::plain(KeyCode::Enter)], A::Open, "show services", true),
    bind(C::Load, &[Key::char('P')], A::ReplayFile, "replay a file", true),
    bind(C::Faults, &[Key::plain(KeyCode::Enter)], A::OpenFaultForm, "apply fault…", true),
    bind(C::Faults, &[Key::char('x'), Key::plain(KeyCode::Delete)], A::RevertFault, "revert fault", true),
    bind(C::Faults, &[Key::char('o')], A::LoadSchedule, "show a schedule", false),
    bind_in(C::Global, &[Key::char('L')], A::ToggleLoad, "start/stop load", C::Load),
    bind_in(C::Global, &[Key::char('!')], A::StopAllFaults, "stop all faults", C::Faults),
    bind_in(C::Global, &[Key::char('R')], A::ResumeFaults, "resume faults", C::Faults),
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
    bind(C::Global, &[Key::char('1')], A::ShowTab(Tab::Services), "services tab", false),
    bind(C::Global, &[Key::char('2')], A::ShowTab(Tab::Load), "load tab", false),
    bind(C::Global, &[Key::char('3')], A::ShowTab(Tab::Faults), "faults tab", false),
    bind(C::Global, &[Key::char('4')], A::ShowTab(Tab::Metrics), "metrics tab", false),
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
    bind(C::FaultForm, &[Key::plain(KeyCode::Enter)], A::Confirm, "apply", true),
    bind(C::FaultForm, &[Key::plain(KeyCode::Esc)], A::Cancel, "cancel", true),
    bind(C::FaultForm, &[Key::plain(KeyCode::Tab), Key::plain(KeyCode::Down)], A::FieldNext, "next field", true),
    bind(C::FaultForm, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Up)], A::FieldPrev, "previous field", true),
    bind(C::FaultForm, &[Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::Prompt, &[Key::plain(KeyCode::Enter)], A::Confirm, "open", true),
    bind(C::Prompt, &[Key::plain(KeyCode::Esc)], A::Cancel, "cancel", true),
    bind(C::Prompt, &[Key::ctrl('c')], A::Quit, "quit", true),
    bind(C::FaultConfirm, &[Key::char('y')], A::Confirm, "yes", true),
    bind(C::FaultConfirm, &[Key::char('n'), Key::plain(KeyCode::Esc), Key::plain(KeyCode::Enter)], A::Cancel, "no", true),
    bind(C::FaultConfirm, &[Key::ctrl('c')], A::Quit, "quit", true),
];

/// The contexts that apply in a mode with a pane focused and a tab shown,
/// most specific first.
pub fn chain(mode: Mode, focus: Pane, tab: Tab) -> &'static [Context] {
    match (mode, focus, tab) {
        (Mode::Help, ..) => &[Context::Help],
        (Mode::Filter, ..) => &[Context::Filter],
        (Mode::Plan, ..) => &[Context::Plan],
        (Mode::Confirm, ..) => &[Context::Confirm],
        (Mode::FaultForm, ..) => &[Context::FaultForm],
        (Mode::Prompt, ..) => &[Context::Prompt],
        (Mode::FaultConfirm, ..) => &[Context::FaultConfirm],
        (Mode::Normal, Pane::Groups, Tab::Load) => {
            &[Context::Groups, Context::Load, Context::Global]
        }
        (Mode::Normal, Pane::Groups, _) => &[Context::Groups, Context::Global],
        (Mode::Normal, Pane::Services, Tab::Load) => &[Context::Load, Context::Global],
        (Mode::Normal, Pane::Services, Tab::Faults) => &[Context::Faults, Context::Global],
        (Mode::Normal, Pane::Services, Tab::Services | Tab::Metrics) => &[Context::Global],
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
        .filter(|b| b.bar.shows(chain) && keep(b.action))
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
        .filter(|b| b.bar.shows(chain) && keep(b.action))
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
mod tests;
