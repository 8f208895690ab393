//! The sample production "shop" (gateway -> api x2 -> store): its roles (run
//! inside containers built from this binary), its offline image, and its
//! lifecycle as a genuine compose project.
//!
//! Owns: `roles` (the HTTP services), `probe` (the healthcheck command),
//! `image` (the offline image build), `project` (the compose project as pure
//! data), `lifecycle` (up / status / down through the platform seam).

pub mod image;
pub mod lifecycle;
pub mod probe;
pub mod project;
pub mod roles;
pub mod traffic;
