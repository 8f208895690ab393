//! Talking to a shadow's fault proxies from the host: `proxy ctl` run inside
//! the proxy container through exec (the control API is bound inside the
//! shadow only; the token is in the container's environment), and finding
//! the proxy that fronts a service.

use std::time::Duration;

use super::super::guard::{GuardError, ShadowOnly};
use super::compile::ProxyFacts;
use crate::domain::{ContainerSummary, labels};
use crate::platform::Platform;
use crate::shadow::naming;

const CTL_TIMEOUT: Duration = Duration::from_secs(10);

fn ctl(args: &[&str]) -> Vec<String> {
    ["/understudy", "proxy", "ctl"]
        .iter()
        .chain(args)
        .map(|s| (*s).to_owned())
        .collect()
}

/// The first JSON value in command output (warnings may precede it).
pub fn first_json(output: &str) -> Option<serde_json::Value> {
    let start = output.find(['{', '['])?;
    serde_json::Deserializer::from_str(&output[start..])
        .into_iter::<serde_json::Value>()
        .next()?
        .ok()
}

/// The proxy container of `shadow` fronting `service`, if any.
pub fn find<'a>(
    listing: &'a [ContainerSummary],
    shadow: &str,
    service: &str,
) -> Option<&'a ContainerSummary> {
    listing.iter().find(|c| {
        c.label(labels::SHADOW) == Some(shadow)
            && c.label(naming::COMPONENT) == Some("proxy")
            && c.label(naming::FRONTS) == Some(service)
    })
}

async fn run<P: Platform>(
    guard: &ShadowOnly<P>,
    container: &str,
    args: &[&str],
) -> Result<String, String> {
    let out = guard
        .exec(container, &ctl(args), CTL_TIMEOUT)
        .await
        .map_err(|e: GuardError| e.to_string())?;
    if out.exit_code == 0 {
        Ok(out.output)
    } else {
        Err(out.output.trim().to_owned())
    }
}

/// The proxy's route names.
pub async fn routes<P: Platform>(
    guard: &ShadowOnly<P>,
    container: &str,
) -> Result<ProxyFacts, String> {
    let out = run(guard, container, &["proxies"]).await?;
    let names = first_json(&out)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    Ok(ProxyFacts {
        container: container.to_owned(),
        routes: names,
    })
}

/// Adds a fault; returns its id.
pub async fn add<P: Platform>(
    guard: &ShadowOnly<P>,
    container: &str,
    route: &str,
    words: &[String],
) -> Result<String, String> {
    let mut args = vec!["add", route];
    args.extend(words.iter().map(String::as_str));
    let out = run(guard, container, &args).await?;
    first_json(&out)
        .and_then(|v| v["id"].as_u64())
        .map(|id| id.to_string())
        .ok_or_else(|| format!("no fault id in the proxy's answer: {}", out.trim()))
}

/// Removes faults by id; with no ids, every fault of `kind` on the route
/// (a fault added just before a crash, whose id never reached the journal).
pub async fn remove<P: Platform>(
    guard: &ShadowOnly<P>,
    container: &str,
    route: &str,
    ids: &[String],
    kind: &str,
) -> Result<(), String> {
    let ids: Vec<String> = if ids.is_empty() {
        let out = run(guard, container, &["list", route]).await?;
        first_json(&out)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|f| kind.is_empty() || f["kind"].as_str() == Some(kind))
            .filter_map(|f| f["id"].as_u64().map(|i| i.to_string()))
            .collect()
    } else {
        ids.to_vec()
    };
    for id in ids {
        match run(guard, container, &["remove", route, &id]).await {
            Ok(_) => {}
            Err(e)
                if e.contains("404")
                    || e.to_ascii_lowercase().contains("no fault")
                    || e.contains("not found") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes every fault from every route of a proxy (the `gc` sweep); how
/// many it removed, when the proxy says.
pub async fn reset<P: Platform>(
    guard: &ShadowOnly<P>,
    container: &str,
) -> Result<Option<u64>, String> {
    let out = run(guard, container, &["reset"]).await?;
    Ok(first_json(&out).and_then(|v| v["removed"].as_u64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_after_warnings() {
        let out = "understudy proxy: warning: something\n{\n  \"id\": 7\n}\n";
        assert_eq!(first_json(out).unwrap()["id"], 7);
        assert_eq!(
            first_json("[{\"name\":\"api-8080\"}]").unwrap()[0]["name"],
            "api-8080"
        );
        assert!(first_json("nothing").is_none());
    }
}
