//! Failure injection into shadows only.
//!
//! Owns: schedules (pure): timed, recurring and probabilistic faults with a
//! seed, and blast-radius limits.

pub mod guard;
pub mod schedule;
pub mod target;
