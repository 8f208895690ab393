//! Role configuration from environment variables (the table is in the
//! `roles` module docs). Pure: every parser takes a lookup function, so tests
//! pass a map and the shell passes `std::env::var`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::units::parse_duration;

/// An environment variable with a value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var} {value:?}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

/// Settings every role shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// Listen on 0.0.0.0 at this port.
    pub port: u16,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

/// The gateway's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    pub shutdown_grace: Duration,
    /// Where `/api/*` goes.
    pub upstream: HostPort,
    /// How often the upstream name is resolved again.
    pub resolve_every: Duration,
    /// Limit for one upstream exchange (connect, send, read the response).
    pub upstream_timeout: Duration,
}

/// The api's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub shutdown_grace: Duration,
    /// Thread CPU time burnt per request (search burns twice this).
    pub cpu: Duration,
    /// Requests allowed in the work + store section at once.
    pub workers: usize,
    /// Requests allowed to wait for a worker; more get 503.
    pub queue: usize,
    pub store: HostPort,
    pub store_timeout: Duration,
    pub resolve_every: Duration,
}

/// The store's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub shutdown_grace: Duration,
    /// Directory of `store.log`.
    pub data_dir: PathBuf,
    /// Modelled disk latency added to each write.
    pub write_latency: Duration,
    /// fsync the log after each write.
    pub fsync: bool,
}

/// A `host:port` target; the host is a DNS name or an IP literal
/// (`[v6]:port` for IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl HostPort {
    /// The address when the host is an IP literal (no resolution needed).
    pub fn literal(&self) -> Option<SocketAddr> {
        self.host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Parses `host:port`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, port) = rest
                .split_once("]:")
                .ok_or("expected [ipv6]:port".to_owned())?;
            host.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("{host:?} is not an IPv6 address"))?;
            (host, port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or("expected host:port")?;
            if host.is_empty() || host.contains(['/', ' ', '[', ']', ':', '@']) {
                return Err(format!("{host:?} is not a host name"));
            }
            (host, port)
        };
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?;
        if port == 0 {
            return Err("port 0 is not a destination".to_owned());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Reads variables through `lookup`, turning parse failures into errors
/// that name the variable and the value.
struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get<T>(
        &self,
        var: &'static str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match (self.lookup)(var) {
            None => Ok(default),
            Some(value) => parse(&value).map_err(|reason| ConfigError { var, value, reason }),
        }
    }

    fn duration(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        self.get(var, default, |v| {
            parse_duration(v).map_err(|e| e.reason.clone())
        })
    }

    /// A duration where a bare number means milliseconds (`API_CPU_MS=5`).
    fn millis(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        self.get(var, default, |v| match v.trim().parse::<u64>() {
            Ok(ms) => Ok(Duration::from_millis(ms)),
            Err(_) => parse_duration(v).map_err(|e| e.reason.clone()),
        })
    }

    /// A duration that must be above zero (a period or a timeout).
    fn positive(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let d = self.duration(var, default)?;
        if d.is_zero() {
            return Err(ConfigError {
                var,
                value: (self.lookup)(var).unwrap_or_default(),
                reason: "must be greater than zero".to_owned(),
            });
        }
        Ok(d)
    }

    fn count(&self, var: &'static str, default: usize, min: usize) -> Result<usize, ConfigError> {
        self.get(var, default, |v| {
            let n: usize = v
                .trim()
                .parse()
                .map_err(|_| "expected a whole number".to_owned())?;
            if n < min {
                return Err(format!("must be at least {min}"));
            }
            Ok(n)
        })
    }

    fn host_port(&self, var: &'static str, default: &str) -> Result<HostPort, ConfigError> {
        match (self.lookup)(var) {
            None => HostPort::parse(default).map_err(|reason| ConfigError {
                var,
                value: default.to_owned(),
                reason,
            }),
            Some(value) => {
                HostPort::parse(&value).map_err(|reason| ConfigError { var, value, reason })
            }
        }
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

const DEFAULT_GRACE: Duration = Duration::from_secs(5);
const ONE_SECOND: Duration = Duration::from_secs(1);
const TWO_SECONDS: Duration = Duration::from_secs(2);

impl Common {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };
        Ok(Self {
            port: env.get("PORT", 8080, |v| {
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| "expected a port number (0-65535)".to_owned())
            })?,
            shutdown_grace: env.duration("SHUTDOWN_GRACE", DEFAULT_GRACE)?,
        })
    }
}

impl GatewayConfig {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };
        Ok(Self {
            shutdown_grace: env.duration("SHUTDOWN_GRACE", DEFAULT_GRACE)?,
            upstream: env.host_port("GATEWAY_UPSTREAM", "api:8080")?,
            resolve_every: env.positive("GATEWAY_RESOLVE_EVERY", ONE_SECOND)?,
            upstream_timeout: env.positive("GATEWAY_UPSTREAM_TIMEOUT", TWO_SECONDS)?,
        })
    }
}

impl ApiConfig {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };
        Ok(Self {
            shutdown_grace: env.duration("SHUTDOWN_GRACE", DEFAULT_GRACE)?,
            cpu: env.millis("API_CPU_MS", Duration::from_millis(5))?,
            workers: env.count("API_WORKERS", 4, 1)?,
            queue: env.count("API_QUEUE", 32, 0)?,
            store: env.host_port("API_STORE", "store:8080")?,
            store_timeout: env.positive("API_STORE_TIMEOUT", TWO_SECONDS)?,
            resolve_every: env.positive("API_RESOLVE_EVERY", ONE_SECOND)?,
        })
    }
}

