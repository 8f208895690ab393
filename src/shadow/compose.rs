//! `--compose FILE` (pure): a compose file becomes a [`GroupSpec`] that runs
//! images already on the engine — understudy never pulls or builds.
//!
//! Steps: the text parses into a YAML value (anchors and `<<:` merge keys
//! applied), the value into the typed model (`model`, with `forms`,
//! `lists`, `ports`, `volumes` for the many shapes compose accepts; unknown
//! keys become warnings), the model into services (`convert`, env files
//! read through the injected reader), the services into start order
//! (`capture::ordered`). Every error names the file, line and column
//! (`locate`) and the offending value in quotes (`error`).
//!
//! Owns reading compose files. Does not inspect images (the caller asks
//! the engine for the ids of [`image_refs`]) and does not plan shadows.

mod convert;
mod env;
mod error;
mod forms;
mod lists;
mod locate;
mod model;
mod ports;
mod volumes;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_norway::Value;

pub use error::{At, ComposeError};

use self::convert::Converter;
use self::error::{Source, yaml_error};
use self::locate::{Seg, YamlPath};
use self::model::{ComposeFile, Service, UNSUPPORTED};
use super::capture::{ordered, resolve_dependencies};
use crate::domain::group_spec::SPEC_SCHEMA;
use crate::domain::spec::MountKind;
use crate::domain::{GroupSpec, ServiceSpec, SpecSource};

/// What to read: the file's path (for messages and relative paths; best
/// absolute), its text, an explicit project name, and how to read env files.
pub struct ComposeInput<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub project: Option<&'a str>,
    pub read_env_file: &'a dyn Fn(&Path) -> std::io::Result<String>,
}

/// A Spec from a compose file and what the reading noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeSpec {
    pub spec: GroupSpec,
    pub warnings: Vec<String>,
}

/// The image each service runs, `(service, image ref)` by service name, so
/// the caller can look the images up on the engine first.
pub fn image_refs(input: &ComposeInput<'_>) -> Result<Vec<(String, String)>, ComposeError> {
    let parsed = Parsed::read(input)?;
    let src = parsed.source(input);
    let mut out = Vec::new();
    for (name, svc) in parsed.services(&src)? {
        out.push((name.to_owned(), image_of(&src, name, svc)?));
    }
    Ok(out)
}

/// The Spec of the file's services, with `images` mapping each image ref to
/// its `sha256:` id on the engine.
pub fn to_spec(
    input: &ComposeInput<'_>,
    images: &BTreeMap<String, String>,
) -> Result<ComposeSpec, ComposeError> {
    let parsed = Parsed::read(input)?;
    let src = parsed.source(input);
    let project = project_name(input, &parsed.model, &src)?;
    let mut conv = Converter {
        src: &src,
        file: &parsed.model,
        project: &project,
        dir: input.path.parent().unwrap_or(Path::new("")),
        read_env_file: input.read_env_file,
        warnings: Vec::new(),
    };
    let mut specs = Vec::new();
    for (name, svc) in parsed.services(&src)? {
        let id = image_id(&src, name, svc, images)?;
        specs.push(conv.service(name, svc, &id)?);
    }
    check_dependencies(&src, &parsed, &specs, &mut conv.warnings)?;
    let declared = conv.declared_volumes();
    let mut warnings = parsed.warnings.clone();
    warnings.append(&mut conv.warnings);
    resolve_dependencies(&mut specs, &mut warnings);
    let services = ordered(specs, &mut warnings);
    let (volumes, networks) = group_names(&services, declared);
    Ok(ComposeSpec {
        spec: GroupSpec {
            schema: SPEC_SCHEMA.to_owned(),
            group: project,
            source: SpecSource::ComposeFile {
                path: input.path.display().to_string(),
            },
            services,
            volumes,
            networks,
        },
        warnings,
    })
}

/// The engine id of the image a service runs.
fn image_id(
    src: &Source<'_>,
    name: &str,
    svc: &Service,
    images: &BTreeMap<String, String>,
) -> Result<String, ComposeError> {
    let image = image_of(src, name, svc)?;
    match images.get(&image) {
        Some(id) => Ok(id.clone()),
        None => Err(ComposeError::ImageNotOnEngine {
            at: src.at(&YamlPath::default().key("services").key(name).key("image")),
            service: name.to_owned(),
            image,
        }),
    }
}

