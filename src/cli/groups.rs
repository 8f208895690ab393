//! `understudy groups`: the compose projects on the engine.

use std::process::ExitCode;

use crate::domain::Group;
use crate::platform::{Docker, list_groups};

use super::GroupsArgs;

pub async fn run(args: &GroupsArgs) -> anyhow::Result<ExitCode> {
    let docker = Docker::connect().await?;
    let groups = list_groups(&docker).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&groups_json(&groups))?);
    } else {
        print!("{}", groups_text(&groups));
    }
    Ok(ExitCode::SUCCESS)
}

fn groups_json(groups: &[Group]) -> serde_json::Value {
    serde_json::Value::Array(
        groups
            .iter()
            .map(|g| {
                serde_json::json!({
                    "name": g.name,
                    "kind": g.kind,
                    "selector": g.selector.to_string(),
                    "services": g.services.iter().map(|s| serde_json::json!({
                        "name": s.name,
                        "replicas": s.instances.len(),
                        "containers": s.instances.iter().map(|i| serde_json::json!({
                            "name": i.container.name,
                            "id": i.container.id,
                            "number": i.number,
                            "state": i.container.state,
                            "health": i.container.health,
                            "image": i.container.image,
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

fn groups_text(groups: &[Group]) -> String {
    use std::fmt::Write;
    if groups.is_empty() {
        return "no groups (compose projects) on this engine; try `understudy demo up`\n"
            .to_owned();
    }
    let mut out = String::new();
    for g in groups {
        let _ = writeln!(
            out,
            "{}  ({} services, {} containers, {} ready)",
            g.name,
            g.services.len(),
            g.container_count(),
            g.ready_count()
        );
        for s in &g.services {
            let _ = writeln!(out, "  {:<16} x{}", s.name, s.instances.len());
            for i in &s.instances {
                let c = &i.container;
                let _ = writeln!(out, "    {:<28} {:<9} {}", c.name, c.state, c.health);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::group::discover_compose_groups;
    use crate::domain::{ContainerSummary, Health, RunState};

    fn c(name: &str, service: &str, n: &str) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name:0>64}"),
            name: name.into(),
            image: "understudy:latest".into(),
            state: RunState::Running,
            health: Health::Healthy,
            status: "Up".into(),
            labels: [
                ("com.docker.compose.project", "shop"),
                ("com.docker.compose.service", service),
                ("com.docker.compose.container-number", n),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
            ports: vec![],
        }
    }

    #[test]
    fn json_lists_services_and_containers() {
        let groups =
            discover_compose_groups(&[c("shop_api_1", "api", "1"), c("shop_api_2", "api", "2")]);
        let v = groups_json(&groups);
        assert_eq!(v[0]["name"], "shop");
        assert_eq!(v[0]["services"][0]["replicas"], 2);
        assert_eq!(v[0]["services"][0]["containers"][1]["name"], "shop_api_2");
        assert_eq!(v[0]["services"][0]["containers"][1]["health"], "healthy");
        let text = groups_text(&groups);
        assert!(
            text.starts_with("shop  (1 services, 2 containers, 2 ready)"),
            "{text}"
        );
    }
}
