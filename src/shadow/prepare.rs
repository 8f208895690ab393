//! The I/O around planning: capturing a Spec from a running group, a label
//! selector, a compose file or a Spec file, and choosing the shadow id, the
//! subnets and the host guard for a plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::capture::{self, Captured};
use super::compose::{self, ComposeInput};
use super::naming;
use super::plan::{self, Allowance, PlanOptions, ShadowPlan, VolumeMode};
use super::subnet::{self, Ipv4Net};
use crate::domain::{GroupSpec, Selector, SpecSource, labels};
use crate::platform::{self, ContainerDetails, GroupError, Platform, PlatformError};

/// Where a Spec comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A compose project on the engine.
    Group(String),
    /// Running containers matching a selector.
    Selector(Selector),
    /// A compose file (images must already be on the engine).
    Compose {
        path: PathBuf,
        project: Option<String>,
    },
    /// A Spec file written by `understudy snapshot`.
    SpecFile(PathBuf),
}

/// Why no Spec or plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Group(#[from] GroupError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("{0}")]
    ComposeFile(String),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error("cannot read {path:?}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    SpecFile { path: String, message: String },
    #[error(
        "no free /{prefix} subnet left in the pool {pool}; remove old shadows (`understudy shadow gc`) or pass a larger --subnet-pool"
    )]
    PoolExhausted { pool: Ipv4Net, prefix: u8 },
    #[error("{group} has {count} shadows ({ids}); say which with --id, or --new for another")]
    Ambiguous {
        group: String,
        count: usize,
        ids: String,
    },
}

fn read(path: &Path) -> Result<String, PrepareError> {
    std::fs::read_to_string(path).map_err(|e| PrepareError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Captures the Spec of `source`.
pub async fn capture_spec(
    platform: &impl Platform,
    source: &Source,
) -> Result<Captured, PrepareError> {
    match source {
        Source::Group(name) => {
            let group = platform::find_group(platform, name).await?;
            let details = inspect_all(platform, &group).await?;
            Ok(capture::capture(
                &group,
                &details,
                SpecSource::Compose {
                    project: name.clone(),
                },
            ))
        }
        Source::Selector(selector) => {
            let group = platform::selector_group(platform, selector).await?;
            let details = inspect_all(platform, &group).await?;
            Ok(capture::capture(
                &group,
                &details,
                SpecSource::Selector {
                    selector: selector.to_string(),
                },
            ))
        }
        Source::Compose { path, project } => {
            let file = ComposeFile::read(path)?;
            // The input borrows a non-Send reader: keep it out of the awaits.
            let refs =
                compose::image_refs(&file.input(project.as_deref())).map_err(|e| file.error(&e))?;
            let mut images = BTreeMap::new();
            for (_, reference) in refs {
                if let Some(image) = platform.inspect_image(&reference).await? {
                    images.insert(reference, image.id);
                }
            }
            let converted = compose::to_spec(&file.input(project.as_deref()), &images)
                .map_err(|e| file.error(&e))?;
            Ok(Captured {
                spec: converted.spec,
                warnings: converted.warnings,
            })
        }
        Source::SpecFile(path) => {
            let text = read(path)?;
            let spec = parse_spec_file(&path.to_string_lossy(), &text)?;
            Ok(Captured {
                spec,
                warnings: Vec::new(),
            })
        }
    }
}

/// A compose file read from disk: its canonical path (so relative bind
/// mounts and the default project name resolve like compose's) and the path
/// as the user wrote it (for messages).
struct ComposeFile {
    given: PathBuf,
    canonical: PathBuf,
    text: String,
}

impl ComposeFile {
    fn read(given: &Path) -> Result<Self, PrepareError> {
        let canonical = std::fs::canonicalize(given).map_err(|e| PrepareError::Read {
            path: given.to_owned(),
            message: e.to_string(),
        })?;
        let text = read(&canonical)?;
        Ok(Self {
            given: given.to_owned(),
            canonical,
            text,
        })
    }

    fn input<'a>(&'a self, project: Option<&'a str>) -> ComposeInput<'a> {
        ComposeInput {
            path: &self.canonical,
            text: &self.text,
            project,
            read_env_file: &|p: &Path| std::fs::read_to_string(p),
        }
    }

    /// The error as the user should read it: with their path.
    fn error(&self, e: &compose::ComposeError) -> PrepareError {
        PrepareError::ComposeFile(e.to_string().replace(
            &*self.canonical.to_string_lossy(),
            &self.given.to_string_lossy(),
        ))
    }
}

/// Checks a file source without the engine, so a bad file is reported
/// before (and without) connecting: a compose file's syntax, types and
/// values (its images are checked against the engine later), a Spec file's
/// syntax. Other sources need the engine and pass.
pub fn check_offline(source: &Source) -> Result<(), PrepareError> {
    match source {
        Source::Compose { path, project } => {
            let file = ComposeFile::read(path)?;
            let input = file.input(project.as_deref());
            let refs = compose::image_refs(&input).map_err(|e| file.error(&e))?;
            let placeholders = refs
                .into_iter()
                .map(|(_, r)| (r, "sha256:not-yet-inspected".to_owned()))
                .collect();
            compose::to_spec(&input, &placeholders).map_err(|e| file.error(&e))?;
            Ok(())
        }
        Source::SpecFile(path) => {
            parse_spec_file(&path.to_string_lossy(), &read(path)?).map(|_| ())
        }
        Source::Group(_) | Source::Selector(_) => Ok(()),
    }
}

/// Parses a Spec file, with file:line:column on errors.
pub fn parse_spec_file(path: &str, text: &str) -> Result<GroupSpec, PrepareError> {
    toml::from_str::<GroupSpec>(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        PrepareError::SpecFile {
            path: format!("{path}:{line}:{column}"),
            message: e.message().to_owned(),
        }
    })
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, column)
}

