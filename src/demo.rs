//! The sample production "shop" (gateway -> api x2 -> store): its roles (run
//! inside containers built from this binary), its offline image, and its
//! lifecycle as a genuine compose project.

pub mod probe;
pub mod roles;
