//! The shadow transitions, pure: listings, `s`, the plan overlay, `D` and
//! its confirmation, operation results, and one operation at a time.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use ratatui::layout::Size;

use crate::console::fixtures;
use crate::console::keymap::{Action, Key};
use crate::console::model::{Mode, Model, Operation, Outcome, Pane, Shadow, Teardown};
use crate::console::msg::{Cmd, Msg, ShadowCmd, ShadowEvent};
use crate::console::update::update;
use crate::shadow::apply::ApplyReport;
use crate::shadow::teardown::Removed;

fn press(model: &mut Model, key: Key) -> Vec<Cmd> {
    update(model, Msg::Key(key.to_event()))
}

fn enter() -> Key {
    Key::plain(KeyCode::Enter)
}

fn esc() -> Key {
    Key::plain(KeyCode::Esc)
}

fn planned(model: &mut Model, plan: crate::shadow::plan::ShadowPlan) -> Vec<Cmd> {
    let event = ShadowEvent::Planned {
        group: "shop".into(),
        result: Ok(Box::new(plan)),
    };
    update(model, Msg::Shadow(event))
}

/// The fixture model after `s` and the plan arriving.
fn with_plan(plan: crate::shadow::plan::ShadowPlan) -> Model {
    let mut model = fixtures::model();
    update(&mut model, Msg::Resize(Size::new(100, 30)));
    press(&mut model, Key::char('s'));
    assert!(planned(&mut model, plan).is_empty());
    model
}

fn report() -> ApplyReport {
    ApplyReport {
        id: "a1b2c3".into(),
        group: "shop".into(),
        entry: BTreeMap::from([("gateway".into(), "http://127.0.0.1:40000".into())]),
        containers: vec![],
        ready_ms: 1_612,
        warnings: vec![],
    }
}

fn outcome(model: &Model) -> (bool, &str) {
    let o = model.status.outcome.as_ref().expect("an outcome");
    (o.ok, o.text.as_str())
}

#[test]
fn a_shadows_listing_marks_the_group_and_pairs_its_rows() {
    let mut model = fixtures::model();
    assert!(model.selected_shadow().is_none());
    assert_eq!(model.container_row_count(), 4);
    assert!(update(&mut model, Msg::Shadows(fixtures::shadows())).is_empty());
    assert_eq!(model.selected_shadow().map(Shadow::id), Some("a1b2c3"));
    // api 1, api 2 (production only), gateway, store, the relay (shadow only).
    assert_eq!(model.container_row_count(), 5);
    let relay = fixtures::id("shop-shadow-a1b2c3-ingress");
    assert!(model.watched_ids().contains(&relay));
    // Another group has no shadow.
    press(&mut model, Key::char('k'));
    assert_eq!(model.groups_pane.selected.as_deref(), Some("payments"));
    assert!(model.selected_shadow().is_none());
}

#[test]
fn shadow_samples_are_kept_while_the_shadow_is_shown() {
    let mut model = fixtures::model_with_shadow();
    let api = fixtures::id("shop-shadow-a1b2c3-api-1");
    assert_eq!(model.samples(&api).map(|s| s.cpu.len()), Some(8));
    // A listing without the shadow drops its samples, not production's.
    update(&mut model, Msg::Shadows(Vec::new()));
    assert!(model.samples(&api).is_none());
    assert!(model.samples(&fixtures::id("shop-api-1")).is_some());
    assert_eq!(model.container_row_count(), 4);
    // A late sample of it is dropped too.
    let late = fixtures::sample("shop-shadow-a1b2c3-api-1", 20, 1.0, 1, [0.0; 4]);
    update(&mut model, Msg::Stats(late));
    assert!(model.samples(&api).is_none());
}

#[test]
fn s_asks_for_a_plan_only_when_no_operation_runs() {
    let mut model = fixtures::model();
    model.status.outcome = Some(Outcome {
        ok: true,
        text: "an earlier outcome".into(),
    });
    assert_eq!(
        press(&mut model, Key::char('s')),
        [Cmd::Shadow(ShadowCmd::Plan {
            group: "shop".into()
        })]
    );
    assert_eq!(
        model.op,
        Some(Operation::Planning {
            group: "shop".into()
        })
    );
    assert_eq!(model.status.outcome, None, "a new operation starts afresh");
    assert!(press(&mut model, Key::char('s')).is_empty());
    assert_eq!(
        model.status.notice.as_deref(),
        Some("planning a shadow of shop … wait for it to finish (one shadow operation at a time)")
    );
    assert!(
        press(&mut model, Key::char('D')).is_empty(),
        "nor a teardown"
    );
    assert_eq!(model.mode, Mode::Normal);
    // The notice goes when the operation ends.
    let failed = ShadowEvent::Planned {
        group: "shop".into(),
        result: Err("boom".into()),
    };
    update(&mut model, Msg::Shadow(failed));
    assert_eq!(model.status.notice, None);
    // The services pane has the key too.
    let mut model = fixtures::model();
    press(&mut model, Key::char('l'));
    assert_eq!(model.focus, Pane::Services);
    assert_eq!(press(&mut model, Key::char('s')).len(), 1);
}

