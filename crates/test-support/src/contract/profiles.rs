//! The contract of [`ProfileRepository`](conduit_domain::ports::ProfileRepository): profiles and
//! follows.

use std::sync::Arc;

use conduit_domain::accounts::Username;

use super::{ContractStore, user};

pub async fn a_profile_is_found_regardless_of_case_as_the_viewer_sees_it(store: &ContractStore) {
    let (jake, jake_name) = user(store).await;
    let (jane, _) = user(store).await;
    store.profiles.follow(jane, jake).await.expect("follows");
    let shouted = Username::parse(&jake_name.as_str().to_uppercase()).expect("valid");

    let anonymous = store.profiles.find_by_username(&shouted, None).await;
    let by_follower = store
        .profiles
        .find_by_username(&jake_name, Some(jane))
        .await;
    let by_self = store
        .profiles
        .find_by_username(&jake_name, Some(jake))
        .await;

    let anonymous = anonymous.expect("reads").expect("found");
    assert_eq!(anonymous.id, jake);
    assert_eq!(anonymous.profile.username, jake_name);
    assert!(!anonymous.profile.following);
    assert!(
        by_follower
            .expect("reads")
            .expect("found")
            .profile
            .following
    );
    assert!(!by_self.expect("reads").expect("found").profile.following);
    let nobody = Username::parse("nobody-at-all").expect("valid");
    assert_eq!(
        store.profiles.find_by_username(&nobody, None).await,
        Ok(None)
    );
}

pub async fn following_and_unfollowing_are_idempotent(store: &ContractStore) {
    let (jake, jake_name) = user(store).await;
    let (jane, _) = user(store).await;
    let following = |viewer| {
        let profiles = Arc::clone(&store.profiles);
        let name = jake_name.clone();
        async move {
            profiles
                .find_by_username(&name, Some(viewer))
                .await
                .expect("reads")
                .expect("found")
                .profile
                .following
        }
    };

    store.profiles.follow(jane, jake).await.expect("follows");
    store
        .profiles
        .follow(jane, jake)
        .await
        .expect("follows again");
    assert!(following(jane).await);
    store
        .profiles
        .unfollow(jane, jake)
        .await
        .expect("unfollows");
    store
        .profiles
        .unfollow(jane, jake)
        .await
        .expect("unfollows again");
    assert!(!following(jane).await);
}
