//! `understudy gc`: revert the faults that dead processes left (journal),
//! sweep fault leftovers off every shadow container no live fault holds
//! (this journal's, or another understudy's by its lease on the engine),
//! then remove shadows that never came up and whose creator is gone, and
//! the understudy images later builds superseded that no container uses.

use std::process::ExitCode;

use crate::fault::inject::Injector;
use crate::platform::Docker;

pub async fn run(json: bool) -> anyhow::Result<ExitCode> {
    let docker = Docker::connect().await?;
    let injector = Injector::new(docker.clone(), &crate::telemetry::state_dir());
    let faults = injector.recover().await;
    let swept = injector.sweep().await;
    let shadows = crate::shadow::teardown::gc(&docker).await?;
    let status = super::shadow::gc_status(&shadows);
    // An image the engine cannot remove is no reason to fail the rest.
    let images = crate::demo::image::prune_superseded(&docker)
        .await
        .map_err(|e| e.to_string());
    if json {
        let report = serde_json::json!({
            "faults_reverted": faults,
            "swept": swept,
            "shadows": shadows,
            "images": match &images {
                Ok(pruned) => serde_json::json!(pruned),
                Err(e) => serde_json::json!({"error": e}),
            },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(status);
    }
    for r in &faults {
        println!(
            "reverted fault {} ({} on {}): {:?}",
            r.id, r.request.kind, r.target, r.status
        );
    }
    for name in &swept.unpaused {
        println!("unpaused {name} (no fault holds it)");
    }
    for rule in &swept.rules_removed {
        println!("removed leftover rule {rule}");
    }
    for name in &swept.proxies_reset {
        println!("cleared the faults of proxy {name}");
    }
    for lease in &swept.leases_released {
        println!("released the lease of {lease}");
    }
    for held in &swept.held_elsewhere {
        println!("left {held} (alive; another state directory's fault)");
    }
    for e in &swept.errors {
        eprintln!("sweep: {e}");
    }
    for (removed, reason) in &shadows.removed {
        println!("removed shadow {}: {reason}", removed.id);
    }
    let pruned = match &images {
        Ok(pruned) => pruned.clone(),
        Err(e) => {
            eprintln!("images: {e}");
            crate::demo::image::Pruned::default()
        }
    };
    for id in &pruned.removed {
        let short = id.trim_start_matches("sha256:").get(..12).unwrap_or(id);
        println!("removed superseded image {short}");
    }
    if pruned.in_use > 0 {
        println!(
            "left {} superseded image(s) that containers still use",
            pruned.in_use
        );
    }
    if faults.is_empty()
        && shadows.removed.is_empty()
        && swept.unpaused.is_empty()
        && swept.rules_removed.is_empty()
        && swept.proxies_reset.is_empty()
        && swept.leases_released.is_empty()
        && shadows.errors.is_empty()
        && pruned.removed.is_empty()
    {
        println!("nothing to collect");
    }
    Ok(status)
}
