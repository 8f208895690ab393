//! Failure injection into shadows only.
//!
//! Owns: the catalog of kinds and parameters (`catalog`), target syntax and
//! resolution (`target`), the shadow-only guard at the lowest layer
//! (`guard`), the injector that journals, applies and reverts (`inject`,
//! `journal`), the engine-side lease of every applied fault so other
//! operators' `gc` leaves it alone (`lease`), the sweep of leftovers no live
//! fault holds (`sweep`), packet faults in a container's namespace
//! (`netns`), and schedules (pure: timed, recurring and probabilistic faults
//! with a seed, blast-radius limits; `schedule`, `plan_file`,
//! `plan_targets`).

pub mod burn;
pub mod catalog;
pub mod guard;
pub mod inject;
pub mod journal;
pub mod lease;
pub mod netns;
pub mod plan_file;
pub mod plan_targets;
pub mod schedule;
pub mod sweep;
pub mod target;
