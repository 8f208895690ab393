//! Packet-level faults inside a container's network namespace: the
//! capability check (root, nsenter, the iptables backend Docker uses, tc,
//! netem) and the exact commands (pure), run on the host with
//! `nsenter -t PID -n`. Rules carry the comment `understudy-fault-<id>` and
//! are inserted and deleted one by one (never a flush: Docker's DNS rules
//! live in the same tables). INPUT rules match `-i eth0` only, so the
//! container's own healthcheck on loopback keeps working.

use std::process::Command;
use std::time::Duration;

use serde::Serialize;

use crate::shadow::host_guard;

/// What the host can do at packet level.
#[allow(clippy::struct_excessive_bools)] // independent capabilities
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub root: bool,
    pub nsenter: bool,
    /// The iptables binary holding Docker's rules.
    pub iptables: Option<String>,
    pub tc: bool,
    /// Whether the kernel has sch_netem (latency/jitter at qdisc level).
    pub netem: bool,
    /// Why packet faults are unavailable, when they are.
    pub unavailable: Option<String>,
}

fn runs(program: &str, args: &[&str]) -> Option<std::process::Output> {
    Command::new(program).args(args).output().ok()
}

/// Probes the host once.
pub fn detect() -> Capabilities {
    let root = host_guard::is_root();
    let nsenter = runs("nsenter", &["--version"]).is_some_and(|o| o.status.success());
    let tc = runs("tc", &["-V"]).is_some_and(|o| o.status.success());
    let iptables = match host_guard::detect() {
        crate::shadow::plan::GuardCapability::Available { iptables } => Some(iptables),
        crate::shadow::plan::GuardCapability::Unavailable { .. } => None,
    };
    // A throwaway network namespace: does `tc ... netem` exist?
    let netem = root
        && runs(
            "unshare",
            &[
                "-n",
                "sh",
                "-c",
                "ip link set lo up && tc qdisc add dev lo root netem delay 1ms",
            ],
        )
        .is_some_and(|o| o.status.success());
    let unavailable = if !root {
        Some("not running as root".to_owned())
    } else if !nsenter {
        Some("nsenter is not installed (util-linux)".to_owned())
    } else if iptables.is_none() {
        Some("no iptables backend holds Docker's rules".to_owned())
    } else if !tc {
        Some("tc is not installed (iproute2)".to_owned())
    } else {
        None
    };
    Capabilities {
        root,
        nsenter,
        iptables,
        tc,
        netem,
        unavailable,
    }
}

/// The comment marking a fault's rules.
pub fn comment(fault_id: &str) -> String {
    format!("understudy-fault-{fault_id}")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// An iptables rule as (insert, delete) commands.
fn rule(
    iptables: &str,
    chain: &str,
    matcher: &[&str],
    target: &[&str],
    fault_id: &str,
) -> (Vec<String>, Vec<String>) {
    let comment = comment(fault_id);
    let mut body = vec![chain.to_owned()];
    body.extend(strings(matcher));
    body.extend(strings(&["-m", "comment", "--comment"]));
    body.push(comment);
    body.extend(strings(target));
    let mut insert = strings(&[iptables, "-w", "-I"]);
    insert.extend(body.iter().cloned());
    let mut delete = strings(&[iptables, "-w", "-D"]);
    delete.extend(body);
    (insert, delete)
}

/// Apply and revert commands, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Commands {
    pub apply: Vec<Vec<String>>,
    pub revert: Vec<Vec<String>>,
}

impl Commands {
    fn push(&mut self, (apply, revert): (Vec<String>, Vec<String>)) {
        self.apply.push(apply);
        self.revert.insert(0, revert);
    }
}

/// Drop a share of incoming packets on eth0.
pub fn packet_drop(iptables: &str, share: f64, fault_id: &str) -> Commands {
    let p = format!("{share:.4}");
    let mut c = Commands::default();
    c.push(rule(
        iptables,
        "INPUT",
        &[
            "-i",
            "eth0",
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            &p,
        ],
        &["-j", "DROP"],
        fault_id,
    ));
    c
}

