use super::*;
use crate::console::fixtures;
use crate::console::keymap::Key;
use crate::console::msg::{Msg, WatchNews};
use crate::console::update::update;

fn window(t: u64) -> Box<Window> {
    Box::new(Window::steady(t, 20, 9.0))
}

/// shop with its shadow and a load run on the shadow's entry; the run's id
/// and its entry service.
fn loading() -> (Model, u64, String) {
    let mut model = fixtures::model_with_shadow();
    let cmds = start(&mut model, ProfileSource::Demo);
    let [Cmd::Load(LoadCmd::Start(spec))] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let run = spec.run;
    let service = model.load.run.as_ref().unwrap().service.clone();
    (model, run, service)
}

/// Opens the metrics tab; its run reports watching `shadow`.
fn watch(model: &mut Model, shadow: Option<&str>) -> u64 {
    update(model, Msg::Key(Key::char('4').to_event()));
    let run = model.watch.run.as_ref().unwrap().id;
    update(
        model,
        Msg::Watch(WatchNews::Started {
            run,
            group: "shop".into(),
            shadow: shadow.map(str::to_owned),
            entries: vec!["gateway".into()],
            services: vec!["gateway".into()],
        }),
    );
    run
}

fn second(model: &mut Model, run: u64, t: u64) -> Vec<Cmd> {
    event(
        model,
        LoadEvent::Window {
            run,
            window: window(t),
        },
    )
}

#[test]
fn a_second_of_load_goes_to_the_watch_of_the_same_shadow() {
    let (mut model, load, entry) = loading();
    let watch_run = watch(&mut model, Some(fixtures::SHADOW_ID));
    let cmds = second(&mut model, load, 3);
    assert_eq!(
        cmds,
        [Cmd::Watch(WatchCmd::Client {
            run: watch_run,
            entry,
            window: window(3),
        })]
    );
    // The Load tab keeps it too.
    assert_eq!(model.load.history.len(), 1);
}

#[test]
fn a_second_of_load_stays_away_from_other_watches() {
    // No watch.
    let (mut model, load, _) = loading();
    assert!(second(&mut model, load, 0).is_empty());
    // A watch of another shadow, and of production alone.
    for shadow in [Some("ffffff"), None] {
        let (mut model, load, _) = loading();
        watch(&mut model, shadow);
        assert!(second(&mut model, load, 0).is_empty(), "{shadow:?}");
    }
    // A watch that has stopped.
    let (mut model, load, _) = loading();
    let run = watch(&mut model, Some(fixtures::SHADOW_ID));
    update(
        &mut model,
        Msg::Watch(WatchNews::Ended {
            run,
            result: Ok(()),
        }),
    );
    assert!(second(&mut model, load, 0).is_empty());
    // A second of an older load run.
    let (mut model, load, _) = loading();
    watch(&mut model, Some(fixtures::SHADOW_ID));
    assert!(second(&mut model, load + 1, 0).is_empty());
}
