use std::sync::Arc;

use mockall::predicate::eq;

use super::*;
use crate::ports::{MockProfileRepository, StoreError};

fn author(id: i64, username: &str, following: bool) -> Author {
    Author {
        id: UserId(id),
        profile: Profile {
            username: Username::parse(username).expect("valid username"),
            bio: None,
            image: None,
            following,
        },
    }
}

fn finding(repository: &mut MockProfileRepository, found: Option<Author>) {
    repository
        .expect_find_by_username()
        .times(1)
        .returning(move |_, _| Ok(found.clone()));
}

#[tokio::test]
async fn a_profile_is_looked_up_as_the_viewer_sees_it() {
    let mut repository = MockProfileRepository::new();
    repository
        .expect_find_by_username()
        .withf(|username, viewer| username.as_str() == "jake" && *viewer == Some(UserId(7)))
        .times(1)
        .returning(|_, _| Ok(Some(author(1, "jake", true))));
    let profiles = Profiles::new(Arc::new(repository));

    let profile = profiles.get("jake", Some(UserId(7))).await.expect("found");

    assert_eq!(profile, author(1, "jake", true).profile);
}

#[tokio::test]
async fn an_unknown_or_impossible_username_is_not_found() {
    let mut repository = MockProfileRepository::new();
    finding(&mut repository, None);
    let profiles = Profiles::new(Arc::new(repository));

    let unknown = profiles.get("nobody", None).await;
    // Not a valid username at all: the store is not asked (the mock allows one call only).
    let impossible = profiles.get("no body/../x", None).await;

    assert!(matches!(unknown, Err(ResourceError::NotFound("profile"))));
    assert!(matches!(
        impossible,
        Err(ResourceError::NotFound("profile"))
    ));
}

#[tokio::test]
async fn following_records_the_relation_and_answers_following() {
    let mut repository = MockProfileRepository::new();
    finding(&mut repository, Some(author(2, "jane", false)));
    repository
        .expect_follow()
        .with(eq(UserId(1)), eq(UserId(2)))
        .times(1)
        .returning(|_, _| Ok(()));
    let profiles = Profiles::new(Arc::new(repository));

    let profile = profiles.follow(UserId(1), "jane").await.expect("follows");

    assert!(profile.following);
}

#[tokio::test]
async fn unfollowing_removes_the_relation_and_answers_not_following() {
    let mut repository = MockProfileRepository::new();
    finding(&mut repository, Some(author(2, "jane", true)));
    repository
        .expect_unfollow()
        .with(eq(UserId(1)), eq(UserId(2)))
        .times(1)
        .returning(|_, _| Ok(()));
    let profiles = Profiles::new(Arc::new(repository));

    let profile = profiles
        .unfollow(UserId(1), "jane")
        .await
        .expect("unfollows");

    assert!(!profile.following);
}

#[tokio::test]
async fn nobody_follows_themselves() {
    let mut repository = MockProfileRepository::new();
    finding(&mut repository, Some(author(1, "jake", false)));
    repository.expect_follow().never();
    let profiles = Profiles::new(Arc::new(repository));

    let outcome = profiles.follow(UserId(1), "jake").await;

    let Err(ResourceError::Invalid(errors)) = outcome else {
        panic!("expected invalid input, got {outcome:?}");
    };
    assert_eq!(
        errors.iter().next().map(|(field, _)| field),
        Some("profile")
    );
}

/// A store that failed and one that could not be reached are told apart all the way up: the
/// first is our fault, the second may pass if the caller tries again shortly.
#[tokio::test]
async fn a_store_failure_is_reported_as_unavailable_and_an_unreachable_store_as_unreachable() {
    let profiles_over = |error: StoreError| {
        let mut repository = MockProfileRepository::new();
        repository
            .expect_find_by_username()
            .returning(move |_, _| Err(error.clone()));
        Profiles::new(Arc::new(repository))
    };

    let failed = profiles_over(StoreError::Unavailable("invalid row".into()))
        .get("jake", None)
        .await;
    let unreachable = profiles_over(StoreError::Unreachable("pool timed out".into()))
        .get("jake", None)
        .await;

    assert!(matches!(failed, Err(ResourceError::Unavailable(_))));
    assert!(matches!(unreachable, Err(ResourceError::Unreachable(_))));
}
