use crossterm::event::KeyCode;

use super::*;
use crate::console::fixtures;
use crate::console::keymap::{BINDINGS, Context};
use crate::console::model::{Operation, Teardown};
use crate::console::msg::ShadowEvent;
use crate::domain::{Health, RunState};

fn press(model: &mut Model, key: Key) -> Vec<Cmd> {
    update(model, Msg::Key(key.to_event()))
}

fn chars(model: &mut Model, text: &str) {
    for c in text.chars() {
        press(model, Key::char(c));
    }
}

/// What a test can compare between two models.
type Observed = (
    (Mode, Pane, usize, Option<String>, usize, String),
    (
        Option<Operation>,
        Option<usize>,
        Option<Teardown>,
        crate::console::model::Status,
    ),
    Tabs,
);

/// The tabs' part of [`Observed`]: the tab, the load run, the faults pane's
/// cursors, operation, confirmation, form (focus and error) and prompt.
type Tabs = (
    crate::console::model::Tab,
    Option<crate::console::model::load::LoadRun>,
    (
        crate::console::model::faults::Section,
        usize,
        usize,
        Option<crate::console::model::faults::FaultOp>,
        Option<crate::console::model::faults::FaultConfirm>,
    ),
    Option<(usize, Option<String>)>,
    Option<String>,
);

fn observe(model: &Model) -> Observed {
    (
        (
            model.mode,
            model.focus,
            model.groups_pane.cursor,
            model.groups_pane.selected.clone(),
            model.services_pane.cursor,
            model.filter.text().to_owned(),
        ),
        (
            model.op.clone(),
            model.plan.as_ref().map(|p| p.scroll),
            model.teardown.clone(),
            model.status.clone(),
        ),
        (
            model.tab,
            model.load.run.clone(),
            (
                model.faults.section,
                model.faults.catalog_cursor,
                model.faults.active_cursor,
                model.faults.op.clone(),
                model.faults.confirm.clone(),
            ),
            model
                .faults
                .form
                .as_ref()
                .map(|f| (f.focus, f.error.clone())),
            model.prompt.as_ref().map(|p| p.value().to_owned()),
        ),
    )
}

#[test]
fn the_first_listing_selects_the_preselected_group_and_asks_for_its_stats() {
    let mut model = Model::new(Some("shop".into()));
    let cmds = update(&mut model, Msg::Groups(fixtures::groups()));
    assert_eq!(cmds, [Cmd::WatchGroup(Some("shop".into()))]);
    assert_eq!(model.groups_pane.cursor, 2);
    // A second identical listing asks for nothing.
    assert!(update(&mut model, Msg::Groups(fixtures::groups())).is_empty());
}

#[test]
fn without_a_preselection_the_first_group_is_selected() {
    let mut model = Model::new(None);
    let cmds = update(&mut model, Msg::Groups(fixtures::groups()));
    assert_eq!(cmds, [Cmd::WatchGroup(Some("blog".into()))]);
    assert_eq!(model.status.notice, None);
}

#[test]
fn an_unknown_preselection_falls_back_with_a_notice() {
    let mut model = Model::new(Some("nope".into()));
    let cmds = update(&mut model, Msg::Groups(fixtures::groups()));
    assert_eq!(cmds, [Cmd::WatchGroup(Some("blog".into()))]);
    assert_eq!(
        model.status.notice.as_deref(),
        Some("no group named \"nope\"")
    );
}

#[test]
fn moving_in_the_groups_pane_selects_and_asks_the_feed() {
    let mut model = fixtures::model();
    assert_eq!(
        press(&mut model, Key::char('k')),
        [Cmd::WatchGroup(Some("payments".into()))]
    );
    assert!(
        model.stats.is_empty(),
        "samples of the old group are dropped"
    );
    assert_eq!(
        press(&mut model, Key::char('g')),
        [Cmd::WatchGroup(Some("blog".into()))]
    );
    assert!(
        press(&mut model, Key::plain(KeyCode::Up)).is_empty(),
        "already at the top"
    );
    assert_eq!(
        press(&mut model, Key::char('G')),
        [Cmd::WatchGroup(Some("shop".into()))]
    );
    assert!(
        press(&mut model, Key::plain(KeyCode::Down)).is_empty(),
        "already at the bottom"
    );
}

#[test]
fn enter_on_a_group_focuses_its_services() {
    let mut model = fixtures::model();
    assert!(press(&mut model, Key::plain(KeyCode::Enter)).is_empty());
    assert_eq!(model.focus, Pane::Services);
    // Enter means nothing in the services pane.
    press(&mut model, Key::plain(KeyCode::Enter));
    assert_eq!(model.focus, Pane::Services);
}

