//! What a proxy is (name, listen address, upstream `host:port`, protocol)
//! and the TOML file that lists them:
//!
//! ```toml
//! [[proxy]]
//! name = "api"
//! listen = "0.0.0.0:8080"
//! upstream = "api:8080"
//! protocol = "http"   # or "tcp" (the default)
//! ```
//!
//! Pure: parsing and validation; the server binds and resolves.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// How a proxy reads the bytes it passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Bytes only: byte-level faults.
    #[default]
    Tcp,
    /// HTTP/1.1 requests: byte-level and HTTP faults, status metrics.
    Http,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Http => "http",
        }
    }
}

/// One proxy: listen here, forward to `upstream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    pub name: String,
    /// `IP:PORT`; `:PORT` means every interface; port 0 picks a free one.
    pub listen: String,
    /// `HOST:PORT`, HOST resolved with the built-in DNS client.
    pub upstream: String,
    #[serde(default)]
    pub protocol: Protocol,
}

/// Why a proxy definition is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid proxy name {0:?}: use 1-64 letters, digits, '-', '_' or '.'")]
    Name(String),
    #[error("invalid listen address {0:?}: expected IP:PORT or :PORT, e.g. 0.0.0.0:8080")]
    Listen(String),
    #[error("invalid upstream {0:?}: expected HOST:PORT, e.g. api:8080")]
    Upstream(String),
    #[error("{0}")]
    Toml(String),
    #[error("proxy {0:?} is defined twice")]
    Duplicate(String),
}

impl ProxyConfig {
    /// The listen address as a socket address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        let text = self.listen.trim();
        let full = if text.starts_with(':') {
            format!("0.0.0.0{text}")
        } else {
            text.to_owned()
        };
        full.parse()
            .map_err(|_| ConfigError::Listen(self.listen.clone()))
    }

    /// The upstream split into host and port.
    pub fn upstream_parts(&self) -> Result<(String, u16), ConfigError> {
        let err = || ConfigError::Upstream(self.upstream.clone());
        let (host, port) = self.upstream.trim().rsplit_once(':').ok_or_else(err)?;
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(err());
        }
        Ok((host.to_owned(), port.parse().map_err(|_| err())?))
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(ConfigError::Name(self.name.clone()));
        }
        self.listen_addr()?;
        self.upstream_parts()?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    proxy: Vec<ProxyConfig>,
}

/// Parses a config file's text: every proxy valid, names unique.
pub fn parse(text: &str) -> Result<Vec<ProxyConfig>, ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
    let mut seen = std::collections::BTreeSet::new();
    for proxy in &file.proxy {
        proxy.validate()?;
        if !seen.insert(proxy.name.as_str()) {
            return Err(ConfigError::Duplicate(proxy.name.clone()));
        }
    }
    Ok(file.proxy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxies() {
        let proxies = parse(
            "[[proxy]]\nname = \"api\"\nlisten = \":8080\"\nupstream = \"api:8080\"\nprotocol = \"http\"\n\
             [[proxy]]\nname = \"db\"\nlisten = \"127.0.0.1:5432\"\nupstream = \"10.0.0.2:5432\"\n",
        )
        .unwrap();
        assert_eq!(proxies.len(), 2);
        assert_eq!(proxies[0].protocol, Protocol::Http);
        assert_eq!(proxies[1].protocol, Protocol::Tcp);
        assert_eq!(
            proxies[0].listen_addr().unwrap().to_string(),
            "0.0.0.0:8080"
        );
        assert_eq!(
            proxies[0].upstream_parts().unwrap(),
            ("api".to_owned(), 8080)
        );
    }

    #[test]
    fn rejects_bad_definitions_with_the_value() {
        let bad = [
            (
                "name = \"a b\"\nlisten = \":1\"\nupstream = \"x:1\"",
                "\"a b\"",
            ),
            (
                "name = \"a\"\nlisten = \"nowhere\"\nupstream = \"x:1\"",
                "\"nowhere\"",
            ),
            ("name = \"a\"\nlisten = \":1\"\nupstream = \"x\"", "\"x\""),
            (
                "name = \"a\"\nlisten = \":1\"\nupstream = \"x:1\"\nprotocol = \"udp\"",
                "udp",
            ),
            (
                "name = \"a\"\nlisten = \":1\"\nupstream = \"x:1\"\nport = 3",
                "port",
            ),
        ];
        for (body, needle) in bad {
            let e = parse(&format!("[[proxy]]\n{body}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
        let twice = "[[proxy]]\nname = \"a\"\nlisten = \":1\"\nupstream = \"x:1\"\n".repeat(2);
        assert_eq!(
            parse(&twice).unwrap_err(),
            ConfigError::Duplicate("a".into())
        );
        assert!(parse("").unwrap().is_empty());
    }
}