/// The group's volumes (those declared plus those mounted) and networks
/// (those attached), by engine name.
fn group_names(services: &[ServiceSpec], declared: BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let mut volumes = declared;
    let mut networks = BTreeSet::new();
    for s in services {
        networks.extend(s.container.networks.iter().map(|n| n.network.clone()));
        let mounted = s
            .container
            .mounts
            .iter()
            .filter(|m| m.kind == MountKind::Volume);
        volumes.extend(mounted.map(|m| m.source.clone()));
    }
    (
        volumes.into_iter().collect(),
        networks.into_iter().collect(),
    )
}

/// The file read into its model.
struct Parsed {
    value: Value,
    model: ComposeFile,
    warnings: Vec<String>,
}

impl Parsed {
    fn read(input: &ComposeInput<'_>) -> Result<Self, ComposeError> {
        let file = input.path.display().to_string();
        let mut value: Value =
            serde_norway::from_str(input.text).map_err(|e| yaml_error(&file, &e))?;
        for _ in 0..8 {
            value.apply_merge().map_err(|e| yaml_error(&file, &e))?;
            if !has_merge_key(&value) {
                break;
            }
        }
        let mut ignored: Vec<YamlPath> = Vec::new();
        let result: Result<ComposeFile, _> = {
            let mut note = |p: serde_ignored::Path<'_>| ignored.push(segments(&p));
            serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&value, &mut note))
        };
        let src = Source {
            file,
            text: input.text,
            value: &value,
        };
        let model = result.map_err(|e| src.serde_error(&e))?;
        let mut warnings: Vec<String> = ignored.iter().filter_map(ignored_warning).collect();
        for (name, svc) in model.services.iter().flatten() {
            if let Some(profiles) = svc.as_ref().and_then(|s| s.profiles.as_ref()) {
                if !profiles.0.is_empty() {
                    warnings.push(format!(
                        "services.{name}: behind profile {:?}; not started, as without --profile",
                        profiles.0.join(",")
                    ));
                }
            }
        }
        if input.text.replace("$$", "").contains("${") {
            warnings.push(format!(
                "{}: ${{...}} interpolation is not supported; values are used as written",
                src.file
            ));
        }
        Ok(Self {
            value,
            model,
            warnings,
        })
    }

    fn source<'a>(&'a self, input: &'a ComposeInput<'_>) -> Source<'a> {
        Source {
            file: input.path.display().to_string(),
            text: input.text,
            value: &self.value,
        }
    }

    /// The services to run: all but those behind a profile (skipped, as
    /// `docker compose up` does without `--profile`).
    fn services(&self, src: &Source<'_>) -> Result<Vec<(&str, &Service)>, ComposeError> {
        let no_services = || ComposeError::NoServices {
            at: src.at(&YamlPath::default().key("services")),
        };
        let all = self.model.services.as_ref().ok_or_else(no_services)?;
        if all.is_empty() {
            return Err(no_services());
        }
        let mut out = Vec::new();
        for (name, svc) in all {
            let Some(svc) = svc else {
                return Err(ComposeError::NoImage {
                    at: src.at(&YamlPath::default().key("services").key(name)),
                    service: name.clone(),
                });
            };
            if svc.profiles.as_ref().is_some_and(|p| !p.0.is_empty()) {
                continue;
            }
            out.push((name.as_str(), svc));
        }
        Ok(out)
    }

    fn profiled_out(&self) -> BTreeSet<&str> {
        let all = self.model.services.iter().flatten();
        all.filter(|(_, s)| {
            s.as_ref()
                .and_then(|s| s.profiles.as_ref())
                .is_some_and(|p| !p.0.is_empty())
        })
        .map(|(n, _)| n.as_str())
        .collect()
    }
}

