//! `understudy proxy`: run the fault proxy (proxies from a TOML file and
//! its control API), or drive a running one with `understudy proxy ctl`
//! (also from inside a shadow: `docker exec <proxy> /understudy proxy ctl`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::proxy::{FaultKind, FaultSpec, FaultSpecWire, Options, Protocol, ProxyConfig, Server};

/// Arguments of `understudy proxy`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProxyArgs {
    #[command(subcommand)]
    pub command: Option<ProxyCommand>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProxyCommand {
    /// Drive a running proxy through its control API.
    Ctl(CtlArgs),
}

/// Running the proxy.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Proxies to start: TOML with `[[proxy]]` name, listen, upstream, protocol ("tcp" or "http").
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the control API listens (loopback or the shadow's internal network only).
    #[arg(long, default_value = "127.0.0.1:8474")]
    pub listen_control: SocketAddr,
    #[command(flatten)]
    pub token: TokenArgs,
    /// How long an HTTP request head may take (http proxies and the control API).
    #[arg(long, default_value = "10s", value_parser = super::parse_duration_arg)]
    pub header_timeout: Duration,
    /// The largest HTTP head accepted (http proxies), e.g. 64k.
    #[arg(long, default_value = "64k", value_parser = parse_size)]
    pub max_header: u64,
    /// Seed for the toxicity draws (default: random), for reproducible runs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long open connections may drain on SIGTERM / SIGINT.
    #[arg(long, default_value = "2s", value_parser = super::parse_duration_arg)]
    pub grace: Duration,
}

/// The control API's bearer token.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The control token (or UNDERSTUDY_PROXY_TOKEN).
    #[arg(long, env = "UNDERSTUDY_PROXY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read the control token from this file (wins over --token).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

impl TokenArgs {
    fn resolve(&self) -> anyhow::Result<Option<String>> {
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            let token = text.trim().to_owned();
            if token.is_empty() {
                bail!("the token file {} is empty", path.display());
            }
            return Ok(Some(token));
        }
        Ok(self.token.clone().filter(|t| !t.is_empty()))
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    crate::domain::units::parse_bytes(s).map_err(|e| e.to_string())
}

/// `understudy proxy ...`.
pub async fn run(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(ProxyCommand::Ctl(ctl)) => ctl_run(ctl).await,
        None => serve(args.serve).await,
    }
}

/// Connections need two descriptors each; 10k of them need ~20k.
const WANTED_FILES: u64 = 20_480;

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    match crate::proxy::raise_nofile_limit() {
        Ok(limit) if limit < WANTED_FILES => eprintln!(
            "understudy proxy: warning: the open-file limit is {limit}; \
             10k proxied connections need about {WANTED_FILES} (raise the hard limit, e.g. --ulimit nofile)"
        ),
        Ok(limit) => tracing::info!(limit, "open-file limit"),
        Err(e) => eprintln!("understudy proxy: warning: raising the open-file limit: {e}"),
    }
    let token = if let Some(token) = args.token.resolve()? {
        token
    } else {
        let token = format!(
            "{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        eprintln!("understudy proxy: no token given; the control token is {token}");
        token
    };
    let server = Server::new(Options {
        header_timeout: args.header_timeout,
        max_head: usize::try_from(args.max_header).unwrap_or(usize::MAX),
        seed: args.seed.unwrap_or_else(rand::random),
        grace: args.grace,
    });
    if let Some(path) = &args.config {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let proxies =
            crate::proxy::config::parse(&text).with_context(|| format!("in {}", path.display()))?;
        for proxy in proxies {
            let name = proxy.name.clone();
            server
                .add_proxy(proxy)
                .await
                .with_context(|| format!("starting proxy {name:?} from {}", path.display()))?;
        }
    }
    let listener = TcpListener::bind(args.listen_control)
        .await
        .with_context(|| format!("binding the control API on {}", args.listen_control))?;
    let control_addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let control = tokio::spawn(crate::proxy::control::serve(
        listener,
        Arc::clone(&server),
        Arc::from(token),
        args.header_timeout,
        shutdown.clone(),
    ));
    let proxies: Vec<String> = server
        .proxies()
        .iter()
        .map(|p| {
            format!(
                "{} {} -> {} ({})",
                p.name,
                p.listen,
                p.upstream,
                p.protocol.name()
            )
        })
        .collect();
    eprintln!(
        "understudy proxy: control API on {control_addr}; proxies: {}",
        if proxies.is_empty() {
            "none".to_owned()
        } else {
            proxies.join(", ")
        }
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutting down");
    shutdown.cancel();
    server.shutdown().await;
    let _ = control.await;
    Ok(ExitCode::SUCCESS)
}

/// Driving a running proxy.
#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    /// The control API, HOST:PORT.
    #[arg(
        long,
        default_value = "127.0.0.1:8474",
        env = "UNDERSTUDY_PROXY_CONTROL"
    )]
    pub control: String,
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(subcommand)]
    pub op: CtlOp,
}