#[test]
fn s_without_a_group_says_so() {
    let mut model = Model::new(None);
    update(&mut model, Msg::Groups(Vec::new()));
    assert!(press(&mut model, Key::char('s')).is_empty());
    assert_eq!(model.status.notice.as_deref(), Some("select a group first"));
    assert_eq!(model.op, None);
}

#[test]
fn a_notice_lasts_until_the_next_key() {
    let mut model = Model::new(None);
    update(&mut model, Msg::Groups(Vec::new()));
    press(&mut model, Key::char('s'));
    assert!(model.status.notice.is_some());
    press(&mut model, Key::char('j'));
    assert_eq!(model.status.notice, None);
}

#[test]
fn the_plan_opens_a_modal_overlay_that_scrolls() {
    let mut model = with_plan(fixtures::plan());
    assert_eq!((model.mode, model.op.as_ref()), (Mode::Plan, None));
    let overlay = model.plan.as_ref().unwrap();
    let text = crate::shadow::plan::render_text(&fixtures::plan());
    assert_eq!(overlay.text, text);
    assert!(overlay.lines.len() >= text.lines().count());
    let last = overlay.max_scroll(model.screen);
    assert!(last > 0, "the fixture plan is longer than a page");
    press(&mut model, Key::char('j'));
    press(&mut model, Key::plain(KeyCode::Down));
    assert_eq!(model.plan.as_ref().unwrap().scroll, 2);
    press(&mut model, Key::char('k'));
    assert_eq!(model.plan.as_ref().unwrap().scroll, 1);
    press(&mut model, Key::plain(KeyCode::PageDown));
    assert_eq!(model.plan.as_ref().unwrap().scroll, (1 + 25).min(last));
    press(&mut model, Key::char('G'));
    assert_eq!(model.plan.as_ref().unwrap().scroll, last);
    press(&mut model, Key::char('j'));
    assert_eq!(
        model.plan.as_ref().unwrap().scroll,
        last,
        "not past the end"
    );
    press(&mut model, Key::plain(KeyCode::PageUp));
    assert_eq!(model.plan.as_ref().unwrap().scroll, last.saturating_sub(25));
    press(&mut model, Key::char('g'));
    assert_eq!(model.plan.as_ref().unwrap().scroll, 0);
    // Other keys do not leak through the overlay.
    for key in [
        Key::char('q'),
        Key::char('s'),
        Key::plain(KeyCode::Tab),
        Key::char('/'),
    ] {
        assert!(press(&mut model, key).is_empty(), "{}", key.label());
        assert_eq!((model.mode, model.focus), (Mode::Plan, Pane::Groups));
    }
}

#[test]
fn a_resize_rewraps_the_plan_and_keeps_the_scroll_in_range() {
    let mut model = with_plan(fixtures::plan());
    press(&mut model, Key::char('G'));
    let (wide, bottom) = {
        let overlay = model.plan.as_ref().unwrap();
        (overlay.lines.len(), overlay.scroll)
    };
    update(&mut model, Msg::Resize(Size::new(60, 40)));
    let overlay = model.plan.as_ref().unwrap();
    assert!(overlay.lines.len() > wide, "narrower wraps more");
    assert!(overlay.lines.iter().all(|l| l.chars().count() <= 56));
    assert_eq!(overlay.scroll, bottom, "still in range, kept");
    update(&mut model, Msg::Resize(Size::new(100, 80)));
    let overlay = model.plan.as_ref().unwrap();
    assert_eq!(overlay.max_scroll(model.screen), 0, "it all fits now");
    assert_eq!(overlay.scroll, 0);
}

#[test]
fn a_failed_plan_lands_on_the_status_line() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('s'));
    let event = ShadowEvent::Planned {
        group: "shop".into(),
        result: Err("no group named \"shop\"".into()),
    };
    assert!(update(&mut model, Msg::Shadow(event)).is_empty());
    assert_eq!((model.mode, model.op.as_ref()), (Mode::Normal, None));
    assert_eq!(
        outcome(&model),
        (
            false,
            "cannot plan a shadow of shop: no group named \"shop\""
        )
    );
}

