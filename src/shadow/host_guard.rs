//! The host rule that cuts shadows off the host's own addresses.
//!
//! An internal Docker network does not isolate the host: the bridge keeps its
//! gateway address on the host and traffic to the host's addresses goes
//! through INPUT, which Docker does not filter. One rule, shared by every
//! shadow (all shadow bridges are named `shd*`), drops new connections from
//! shadow bridges to the host; replies (ESTABLISHED) stay allowed so the
//! ingress relay keeps working. Installed with the iptables binary whose
//! ruleset holds Docker's chains (nf_tables or legacy), as root.
//!
//! The rule is shared, so installing and removing it race between
//! processes: a `shadow up` installs it *after* its networks exist, and the
//! last `down` or `gc` removes it only when no shadow network is left and
//! then looks again, putting it back if one appeared meanwhile
//! (`teardown::retire_rule`). Either order keeps a new shadow's rule.

use std::process::Command;

use super::plan::GuardCapability;

/// Comment that marks our rule.
pub const COMMENT: &str = "understudy-shadow-guard";

/// The rule, without the `-I/-C/-D INPUT` verb.
pub fn rule_args() -> Vec<&'static str> {
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

fn verb(binary: &str, verb: &str) -> std::io::Result<std::process::Output> {
    let mut args = vec!["-w", verb];
    args.extend(rule_args());
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

/// Whether the rule is present.
pub fn present(binary: &str) -> bool {
    verb(binary, "-C").is_ok_and(|o| o.status.success())
}

/// Inserts the rule unless present.
pub fn install(binary: &str) -> Result<(), GuardError> {
    if present(binary) {
        return Ok(());
    }
    let out = verb(binary, "-I").map_err(|e| GuardError {
        binary: binary.to_owned(),
        action: "insert",
        message: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GuardError {
            binary: binary.to_owned(),
            action: "insert",
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Deletes every copy of the rule.
pub fn remove(binary: &str) -> Result<(), GuardError> {
    for _ in 0..16 {
        if !present(binary) {
            return Ok(());
        }
        let out = verb(binary, "-D").map_err(|e| GuardError {
            binary: binary.to_owned(),
            action: "delete",
            message: e.to_string(),
        })?;
        if !out.status.success() {
            return Err(GuardError {
                binary: binary.to_owned(),
                action: "delete",
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
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
    fn rule_matches_every_shadow_bridge_and_keeps_replies() {
        let rule = rule_args().join(" ");
        assert!(rule.starts_with("INPUT -i shd+"));
        assert!(rule.contains("! --ctstate ESTABLISHED,RELATED"));
        assert!(rule.ends_with("-j DROP"));
        assert!(rule.contains(COMMENT));
    }
}
