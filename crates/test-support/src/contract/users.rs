//! The contract of [`UserRepository`]: what every store must do with users.

use std::sync::Arc;

use conduit_domain::Timestamp;
use conduit_domain::accounts::{Bio, Email, ImageUrl, UserChanges, UserId, Username};
use conduit_domain::ports::{StoreError, UniqueField};
use time::macros::datetime;

use super::ContractStore;
use crate::builders::{NewUserBuilder, unique};

pub async fn inserted_user_reads_back_by_id_and_email(store: &ContractStore) {
    let users = &store.users;
    let new = NewUserBuilder::new().build();

    let inserted = users.insert(new.clone()).await.expect("inserts");

    assert_eq!(inserted.username, new.username);
    assert_eq!(inserted.email, new.email);
    assert_eq!(inserted.password_hash, new.password_hash);
    assert_eq!((inserted.bio.clone(), inserted.image.clone()), (None, None));
    assert_eq!(inserted.created_at, new.created_at);
    assert_eq!(inserted.updated_at, new.created_at);
    let by_id = users.find_by_id(inserted.id).await.expect("reads");
    let by_email = users.find_by_email(&new.email).await.expect("reads");
    assert_eq!(by_id.as_ref(), Some(&inserted));
    assert_eq!(by_email.as_ref(), Some(&inserted));
}

pub async fn ids_are_distinct(store: &ContractStore) {
    let users = &store.users;
    let first = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let second = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");

    assert_ne!(first.id, second.id);
}

pub async fn username_is_unique_regardless_of_case(store: &ContractStore) {
    let users = &store.users;
    let name = format!("Jake{}", unique());
    users
        .insert(NewUserBuilder::new().username(&name).build())
        .await
        .expect("inserts");

    let duplicate = users
        .insert(NewUserBuilder::new().username(name.to_uppercase()).build())
        .await;

    assert_eq!(
        duplicate.map(|user| user.id),
        Err(StoreError::Conflict {
            field: UniqueField::Username
        })
    );
}

pub async fn email_is_unique(store: &ContractStore) {
    let users = &store.users;
    let email = format!("jake{}@example.com", unique());
    users
        .insert(NewUserBuilder::new().email(&email).build())
        .await
        .expect("inserts");

    let duplicate = users
        .insert(NewUserBuilder::new().email(email.to_uppercase()).build())
        .await;

    assert_eq!(
        duplicate.map(|user| user.id),
        Err(StoreError::Conflict {
            field: UniqueField::Email
        })
    );
}

pub async fn a_refused_insert_writes_nothing(store: &ContractStore) {
    let users = &store.users;
    let taken = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let refused = NewUserBuilder::new()
        .username(taken.username.as_str())
        .build();

    let outcome = users.insert(refused.clone()).await;

    assert!(outcome.is_err());
    assert_eq!(
        users.find_by_email(&refused.email).await.expect("reads"),
        None
    );
}

pub async fn concurrent_registrations_of_one_username_admit_exactly_one(store: &ContractStore) {
    let users = &store.users;
    let name = format!("racer{}", unique());
    let attempts = (0..8).map(|_| {
        let users = Arc::clone(users);
        let new = NewUserBuilder::new().username(&name).build();
        tokio::spawn(async move { users.insert(new).await })
    });

    let mut admitted = 0;
    for attempt in attempts {
        match attempt.await.expect("task completes") {
            Ok(_) => admitted += 1,
            Err(error) => assert_eq!(
                error,
                StoreError::Conflict {
                    field: UniqueField::Username
                }
            ),
        }
    }

    assert_eq!(admitted, 1);
}

pub async fn unknown_ids_and_emails_find_nothing(store: &ContractStore) {
    let users = &store.users;
    let email = Email::parse(&format!("nobody{}@example.com", unique())).expect("valid");

    assert_eq!(
        users.find_by_id(UserId(i64::MAX)).await.expect("reads"),
        None
    );
    assert_eq!(users.find_by_email(&email).await.expect("reads"), None);
}