#[test]
fn enter_or_y_applies_the_plan() {
    for key in [enter(), Key::char('y')] {
        let mut model = with_plan(fixtures::plan());
        let cmds = press(&mut model, key);
        assert_eq!(
            cmds,
            [Cmd::Shadow(ShadowCmd::Apply(Box::new(fixtures::plan())))]
        );
        assert_eq!((model.mode, model.plan.as_ref()), (Mode::Normal, None));
        assert_eq!(
            model.op,
            Some(Operation::Applying {
                id: "a1b2c3".into(),
                group: "shop".into(),
                step: None
            })
        );
    }
}

#[test]
fn a_refused_plan_cannot_be_applied() {
    let mut model = with_plan(fixtures::refused_plan());
    for key in [enter(), Key::char('y')] {
        assert!(press(&mut model, key).is_empty());
        assert_eq!(model.mode, Mode::Plan, "the refusals stay on screen");
        assert_eq!(model.op, None);
        assert_eq!(
            model.status.notice.as_deref(),
            Some("the plan is refused (1 setting under \"Refused\"); it cannot be applied")
        );
    }
    press(&mut model, esc());
    assert_eq!(model.mode, Mode::Normal);
}

#[test]
fn esc_or_n_dismisses_the_plan() {
    for key in [esc(), Key::char('n')] {
        let mut model = with_plan(fixtures::plan());
        assert!(press(&mut model, key).is_empty());
        assert_eq!((model.mode, model.plan.as_ref()), (Mode::Normal, None));
        assert_eq!(model.op, None);
        assert_eq!(
            model.status.notice.as_deref(),
            Some("no shadow of shop created")
        );
    }
}

#[test]
fn a_plan_arriving_while_filtering_closes_the_filter_box() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('s'));
    press(&mut model, Key::char('/'));
    assert_eq!(model.mode, Mode::Filter);
    planned(&mut model, fixtures::plan());
    assert_eq!(model.mode, Mode::Plan);
    press(&mut model, esc());
    assert_eq!(
        model.mode,
        Mode::Normal,
        "back to normal, not to the filter"
    );
}

#[test]
fn apply_progress_and_results_update_the_status_and_relist() {
    let mut model = with_plan(fixtures::plan());
    press(&mut model, enter());
    let step = ShadowEvent::Step("preparing the ingress image".into());
    assert!(update(&mut model, Msg::Shadow(step)).is_empty());
    assert!(matches!(
        &model.op,
        Some(Operation::Applying { step: Some(s), .. }) if s == "preparing the ingress image"
    ));
    let done = ShadowEvent::Applied {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Ok(report()),
    };
    assert_eq!(update(&mut model, Msg::Shadow(done)), [Cmd::Refresh]);
    assert_eq!(model.op, None);
    assert_eq!(
        outcome(&model),
        (
            true,
            "shadow a1b2c3 ready in 1.6 s · gateway http://127.0.0.1:40000"
        )
    );

    let mut model = with_plan(fixtures::plan());
    press(&mut model, enter());
    let failed = ShadowEvent::Applied {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Err("shop-shadow-a1b2c3-api-1 did not become ready (exited): exit 1".into()),
    };
    assert_eq!(update(&mut model, Msg::Shadow(failed)), [Cmd::Refresh]);
    assert_eq!(
        outcome(&model),
        (
            false,
            "creating shadow a1b2c3 of shop failed: shop-shadow-a1b2c3-api-1 did not become ready (exited): exit 1"
        )
    );
}

#[test]
fn warnings_of_an_apply_follow_its_success() {
    let mut model = fixtures::model();
    let mut report = report();
    report.warnings = vec!["host isolation rule not installed: x".into(), "y".into()];
    let done = ShadowEvent::Applied {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Ok(report),
    };
    update(&mut model, Msg::Shadow(done));
    assert!(
        outcome(&model)
            .1
            .ends_with(" · warning: host isolation rule not installed: x (+1 more in the log)"),
        "{:?}",
        model.status.outcome
    );
}

#[test]
fn d_without_a_shadow_only_says_so() {
    let mut model = fixtures::model();
    assert!(press(&mut model, Key::char('D')).is_empty());
    assert_eq!(model.mode, Mode::Normal);
    assert_eq!(model.teardown, None);
    assert_eq!(
        model.status.notice.as_deref(),
        Some("shop has no shadow (s creates one)")
    );
}

