//! The console's own test fixtures: its model built through `update` from
//! the engine-side fixtures of [`crate::fixtures`] (re-exported here, with
//! the fake platform), with and without shadow a1b2c3.

pub use crate::fixtures::*;

use super::model::{Model, Shadow};
use super::msg::Msg;
use super::update::update;
use crate::shadow::tracking;

/// The console with `shop` selected, the engine known, stats flowing and the
/// clock at 12:00:00, built through `update` as the real console is.
pub fn model() -> Model {
    let mut model = Model::new(Some("shop".into()));
    update(&mut model, Msg::Tick("12:00:00".into()));
    update(&mut model, Msg::Engine(engine()));
    update(&mut model, Msg::Groups(groups()));
    for sample in shop_stats() {
        update(&mut model, Msg::Stats(sample));
    }
    model
}

/// The shadows as the feed reports them (through the real derivations).
pub fn shadows() -> Vec<Shadow> {
    let containers = shadow_containers();
    let states = tracking::shadows(&containers, &shadow_networks(), &[ready_marker()]);
    Shadow::collect(states, &containers_with_shadow())
}

/// [`model`] with shadow a1b2c3 of shop listed and its stats flowing.
pub fn model_with_shadow() -> Model {
    let mut model = model();
    update(&mut model, Msg::Shadows(shadows()));
    for sample in shadow_stats() {
        update(&mut model, Msg::Stats(sample));
    }
    model
}
