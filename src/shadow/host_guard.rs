//! The host rules that cut shadows off the host's own addresses and off
//! every other network.
//!
//! An internal Docker network does not isolate the host: the bridge keeps its
//! gateway address on the host and traffic to the host's addresses goes
//! through INPUT, which Docker does not filter. One rule, shared by every
//! shadow (all shadow bridges are named `shd*`), drops new connections from
//! shadow bridges to the host; replies (ESTABLISHED) stay allowed so the
//! ingress relay keeps working.
//!
//! Nor do Docker's own rules keep a shadow apart from production at every
//! instant: whenever any network on the engine is created, dockerd deletes
//! and re-inserts its jumps to `DOCKER-USER` and `DOCKER-ISOLATION-STAGE-1`
//! at the top of FORWARD, and in between, a shadow container's connection
//! to a production container's published port is forwarded (measured on
//! this engine: 162 of 361 connection attempts from an internal network to
//! another network's published container port succeeded while networks
//! were being created and removed, none without the churn). So two more
//! shared rules drop what is routed out of or into a shadow bridge (`-i
//! shd+ ! -o shd+`, `! -i shd+ -o shd+`), in the `mangle` table's FORWARD
//! chain, which dockerd never rewrites. Nothing a shadow needs is routed:
//! its containers talk on their own bridges, and the host reaches the
//! ingress relay through the loopback port (OUTPUT and INPUT, not
//! FORWARD).
//!
//! All three are installed with the iptables binary whose ruleset holds
//! Docker's chains (nf_tables or legacy), as root.
//!
//! The rules are shared, so installing and removing them race between
//! processes: a `shadow up` installs them *after* its networks exist, and the
//! last `down` or `gc` removes them only when no shadow network is left and
//! then looks again, putting them back if one appeared meanwhile
//! (`teardown::retire_rule`). Either order keeps a new shadow's rules.

use std::process::Command;

use super::plan::GuardCapability;

/// Comment that marks our rules.
pub const COMMENT: &str = "understudy-shadow-guard";

/// One of the rules: its table and its chain and match, without the
/// `-I/-C/-D` verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub table: &'static str,
    pub spec: Vec<&'static str>,
}

impl Rule {
    /// As an operator would type it after `iptables`.
    pub fn command(&self, verb: &str) -> String {
        let table = if self.table == "filter" {
            String::new()
        } else {
            format!("-t {} ", self.table)
        };
        format!("{table}{verb} {}", self.spec.join(" "))
    }
}

/// The rule on INPUT: no new connection from a shadow bridge to the host.
fn rule_args() -> Vec<&'static str> {
    vec![
        "INPUT",
        "-i",
        "shd+",
        "-m",
        "conntrack",
        "!",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-m",
        "comment",
        "--comment",
        COMMENT,
        "-j",
        "DROP",
    ]
}

/// Every rule, in the order they are installed.
pub fn rules() -> Vec<Rule> {
    let forward = |inbound: bool| {
        let mut spec = vec!["FORWARD"];
        spec.extend(if inbound {
            ["!", "-i", "shd+", "-o", "shd+"]
        } else {
            ["-i", "shd+", "!", "-o", "shd+"]
        });
        spec.extend(["-m", "comment", "--comment", COMMENT, "-j", "DROP"]);
        Rule {
            table: "mangle",
            spec,
        }
    };
    vec![
        Rule {
            table: "filter",
            spec: rule_args(),
        },
        forward(false),
        forward(true),
    ]
}

/// Whether this process runs as root (euid 0), read from /proc.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| euid_from_status(&s))
        .is_some_and(|uid| uid == 0)
}

/// The effective uid from a `/proc/PID/status` text.
pub fn euid_from_status(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
}

fn run(binary: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new(binary).args(args).output()
}

/// Finds the iptables binary holding Docker's rules and whether the rule
/// can be installed here.
pub fn detect() -> GuardCapability {
    if !is_root() {
        return GuardCapability::Unavailable {
            reason: "not running as root, so the host rule cannot be installed".to_owned(),
        };
    }
    let mut seen_any = false;
    for binary in ["iptables", "iptables-nft", "iptables-legacy"] {
        let Ok(out) = run(binary, &["-w", "-S", "FORWARD"]) else {
            continue;
        };
        seen_any = true;
        if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("DOCKER") {
            return GuardCapability::Available {
                iptables: binary.to_owned(),
            };
        }
    }
    GuardCapability::Unavailable {
        reason: if seen_any {
            "no iptables backend holds Docker's rules".to_owned()
        } else {
            "iptables is not installed".to_owned()
        },
    }
}

