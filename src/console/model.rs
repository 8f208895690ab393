//! The console's state: what the feed reported (engine, groups, shadows,
//! stats), where the cursor is, which pane has focus, the mode (normal,
//! help, filter, the shadow plan, a confirmation), the shadow operation in
//! flight and the status line. Plain data plus read-only derivations that
//! `update` and `view` share (the visible rows of the services pane).
//!
//! Owns: state and its queries; `shadows` (shadows as the console shows
//! them, production and shadow rows side by side), `overlay` (the shadow
//! operation, the plan overlay, the teardown confirmation), `load` (the
//! load pane), `faults` (the faults pane), `watch` (the metrics pane) and
//! `form` (the fault form and the path prompt). Does not own changes (`update`) or drawing (`view`).

pub mod faults;
pub mod form;
pub mod load;
mod overlay;
mod shadows;
pub mod watch;

use std::collections::{HashMap, HashSet, VecDeque};

use ratatui::layout::Size;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use crate::domain::stats::ContainerStats;
use crate::domain::{Group, Instance, RunState, Service};
use crate::platform::EngineInfo;

pub use faults::FaultsPane;
pub use form::Prompt;
pub use load::LoadPane;
pub use overlay::{Operation, PlanOverlay, Teardown};
pub use shadows::{PairRow, RELAY_SERVICE, Shadow, paired_rows, shadow_of};
pub use watch::WatchPane;

/// How many CPU samples a container keeps for its sparkline.
pub const CPU_HISTORY: usize = 24;

/// The two panes: the groups on the left, and on the right the pane the
/// tab selects ([`Tab`]); `Services` names the right one whatever it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Groups,
    Services,
}

/// What the right pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Tab {
    /// The selected group's services (and its shadow's) with live stats.
    #[default]
    Services,
    /// Replay traffic on the shadow: rates, latency, errors.
    Load,
    /// The fault catalog, active faults, the global stop, the timeline.
    Faults,
    /// Production and shadow metrics side by side, anomalies, alerts and
    /// the judges (a watch run while shown).
    Metrics,
}

impl Tab {
    pub const ALL: [Self; 4] = [Self::Services, Self::Load, Self::Faults, Self::Metrics];

    pub fn name(self) -> &'static str {
        match self {
            Self::Services => "Services",
            Self::Load => "Load",
            Self::Faults => "Faults",
            Self::Metrics => "Metrics",
        }
    }

    /// The key that shows it.
    pub fn key(self) -> char {
        match self {
            Self::Services => '1',
            Self::Load => '2',
            Self::Faults => '3',
            Self::Metrics => '4',
        }
    }
}

/// What keys do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Normal,
    Help,
    Filter,
    /// The shadow plan overlay ([`Model::plan`] is set).
    Plan,
    /// The teardown confirmation ([`Model::teardown`] is set).
    Confirm,
    /// The fault form (`faults.form` is set).
    FaultForm,
    /// A path prompt ([`Model::prompt`] is set).
    Prompt,
    /// A fault confirmation: revert one, or stop all (`faults.confirm`).
    FaultConfirm,
}

impl Mode {
    /// Every mode (for tests over the key table).
    pub const ALL: [Self; 8] = [
        Self::Normal,
        Self::Help,
        Self::Filter,
        Self::Plan,
        Self::Confirm,
        Self::FaultForm,
        Self::Prompt,
        Self::FaultConfirm,
    ];
}

/// The latest sample of a container and its recent CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    pub latest: ContainerStats,
    /// Oldest first, at most [`CPU_HISTORY`] values.
    pub cpu: VecDeque<f64>,
}

impl Samples {
    pub fn new(first: ContainerStats) -> Self {
        let mut cpu = VecDeque::with_capacity(CPU_HISTORY);
        cpu.push_back(first.cpu_percent);
        Self { latest: first, cpu }
    }

    pub fn push(&mut self, sample: ContainerStats) {
        if self.cpu.len() == CPU_HISTORY {
            self.cpu.pop_front();
        }
        self.cpu.push_back(sample.cpu_percent);
        self.latest = sample;
    }
}

/// The groups pane: the cursor and the group it selects (kept by name so a
/// re-listing that reorders groups does not move the selection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupsPane {
    pub cursor: usize,
    pub selected: Option<String>,
}

