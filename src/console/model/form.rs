//! The fault form (a modal overlay): the target, each parameter of the
//! kind with its default and units, and a TTL, as one-line text fields;
//! validation into a request, a target and a TTL (pure: the catalog's own
//! checks, no engine). And the path prompt (a profile to replay, a schedule
//! to show).
//!
//! Owns: the fields, their defaults and validation. Does not own key
//! handling (`update::form`) or drawing (`view::form`).

use std::time::Duration;

use ratatui::style::Style;
use ratatui_textarea::TextArea;

use crate::console::msg::first_line;
use crate::domain::units::parse_duration;
use crate::fault::catalog::{self, FaultRequest, ParamType};
use crate::fault::target::TargetSpec;

use super::faults::CatalogEntry;

/// The TTL a fault gets unless the form says otherwise.
pub const DEFAULT_TTL: &str = "60s";

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRole {
    Target,
    Param,
    Ttl,
}

/// One line of the form.
#[derive(Debug, Clone)]
pub struct Field {
    pub role: FieldRole,
    pub name: String,
    /// Units and default: `duration: 250ms, 2s · default 2s`.
    pub hint: String,
    pub help: String,
    /// No default: the field must be filled.
    pub required: bool,
    pub input: TextArea<'static>,
}

impl Field {
    fn new(role: FieldRole, name: &str, value: &str, hint: String, help: &str) -> Self {
        let mut input = TextArea::default();
        input.set_cursor_line_style(Style::default());
        input.insert_str(value);
        Self {
            role,
            name: name.to_owned(),
            hint,
            help: help.to_owned(),
            required: false,
            input,
        }
    }

    /// The text, trimmed.
    pub fn value(&self) -> &str {
        self.input.lines().first().map_or("", |l| l.trim())
    }
}

/// A kind, its fields, which one has the cursor, and the last validation
/// error (shown in the form; nothing is applied while there is one).
#[derive(Debug, Clone)]
pub struct FaultForm {
    pub kind: &'static str,
    pub level: &'static str,
    pub edge: bool,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
}

/// A valid form.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub request: FaultRequest,
    pub target: TargetSpec,
    pub ttl: Duration,
}

/// A parameter's units, short.
fn units(kind: ParamType) -> String {
    match kind {
        ParamType::Duration => "duration: 250ms, 2s, 1m".to_owned(),
        ParamType::Bytes => "size: 512k, 64m, 1g".to_owned(),
        ParamType::Share => "share: 30% or 0.3".to_owned(),
        ParamType::Rate => "rate: 1mb/s, 8mbit".to_owned(),
        ParamType::Cpus => "CPUs: 0.1, 0.5, 2".to_owned(),
        ParamType::Signal => "signal: SIGKILL, SIGTERM, …".to_owned(),
        ParamType::Text => "text".to_owned(),
        ParamType::Choice(options) => options.join(" | "),
    }
}

fn hint(units: &str, default: Option<&str>) -> String {
    match default {
        Some("") => format!("{units} · default empty"),
        Some(d) => format!("{units} · default {d}"),
        None => format!("{units} · required"),
    }
}

fn param(name: &str, units: &str, default: Option<&str>, help: &str) -> Field {
    let mut field = Field::new(
        FieldRole::Param,
        name,
        default.unwrap_or(""),
        hint(units, default),
        help,
    );
    field.required = default.is_none();
    field
}

