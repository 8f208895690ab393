//! Failure injection into shadows only.
//!
//! Owns: schedules (pure): timed, recurring and probabilistic faults with a
//! seed, and blast-radius limits.

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