#[test]
fn focus_cycles_with_tab_backtab_and_h_l() {
    let mut model = fixtures::model();
    press(&mut model, Key::plain(KeyCode::Tab));
    assert_eq!(model.focus, Pane::Services);
    press(&mut model, Key::plain(KeyCode::Tab));
    assert_eq!(model.focus, Pane::Groups);
    press(&mut model, Key::plain(KeyCode::BackTab));
    assert_eq!(model.focus, Pane::Services);
    press(&mut model, Key::char('h'));
    assert_eq!(model.focus, Pane::Groups);
    press(&mut model, Key::plain(KeyCode::Right));
    assert_eq!(model.focus, Pane::Services);
    press(&mut model, Key::char('l'));
    assert_eq!(model.focus, Pane::Services);
}

#[test]
fn the_services_cursor_moves_over_containers_and_stays_in_range() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('l'));
    // shop: api-1, api-2, gateway-1, store-1 (services sorted by name).
    assert_eq!(model.container_row_count(), 4);
    press(&mut model, Key::char('j'));
    press(&mut model, Key::char('j'));
    assert_eq!(model.services_pane.cursor, 2);
    press(&mut model, Key::char('G'));
    assert_eq!(model.services_pane.cursor, 3);
    press(&mut model, Key::char('j'));
    assert_eq!(model.services_pane.cursor, 3);
    press(&mut model, Key::char('g'));
    assert_eq!(model.services_pane.cursor, 0);
    press(&mut model, Key::char('k'));
    assert_eq!(model.services_pane.cursor, 0);
    // A container disappearing pulls the cursor back into range.
    press(&mut model, Key::char('G'));
    let mut containers = fixtures::containers();
    containers.retain(|c| c.name != "shop-store-1");
    let groups = crate::domain::group::discover_compose_groups(&containers);
    assert!(update(&mut model, Msg::Groups(groups)).is_empty());
    assert_eq!(model.services_pane.cursor, 2);
}

#[test]
fn the_filter_narrows_rows_enter_keeps_esc_clears() {
    let mut model = fixtures::model();
    assert!(press(&mut model, Key::char('/')).is_empty());
    assert_eq!(model.mode, Mode::Filter);
    // Keys bound elsewhere are text here.
    chars(&mut model, "shop-api-2");
    assert_eq!(model.filter.text(), "shop-api-2");
    assert_eq!(model.mode, Mode::Filter);
    assert_eq!(model.focus, Pane::Groups, "h typed, not a focus move");
    assert_eq!(model.container_row_count(), 1);
    press(&mut model, Key::plain(KeyCode::Enter));
    assert_eq!(model.mode, Mode::Normal);
    assert_eq!(
        model.filter.text(),
        "shop-api-2",
        "Enter keeps the text, on one line"
    );
    assert_eq!(model.filter.input.lines().len(), 1);
    // Matching is by substring: both api replicas.
    press(&mut model, Key::char('/'));
    press(&mut model, Key::plain(KeyCode::Backspace));
    press(&mut model, Key::plain(KeyCode::Backspace));
    assert_eq!(model.filter.text(), "shop-api");
    assert_eq!(model.container_row_count(), 2);
    press(&mut model, Key::plain(KeyCode::Esc));
    assert_eq!((model.mode, model.filter.text()), (Mode::Normal, ""));
    assert_eq!(model.container_row_count(), 4);
}

#[test]
fn esc_in_normal_mode_clears_a_kept_filter() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('/'));
    chars(&mut model, "STORE");
    press(&mut model, Key::plain(KeyCode::Enter));
    assert_eq!(model.container_row_count(), 1, "case-insensitive");
    press(&mut model, Key::plain(KeyCode::Esc));
    assert_eq!(model.filter.text(), "");
}

#[test]
fn ctrl_c_quits_even_while_filtering_but_q_is_text() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('/'));
    assert!(press(&mut model, Key::char('q')).is_empty());
    assert_eq!(model.filter.text(), "q");
    assert_eq!(press(&mut model, Key::ctrl('c')), [Cmd::Quit]);
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut model = fixtures::model();
    assert_eq!(press(&mut model, Key::char('q')), [Cmd::Quit]);
    assert_eq!(press(&mut model, Key::ctrl('c')), [Cmd::Quit]);
    assert_eq!(update(&mut model, Msg::Action(Action::Quit)), [Cmd::Quit]);
}

#[test]
fn help_toggles_and_swallows_navigation() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('?'));
    assert_eq!(model.mode, Mode::Help);
    assert!(press(&mut model, Key::char('j')).is_empty());
    assert_eq!(
        model.groups_pane.cursor, 2,
        "j does not move under the overlay"
    );
    press(&mut model, Key::char('?'));
    assert_eq!(model.mode, Mode::Normal);
    press(&mut model, Key::char('?'));
    press(&mut model, Key::plain(KeyCode::Esc));
    assert_eq!(model.mode, Mode::Normal);
    press(&mut model, Key::char('?'));
    assert_eq!(press(&mut model, Key::char('q')), [Cmd::Quit]);
}

