//! The demo's roles. (Placeholder until the roles land.)

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Gateway,
    Api,
    Store,
}

#[allow(clippy::unused_async)]
pub async fn run(_role: Role) -> anyhow::Result<()> {
    anyhow::bail!("roles are not built yet")
}