impl FaultForm {
    /// The form for `entry`, aimed at `target` (`SHADOW/SERVICE`, or
    /// `SHADOW/FROM->TO` for edge kinds), each parameter at its default.
    pub fn new(entry: &CatalogEntry, target: &str) -> Self {
        let edge = aims_at_edge(entry.name);
        let aim = if edge {
            "SHADOW/FROM->TO"
        } else {
            "SHADOW/SERVICE or SHADOW/SERVICE/N"
        };
        let mut target_field = Field::new(
            FieldRole::Target,
            "target",
            target,
            aim.to_owned(),
            "shadow containers only",
        );
        target_field.required = true;
        let mut fields = vec![target_field];
        if let Some(def) = catalog::kind(entry.name) {
            fields.extend(
                def.params
                    .iter()
                    .map(|p| param(p.name, &units(p.kind), p.default, p.help)),
            );
        } else if let Some(proxy_kind) = catalog::edge_kind(entry.name) {
            fields.extend(
                proxy_kind
                    .params()
                    .iter()
                    .map(|p| param(p.name, p.unit.describe(), p.default, p.help)),
            );
            fields.push(param(
                "direction",
                "upstream | downstream",
                Some("downstream"),
                "requests (upstream) or responses (downstream)",
            ));
            fields.push(param(
                "toxicity",
                "share: 30% or 0.3",
                Some("100%"),
                "share of connections or requests hit",
            ));
        }
        fields.push(Field::new(
            FieldRole::Ttl,
            "ttl",
            DEFAULT_TTL,
            hint("duration: 30s, 5m", Some(DEFAULT_TTL)),
            "reverted by this console when it ends (or when it quits)",
        ));
        Self {
            kind: entry.name,
            level: entry.level,
            edge,
            fields,
            focus: 0,
            error: None,
        }
    }

    pub fn focused(&mut self) -> Option<&mut Field> {
        self.fields.get_mut(self.focus)
    }

    /// Moves the cursor to the next (or previous) field, wrapping.
    pub fn step(&mut self, forward: bool) {
        let n = self.fields.len().max(1);
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }

    /// The request, target and TTL the fields describe, or the first
    /// problem as one line (naming the field and quoting the value).
    pub fn validate(&self) -> Result<Valid, String> {
        let mut target = None;
        let mut ttl = None;
        let mut sets = Vec::new();
        for field in &self.fields {
            let value = field.value();
            match field.role {
                FieldRole::Target => target = Some(self.target(value)?),
                FieldRole::Ttl => {
                    let d = parse_duration(value).map_err(|e| format!("ttl: {e}"))?;
                    if d.is_zero() {
                        return Err(format!("ttl: {value:?} is no time at all; give e.g. 60s"));
                    }
                    ttl = Some(d);
                }
                FieldRole::Param if value.is_empty() => {
                    if field.required {
                        return Err(format!("{}: required ({})", field.name, field.hint));
                    }
                }
                FieldRole::Param => sets.push((field.name.clone(), value.to_owned())),
            }
        }
        let request = catalog::request(self.kind, &sets).map_err(|e| first_line(&e))?;
        match (target, ttl) {
            (Some(target), Some(ttl)) => Ok(Valid {
                request,
                target,
                ttl,
            }),
            _ => Err("the form lacks a target or a ttl".to_owned()),
        }
    }

    fn target(&self, value: &str) -> Result<TargetSpec, String> {
        if value.is_empty() {
            return Err(format!(
                "target: required ({})",
                if self.edge {
                    "SHADOW/FROM->TO"
                } else {
                    "SHADOW/SERVICE"
                }
            ));
        }
        let spec: TargetSpec = value
            .parse()
            .map_err(|e: crate::fault::target::TargetError| format!("target: {e}"))?;
        let is_edge = matches!(spec, TargetSpec::Edge { .. });
        if self.edge && !is_edge {
            return Err(format!(
                "target: {} acts on an edge; write SHADOW/FROM->TO, not {value:?}",
                self.kind
            ));
        }
        if !self.edge && is_edge {
            return Err(format!(
                "target: {} acts on containers; write SHADOW/SERVICE or SHADOW/SERVICE/N, not {value:?}",
                self.kind
            ));
        }
        Ok(spec)
    }
}

/// Whether `kind` is aimed at an edge (`SHADOW/FROM->TO`): the fault
/// proxy's kinds and `partition`.
pub fn aims_at_edge(kind: &str) -> bool {
    catalog::edge_kind(kind).is_some()
        || catalog::kind(kind).is_some_and(|k| k.aim == catalog::Aim::Edge)
}

/// What a path prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    /// A profile (or log / HAR) file to replay on the shadow.
    Profile,
    /// A schedule file whose timeline the faults pane shows.
    Schedule,
}