/// The services pane: the cursor over container rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicesPane {
    pub cursor: usize,
}

/// The filter box (a single-line textarea). Its text filters container rows
/// live while typing; Enter keeps it, Esc clears it.
#[derive(Debug, Clone)]
pub struct Filter {
    pub input: TextArea<'static>,
}

impl Default for Filter {
    fn default() -> Self {
        let mut input = TextArea::default();
        input.set_cursor_line_style(Style::default());
        input.set_cursor_style(Style::default());
        input.set_placeholder_text("container or service name");
        Self { input }
    }
}

impl Filter {
    /// The filter text, trimmed.
    pub fn text(&self) -> &str {
        self.input.lines().first().map_or("", |l| l.trim())
    }

    pub fn set_editing(&mut self, editing: bool) {
        let cursor = if editing {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        self.input.set_cursor_style(cursor);
    }

    /// Whether a row with this container and service name passes.
    pub fn matches(&self, container: &str, service: &str) -> bool {
        let needle = self.text().to_lowercase();
        needle.is_empty()
            || container.to_lowercase().contains(&needle)
            || service.to_lowercase().contains(&needle)
    }
}

/// The status line: an error from the feed, a notice (cleared by the next
/// key), the shadow operation in flight ([`Model::op`]), or the outcome of
/// the last one (kept until another starts or the selection moves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub error: Option<String>,
    pub notice: Option<String>,
    pub outcome: Option<Outcome>,
}

/// How the last shadow operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub text: String,
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct Model {
    /// The clock text the header shows (injected by the tick).
    pub clock: String,
    pub engine: Option<EngineInfo>,
    /// The latest host sample.
    pub host: Option<crate::metrics::host::HostStats>,
    /// `None` until the first listing arrives.
    pub groups: Option<Vec<Group>>,
    /// Samples by container id, for the watched group's containers.
    pub stats: HashMap<String, Samples>,
    pub focus: Pane,
    pub mode: Mode,
    pub groups_pane: GroupsPane,
    pub services_pane: ServicesPane,
    pub filter: Filter,
    pub status: Status,
    /// The terminal's size (80x24 until the shell reports it); the plan
    /// overlay wraps and pages by it.
    pub screen: Size,
    /// Every shadow on the engine, from the feed.
    pub shadows: Vec<Shadow>,
    /// The shadow operation running in the background (one at a time).
    pub op: Option<Operation>,
    /// The plan waiting for confirmation (mode `Plan`).
    pub plan: Option<PlanOverlay>,
    /// The shadow waiting for a teardown confirmation (mode `Confirm`).
    pub teardown: Option<Teardown>,
    /// What the right pane shows.
    pub tab: Tab,
    pub load: LoadPane,
    pub faults: FaultsPane,
    pub watch: WatchPane,
    /// The open path prompt (mode `Prompt`).
    pub prompt: Option<Prompt>,
}

impl Model {
    /// A fresh console; `group` preselects a group by name.
    pub fn new(group: Option<String>) -> Self {
        Self {
            clock: String::new(),
            engine: None,
            host: None,
            groups: None,
            stats: HashMap::new(),
            focus: Pane::Groups,
            mode: Mode::Normal,
            groups_pane: GroupsPane {
                cursor: 0,
                selected: group,
            },
            services_pane: ServicesPane::default(),
            filter: Filter::default(),
            status: Status::default(),
            screen: Size::new(80, 24),
            shadows: Vec::new(),
            op: None,
            plan: None,
            teardown: None,
            tab: Tab::Services,
            load: LoadPane::default(),
            faults: FaultsPane::default(),
            watch: WatchPane::default(),
            prompt: None,
        }
    }

    pub fn groups(&self) -> &[Group] {
        self.groups.as_deref().unwrap_or_default()
    }

    /// The group whose services the right pane shows.
    pub fn selected_group(&self) -> Option<&Group> {
        let name = self.groups_pane.selected.as_deref()?;
        self.groups().iter().find(|g| g.name == name)
    }

    /// The shadow shown beside the selected group (see [`shadow_of`]).
    pub fn selected_shadow(&self) -> Option<&Shadow> {
        shadow_of(&self.shadows, self.groups_pane.selected.as_deref()?)
    }

