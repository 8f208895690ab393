//! The concepts of understudy as plain data (serde), with no I/O.
//!
//! Owns: groups of containers and their discovery from labels, label
//! selectors, container specifications (what to create), and raw engine
//! statistics. Does not own how these are obtained (`platform`) or analysed
//! (`metrics`, `detect`, ...).

pub mod container;
pub mod group;
pub mod group_spec;
pub mod labels;
pub mod selector;
pub mod series;
pub mod series_pattern;
pub mod spec;
pub mod stats;
pub mod traffic;
pub mod units;

pub use container::{ContainerSummary, Health, PortBinding, RunState};
pub use group::{Group, GroupKind, Instance, Service};
pub use group_spec::{GroupSpec, ServiceSpec, SpecSource};
pub use selector::Selector;
pub use spec::{ContainerSpec, NetworkSpec, VolumeSpec};
pub use stats::RawStats;
