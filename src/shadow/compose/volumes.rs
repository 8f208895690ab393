//! A service's `volumes` entries: the short syntax (`named:/path[:ro]`,
//! `./host:/path[:ro|rw]`, `/abs:/path`, `/path`) and the long syntax
//! (`{type, source, target, read_only}`) read into [`VolumeEntry`], and
//! host paths made absolute against the compose file's directory.
//!
//! Does not decide volume names (`<project>_<name>`, `external`); that is
//! the conversion's, which knows the project and the declarations.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_norway::Value;

use super::forms::{Scalar, Text, invalid, visit_scalars};

/// What backs a mount, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKind {
    /// A named volume (`source` is the name in the file).
    Named,
    /// A volume without a name: created per container, nothing to shadow.
    Anonymous,
    /// A host path (`source` as written, maybe relative).
    Bind,
    Tmpfs,
}

/// One `volumes` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeEntry {
    pub kind: VolumeKind,
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

const OPTIONS: [&str; 13] = [
    "ro",
    "rw",
    "z",
    "Z",
    "nocopy",
    "shared",
    "slave",
    "private",
    "rshared",
    "rslave",
    "rprivate",
    "cached",
    "delegated",
];

fn is_host_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
}

/// Parses the short syntax.
pub fn parse_short(text: &str) -> Result<VolumeEntry, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => ("", *t, ""),
        [t, m] if !t.is_empty() && !m.starts_with('/') && t.starts_with('/') => ("", *t, *m),
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => {
            return Err(invalid(
                "too many ':' in a volume (use SOURCE:TARGET[:MODE]):",
                text,
            ));
        }
    };
    if !target.starts_with('/') {
        return Err(invalid(
            &format!("the container path {target:?} is not absolute in"),
            text,
        ));
    }
    let mut read_only = false;
    for option in mode.split(',').filter(|o| !o.is_empty()) {
        if !OPTIONS.contains(&option) {
            return Err(invalid(
                &format!("unknown volume option {option:?} (use ro, rw, z, Z, nocopy, ...) in"),
                text,
            ));
        }
        read_only |= option == "ro";
    }
    let kind = if source.is_empty() {
        VolumeKind::Anonymous
    } else if is_host_path(source) {
        VolumeKind::Bind
    } else {
        VolumeKind::Named
    };
    Ok(VolumeEntry {
        kind,
        source: source.to_owned(),
        target: target.to_owned(),
        read_only,
    })
}

#[derive(Deserialize)]
struct VolumeLong {
    #[serde(rename = "type")]
    kind: Text,
    source: Option<Text>,
    target: Text,
    #[serde(default)]
    read_only: bool,
    #[serde(rename = "bind")]
    _bind: Option<Value>,
    #[serde(rename = "volume")]
    _volume: Option<Value>,
    #[serde(rename = "tmpfs")]
    _tmpfs: Option<Value>,
    #[serde(rename = "consistency")]
    _consistency: Option<Value>,
}

fn from_long(long: VolumeLong) -> Result<VolumeEntry, String> {
    let source = long.source.map(|s| s.0).unwrap_or_default();
    let target = long.target.0;
    if !target.starts_with('/') {
        return Err(invalid("the container path is not absolute:", &target));
    }
    let kind = match (long.kind.0.as_str(), source.is_empty()) {
        ("volume", true) => VolumeKind::Anonymous,
        ("volume", false) => VolumeKind::Named,
        ("bind", false) => VolumeKind::Bind,
        ("bind", true) => return Err(invalid("a bind mount needs a source; target", &target)),
        ("tmpfs", _) => VolumeKind::Tmpfs,
        (other, _) => {
            return Err(invalid(
                "unsupported volume type (use volume, bind or tmpfs):",
                other,
            ));
        }
    };
    Ok(VolumeEntry {
        kind,
        source,
        target,
        read_only: long.read_only,
    })
}

struct VolumeVisitor;

