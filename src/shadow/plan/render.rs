//! The plan as text for `understudy shadow plan`.

use std::fmt::Write;

use super::{GuardCapability, ShadowPlan};
use crate::shadow::host_guard;

/// Renders every part of the plan; nothing is elided.
pub fn render_text(plan: &ShadowPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Shadow {} of {} (plan only: nothing is created)\n",
        plan.id, plan.group
    );
    let _ = writeln!(out, "Networks");
    for n in &plan.networks {
        let kind = if n.internal {
            "internal"
        } else {
            "edge, ingress only"
        };
        let bridge = n
            .options
            .get("com.docker.network.bridge.name")
            .map_or(String::new(), |b| format!(", bridge {b}"));
        let _ = writeln!(
            out,
            "  + {}  ({kind}, {}{bridge})",
            n.name,
            n.subnet.as_deref().unwrap_or("engine pool")
        );
    }
    if !plan.volumes.is_empty() {
        let _ = writeln!(out, "Volumes");
        for v in &plan.volumes {
            let from = v.copy_from.as_ref().map_or("empty".to_owned(), |(c, p)| {
                let pause = if v.pause_source {
                    ", paused for the copy"
                } else {
                    ""
                };
                format!("snapshot of {c}:{p}{pause}")
            });
            let _ = writeln!(out, "  + {}  ({from})", v.spec.name);
        }
    }
    let _ = writeln!(out, "Containers, in start order");
    for (i, tier) in plan.tiers.iter().enumerate() {
        let names: Vec<String> = tier
            .iter()
            .map(|c| match &c.clone_of {
                Some(p) => format!("{} (clone of {p})", c.spec.name),
                None => c.spec.name.clone(),
            })
            .collect();
        let _ = writeln!(out, "  {}. {}", i + 1, names.join(", "));
    }
    if let Some(ingress) = &plan.ingress {
        let _ = writeln!(out, "Ingress");
        for r in &ingress.routes {
            let _ = writeln!(
                out,
                "  + {}: 127.0.0.1:<ephemeral> -> {}:{}",
                ingress.spec.name, r.service, r.service_port
            );
        }
    }
    host_isolation(&mut out, &plan.guard);
    let _ = writeln!(out, "Rewrites");
    for r in &plan.rewrites {
        let _ = writeln!(
            out,
            "  {}: {}\n      why: {}",
            r.subject, r.change, r.reason
        );
    }
    if !plan.refusals.is_empty() {
        let _ = writeln!(out, "Refused (shadow up will not proceed)");
        for r in &plan.refusals {
            let allow = r
                .allow
                .as_ref()
                .map_or(String::new(), |a| format!(" [--allow {a}]"));
            let _ = writeln!(out, "  {}: {}: {}{allow}", r.service, r.setting, r.reason);
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "Warnings");
        for w in &plan.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}

/// The plan's "Host isolation" section: the rules, or why there are none.
fn host_isolation(out: &mut String, guard: &GuardCapability) {
    let _ = writeln!(out, "Host isolation");
    match guard {
        GuardCapability::Available { iptables } => {
            for rule in host_guard::rules() {
                let _ = writeln!(out, "  {iptables} {}", rule.command("-I"));
            }
            let _ = writeln!(
                out,
                "  (shared by every shadow: the host's addresses, and anything routed in or out)"
            );
        }
        GuardCapability::Unavailable { reason } => {
            let _ = writeln!(
                out,
                "  NOT ISOLATED FROM THE HOST: {reason}. Shadow containers can reach services listening on this host's own addresses, and production is kept apart by Docker's own rules alone, which dockerd lifts for an instant whenever a network is created."
            );
        }
    }
}
