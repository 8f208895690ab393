//! The key table's invariants: one meaning per key in every chain, every
//! binding reachable and dispatching what the help says, modal overlays
//! closed to other keys, Ctrl-C everywhere.

use std::collections::HashSet;

use super::*;

fn all_chains() -> Vec<&'static [Context]> {
    let mut chains = Vec::new();
    for mode in Mode::ALL {
        for focus in [Pane::Groups, Pane::Services] {
            for tab in Tab::ALL {
                chains.push(chain(mode, focus, tab));
            }
        }
    }
    chains
}

fn normal(focus: Pane, tab: Tab) -> &'static [Context] {
    chain(Mode::Normal, focus, tab)
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
        lookup(normal(Pane::Groups, Tab::Services), Key::from_event(&alt_q)),
        None
    );
    assert_eq!(Key::ctrl('c').label(), "Ctrl-c");
}

#[test]
fn bar_follows_the_context() {
    let groups = bar(normal(Pane::Groups, Tab::Services));
    assert_eq!(groups[0], ("Enter".to_owned(), "show services"));
    let services = bar(normal(Pane::Services, Tab::Services));
    assert!(services.iter().all(|(_, d)| *d != "show services"));
    let filter = bar(chain(Mode::Filter, Pane::Services, Tab::Services));
    assert_eq!(filter[0], ("Enter".to_owned(), "keep filter"));
    let plan = bar_full(chain(Mode::Plan, Pane::Groups, Tab::Services), |_| true);
    assert_eq!(plan[0], ("Enter/y".to_owned(), "apply"));
    assert_eq!(plan[1], ("Esc/n".to_owned(), "cancel"));
    let refused = bar_full(chain(Mode::Plan, Pane::Groups, Tab::Services), |a| {
        a != Action::Confirm
    });
    assert_eq!(refused[0], ("Esc/n".to_owned(), "cancel"));
}

#[test]
fn modal_overlays_let_only_their_own_keys_through() {
    for mode in [Mode::Plan, Mode::Confirm, Mode::FaultConfirm] {
        for focus in [Pane::Groups, Pane::Services] {
            let chain = chain(mode, focus, Tab::Faults);
            for key in [
                Key::char('q'),
                Key::char('s'),
                Key::char('D'),
                Key::char('/'),
                Key::char('?'),
                Key::plain(KeyCode::Tab),
                Key::char('L'),
                Key::char('!'),
                Key::char('R'),
                Key::char('x'),
                Key::char('1'),
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
        let chain = normal(focus, Tab::Services);
        assert_eq!(lookup(chain, Key::char('s')), Some(Action::CreateShadow));
        assert_eq!(lookup(chain, Key::char('D')), Some(Action::RemoveShadow));
    }
}

#[test]
fn tabs_load_and_the_global_stop_work_from_every_pane_and_tab() {
    for focus in [Pane::Groups, Pane::Services] {
        for tab in Tab::ALL {
            let chain = normal(focus, tab);
            assert_eq!(
                lookup(chain, Key::char('2')),
                Some(Action::ShowTab(Tab::Load))
            );
            assert_eq!(
                lookup(chain, Key::char('3')),
                Some(Action::ShowTab(Tab::Faults))
            );
            assert_eq!(lookup(chain, Key::char('L')), Some(Action::ToggleLoad));
            assert_eq!(lookup(chain, Key::char('!')), Some(Action::StopAllFaults));
            assert_eq!(lookup(chain, Key::char('R')), Some(Action::ResumeFaults));
        }
    }
}

#[test]
fn pane_keys_need_their_tab() {
    let load = Key::char('P');
    assert_eq!(
        lookup(normal(Pane::Groups, Tab::Load), load),
        Some(Action::ReplayFile)
    );
    assert_eq!(
        lookup(normal(Pane::Services, Tab::Load), load),
        Some(Action::ReplayFile)
    );
    assert_eq!(lookup(normal(Pane::Services, Tab::Services), load), None);
    let faults = normal(Pane::Services, Tab::Faults);
    let enter = Key::plain(KeyCode::Enter);
    assert_eq!(lookup(faults, enter), Some(Action::OpenFaultForm));
    assert_eq!(lookup(faults, Key::char('x')), Some(Action::RevertFault));
    assert_eq!(
        lookup(faults, Key::plain(KeyCode::Delete)),
        Some(Action::RevertFault)
    );
    // With the groups pane focused Enter still opens a group.
    assert_eq!(
        lookup(normal(Pane::Groups, Tab::Faults), enter),
        Some(Action::Open)
    );
    assert_eq!(
        lookup(normal(Pane::Groups, Tab::Faults), Key::char('x')),
        None
    );
}

#[test]
fn the_bar_advertises_load_and_fault_keys_on_their_tabs_only() {
    let has = |chain: &[Context], desc: &str| bar(chain).iter().any(|(_, d)| *d == desc);
    assert!(has(normal(Pane::Services, Tab::Load), "start/stop load"));
    assert!(!has(
        normal(Pane::Services, Tab::Services),
        "start/stop load"
    ));
    let faults = bar(normal(Pane::Services, Tab::Faults));
    assert_eq!(faults[0], ("Enter".to_owned(), "apply fault…"));
    assert!(faults.contains(&("!".to_owned(), "stop all faults")));
    assert!(faults.contains(&("R".to_owned(), "resume faults")));
    assert!(!has(normal(Pane::Services, Tab::Load), "stop all faults"));
    // The tab keys are on the tab strip, not the bar.
    assert!(!has(normal(Pane::Groups, Tab::Services), "load tab"));
}

#[test]
fn text_overlays_pass_letters_to_the_text() {
    for mode in [Mode::FaultForm, Mode::Prompt] {
        let chain = chain(mode, Pane::Services, Tab::Faults);
        for c in [
            'q', 'y', 'n', 's', 'D', '/', '?', 'L', '!', 'R', 'x', '1', 'j',
        ] {
            assert_eq!(lookup(chain, Key::char(c)), None, "{c} in {mode:?}");
        }
        assert_eq!(lookup(chain, Key::ctrl('c')), Some(Action::Quit));
        assert_eq!(
            lookup(chain, Key::plain(KeyCode::Enter)),
            Some(Action::Confirm)
        );
        assert_eq!(
            lookup(chain, Key::plain(KeyCode::Esc)),
            Some(Action::Cancel)
        );
    }
    let form = chain(Mode::FaultForm, Pane::Groups, Tab::Services);
    assert_eq!(
        lookup(form, Key::plain(KeyCode::Tab)),
        Some(Action::FieldNext)
    );
    assert_eq!(
        lookup(form, Key::plain(KeyCode::BackTab)),
        Some(Action::FieldPrev)
    );
    // Enter answers "no" to a fault confirmation (y/N).
    assert_eq!(
        lookup(
            chain(Mode::FaultConfirm, Pane::Services, Tab::Faults),
            Key::plain(KeyCode::Enter)
        ),
        Some(Action::Cancel)
    );
}
