//! Settings compose accepts in more than one shape: a string or a list
//! (`command`, `env_file`, `tmpfs`), a mapping or a `K=V` list
//! (`environment`, `labels`, `sysctls`, `extra_hosts`), a list or a mapping
//! with options (`depends_on`, `networks`), a number or `{soft, hard}`
//! (`ulimits`). Each is read through serde's own access, so paths and
//! unknown-field tracking reach inside.
//!
//! Owns those shapes. Single scalar values live in `forms`.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_norway::Value;

use super::forms::{FromScalar, Int, Scalar, Text, invalid, split_words, visit_scalars};

/// A visitor for a setting's scalar, list and mapping shapes.
struct Shapes<T> {
    expecting: &'static str,
    scalar: fn(Scalar) -> Result<T, String>,
}

impl<T> Shapes<T> {
    fn convert(self, value: Scalar) -> Result<T, String> {
        (self.scalar)(value)
    }
}

impl<'de, T: ListOrMap<'de>> Visitor<'de> for Shapes<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    visit_scalars!();

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// The list and mapping forms of a setting; either may refuse.
trait ListOrMap<'de>: Sized {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error>;
    fn from_map<A: MapAccess<'de>>(_map: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &"a list"))
    }
}

fn shapes<'de, D: Deserializer<'de>, T: ListOrMap<'de>>(
    d: D,
    expecting: &'static str,
    scalar: fn(Scalar) -> Result<T, String>,
) -> Result<T, D::Error> {
    d.deserialize_any(Shapes { expecting, scalar })
}

fn texts<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<String>, A::Error> {
    let mut out = Vec::new();
    while let Some(Text(t)) = seq.next_element()? {
        out.push(t);
    }
    Ok(out)
}

/// One string or a list of strings (`cap_add`, `tmpfs`, `profiles`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Strings(pub Vec<String>);

impl<'de> ListOrMap<'de> for Strings {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        texts(seq).map(Self)
    }
}

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a string or a list of strings", |s| {
            Ok(Self(vec![s.text()]))
        })
    }
}

/// A command: a list of words, or one string split like a shell would.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command(pub Vec<String>);

impl<'de> ListOrMap<'de> for Command {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        texts(seq).map(Self)
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a command string or a list of words", |s| {
            split_words(&s.text()).map(Self)
        })
    }
}

/// A healthcheck test: `["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`,
/// or a string run by the shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthTest(pub Vec<String>);

impl<'de> ListOrMap<'de> for HealthTest {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        let words = texts(seq)?;
        match words.first().map(String::as_str) {
            Some("CMD" | "CMD-SHELL" | "NONE") => Ok(Self(words)),
            first => Err(de::Error::custom(invalid(
                "a test list starts with CMD, CMD-SHELL or NONE, not",
                first.unwrap_or(""),
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for HealthTest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a test string or list", |s| {
            Ok(Self(vec!["CMD-SHELL".to_owned(), s.text()]))
        })
    }
}

/// `K: V` mapping or `K=V` list; `K` alone (or `K:` with no value) is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs(pub Vec<(String, Option<String>)>);

impl<'de> ListOrMap<'de> for Pairs {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(item)) = seq.next_element()? {
            match item.split_once('=') {
                Some((k, v)) => out.push((k.to_owned(), Some(v.to_owned()))),
                None => out.push((item, None)),
            }
        }
        Ok(Self(out))
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(k)) = map.next_key()? {
            let v: Option<Text> = map.next_value()?;
            out.push((k, v.map(|Text(v)| v)));
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a mapping or a list of K=V", |s| {
            Err(invalid(
                "expected a mapping or a list of K=V, found",
                &s.text(),
            ))
        })
    }
}

/// `extra_hosts`: `host:ip` / `host=ip` list, or `host: ip` (or a list of
/// ips) mapping; kept as `host:ip`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtraHosts(pub Vec<String>);

impl<'de> ListOrMap<'de> for ExtraHosts {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(item)) = seq.next_element()? {
            let split = item.split_once('=').or_else(|| item.split_once(':'));
            match split {
                Some((host, ip)) if !host.is_empty() && !ip.is_empty() => {
                    out.push(format!("{host}:{ip}"));
                }
                _ => return Err(de::Error::custom(invalid("expected host:ip, found", &item))),
            }
        }
        Ok(Self(out))
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(host)) = map.next_key()? {
            let Strings(ips) = map.next_value()?;
            out.extend(ips.into_iter().map(|ip| format!("{host}:{ip}")));
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for ExtraHosts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a list of host:ip or a mapping", |s| {
            Err(invalid(
                "expected a list of host:ip or a mapping, found",
                &s.text(),
            ))
        })
    }
}

/// One `env_file` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileRef {
    pub path: String,
    pub required: bool,
}

#[derive(Deserialize)]
struct EnvFileLong {
    path: Text,
    #[serde(default = "yes")]
    required: bool,
    #[serde(rename = "format")]
    _format: Option<Value>,
}

fn yes() -> bool {
    true
}

/// `env_file`: a path, or a list of paths or `{path, required}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvFiles(pub Vec<EnvFileRef>);

