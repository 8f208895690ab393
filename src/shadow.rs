//! Shadow deployments: capture a group as a Spec, plan an isolated clone of
//! it (pure), apply the plan through the platform, and tear it down without
//! a trace.
//!
//! Owns: `capture` and `compose` (Specs from running groups and compose
//! files), `order` (dependencies and start order), `plan` (every rewrite with
//! its reason), `naming` and `subnet` (names, labels, address allocation),
//! `host_guard` (the host INPUT rule). Does not own the fault injection or
//! load that later run against a shadow.

pub mod apply;
pub mod capture;
pub mod compose;
pub mod host_guard;
pub mod naming;
pub mod order;
pub mod plan;
pub mod prepare;
pub mod readiness;
pub mod subnet;
pub mod teardown;
pub mod tracking;