/// Why the rule could not be changed.
#[derive(Debug, thiserror::Error)]
#[error("{binary} {action} of the shadow host rule failed: {message}")]
pub struct GuardError {
    pub binary: String,
    pub action: &'static str,
    pub message: String,
}

fn verb(binary: &str, verb: &str, rule: &Rule) -> std::io::Result<std::process::Output> {
    let mut args = vec!["-w", "-t", rule.table, verb];
    args.extend(rule.spec.iter().copied());
    run(binary, &args)
}

/// The rule's two changes, behind a seam (teardown's ordering is tested
/// without iptables).
pub trait HostRule: Sync {
    fn install(&self) -> impl std::future::Future<Output = Result<(), GuardError>> + Send;
    fn remove(&self) -> impl std::future::Future<Output = Result<(), GuardError>> + Send;
}

/// The rule through an iptables binary (off the async runtime: iptables
/// is a blocking command).
pub struct Iptables(pub String);

impl HostRule for Iptables {
    async fn install(&self) -> Result<(), GuardError> {
        let binary = self.0.clone();
        blocking(&self.0, "insert", move || install(&binary)).await
    }

    async fn remove(&self) -> Result<(), GuardError> {
        let binary = self.0.clone();
        blocking(&self.0, "delete", move || remove(&binary)).await
    }
}

/// The rule through whichever iptables binary holds Docker's rules, found
/// when first needed (most `down`s leave the rule alone); nothing to do
/// where none does.
pub struct Detected;

impl HostRule for Detected {
    async fn install(&self) -> Result<(), GuardError> {
        blocking("iptables", "insert", || with_detected(install)).await
    }

    async fn remove(&self) -> Result<(), GuardError> {
        blocking("iptables", "delete", || with_detected(remove)).await
    }
}

fn with_detected(change: fn(&str) -> Result<(), GuardError>) -> Result<(), GuardError> {
    match detect() {
        GuardCapability::Available { iptables } => change(&iptables),
        GuardCapability::Unavailable { .. } => Ok(()),
    }
}

async fn blocking(
    binary: &str,
    action: &'static str,
    run: impl FnOnce() -> Result<(), GuardError> + Send + 'static,
) -> Result<(), GuardError> {
    tokio::task::spawn_blocking(run).await.unwrap_or_else(|e| {
        Err(GuardError {
            binary: binary.to_owned(),
            action,
            message: e.to_string(),
        })
    })
}

fn has(binary: &str, rule: &Rule) -> bool {
    verb(binary, "-C", rule).is_ok_and(|o| o.status.success())
}

fn failed(binary: &str, action: &'static str, message: String) -> GuardError {
    GuardError {
        binary: binary.to_owned(),
        action,
        message,
    }
}

/// Inserts each rule unless present.
pub fn install(binary: &str) -> Result<(), GuardError> {
    for rule in rules() {
        if has(binary, &rule) {
            continue;
        }
        let out = verb(binary, "-I", &rule).map_err(|e| failed(binary, "insert", e.to_string()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(failed(binary, "insert", stderr));
        }
    }
    Ok(())
}

/// Deletes every copy of every rule.
pub fn remove(binary: &str) -> Result<(), GuardError> {
    for rule in rules() {
        for _ in 0..16 {
            if !has(binary, &rule) {
                break;
            }
            let out =
                verb(binary, "-D", &rule).map_err(|e| failed(binary, "delete", e.to_string()))?;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
                return Err(failed(binary, "delete", stderr));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euid_is_the_second_uid_field() {
        let status = "Name:\tcat\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(euid_from_status(status), Some(0));
        assert_eq!(euid_from_status("Name:\tx\n"), None);
    }

    #[test]
    fn forwarding_into_or_out_of_a_shadow_bridge_is_dropped_where_dockerd_never_writes() {
        let rules = rules();
        assert_eq!(rules.len(), 3);
        let forward: Vec<String> = rules[1..].iter().map(|r| r.command("-I")).collect();
        assert_eq!(
            forward,
            [
                format!(
                    "-t mangle -I FORWARD -i shd+ ! -o shd+ -m comment --comment {COMMENT} -j DROP"
                ),
                format!(
                    "-t mangle -I FORWARD ! -i shd+ -o shd+ -m comment --comment {COMMENT} -j DROP"
                ),
            ]
        );
        assert_eq!(
            rules[0].command("-I"),
            format!("-I {}", rule_args().join(" "))
        );
    }

    #[test]
    fn rule_matches_every_shadow_bridge_and_keeps_replies() {
        let rule = rule_args().join(" ");
        assert!(rule.starts_with("INPUT -i shd+"));
        assert!(rule.contains("! --ctstate ESTABLISHED,RELATED"));
        assert!(rule.ends_with("-j DROP"));
        assert!(rule.contains(COMMENT));
    }
}