fn has_merge_key(value: &Value) -> bool {
    match value {
        Value::Mapping(m) => m.contains_key("<<") || m.values().any(has_merge_key),
        Value::Sequence(s) => s.iter().any(has_merge_key),
        Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

fn segments(path: &serde_ignored::Path<'_>) -> YamlPath {
    fn walk(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
        match path {
            serde_ignored::Path::Root => {}
            serde_ignored::Path::Seq { parent, index } => {
                walk(parent, out);
                out.push(Seg::Index(*index));
            }
            serde_ignored::Path::Map { parent, key } => {
                walk(parent, out);
                out.push(Seg::Key(key.clone()));
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut out = Vec::new();
    walk(path, &mut out);
    YamlPath(out)
}

/// The warning for an ignored key; `None` for `version` and extension
/// keys (`x-*`, allowed by the compose specification wherever a mapping of
/// settings is).
fn ignored_warning(path: &YamlPath) -> Option<String> {
    let key = |i: usize| match path.0.get(i) {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    let last = key(path.0.len().saturating_sub(1));
    if last.starts_with("x-") || (path.0.len() == 1 && last == "version") {
        return None;
    }
    let top_or_service = path.0.len() == 1 || (key(0) == "services" && path.0.len() == 3);
    if top_or_service && UNSUPPORTED.contains(&last) {
        Some(format!("{path}: not supported by understudy, ignored"))
    } else {
        Some(format!("{path}: unknown field, ignored"))
    }
}

/// The image a service runs; refuses services that would need a build.
fn image_of(src: &Source<'_>, name: &str, svc: &Service) -> Result<String, ComposeError> {
    let path = YamlPath::default().key("services").key(name);
    match (&svc.image, &svc.build) {
        (Some(image), _) if !image.0.trim().is_empty() => Ok(image.0.trim().to_owned()),
        (_, Some(_)) => Err(ComposeError::BuildOnly {
            at: src.at(&path.key("build")),
            service: name.to_owned(),
        }),
        _ => Err(ComposeError::NoImage {
            at: src.at(&path),
            service: name.to_owned(),
        }),
    }
}

/// `depends_on` names must be services of the file; those skipped by a
/// profile are dropped with a warning.
fn check_dependencies(
    src: &Source<'_>,
    parsed: &Parsed,
    specs: &[ServiceSpec],
    warnings: &mut Vec<String>,
) -> Result<(), ComposeError> {
    let profiled = parsed.profiled_out();
    let known: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    for s in specs {
        for dep in &s.depends_on {
            if known.contains(dep.as_str()) {
                continue;
            }
            if profiled.contains(dep.as_str()) {
                warnings.push(format!(
                    "services.{}.depends_on: {dep:?} is behind a profile and is not started",
                    s.name
                ));
                continue;
            }
            let base = YamlPath::default().key("services").key(&s.name);
            let path = src.item_path(&base.key("depends_on"), dep);
            return Err(src.invalid(&path, format!("no such service in the file {dep:?}")));
        }
    }
    Ok(())
}

/// The project: the caller's, else the file's `name:`, else the name of the
/// file's directory made valid as compose does (lowercased, other
/// characters dropped), else its stem.
fn project_name(
    input: &ComposeInput<'_>,
    model: &ComposeFile,
    src: &Source<'_>,
) -> Result<String, ComposeError> {
    if let Some(p) = input.project {
        return valid_project(p).ok_or_else(|| ComposeError::Project { name: p.to_owned() });
    }
    if let Some(name) = &model.name {
        return valid_project(&name.0).ok_or_else(|| {
            src.invalid(
                &YamlPath::default().key("name"),
                format!(
                    "a project name uses lowercase letters, digits, '-' and '_', starting with a letter or digit: {:?}",
                    name.0
                ),
            )
        });
    }
    let dir = input.path.parent().and_then(Path::file_name);
    let stem = input.path.file_stem();
    Ok([dir, stem]
        .into_iter()
        .flatten()
        .map(|n| normalized_project(&n.to_string_lossy()))
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned()))
}

fn valid_project(name: &str) -> Option<String> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    ok.then(|| name.to_owned())
}

fn normalized_project(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    kept.trim_start_matches(['-', '_']).to_owned()
}
