//! `ports` and `expose`: compose's short syntax (`"8080"`, `"8080:80"`,
//! `"127.0.0.1:8080:80"`, `"127.0.0.1::80"`, `"[::1]:8080:80/udp"`) and
//! long syntax (`{target, published, host_ip, protocol}`) become
//! [`Publish`] entries; `expose` entries become `PORT/PROTO`. Port ranges
//! are refused with the value in the message.

use std::net::IpAddr;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_norway::Value;

use super::forms::{FromScalar, Scalar, Text, invalid, scalar, visit_scalars};
use crate::domain::spec::Publish;

const SHORT_FORM: &str = "[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]";

/// One `ports` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port(pub Publish);

/// One `expose` entry, as `8080/tcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expose(pub String);

impl FromScalar for Expose {
    const EXPECTING: &'static str = "a port like 8080 or \"8080/udp\"";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let text = value.text();
        let (port, protocol) = split_protocol(&text)?;
        let port = port_number(port, &text)?;
        Ok(Self(format!("{port}/{protocol}")))
    }
}

impl<'de> Deserialize<'de> for Expose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d)
    }
}

/// Splits `/proto` off; tcp when absent.
fn split_protocol(text: &str) -> Result<(&str, String), String> {
    match text.rsplit_once('/') {
        None => Ok((text.trim(), "tcp".to_owned())),
        Some((port, proto)) => Ok((port.trim(), protocol(proto, text)?)),
    }
}

fn protocol(proto: &str, whole: &str) -> Result<String, String> {
    let p = proto.trim().to_ascii_lowercase();
    if matches!(p.as_str(), "tcp" | "udp" | "sctp") {
        Ok(p)
    } else {
        Err(invalid(
            &format!("unknown protocol {proto:?} (use tcp, udp or sctp) in"),
            whole,
        ))
    }
}

fn port_number(text: &str, whole: &str) -> Result<u16, String> {
    if text.contains('-') {
        return Err(invalid(
            "port ranges are not supported, list each port:",
            whole,
        ));
    }
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(invalid(
            &format!("{text:?} is not a port number (1-65535) in"),
            whole,
        )),
    }
}

/// Parses the short syntax.
pub fn parse_short(text: &str) -> Result<Publish, String> {
    let (mapping, protocol) = split_protocol(text)?;
    let (host_ip, rest) = match mapping.strip_prefix('[') {
        Some(v6) => {
            let (ip, rest) = v6.split_once("]:").ok_or_else(|| {
                invalid(
                    &format!("an IPv6 host address is [ADDR]:..., as in {SHORT_FORM}:"),
                    text,
                )
            })?;
            (Some(ip), rest)
        }
        None => (None, mapping),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host_port, container) = match (host_ip, parts.as_slice()) {
        (None, [c]) => (None, None, *c),
        (None, [h, c]) => (None, Some(*h), *c),
        (None, [ip, h, c]) => (Some(*ip), Some(*h), *c),
        (Some(ip), [h, c]) => (Some(ip), Some(*h), *c),
        _ => {
            return Err(invalid(
                &format!("too many ':' in a port mapping (use {SHORT_FORM}):"),
                text,
            ));
        }
    };
    let host_ip = match ip {
        Some(ip) => host_address(ip, text)?,
        None => String::new(),
    };
    let host_port = match host_port {
        Some("") | None => None,
        Some(h) => Some(port_number(h, text)?),
    };
    Ok(Publish {
        container_port: port_number(container, text)?,
        protocol,
        host_ip,
        host_port,
    })
}

fn host_address(ip: &str, whole: &str) -> Result<String, String> {
    ip.parse::<IpAddr>()
        .map(|a| a.to_string())
        .map_err(|_| invalid(&format!("{ip:?} is not an IP address in"), whole))
}

#[derive(Deserialize)]
struct PortLong {
    target: Text,
    published: Option<Text>,
    host_ip: Option<Text>,
    protocol: Option<Text>,
    #[serde(rename = "mode")]
    _mode: Option<Text>,
    #[serde(rename = "name")]
    _name: Option<Text>,
    #[serde(rename = "app_protocol")]
    _app_protocol: Option<Value>,
}