pub async fn update_changes_only_what_it_names(store: &ContractStore) {
    let users = &store.users;
    let user = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let later = Timestamp::from_offset(datetime!(2026-05-06 07:08:09.123 UTC));
    let bio = Bio::parse("I work at statefarm").expect("valid");
    let email = Email::parse(&format!("new{}@example.com", unique())).expect("valid");
    let changes = UserChanges {
        bio: Some(Some(bio.clone())),
        email: Some(email.clone()),
        ..UserChanges::default()
    };

    let updated = users
        .update(user.id, changes, later)
        .await
        .expect("updates")
        .expect("the user exists");

    assert_eq!(updated.bio, Some(bio));
    assert_eq!(updated.email, email);
    assert_eq!(updated.username, user.username);
    assert_eq!(updated.password_hash, user.password_hash);
    assert_eq!(updated.image, None);
    assert_eq!(updated.created_at, user.created_at);
    assert_eq!(updated.updated_at, later);
    assert_eq!(
        users.find_by_id(user.id).await.expect("reads"),
        Some(updated)
    );
}

pub async fn update_can_clear_optional_fields(store: &ContractStore) {
    let users = &store.users;
    let user = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let image = ImageUrl::parse("https://example.com/me.png").expect("valid");
    let set = UserChanges {
        image: Some(Some(image)),
        ..UserChanges::default()
    };
    users
        .update(user.id, set, user.created_at)
        .await
        .expect("updates");
    let clear = UserChanges {
        image: Some(None),
        ..UserChanges::default()
    };

    let cleared = users
        .update(user.id, clear, user.created_at)
        .await
        .expect("updates")
        .expect("the user exists");

    assert_eq!(cleared.image, None);
}

pub async fn update_to_a_taken_username_is_a_conflict_and_changes_nothing(store: &ContractStore) {
    let users = &store.users;
    let taken = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let user = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let changes = UserChanges {
        username: Some(Username::parse(&taken.username.as_str().to_uppercase()).expect("valid")),
        bio: Some(Some(Bio::parse("should not be written").expect("valid"))),
        ..UserChanges::default()
    };

    let outcome = users.update(user.id, changes, user.created_at).await;

    assert_eq!(
        outcome.map(|user| user.map(|u| u.id)),
        Err(StoreError::Conflict {
            field: UniqueField::Username
        })
    );
    assert_eq!(users.find_by_id(user.id).await.expect("reads"), Some(user));
}

pub async fn when_username_and_email_are_both_taken_the_conflict_names_the_username(
    store: &ContractStore,
) {
    let users = &store.users;
    let one = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let other = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let username_taken = StoreError::Conflict {
        field: UniqueField::Username,
    };

    for email in [&one.email, &other.email] {
        let clash = NewUserBuilder::new()
            .username(one.username.as_str())
            .email(email.as_str())
            .build();
        let outcome = users.insert(clash).await.map(|user| user.id);
        assert_eq!(outcome, Err(username_taken.clone()), "{email}");
    }
    let third = users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts");
    let changes = UserChanges {
        username: Some(one.username.clone()),
        email: Some(other.email.clone()),
        ..UserChanges::default()
    };
    let outcome = users.update(third.id, changes, third.created_at).await;
    assert_eq!(outcome.map(|user| user.map(|u| u.id)), Err(username_taken));
}

pub async fn update_of_an_unknown_user_finds_nothing(store: &ContractStore) {
    let users = &store.users;
    let changes = UserChanges {
        bio: Some(None),
        ..UserChanges::default()
    };

    let outcome = users
        .update(
            UserId(i64::MAX),
            changes,
            Timestamp::from_offset(datetime!(2026-01-01 0:00 UTC)),
        )
        .await;

    assert_eq!(outcome, Ok(None));
}