async fn inspect_all(
    platform: &impl Platform,
    group: &crate::domain::Group,
) -> Result<BTreeMap<String, ContainerDetails>, PlatformError> {
    let ids: Vec<&str> = group.containers().map(|c| c.id.as_str()).collect();
    let results =
        futures::future::join_all(ids.iter().map(|id| platform.inspect_container(id))).await;
    let mut out = BTreeMap::new();
    for r in results {
        match r {
            Ok(d) => {
                out.insert(d.id.clone(), d);
            }
            Err(PlatformError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The operator's choices for a plan.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub id: Option<String>,
    /// Always a new shadow, even if one of the group exists.
    pub new: bool,
    pub entry: Vec<String>,
    pub volumes: VolumeMode,
    pub allow: Vec<Allowance>,
    pub consistent: bool,
    pub pool: Option<Ipv4Net>,
    /// Leave the fault proxies out (no edge faults then).
    pub no_proxies: bool,
}

/// The subnet pool: `--subnet-pool`, else `UNDERSTUDY_SUBNET_POOL`, else the default.
pub fn pool(choice: Option<Ipv4Net>) -> Result<Ipv4Net, subnet::CidrError> {
    if let Some(p) = choice {
        return Ok(p);
    }
    std::env::var("UNDERSTUDY_SUBNET_POOL")
        .unwrap_or_else(|_| subnet::DEFAULT_POOL.to_owned())
        .parse()
}

/// Chooses the shadow id: the given one, else the group's only live
/// shadow (so a second `shadow up` converges), else a new one.
async fn choose_id(
    platform: &impl Platform,
    group: &str,
    choices: &Choices,
) -> Result<String, PrepareError> {
    if let Some(id) = &choices.id {
        return Ok(id.clone());
    }
    if choices.new {
        return Ok(naming::new_id());
    }
    let existing: Vec<String> = super::teardown::shadows(platform)
        .await?
        .into_iter()
        .filter(|s| s.group == group && s.ready)
        .map(|s| s.id)
        .collect();
    match existing.len() {
        0 => Ok(naming::new_id()),
        1 => Ok(existing[0].clone()),
        n => Err(PrepareError::Ambiguous {
            group: group.to_owned(),
            count: n,
            ids: existing.join(", "),
        }),
    }
}

/// The token of the shadow's fault proxies: the one its running proxies
/// carry (so applying again changes nothing), else a new random one.
async fn proxy_token(platform: &impl Platform, id: &str) -> Result<String, PlatformError> {
    let existing = platform
        .list_containers(Some(&Selector::label(labels::SHADOW, id)))
        .await?
        .into_iter()
        .find_map(|c| c.labels.get(naming::PROXY_TOKEN).cloned());
    Ok(existing.unwrap_or_else(|| {
        use rand::Rng;
        let bytes: [u8; 16] = rand::rng().random();
        crate::domain::units::hex(&bytes)
    }))
}

/// Makes the plan for `spec`, reusing the subnets of an existing shadow.
pub async fn plan_for(
    platform: &impl Platform,
    spec: &GroupSpec,
    choices: &Choices,
) -> Result<ShadowPlan, PrepareError> {
    let id = choose_id(platform, &spec.group, choices).await?;
    let proxy_token = proxy_token(platform, &id).await?;
    let pool = pool(choices.pool).map_err(|e| PrepareError::SpecFile {
        path: "UNDERSTUDY_SUBNET_POOL".to_owned(),
        message: e.to_string(),
    })?;
    let networks = platform.list_networks(None).await?;
    let own = |name: String| {
        networks
            .iter()
            .find(|n| n.name == name && n.labels.get(labels::SHADOW) == Some(&id))
            .and_then(|n| n.subnets.first())
            .and_then(|s| s.parse::<Ipv4Net>().ok())
    };
    let mut taken: Vec<Ipv4Net> = networks
        .iter()
        .flat_map(|n| subnet::parse_taken(&n.subnets))
        .collect();
    let mut allocate = |prefix: u8| {
        let got = subnet::allocate(pool, prefix, &taken)
            .ok_or(PrepareError::PoolExhausted { pool, prefix })?;
        taken.push(got);
        Ok::<_, PrepareError>(got)
    };
    let internal_subnet = match own(naming::internal_network(&spec.group, &id)) {
        Some(s) => s,
        None => allocate(subnet::INTERNAL_PREFIX)?,
    };
    let edge_subnet = match own(naming::edge_network(&spec.group, &id)) {
        Some(s) => s,
        None => allocate(subnet::EDGE_PREFIX)?,
    };
    let options = PlanOptions {
        id,
        entry: choices.entry.clone(),
        volumes: choices.volumes,
        allow: choices.allow.iter().copied().collect(),
        consistent: choices.consistent,
        internal_subnet,
        edge_subnet,
        pool,
        relay_image: crate::demo::image::IMAGE.to_owned(),
        proxies: !choices.no_proxies,
        proxy_token,
        owner: super::tracking::Owner::current(),
        created_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        guard: super::host_guard::detect(),
    };
    Ok(plan::plan(spec, &options)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = [\n  x\n]";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 15), (3, 3));
    }

    #[test]
    fn a_bad_spec_file_names_file_line_and_column() {
        let text = "schema = \"understudy.spec/v1\"\ngroup = 3\n";
        let e = parse_spec_file("shop.spec.toml", text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("shop.spec.toml:2:9: "), "{e}");
    }
}