    /// The services pane's rows after filtering.
    pub fn service_rows(&self) -> Vec<Row<'_>> {
        self.selected_group()
            .map(|g| service_rows(g, &self.filter))
            .unwrap_or_default()
    }

    /// Production and shadow rows aligned by service and replica, when the
    /// selected group has a shadow.
    pub fn paired_rows(&self) -> Option<Vec<PairRow<'_>>> {
        let group = self.selected_group()?;
        let shadow = self.selected_shadow()?;
        Some(paired_rows(group, shadow, &self.filter))
    }

    /// How many rows the services cursor moves over: container rows, or
    /// replica pairs when a shadow is shown beside production.
    pub fn container_row_count(&self) -> usize {
        if let Some(pairs) = self.paired_rows() {
            return pairs
                .iter()
                .filter(|r| matches!(r, PairRow::Replica { .. }))
                .count();
        }
        self.service_rows()
            .iter()
            .filter(|r| matches!(r, Row::Container { .. }))
            .count()
    }

    /// Ids of the running containers whose samples the console keeps: the
    /// selected group's and those of its shadow.
    pub fn watched_ids(&self) -> HashSet<String> {
        let group = self.selected_group().into_iter().flat_map(running_ids);
        let shadow = self
            .selected_shadow()
            .into_iter()
            .flat_map(Shadow::running_ids);
        group.chain(shadow).map(str::to_owned).collect()
    }

    /// Whether a container belongs to the selected group or its shadow.
    pub fn shows_container(&self, id: &str) -> bool {
        self.selected_group()
            .is_some_and(|g| g.containers().any(|c| c.id == id))
            || self
                .selected_shadow()
                .is_some_and(|s| s.containers().any(|c| c.id == id))
    }

    pub fn samples(&self, container_id: &str) -> Option<&Samples> {
        self.stats.get(container_id)
    }

    /// The service of the selected group's shadow a fault aims at by
    /// default: the one under the services cursor, else the shadow's first
    /// (the ingress relay is no fault target).
    pub fn selected_shadow_service(&self) -> Option<String> {
        let shadow = self.selected_shadow()?;
        let cursor = self.services_pane.cursor;
        let mut current = None;
        let mut found = None;
        for row in self.paired_rows().unwrap_or_default() {
            match row {
                PairRow::Service { name, shadow, .. } => current = shadow.map(|_| name),
                PairRow::Replica { index, .. } if index == cursor => {
                    found = current;
                    break;
                }
                PairRow::Replica { .. } => {}
            }
        }
        found
            .filter(|name| *name != shadows::RELAY_SERVICE)
            .or_else(|| {
                shadow
                    .services
                    .iter()
                    .map(|s| s.name.as_str())
                    .find(|name| *name != shadows::RELAY_SERVICE)
            })
            .map(str::to_owned)
    }

    /// Where load goes: the selected group's shadow's first entry point,
    /// as (shadow id, service, URL).
    pub fn entry_point(&self) -> Option<(String, String, String)> {
        let shadow = self.selected_shadow()?;
        let (service, url) = shadow.state.entry.iter().next()?;
        Some((shadow.id().to_owned(), service.clone(), url.clone()))
    }
}

/// A row of the services pane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Row<'a> {
    /// A service header: name, replicas, health.
    Service(&'a Service),
    /// A replica; `index` counts container rows from 0 (the cursor's unit).
    Container {
        service: &'a Service,
        instance: &'a Instance,
        index: usize,
    },
}

/// The rows of a group: each service with any replica passing the filter,
/// followed by those replicas.
pub fn service_rows<'a>(group: &'a Group, filter: &Filter) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    let mut index = 0;
    for service in &group.services {
        let passing: Vec<&Instance> = service
            .instances
            .iter()
            .filter(|i| filter.matches(&i.container.name, &service.name))
            .collect();
        if passing.is_empty() {
            continue;
        }
        rows.push(Row::Service(service));
        for instance in passing {
            rows.push(Row::Container {
                service,
                instance,
                index,
            });
            index += 1;
        }
    }
    rows
}

/// Ids of the running containers of a group (those with a stats stream).
pub fn running_ids(group: &Group) -> impl Iterator<Item = &str> {
    group
        .containers()
        .filter(|c| c.state == RunState::Running)
        .map(|c| c.id.as_str())
}
