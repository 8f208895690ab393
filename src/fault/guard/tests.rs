use std::time::Duration;

use super::*;
use crate::platform::recording::{Recording, container};

fn engine() -> Recording {
    Recording::with(vec![
        container(
            "shop-shadow-a1b2c3-api-1",
            &[(labels::ROLE, "shadow"), (labels::SHADOW, "a1b2c3")],
        ),
        container("shop_api_1", &[(labels::COMPOSE_PROJECT, "shop")]),
        container(
            "shop-shadow-a1b2c3-ingress",
            &[(labels::ROLE, "ingress"), (labels::SHADOW, "a1b2c3")],
        ),
    ])
}

async fn every_operation(guard: &ShadowOnly<Recording>, id: &str) -> Vec<Result<(), GuardError>> {
    let spec = ContainerSpec {
        name: id.to_owned(),
        labels: [(labels::ROLE.to_owned(), "shadow".to_owned())]
            .into_iter()
            .collect(),
        ..ContainerSpec::default()
    };
    vec![
        guard.kill(id, "SIGKILL").await,
        guard.stop(id, Duration::from_secs(1)).await,
        guard.start(id).await,
        guard.restart(id, Duration::from_secs(1)).await,
        guard.pause(id).await,
        guard.unpause(id).await,
        guard
            .update(
                id,
                &ResourceUpdate {
                    nano_cpus: Some(1),
                    ..ResourceUpdate::default()
                },
            )
            .await,
        guard.connect("net", id, &[]).await,
        guard.disconnect("net", id).await,
        guard.upload(id, "/tmp", vec![0; 512]).await,
        guard
            .exec(id, &["true".to_owned()], Duration::from_secs(1))
            .await
            .map(|_| ()),
        guard.netns_pid(id).await.map(|_| ()),
        guard.recreate(id, &spec).await.map(|_| ()),
    ]
}

#[tokio::test]
async fn production_and_helpers_are_refused_and_untouched() {
    let fake = engine();
    let guard = ShadowOnly::new(fake.clone());
    for name in ["shop_api_1", "shop-shadow-a1b2c3-ingress"] {
        for result in every_operation(&guard, name).await {
            let e = result.unwrap_err();
            assert!(
                matches!(&e, GuardError::NotShadow { name: n } if n == name),
                "{e}"
            );
            assert!(e.to_string().contains("io.understudy.role=shadow"), "{e}");
        }
    }
    assert!(fake.mutations().is_empty(), "{:?}", fake.mutations());
}

#[tokio::test]
async fn shadow_clones_pass() {
    let fake = engine();
    let guard = ShadowOnly::new(fake.clone());
    guard.pause("shop-shadow-a1b2c3-api-1").await.unwrap();
    guard.unpause("shop-shadow-a1b2c3-api-1").await.unwrap();
    assert_eq!(
        fake.mutations(),
        [
            "pause shop-shadow-a1b2c3-api-1",
            "unpause shop-shadow-a1b2c3-api-1"
        ]
    );
    assert_eq!(
        guard.netns_pid("shop-shadow-a1b2c3-api-1").await.unwrap(),
        Some(4242)
    );
}

#[tokio::test]
async fn a_recreated_clone_must_stay_a_shadow() {
    let fake = engine();
    let guard = ShadowOnly::new(fake.clone());
    let unlabelled = ContainerSpec {
        name: "x".into(),
        ..ContainerSpec::default()
    };
    assert!(
        guard
            .recreate("shop-shadow-a1b2c3-api-1", &unlabelled)
            .await
            .is_err()
    );
    assert!(fake.mutations().is_empty());
}
