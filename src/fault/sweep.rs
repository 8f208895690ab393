//! The safety net under the journal: after the journal's reverts, `gc` and
//! `fault stop-all` sweep every shadow container that no live fault holds —
//! unpause it, delete `understudy-fault-*` iptables rules and our qdiscs in
//! its network namespace, and clear its fault proxies. It catches what a
//! lost or dead journal would miss. A live fault is one this journal still
//! has to revert, or one whose engine lease (`fault::lease`) another
//! understudy holds: another operator's running game day is left alone.
//! (Resource limits are restored only through the journal: their original
//! values live there.)

use std::collections::BTreeSet;

use super::guard::ShadowOnly;
use super::inject::proxy_ctl;
use super::journal::Record;
use super::lease::{self, Standing};
use super::netns;
use crate::domain::{RunState, labels};
use crate::platform::Platform;
use crate::shadow::{naming, tracking};

/// What the sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub unpaused: Vec<String>,
    pub rules_removed: Vec<String>,
    /// Proxies that had faults (or did not say how many) and have none now.
    pub proxies_reset: Vec<String>,
    /// Containers left alone because a live fault of another understudy
    /// (another journal) holds them: `<container>: fault <id> of pid <pid>
    /// on <host>`.
    pub held_elsewhere: Vec<String>,
    /// Leases released: their fault was reverted, expired, or its holder
    /// is gone (`fault <id> of pid <pid> on <host> (<why>)`).
    pub leases_released: Vec<String>,
    pub errors: Vec<String>,
}

/// The lease pass before a sweep: adds to `held` the containers of every
/// lease another journal owns while it stands, and releases the stale ones
/// (`fault::lease::standing`; `records` is this state directory's journal).
pub async fn leases<P: Platform>(
    platform: &P,
    records: &[Record],
    held: &mut BTreeSet<String>,
    swept: &mut Swept,
) {
    let (found, unreadable) = match lease::list(platform).await {
        Ok(listed) => listed,
        Err(e) => {
            swept.errors.push(format!("listing fault leases: {e}"));
            return;
        }
    };
    swept.errors.extend(unreadable);
    let (here, now) = (tracking::host_name(), super::inject::now_ms());
    for l in found {
        let journalled = records.iter().find(|r| r.id == l.fault_id);
        let alive = lease::holder_alive(&l, &here);
        match lease::standing(&l, journalled.map(|r| r.status), alive, now) {
            Standing::Held if journalled.is_none() => {
                for c in &l.containers {
                    if held.insert(c.clone()) {
                        swept.held_elsewhere.push(format!(
                            "{c}: fault {} of {}",
                            l.fault_id,
                            l.holder_text()
                        ));
                    }
                }
            }
            Standing::Held => {}
            Standing::Stale(why) => match lease::release(platform, &l.fault_id).await {
                Ok(()) => swept.leases_released.push(format!(
                    "fault {} of {} ({why})",
                    l.fault_id,
                    l.holder_text()
                )),
                Err(e) => swept
                    .errors
                    .push(format!("lease of fault {}: {e}", l.fault_id)),
            },
        }
    }
}

/// `iptables -S` lines of our fault rules, turned into delete commands.
pub fn delete_commands(iptables: &str, rules: &str) -> Vec<Vec<String>> {
    rules
        .lines()
        .filter(|l| l.starts_with("-A ") && l.contains("understudy-fault-"))
        .map(|l| {
            let mut cmd = vec![iptables.to_owned(), "-w".to_owned()];
            cmd.extend(shell_words(&l.replacen("-A ", "-D ", 1)));
            cmd
        })
        .collect()
}

/// Splits an `iptables -S` rule into words (quotes only appear around
/// comments).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn capture(pid: u32, command: &[&str]) -> Option<String> {
    let pid = pid.to_string();
    let out = std::process::Command::new("nsenter")
        .args(["-t", &pid, "-n", "--"])
        .args(command)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn sweep_netns(name: &str, pid: u32, iptables: &str, swept: &mut Swept) {
    let (name, iptables) = (name.to_owned(), iptables.to_owned());
    let found = tokio::task::spawn_blocking(move || {
        let mut removed = Vec::new();
        let mut errors = Vec::new();
        for table in ["filter"] {
            let Some(rules) = capture(pid, &[&iptables, "-w", "-t", table, "-S"]) else {
                continue;
            };
            for cmd in delete_commands(&iptables, &rules) {
                match netns::run_in(pid, &cmd) {
                    Ok(()) => removed.push(format!("{name}: {}", cmd[2..].join(" "))),
                    Err(e) if netns::already_gone(&e) => {}
                    Err(e) => errors.push(format!("{name}: {e}")),
                }
            }
        }
        if let Some(qdisc) = capture(pid, &["tc", "qdisc", "show", "dev", "eth0", "root"]) {
            if qdisc.contains("qdisc tbf") || qdisc.contains("qdisc netem") {
                let cmd = ["tc", "qdisc", "del", "dev", "eth0", "root"]
                    .map(str::to_owned)
                    .to_vec();
                match netns::run_in(pid, &cmd) {
                    Ok(()) => removed.push(format!("{name}: tc qdisc del dev eth0 root")),
                    Err(e) => errors.push(format!("{name}: {e}")),
                }
            }
        }
        (removed, errors)
    })
    .await;
    if let Ok((removed, errors)) = found {
        swept.rules_removed.extend(removed);
        swept.errors.extend(errors);
    }
}

/// Sweeps every shadow container not named in `held`, adding to `swept`.
pub async fn sweep<P: Platform>(guard: &ShadowOnly<P>, held: &BTreeSet<String>, swept: &mut Swept) {
    let selector = crate::domain::Selector::label(labels::ROLE, naming::ROLE_SHADOW);
    let Ok(listing) = guard.platform().list_containers(Some(&selector)).await else {
        return;
    };
    let caps = netns::detect();
    for c in listing.iter().filter(|c| !held.contains(&c.name)) {
        if c.state == RunState::Paused {
            match guard.unpause(&c.name).await {
                Ok(()) => swept.unpaused.push(c.name.clone()),
                Err(e) => swept.errors.push(e.to_string()),
            }
        }
        if c.state != RunState::Running && c.state != RunState::Paused {
            continue;
        }
        if c.label(naming::COMPONENT) == Some("proxy") {
            match proxy_ctl::reset(guard, &c.name).await {
                Ok(Some(0)) => {}
                Ok(_) => swept.proxies_reset.push(c.name.clone()),
                Err(e) => swept.errors.push(format!("{}: {e}", c.name)),
            }
            continue;
        }
        if let (None, Some(iptables)) = (&caps.unavailable, &caps.iptables) {
            if let Ok(Some(pid)) = guard.netns_pid(&c.name).await {
                sweep_netns(&c.name, pid, iptables, swept).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_rules_become_deletes() {
        let rules = "-P INPUT ACCEPT\n-A INPUT -i eth0 -m statistic --mode random --probability 0.30000000000 -m comment --comment understudy-fault-ab12 -j DROP\n-A OUTPUT -d 10.0.0.1/32 -j DROP\n-A OUTPUT -d 10.213.0.2/32 -m comment --comment \"understudy-fault-cd34\" -j REJECT --reject-with icmp-port-unreachable\n";
        let cmds = delete_commands("iptables", rules);
        assert_eq!(cmds.len(), 2, "foreign rules stay");
        assert_eq!(cmds[0][..4], ["iptables", "-w", "-D", "INPUT"]);
        assert!(
            cmds[1].contains(&"understudy-fault-cd34".to_owned()),
            "{:?}",
            cmds[1]
        );
    }
}
