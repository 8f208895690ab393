//! Where the load goes: a URL parsed once, its host resolved once (tokio's
//! resolver: this runs on the host, not in a scratch container), and a
//! probe connect before a run so an unreachable target fails fast with
//! its address.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::EngineError;

/// An `http://host[:port][/base]` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// The `Host` header value (`host:port` as written).
    pub authority: String,
    /// Prefixed to every request path; no trailing slash, may be empty.
    pub base_path: String,
    /// The resolved addresses, tried in order by the probe.
    pub addrs: Vec<SocketAddr>,
}

/// The parts of a URL before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub host: String,
    pub port: u16,
    pub authority: String,
    /// Path and query (`/` when absent).
    pub path_and_query: String,
}

/// Parses `http://host[:port][/path][?query]` (the checks of
/// [`crate::http_get::Target::parse`]).
pub fn parse_url(url: &str) -> Result<ParsedUrl, EngineError> {
    use crate::http_get::{Target as Url, UrlError};
    let parsed = Url::parse(url, "http://host:port/path").map_err(|e| EngineError::Url {
        url: url.to_owned(),
        reason: match e {
            UrlError::Parse => "does not parse as a URL (write http://host:port/path)".to_owned(),
            UrlError::Https => "https is not supported; load an http:// endpoint".to_owned(),
            other => other.to_string(),
        },
    })?;
    Ok(ParsedUrl {
        host: parsed.host().to_owned(),
        port: parsed.port(),
        authority: parsed.authority.as_str().to_owned(),
        path_and_query: parsed.path.as_str().to_owned(),
    })
}

impl Target {
    /// Resolves `url`'s host; its path becomes the base path of every
    /// request (a query is not allowed there).
    pub async fn resolve(url: &str) -> Result<Self, EngineError> {
        let parsed = parse_url(url)?;
        if parsed.path_and_query.contains('?') {
            return Err(EngineError::Url {
                url: url.to_owned(),
                reason: "a base URL cannot have a query".to_owned(),
            });
        }
        let mut target = Self::origin(url).await?;
        parsed
            .path_and_query
            .trim_end_matches('/')
            .clone_into(&mut target.base_path);
        Ok(target)
    }

    /// Resolves `url`'s host with an empty base path (the path is the
    /// caller's: `understudy load URL` sends exactly that path).
    pub async fn origin(url: &str) -> Result<Self, EngineError> {
        let parsed = parse_url(url)?;
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((parsed.host.as_str(), parsed.port))
            .await
            .map_err(|e| EngineError::Resolve {
                host: parsed.host.clone(),
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(EngineError::Resolve {
                host: parsed.host,
                reason: "no addresses".to_owned(),
            });
        }
        Ok(Self {
            url: url.to_owned(),
            authority: parsed.authority,
            base_path: String::new(),
            addrs,
        })
    }

    /// Connects once to the first address that answers within `timeout`;
    /// the error names the (first) address and why.
    pub async fn probe(&self, timeout: Duration) -> Result<SocketAddr, EngineError> {
        let mut first_error = None;
        for &addr in &self.addrs {
            let reason = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Ok(Ok(_)) => return Ok(addr),
                Ok(Err(e)) => describe_io(&e),
                Err(_) => format!(
                    "no answer within {}",
                    crate::domain::units::format_duration(timeout)
                ),
            };
            first_error.get_or_insert(EngineError::Connect { addr, reason });
        }
        Err(first_error.unwrap_or(EngineError::Resolve {
            host: self.authority.clone(),
            reason: "no addresses".to_owned(),
        }))
    }
}

/// `connection refused`, `network unreachable`, ... (without "os error").
fn describe_io(e: &std::io::Error) -> String {
    let kind = e.kind().to_string();
    if e.kind() == std::io::ErrorKind::Other || kind.contains("uncategorized") {
        e.to_string()
    } else {
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let p = parse_url("http://127.0.0.1:8080/api/x?q=1").unwrap();
        assert_eq!(p.host, "127.0.0.1");
        assert_eq!(p.port, 8080);
        assert_eq!(p.authority, "127.0.0.1:8080");
        assert_eq!(p.path_and_query, "/api/x?q=1");
        let p = parse_url("http://[::1]").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 80));
        assert_eq!(p.path_and_query, "/");
        for bad in [
            "https://x/",
            "ftp://x",
            "127.0.0.1:80",
            "http://",
            "not a url",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        let e = parse_url("https://x/").unwrap_err().to_string();
        assert!(e.contains("\"https://x/\"") && e.contains("https"), "{e}");
    }

    #[tokio::test]
    async fn base_paths_lose_the_trailing_slash() {
        let t = Target::resolve("http://127.0.0.1:1/api/").await.unwrap();
        assert_eq!(t.base_path, "/api");
        assert_eq!(t.addrs, vec!["127.0.0.1:1".parse().unwrap()]);
        assert!(Target::resolve("http://127.0.0.1:1/api?q").await.is_err());
    }
}