fn from_long(long: PortLong) -> Result<Publish, String> {
    let target = long.target.0;
    let host_port = match long.published.map(|p| p.0) {
        None => None,
        Some(p) if p.is_empty() => None,
        Some(p) => Some(port_number(&p, &p)?),
    };
    let host_ip = match long.host_ip.map(|h| h.0) {
        Some(ip) if !ip.is_empty() => host_address(&ip, &ip)?,
        _ => String::new(),
    };
    let protocol = match long.protocol.map(|p| p.0) {
        Some(p) => protocol(&p, &p)?,
        None => "tcp".to_owned(),
    };
    Ok(Publish {
        container_port: port_number(&target, &target)?,
        protocol,
        host_ip,
        host_port,
    })
}

struct PortVisitor;

impl PortVisitor {
    #[allow(clippy::unused_self)] // the shape `visit_scalars!` calls
    fn convert(self, value: Scalar) -> Result<Port, String> {
        let text = match value {
            Scalar::Str(s) => s,
            other => other.text(),
        };
        parse_short(&text).map(Port)
    }
}

impl<'de> Visitor<'de> for PortVisitor {
    type Value = Port;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SHORT_FORM} or {{target, published, host_ip, protocol}}"
        )
    }

    visit_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Port, A::Error> {
        let long = PortLong::deserialize(MapAccessDeserializer::new(map))?;
        from_long(long).map(Port).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PortVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ip: &str, host: Option<u16>, container: u16, proto: &str) -> Publish {
        Publish {
            container_port: container,
            protocol: proto.to_owned(),
            host_ip: ip.to_owned(),
            host_port: host,
        }
    }

    #[test]
    fn short_syntax_forms() {
        assert_eq!(parse_short("8080"), Ok(p("", None, 8080, "tcp")));
        assert_eq!(parse_short("8080:80"), Ok(p("", Some(8080), 80, "tcp")));
        assert_eq!(
            parse_short("127.0.0.1:8080:80"),
            Ok(p("127.0.0.1", Some(8080), 80, "tcp"))
        );
        assert_eq!(
            parse_short("127.0.0.1::80"),
            Ok(p("127.0.0.1", None, 80, "tcp"))
        );
        assert_eq!(parse_short("53:53/udp"), Ok(p("", Some(53), 53, "udp")));
        assert_eq!(
            parse_short("[::1]:8080:80"),
            Ok(p("::1", Some(8080), 80, "tcp"))
        );
    }

    #[test]
    fn short_syntax_errors_quote_the_value() {
        assert_eq!(
            parse_short("a:b:c:d").unwrap_err(),
            format!("too many ':' in a port mapping (use {SHORT_FORM}): \"a:b:c:d\"")
        );
        assert_eq!(
            parse_short("3000-3005:3000-3005").unwrap_err(),
            "port ranges are not supported, list each port: \"3000-3005:3000-3005\""
        );
        assert_eq!(
            parse_short("8080:http").unwrap_err(),
            "\"http\" is not a port number (1-65535) in \"8080:http\""
        );
        assert!(
            parse_short("80/quic")
                .unwrap_err()
                .contains("unknown protocol")
        );
        assert!(
            parse_short("nowhere:80:80")
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(parse_short("70000").is_err());
        assert!(parse_short("0").is_err());
    }

    #[test]
    fn expose_entries() {
        assert_eq!(
            Expose::from_scalar(Scalar::Int(8080)),
            Ok(Expose("8080/tcp".into()))
        );
        assert_eq!(
            Expose::from_scalar(Scalar::Str("53/udp".into())),
            Ok(Expose("53/udp".into()))
        );
        assert!(Expose::from_scalar(Scalar::Str("3000-3005".into())).is_err());
    }

    #[test]
    fn long_syntax() {
        let v: Value = serde_norway::from_str(
            "{target: 80, published: \"8080\", host_ip: 127.0.0.1, protocol: udp}",
        )
        .unwrap();
        let Port(publish) = Port::deserialize(&v).unwrap();
        assert_eq!(publish, p("127.0.0.1", Some(8080), 80, "udp"));
        let v: Value = serde_norway::from_str("{target: 80}").unwrap();
        assert_eq!(Port::deserialize(&v).unwrap().0, p("", None, 80, "tcp"));
    }
}