impl StoreConfig {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };
        Ok(Self {
            shutdown_grace: env.duration("SHUTDOWN_GRACE", DEFAULT_GRACE)?,
            data_dir: env.get("STORE_DATA", PathBuf::from("/data"), |v| {
                if v.trim().is_empty() {
                    Err("empty; give a directory".to_owned())
                } else {
                    Ok(PathBuf::from(v))
                }
            })?,
            write_latency: env.duration("STORE_WRITE_LATENCY", Duration::from_millis(2))?,
            fsync: env.get("STORE_FSYNC", false, parse_bool)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let none = env(&[]);
        assert_eq!(
            Common::from_env(&none).unwrap(),
            Common {
                port: 8080,
                shutdown_grace: Duration::from_secs(5)
            }
        );
        let gateway = GatewayConfig::from_env(&none).unwrap();
        assert_eq!(gateway.upstream.to_string(), "api:8080");
        assert_eq!(gateway.resolve_every, Duration::from_secs(1));
        assert_eq!(gateway.upstream_timeout, Duration::from_secs(2));
        let api = ApiConfig::from_env(&none).unwrap();
        assert_eq!(
            (api.cpu, api.workers, api.queue),
            (Duration::from_millis(5), 4, 32)
        );
        assert_eq!(api.store.to_string(), "store:8080");
        let store = StoreConfig::from_env(&none).unwrap();
        assert_eq!(store.data_dir, PathBuf::from("/data"));
        assert_eq!(store.write_latency, Duration::from_millis(2));
        assert!(!store.fsync);
    }

    #[test]
    fn values_with_units_parse() {
        let vars = env(&[
            ("PORT", "9090"),
            ("SHUTDOWN_GRACE", "250ms"),
            ("API_CPU_MS", "1.5ms"),
            ("API_WORKERS", "1"),
            ("API_QUEUE", "0"),
            ("API_STORE", "127.0.0.1:7000"),
            ("STORE_FSYNC", "true"),
            ("STORE_DATA", "/tmp/x"),
        ]);
        assert_eq!(Common::from_env(&vars).unwrap().port, 9090);
        let api = ApiConfig::from_env(&vars).unwrap();
        assert_eq!(api.cpu, Duration::from_micros(1500));
        assert_eq!((api.workers, api.queue), (1, 0));
        assert_eq!(api.store.literal(), Some("127.0.0.1:7000".parse().unwrap()));
        assert_eq!(api.shutdown_grace, Duration::from_millis(250));
        let bare = ApiConfig::from_env(env(&[("API_CPU_MS", "7")])).unwrap();
        assert_eq!(bare.cpu, Duration::from_millis(7));
        assert!(ApiConfig::from_env(env(&[("API_CPU_MS", "7 parsecs")])).is_err());
        let store = StoreConfig::from_env(&vars).unwrap();
        assert!(store.fsync);
        assert_eq!(store.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn errors_name_the_variable_and_quote_the_value() {
        let cases: [(&str, &str, String); 6] = [
            (
                "PORT",
                "eighty",
                Common::from_env(env(&[("PORT", "eighty")]))
                    .unwrap_err()
                    .to_string(),
            ),
            (
                "SHUTDOWN_GRACE",
                "5",
                Common::from_env(env(&[("SHUTDOWN_GRACE", "5")]))
                    .unwrap_err()
                    .to_string(),
            ),
            (
                "GATEWAY_UPSTREAM",
                "api",
                GatewayConfig::from_env(env(&[("GATEWAY_UPSTREAM", "api")]))
                    .unwrap_err()
                    .to_string(),
            ),
            (
                "GATEWAY_RESOLVE_EVERY",
                "0",
                GatewayConfig::from_env(env(&[("GATEWAY_RESOLVE_EVERY", "0")]))
                    .unwrap_err()
                    .to_string(),
            ),
            (
                "API_WORKERS",
                "0",
                ApiConfig::from_env(env(&[("API_WORKERS", "0")]))
                    .unwrap_err()
                    .to_string(),
            ),
            (
                "STORE_FSYNC",
                "maybe",
                StoreConfig::from_env(env(&[("STORE_FSYNC", "maybe")]))
                    .unwrap_err()
                    .to_string(),
            ),
        ];
        for (var, value, message) in cases {
            assert!(
                message.starts_with(&format!("invalid {var} \"{value}\": ")),
                "{message}"
            );
        }
    }

    #[test]
    fn host_ports() {
        let hp = HostPort::parse("store:8080").unwrap();
        assert_eq!(
            (hp.host.as_str(), hp.port, hp.literal()),
            ("store", 8080, None)
        );
        let v6 = HostPort::parse("[::1]:81").unwrap();
        assert_eq!(v6.literal(), Some("[::1]:81".parse().unwrap()));
        assert_eq!(v6.to_string(), "[::1]:81");
        for bad in [
            "store",
            ":80",
            "store:",
            "store:0",
            "store:70000",
            "a b:1",
            "::1:80",
        ] {
            assert!(HostPort::parse(bad).is_err(), "{bad}");
        }
    }
}