impl VolumeVisitor {
    #[allow(clippy::unused_self)] // the shape `visit_scalars!` calls
    fn convert(self, value: Scalar) -> Result<VolumeEntry, String> {
        let text = match value {
            Scalar::Str(s) => s,
            other => other.text(),
        };
        parse_short(&text)
    }
}

impl<'de> Visitor<'de> for VolumeVisitor {
    type Value = VolumeEntry;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SOURCE:TARGET[:MODE] or {type, source, target, read_only}")
    }

    visit_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VolumeEntry, A::Error> {
        let long = VolumeLong::deserialize(MapAccessDeserializer::new(map))?;
        from_long(long).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for VolumeEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VolumeVisitor)
    }
}

/// `path` made absolute against `dir` and cleaned of `.` and `..`
/// (lexically: no file system access).
pub fn host_path(dir: &Path, path: &str) -> String {
    let joined = dir.join(path);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(kind: VolumeKind, source: &str, target: &str, read_only: bool) -> VolumeEntry {
        VolumeEntry {
            kind,
            source: source.to_owned(),
            target: target.to_owned(),
            read_only,
        }
    }

    #[test]
    fn short_syntax_forms() {
        assert_eq!(
            parse_short("data:/data"),
            Ok(v(VolumeKind::Named, "data", "/data", false))
        );
        assert_eq!(
            parse_short("data:/data:ro"),
            Ok(v(VolumeKind::Named, "data", "/data", true))
        );
        assert_eq!(
            parse_short("./conf:/etc/x:rw"),
            Ok(v(VolumeKind::Bind, "./conf", "/etc/x", false))
        );
        assert_eq!(
            parse_short("/srv:/srv:ro,z"),
            Ok(v(VolumeKind::Bind, "/srv", "/srv", true))
        );
        assert_eq!(
            parse_short("/cache"),
            Ok(v(VolumeKind::Anonymous, "", "/cache", false))
        );
        assert_eq!(
            parse_short("/cache:ro"),
            Ok(v(VolumeKind::Anonymous, "", "/cache", true))
        );
    }

    #[test]
    fn short_syntax_errors() {
        assert_eq!(
            parse_short("data:data").unwrap_err(),
            "the container path \"data\" is not absolute in \"data:data\""
        );
        assert!(
            parse_short("a:/b:c:d")
                .unwrap_err()
                .contains("too many ':'")
        );
        assert!(
            parse_short("a:/b:fast")
                .unwrap_err()
                .contains("unknown volume option \"fast\"")
        );
    }

    #[test]
    fn long_syntax() {
        let read = |t: &str| {
            let value: Value = serde_norway::from_str(t).unwrap();
            VolumeEntry::deserialize(&value).map_err(|e| e.to_string())
        };
        assert_eq!(
            read("{type: volume, source: data, target: /data, read_only: true}"),
            Ok(v(VolumeKind::Named, "data", "/data", true))
        );
        assert_eq!(
            read("{type: bind, source: ./x, target: /x}"),
            Ok(v(VolumeKind::Bind, "./x", "/x", false))
        );
        assert_eq!(
            read("{type: tmpfs, target: /tmp}"),
            Ok(v(VolumeKind::Tmpfs, "", "/tmp", false))
        );
        assert_eq!(
            read("{type: volume, target: /anon}"),
            Ok(v(VolumeKind::Anonymous, "", "/anon", false))
        );
        assert!(
            read("{type: npipe, source: x, target: /x}")
                .unwrap_err()
                .contains("\"npipe\"")
        );
    }

    #[test]
    fn host_paths_are_absolute_and_clean() {
        let dir = Path::new("/work/app");
        assert_eq!(host_path(dir, "./conf"), "/work/app/conf");
        assert_eq!(host_path(dir, "../shared/./x"), "/work/shared/x");
        assert_eq!(host_path(dir, "/abs/path"), "/abs/path");
    }
}