struct EnvFileItem(EnvFileRef);

impl<'de> ListOrMap<'de> for EnvFileItem {
    fn from_seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Seq,
            &"a path or {path, required}",
        ))
    }

    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let long = EnvFileLong::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Self(EnvFileRef {
            path: long.path.0,
            required: long.required,
        }))
    }
}

impl<'de> Deserialize<'de> for EnvFileItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a path or {path, required}", |s| {
            Ok(Self(EnvFileRef {
                path: s.text(),
                required: true,
            }))
        })
    }
}

impl<'de> ListOrMap<'de> for EnvFiles {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(EnvFileItem(item)) = seq.next_element()? {
            out.push(item);
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for EnvFiles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a path or a list of paths", |s| {
            Ok(Self(vec![EnvFileRef {
                path: s.text(),
                required: true,
            }]))
        })
    }
}

/// The long form of a `depends_on` entry; accepted, not used beyond the name.
#[derive(Deserialize)]
struct DependsOnLong {
    #[serde(rename = "condition")]
    _condition: Option<Text>,
    #[serde(rename = "restart")]
    _restart: Option<bool>,
    #[serde(rename = "required")]
    _required: Option<bool>,
}

/// `depends_on`: a list of services, or a mapping of service to options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DependsOn(pub Vec<String>);

impl<'de> ListOrMap<'de> for DependsOn {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        texts(seq).map(Self)
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(name)) = map.next_key()? {
            let _: Option<DependsOnLong> = map.next_value()?;
            out.push(name);
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for DependsOn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a list of services or a mapping", |s| {
            Ok(Self(vec![s.text()]))
        })
    }
}

/// The long form of a service's network entry.
#[derive(Deserialize)]
struct NetworkLong {
    aliases: Option<Strings>,
    #[serde(rename = "ipv4_address")]
    _ipv4_address: Option<Text>,
    #[serde(rename = "ipv6_address")]
    _ipv6_address: Option<Text>,
    #[serde(rename = "priority")]
    _priority: Option<Value>,
}

/// A service's `networks`: names, or a mapping of name to `{aliases}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceNetworks(pub Vec<(String, Vec<String>)>);

impl<'de> ListOrMap<'de> for ServiceNetworks {
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        Ok(Self(
            texts(seq)?.into_iter().map(|n| (n, Vec::new())).collect(),
        ))
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(name)) = map.next_key()? {
            let long: Option<NetworkLong> = map.next_value()?;
            let aliases = long.and_then(|l| l.aliases).map(|Strings(a)| a);
            out.push((name, aliases.unwrap_or_default()));
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for ServiceNetworks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a list of networks or a mapping", |s| {
            Ok(Self(vec![(s.text(), Vec::new())]))
        })
    }
}

/// One `ulimits` entry: a number (soft = hard) or `{soft, hard}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Deserialize)]
struct LimitLong {
    soft: Int,
    hard: Int,
}

impl<'de> ListOrMap<'de> for Limit {
    fn from_seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Seq,
            &"a number or {soft, hard}",
        ))
    }

    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let l = LimitLong::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Self {
            soft: l.soft.0,
            hard: l.hard.0,
        })
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a number or {soft, hard}", |s| {
            let Int(n) = Int::from_scalar(s)?;
            Ok(Self { soft: n, hard: n })
        })
    }
}

/// `devices`: `host:container[:perms]` strings or `{source, target, permissions}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices(pub Vec<String>);

#[derive(Deserialize)]
struct DeviceLong {
    source: Text,
    target: Option<Text>,
    permissions: Option<Text>,
}

struct Device(String);

impl<'de> ListOrMap<'de> for Device {
    fn from_seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &"a device"))
    }

    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let d = DeviceLong::deserialize(MapAccessDeserializer::new(map))?;
        let target = d.target.map_or_else(|| d.source.0.clone(), |t| t.0);
        let perms = d.permissions.map_or_else(|| "rwm".to_owned(), |p| p.0);
        Ok(Self(format!("{}:{target}:{perms}", d.source.0)))
    }
}

impl<'de> Deserialize<'de> for Device {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a device", |s| Ok(Self(s.text())))
    }
}

impl<'de> ListOrMap<'de> for Devices {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Device(d)) = seq.next_element()? {
            out.push(d);
        }
        Ok(Self(out))
    }
}

impl<'de> Deserialize<'de> for Devices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "a list of devices", |s| Ok(Self(vec![s.text()])))
    }
}

/// A top-level network's or volume's `external:` — a boolean, or the legacy
/// `{name: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct External {
    pub yes: bool,
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct ExternalLong {
    name: Option<Text>,
}

impl<'de> ListOrMap<'de> for External {
    fn from_seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Seq,
            &"true, false or {name}",
        ))
    }

    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let l = ExternalLong::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Self {
            yes: true,
            name: l.name.map(|t| t.0),
        })
    }
}

impl<'de> Deserialize<'de> for External {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes(d, "true, false or {name}", |s| match s {
            Scalar::Bool(yes) => Ok(Self { yes, name: None }),
            other => Err(invalid("expected true or false, found", &other.text())),
        })
    }
}
