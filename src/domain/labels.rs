//! Label keys: Docker Compose's own (read for discovery, written by the demo)
//! and understudy's `io.understudy.*` (written on everything the tool creates).

/// Compose project name.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
/// Compose service name.
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";
/// Replica number within a service, "1", "2", ...
pub const COMPOSE_NUMBER: &str = "com.docker.compose.container-number";
/// "True" for `docker-compose run` containers, which are not part of a group.
pub const COMPOSE_ONEOFF: &str = "com.docker.compose.oneoff";
/// Hash of the service configuration; the same for every replica.
pub const COMPOSE_CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// The compose version that created the resource.
pub const COMPOSE_VERSION: &str = "com.docker.compose.version";
/// Network key within the project (`default`).
pub const COMPOSE_NETWORK: &str = "com.docker.compose.network";
/// Volume key within the project.
pub const COMPOSE_VOLUME: &str = "com.docker.compose.volume";
/// Services this one depends on (compose v2 writes it; v1 does not).
pub const COMPOSE_DEPENDS_ON: &str = "com.docker.compose.depends_on";

/// What an understudy-created resource is: `shadow`, `ingress`, `proxy`, ...
/// Faults only ever touch `shadow`.
pub const ROLE: &str = "io.understudy.role";
/// The shadow id a resource belongs to.
pub const SHADOW: &str = "io.understudy.shadow";
/// The group a shadow was cloned from.
pub const OF: &str = "io.understudy.of";
/// Label on a fault's lease volume (`fault::lease`): the fault id. Shadow
/// tracking skips such volumes (their holder is not the shadow's creator).
pub const LEASE: &str = "io.understudy.lease";
/// The service a shadow container clones.
pub const SERVICE: &str = "io.understudy.service";
/// Marks resources of the built-in demo production (`shop`). Deliberately not
/// a `ROLE`: the demo is production, and `gc` must never touch it.
pub const DEMO: &str = "io.understudy.demo";
/// Marks images the tool built; the value names the image's purpose.
pub const IMAGE: &str = "io.understudy.image";
/// SHA-256 of the binary baked into an image, to rebuild when it changes.
pub const BINARY_SHA256: &str = "io.understudy.binary-sha256";