impl PromptFor {
    pub fn title(self) -> &'static str {
        match self {
            Self::Profile => "Replay a profile",
            Self::Schedule => "Show a fault schedule",
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Profile => "profile.json, access.log or capture.har",
            Self::Schedule => "schedule.toml",
        }
    }
}

/// A one-line path prompt (a modal overlay).
#[derive(Debug, Clone)]
pub struct Prompt {
    pub purpose: PromptFor,
    pub input: TextArea<'static>,
    pub error: Option<String>,
}

impl Prompt {
    pub fn new(purpose: PromptFor) -> Self {
        let mut input = TextArea::default();
        input.set_cursor_line_style(Style::default());
        input.set_placeholder_text(purpose.placeholder());
        Self {
            purpose,
            input,
            error: None,
        }
    }

    pub fn value(&self) -> &str {
        self.input.lines().first().map_or("", |l| l.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::model::faults::CATALOG;

    fn entry(name: &str) -> &'static CatalogEntry {
        CATALOG.iter().find(|e| e.name == name).unwrap()
    }

    fn set(form: &mut FaultForm, name: &str, value: &str) {
        let field = form.fields.iter_mut().find(|f| f.name == name).unwrap();
        field.input.select_all();
        field.input.cut();
        field.input.insert_str(value);
    }

    #[test]
    fn a_form_lists_target_parameters_with_defaults_and_ttl() {
        let form = FaultForm::new(entry("disk-fill"), "a1b2c3/api");
        let names: Vec<(&str, &str)> = form
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.value()))
            .collect();
        assert_eq!(
            names,
            [
                ("target", "a1b2c3/api"),
                ("size", "100m"),
                ("path", "/tmp"),
                ("ttl", "60s")
            ]
        );
        assert_eq!(form.fields[1].hint, "size: 512k, 64m, 1g · default 100m");
        let valid = form.validate().unwrap();
        assert_eq!(valid.ttl, Duration::from_secs(60));
        assert_eq!(valid.target.to_string(), "a1b2c3/api");
        assert_eq!(valid.request.kind, "disk-fill");
    }

    #[test]
    fn edge_kinds_have_direction_toxicity_and_required_fields() {
        let mut form = FaultForm::new(entry("latency"), "a1b2c3/gateway->api");
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "target",
                "latency",
                "jitter",
                "direction",
                "toxicity",
                "ttl"
            ]
        );
        assert!(form.fields[1].required);
        assert_eq!(
            form.validate().unwrap_err(),
            "latency: required (duration, e.g. 200ms, 1.5s · required)"
        );
        set(&mut form, "latency", "200ms");
        let valid = form.validate().unwrap();
        assert_eq!(valid.request.params["latency"], "200ms");
        set(&mut form, "target", "a1b2c3/api");
        assert!(
            form.validate().unwrap_err().contains("acts on an edge"),
            "{:?}",
            form.validate()
        );
    }

    #[test]
    fn bad_values_are_quoted_and_nothing_is_valid() {
        let mut form = FaultForm::new(entry("cpu-throttle"), "a1b2c3/api");
        set(&mut form, "cpus", "lots");
        let e = form.validate().unwrap_err();
        assert!(e.contains("cpus=\"lots\""), "{e}");
        assert!(!e.contains('\n'));
        set(&mut form, "cpus", "0.5");
        set(&mut form, "ttl", "soon");
        assert!(form.validate().unwrap_err().starts_with("ttl: "));
        set(&mut form, "ttl", "0s");
        assert!(form.validate().unwrap_err().contains("no time at all"));
        set(&mut form, "ttl", "30s");
        set(&mut form, "target", "nonsense");
        assert!(
            form.validate()
                .unwrap_err()
                .starts_with("target: invalid target \"nonsense\"")
        );
        set(&mut form, "target", "");
        assert_eq!(
            form.validate().unwrap_err(),
            "target: required (SHADOW/SERVICE)"
        );
    }

    #[test]
    fn the_cursor_wraps_over_the_fields() {
        let mut form = FaultForm::new(entry("pause"), "a1b2c3/api");
        assert_eq!(form.fields.len(), 2);
        form.step(false);
        assert_eq!(form.focus, 1);
        form.step(true);
        assert_eq!(form.focus, 0);
    }
}