/// Cut this container off `peers` in both directions.
pub fn partition(
    iptables: &str,
    peers: &[std::net::Ipv4Addr],
    reject: bool,
    fault_id: &str,
) -> Commands {
    let mut c = Commands::default();
    for ip in peers {
        let ip = ip.to_string();
        let (out_target, in_target): (&[&str], &[&str]) = if reject {
            (&["-j", "REJECT"], &["-j", "REJECT"])
        } else {
            (&["-j", "DROP"], &["-j", "DROP"])
        };
        c.push(rule(iptables, "OUTPUT", &["-d", &ip], out_target, fault_id));
        c.push(rule(iptables, "INPUT", &["-s", &ip], in_target, fault_id));
    }
    c
}

fn qdisc(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut apply = strings(&["tc", "qdisc", "add", "dev", "eth0", "root"]);
    apply.extend(args.iter().cloned());
    (
        apply,
        strings(&["tc", "qdisc", "del", "dev", "eth0", "root"]),
    )
}

/// Shape egress with a token bucket.
pub fn rate_limit(bytes_per_second: u64, burst: u64, latency: Duration) -> Commands {
    let mut c = Commands::default();
    c.push(qdisc(&[
        "tbf".to_owned(),
        "rate".to_owned(),
        format!("{}bit", bytes_per_second.saturating_mul(8)),
        "burst".to_owned(),
        format!("{}b", burst.max(1600)),
        "latency".to_owned(),
        format!("{}ms", latency.as_millis().max(1)),
    ]));
    c
}

/// Delay egress packets (needs netem).
pub fn latency(delay: Duration, jitter: Duration) -> Commands {
    let mut args = vec![
        "netem".to_owned(),
        "delay".to_owned(),
        format!("{}us", delay.as_micros()),
    ];
    if !jitter.is_zero() {
        args.push(format!("{}us", jitter.as_micros()));
    }
    let mut c = Commands::default();
    c.push(qdisc(&args));
    c
}

/// Runs one command inside the network namespace of host process `pid`.
/// Returns stderr on failure.
pub fn run_in(pid: u32, command: &[String]) -> Result<(), String> {
    let pid = pid.to_string();
    let out = Command::new("nsenter")
        .args(["-t", &pid, "-n", "--"])
        .args(command)
        .output()
        .map_err(|e| format!("nsenter: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Whether an error from a revert command means "already gone".
pub fn already_gone(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("does a matching rule exist")
        || s.contains("bad rule")
        || s.contains("no such file or directory")
        || s.contains("cannot delete qdisc with handle of zero")
        || s.contains("cannot find device")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_rules_match_eth0_and_carry_the_comment() {
        let c = packet_drop("iptables", 0.3, "f1");
        assert_eq!(
            c.apply[0].join(" "),
            "iptables -w -I INPUT -i eth0 -m statistic --mode random --probability 0.3000 -m comment --comment understudy-fault-f1 -j DROP"
        );
        assert_eq!(c.revert[0][2], "-D");
        assert_eq!(c.revert[0][3..], c.apply[0][3..]);
    }

    #[test]
    fn partitions_cut_both_directions_and_revert_in_reverse() {
        let ip: std::net::Ipv4Addr = "10.213.0.7".parse().unwrap();
        let c = partition("iptables-nft", &[ip], false, "f2");
        assert_eq!(c.apply.len(), 2);
        assert!(c.apply[0].join(" ").contains("OUTPUT -d 10.213.0.7"));
        assert!(c.apply[1].join(" ").contains("INPUT -s 10.213.0.7"));
        assert!(
            c.revert[0].join(" ").contains("-D INPUT -s 10.213.0.7"),
            "reverse order"
        );
        let r = partition("iptables", &[ip], true, "f2");
        assert!(r.apply[0].ends_with(&["-j".to_owned(), "REJECT".to_owned()]));
    }

    #[test]
    fn qdiscs() {
        let c = rate_limit(125_000, 4096, Duration::from_millis(50));
        assert_eq!(
            c.apply[0].join(" "),
            "tc qdisc add dev eth0 root tbf rate 1000000bit burst 4096b latency 50ms"
        );
        assert_eq!(c.revert[0].join(" "), "tc qdisc del dev eth0 root");
        let l = latency(Duration::from_millis(100), Duration::from_millis(10));
        assert_eq!(
            l.apply[0].join(" "),
            "tc qdisc add dev eth0 root netem delay 100000us 10000us"
        );
    }

    #[test]
    fn gone_errors_are_recognised() {
        assert!(already_gone(
            "iptables: Bad rule (does a matching rule exist in that chain?)."
        ));
        assert!(already_gone(
            "Error: Cannot delete qdisc with handle of zero."
        ));
        assert!(!already_gone("Permission denied"));
    }
}