#[test]
fn d_asks_and_y_tears_the_shadow_down() {
    let mut model = fixtures::model_with_shadow();
    assert!(press(&mut model, Key::char('D')).is_empty());
    assert_eq!(model.mode, Mode::Confirm);
    assert_eq!(
        model.teardown,
        Some(Teardown {
            id: "a1b2c3".into(),
            group: "shop".into()
        })
    );
    // Keys other than the answers do nothing; Enter means no (y/N).
    for key in [Key::char('q'), Key::char('j'), Key::char('s')] {
        assert!(press(&mut model, key).is_empty());
        assert_eq!(model.mode, Mode::Confirm);
    }
    assert_eq!(
        press(&mut model, Key::char('y')),
        [Cmd::Shadow(ShadowCmd::Remove {
            id: "a1b2c3".into(),
            group: "shop".into()
        })]
    );
    assert_eq!((model.mode, model.teardown.as_ref()), (Mode::Normal, None));
    assert_eq!(
        model.op,
        Some(Operation::Removing {
            id: "a1b2c3".into(),
            group: "shop".into()
        })
    );
    let removed = Removed {
        id: "a1b2c3".into(),
        containers: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        networks: vec!["n1".into(), "n2".into()],
        volumes: vec!["v".into()],
    };
    let done = ShadowEvent::Removed {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Ok(removed),
    };
    assert_eq!(update(&mut model, Msg::Shadow(done)), [Cmd::Refresh]);
    assert_eq!(model.op, None);
    assert!(
        model.selected_shadow().is_none(),
        "gone before the relisting"
    );
    assert_eq!(
        outcome(&model),
        (
            true,
            "removed shadow a1b2c3 of shop (4 containers, 2 networks, 1 volumes)"
        )
    );
    assert!(
        model.stats.keys().all(|id| !id.contains("shadow")),
        "its samples go with it"
    );
}

#[test]
fn a_failed_teardown_lands_on_the_status_line() {
    let mut model = fixtures::model_with_shadow();
    press(&mut model, Key::char('D'));
    press(&mut model, Key::char('y'));
    let done = ShadowEvent::Removed {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Err("engine API error 500: device busy".into()),
    };
    assert_eq!(update(&mut model, Msg::Shadow(done)), [Cmd::Refresh]);
    assert_eq!(
        outcome(&model),
        (
            false,
            "removing shadow a1b2c3 of shop failed: engine API error 500: device busy"
        )
    );
    assert!(
        model.selected_shadow().is_some(),
        "kept until the relisting"
    );
}

#[test]
fn n_esc_or_enter_keeps_the_shadow() {
    for key in [Key::char('n'), esc(), enter()] {
        let mut model = fixtures::model_with_shadow();
        press(&mut model, Key::char('D'));
        assert!(press(&mut model, key).is_empty(), "{}", key.label());
        assert_eq!((model.mode, model.teardown.as_ref()), (Mode::Normal, None));
        assert_eq!(model.op, None);
        assert_eq!(
            model.status.notice.as_deref(),
            Some("kept shadow a1b2c3 of shop")
        );
    }
}

#[test]
fn ctrl_c_and_signals_quit_from_the_overlays() {
    let mut model = with_plan(fixtures::plan());
    assert_eq!(press(&mut model, Key::ctrl('c')), [Cmd::Quit]);
    assert_eq!(update(&mut model, Msg::Action(Action::Quit)), [Cmd::Quit]);
    let mut model = fixtures::model_with_shadow();
    press(&mut model, Key::char('D'));
    assert_eq!(press(&mut model, Key::ctrl('c')), [Cmd::Quit]);
}

#[test]
fn quitting_mid_operation_keeps_it_in_the_model_for_the_exit_note() {
    let mut model = with_plan(fixtures::plan());
    press(&mut model, enter());
    assert_eq!(press(&mut model, Key::char('q')), [Cmd::Quit]);
    let note = model.op.as_ref().and_then(Operation::interrupted_note);
    assert!(note.unwrap().contains("`understudy shadow gc`"));
}

#[test]
fn moving_to_another_group_clears_the_last_outcome() {
    let mut model = fixtures::model();
    let done = ShadowEvent::Applied {
        id: "a1b2c3".into(),
        group: "shop".into(),
        result: Ok(report()),
    };
    update(&mut model, Msg::Shadow(done));
    press(&mut model, Key::char('j'));
    assert!(model.status.outcome.is_some(), "still on shop");
    press(&mut model, Key::char('k'));
    assert_eq!(model.status.outcome, None);
}