#[derive(Debug, clap::Subcommand)]
pub enum CtlOp {
    /// Add a fault: `add PROXY KIND key=value...`, e.g.
    /// `add api latency latency=200ms jitter=20ms toxicity=50% direction=upstream sources=10.213.0.5/32`.
    Add {
        proxy: String,
        kind: String,
        params: Vec<String>,
    },
    /// Remove one fault by id.
    Remove { proxy: String, id: u64 },
    /// Remove every fault of every proxy.
    Reset,
    /// List the faults of one proxy, or of all.
    List { proxy: Option<String> },
    /// List the proxies.
    Proxies,
    /// Create a proxy.
    Create {
        name: String,
        listen: String,
        upstream: String,
        #[arg(long, value_parser = ["tcp", "http"], default_value = "tcp")]
        protocol: String,
    },
    /// Delete a proxy (its connections close).
    Delete { name: String },
    /// Print the fault kinds and their parameters with units (no request).
    Kinds,
}

async fn ctl_run(args: CtlArgs) -> anyhow::Result<ExitCode> {
    let (method, path, body) = match &args.op {
        CtlOp::Kinds => {
            for kind in FaultKind::ALL {
                println!("{}", kind.describe());
            }
            println!(
                "every kind also takes: {}",
                crate::proxy::model::COMMON_PARAMS.join(", ")
            );
            return Ok(ExitCode::SUCCESS);
        }
        CtlOp::Add {
            proxy,
            kind,
            params,
        } => {
            let spec = FaultSpec::from_words(kind, params)
                .map_err(|e| anyhow::anyhow!("{e}; valid:\n  {}", e.valid().join("\n  ")))?;
            let wire = FaultSpecWire::from(spec);
            (
                Method::POST,
                format!("/proxies/{proxy}/faults"),
                Some(serde_json::to_value(wire)?),
            )
        }
        CtlOp::Remove { proxy, id } => (
            Method::DELETE,
            format!("/proxies/{proxy}/faults/{id}"),
            None,
        ),
        CtlOp::Reset => (Method::POST, "/reset".to_owned(), None),
        CtlOp::List { proxy: Some(p) } => (Method::GET, format!("/proxies/{p}/faults"), None),
        CtlOp::List { proxy: None } => (Method::GET, "/faults".to_owned(), None),
        CtlOp::Proxies => (Method::GET, "/proxies".to_owned(), None),
        CtlOp::Create {
            name,
            listen,
            upstream,
            protocol,
        } => {
            let config = ProxyConfig {
                name: name.clone(),
                listen: listen.clone(),
                upstream: upstream.clone(),
                protocol: if protocol == "http" {
                    Protocol::Http
                } else {
                    Protocol::Tcp
                },
            };
            (
                Method::POST,
                "/proxies".to_owned(),
                Some(serde_json::to_value(config)?),
            )
        }
        CtlOp::Delete { name } => (Method::DELETE, format!("/proxies/{name}"), None),
    };
    let token = args.token.resolve()?.unwrap_or_default();
    let (status, value) = call(&args.control, &token, method, &path, body).await?;
    if status.is_success() {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let message = value["error"]
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned);
    let valid: Vec<&str> = value["valid"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if valid.is_empty() {
        bail!("{status}: {message}")
    }
    bail!("{status}: {message}; valid:\n  {}", valid.join("\n  "))
}

/// One request to a control API; the answer as JSON (or as a string).
pub async fn call(
    control: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let (host, port) = control
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .with_context(|| format!("invalid control address {control:?}: expected HOST:PORT"))?;
    let ip = *crate::dns::resolve_ipv4(host)
        .await
        .with_context(|| format!("resolving {host:?}"))?
        .first()
        .with_context(|| format!("{host:?} has no address"))?;
    let exchange = async {
        let stream = TcpStream::connect((ip, port))
            .await
            .with_context(|| format!("connecting to the control API at {control}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let body = body.unwrap_or(Value::Null);
        let bytes = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, control)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(bytes))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes).trim().to_owned()));
        anyhow::Ok((status, value))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .with_context(|| format!("the control API at {control} did not answer within 10s"))?
}