#[test]
fn r_asks_for_a_refresh() {
    let mut model = fixtures::model();
    assert_eq!(press(&mut model, Key::char('r')), [Cmd::Refresh]);
}

/// Puts a fresh fixture model (shop with its shadow) into the mode and
/// focus of a context, the way a user gets there.
fn model_in(context: Context) -> Model {
    let mut model = fixtures::model_with_shadow();
    match context {
        Context::Global | Context::Groups => {}
        Context::Help => model.mode = Mode::Help,
        Context::Filter => model.mode = Mode::Filter,
        Context::Plan => {
            let planned = ShadowEvent::Planned {
                group: "shop".into(),
                result: Ok(Box::new(fixtures::plan())),
            };
            update(&mut model, Msg::Shadow(planned));
            assert_eq!(model.mode, Mode::Plan);
        }
        Context::Confirm => {
            press(&mut model, Key::char('D'));
            assert_eq!(model.mode, Mode::Confirm);
        }
        Context::Load => {
            press(&mut model, Key::char('2'));
        }
        Context::Faults => {
            press(&mut model, Key::char('3'));
            assert_eq!(model.focus, Pane::Services);
        }
        Context::FaultForm => {
            press(&mut model, Key::char('3'));
            press(&mut model, Key::plain(KeyCode::Enter));
            assert_eq!(model.mode, Mode::FaultForm);
        }
        Context::Prompt => {
            press(&mut model, Key::char('2'));
            press(&mut model, Key::char('P'));
            assert_eq!(model.mode, Mode::Prompt);
        }
        Context::FaultConfirm => {
            press(&mut model, Key::char('!'));
            assert_eq!(model.mode, Mode::FaultConfirm);
        }
    }
    model
}

#[test]
fn every_key_in_the_table_does_what_its_action_does() {
    for binding in BINDINGS {
        for key in binding.keys {
            let mut by_key = model_in(binding.context);
            let mut by_action = model_in(binding.context);
            let key_cmds = press(&mut by_key, *key);
            let action_cmds = update(&mut by_action, Msg::Action(binding.action));
            assert_eq!(key_cmds, action_cmds, "{}", key.label());
            assert_eq!(observe(&by_key), observe(&by_action), "{}", key.label());
        }
    }
}

#[test]
fn feed_errors_show_until_the_engine_answers_again() {
    let mut model = fixtures::model();
    update(
        &mut model,
        Msg::FeedError("Docker daemon unreachable: refused".into()),
    );
    assert!(model.status.error.is_some());
    assert!(
        model.groups_pane.selected.is_some(),
        "the last listing stays"
    );
    update(&mut model, Msg::Groups(fixtures::groups()));
    assert_eq!(model.status.error, None);
}

#[test]
fn samples_are_kept_only_for_running_containers_of_the_selected_group() {
    let mut model = fixtures::model();
    let api2 = fixtures::id("shop-api-2");
    let samples = model.samples(&api2).unwrap();
    assert_eq!(samples.cpu.len(), 8);
    assert!((samples.latest.cpu_percent - 92.4).abs() < 1e-9);
    // A late sample of another group is dropped.
    let stray = fixtures::sample("payments-db-1", 9, 1.0, 1, [0.0; 4]);
    update(&mut model, Msg::Stats(stray));
    assert!(model.samples(&fixtures::id("payments-db-1")).is_none());
    // A stopped container loses its samples on the next listing.
    let mut containers = fixtures::containers();
    for c in &mut containers {
        if c.name == "shop-api-2" {
            c.state = RunState::Exited;
            c.health = Health::None;
        }
    }
    let groups = crate::domain::group::discover_compose_groups(&containers);
    update(&mut model, Msg::Groups(groups));
    assert!(model.samples(&api2).is_none());
    assert!(model.samples(&fixtures::id("shop-api-1")).is_some());
}

#[test]
fn the_history_is_bounded() {
    let mut model = fixtures::model();
    for second in 0..100 {
        let s = fixtures::sample("shop-store-1", 10 + second, 1.0, 1, [0.0; 4]);
        update(&mut model, Msg::Stats(s));
    }
    let samples = model.samples(&fixtures::id("shop-store-1")).unwrap();
    assert_eq!(samples.cpu.len(), crate::console::model::CPU_HISTORY);
}

#[test]
fn ticks_set_the_clock_text() {
    let mut model = Model::new(None);
    update(&mut model, Msg::Tick("09:30:00".into()));
    assert_eq!(model.clock, "09:30:00");
}
