use std::sync::Arc;

use actix_web::test::TestRequest;
use conduit_domain::ports::{MockArticleRepository, StoreError};
use insta::assert_json_snapshot;
use serde_json::json;

use crate::support::{Conduit, Ports, authed, send, slugs};

fn new_article(token: &str, article: serde_json::Value) -> TestRequest {
    authed(TestRequest::post().uri("/api/articles"), token).set_json(json!({ "article": article }))
}

/// A new article checks its session in the write itself, and a token whose session has ended is
/// refused there exactly as every other endpoint refuses it; nothing is written.
#[actix_web::test]
async fn an_article_after_logout_is_refused_as_the_token_is_everywhere_and_not_written() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let logout = send(
        &state,
        authed(TestRequest::post().uri("/api/users/logout"), &jake.token),
    )
    .await;

    let refused = send(
        &state,
        new_article(
            &jake.token,
            json!({"title": "Too late", "description": "d", "body": "b"}),
        ),
    )
    .await;
    let elsewhere = send(
        &state,
        authed(TestRequest::get().uri("/api/user"), &jake.token),
    )
    .await;
    let found = send(&state, TestRequest::get().uri("/api/articles/too-late")).await;

    assert_eq!(logout.status, 204);
    assert_eq!((refused.status, elsewhere.status), (401, 401));
    assert_eq!(refused.body, elsewhere.body);
    assert_eq!(found.status, 404);
}

#[actix_web::test]
async fn creating_answers_201_with_the_whole_article() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;

    let reply = send(
        &state,
        new_article(
            &jake.token,
            json!({"title": "How to train your dragon", "description": "Ever wonder how?",
                   "body": "You have to believe", "tagList": ["training", "dragons", "training"]}),
        ),
    )
    .await;

    assert_eq!(reply.status, 201);
    let created_at = reply.body["article"]["createdAt"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        created_at.len(),
        "2026-02-18T03:22:56.637Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z'));
    assert_json_snapshot!(reply.body, {
        ".article.createdAt" => "[time]", ".article.updatedAt" => "[time]"
    }, @r#"
    {
      "article": {
        "author": {
          "bio": null,
          "following": false,
          "image": null,
          "username": "jake"
        },
        "body": "You have to believe",
        "createdAt": "[time]",
        "description": "Ever wonder how?",
        "favorited": false,
        "favoritesCount": 0,
        "slug": "how-to-train-your-dragon",
        "tagList": [
          "dragons",
          "training"
        ],
        "title": "How to train your dragon",
        "updatedAt": "[time]"
      }
    }
    "#);
}

#[actix_web::test]
async fn an_invalid_article_is_a_422_naming_each_field() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;

    let reply = send(
        &state,
        new_article(
            &jake.token,
            json!({"title": "", "description": " ", "body": "", "tagList": null}),
        ),
    )
    .await;

    assert_eq!(
        (reply.status, reply.body),
        (
            422,
            json!({"errors": {
                "title": ["can't be blank"],
                "description": ["can't be blank"],
                "body": ["can't be blank"]
            }})
        )
    );
}

#[actix_web::test]
async fn a_title_whose_slug_is_taken_is_a_409() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    jake.publish("Same title", &[]).await;

    let reply = send(
        &state,
        new_article(
            &jake.token,
            json!({"title": "Same  Title", "description": "d", "body": "b"}),
        ),
    )
    .await;

    assert_eq!(
        (reply.status, reply.body),
        (409, json!({"errors": {"slug": ["has already been taken"]}}))
    );
}

#[actix_web::test]
async fn writing_needs_a_token() {
    let state = Ports::default().state();

    for request in [
        TestRequest::post()
            .uri("/api/articles")
            .set_json(json!({"article": {}})),
        TestRequest::put()
            .uri("/api/articles/a")
            .set_json(json!({"article": {}})),
        TestRequest::delete().uri("/api/articles/a"),
        TestRequest::post().uri("/api/articles/a/favorite"),
        TestRequest::delete().uri("/api/articles/a/favorite"),
        TestRequest::get().uri("/api/articles/feed"),
    ] {
        let reply = send(&state, request).await;
        assert_eq!(
            (reply.status, reply.body),
            (401, json!({"errors": {"token": ["is missing"]}}))
        );
    }
}

#[actix_web::test]
async fn an_article_is_read_by_anyone_and_an_unknown_one_is_a_404() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let slug = jake.publish("Dragons", &[]).await;

    let found = send(
        &state,
        TestRequest::get().uri(&format!("/api/articles/{slug}")),
    )
    .await;
    let missing = send(
        &state,
        TestRequest::get().uri("/api/articles/no-such-thing"),
    )
    .await;

    assert_eq!(found.status, 200);
    assert_eq!(found.body["article"]["body"], json!("Text"));
    assert_eq!(
        (missing.status, missing.body),
        (404, json!({"errors": {"article": ["not found"]}}))
    );
}

#[actix_web::test]
async fn only_the_author_updates_and_a_new_title_moves_the_slug() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let slug = jake.publish("Old title", &[]).await;
    let update = |token: &str| {
        authed(
            TestRequest::put().uri(&format!("/api/articles/{slug}")),
            token,
        )
        .set_json(json!({"article": {"title": "New title"}}))
    };

    let by_jane = send(&state, update(&jane.token)).await;
    let by_jake = send(&state, update(&jake.token)).await;
    let old = send(
        &state,
        TestRequest::get().uri(&format!("/api/articles/{slug}")),
    )
    .await;

    assert_eq!(
        (by_jane.status, by_jane.body),
        (403, json!({"errors": {"article": ["forbidden"]}}))
    );
    assert_eq!(by_jake.status, 200);
    assert_eq!(by_jake.body["article"]["slug"], json!("new-title"));
    assert_eq!(by_jake.body["article"]["title"], json!("New title"));
    assert_eq!(old.status, 404);
}

#[actix_web::test]
async fn only_the_author_deletes_with_a_204() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let slug = jake.publish("Doomed", &[]).await;
    let delete = |token: &str| {
        authed(
            TestRequest::delete().uri(&format!("/api/articles/{slug}")),
            token,
        )
    };

    let by_jane = send(&state, delete(&jane.token)).await;
    let by_jake = send(&state, delete(&jake.token)).await;
    let again = send(&state, delete(&jake.token)).await;

    assert_eq!(by_jane.status, 403);
    assert_eq!(by_jake.status, 204);
    assert_eq!(again.status, 404);
}

#[actix_web::test]
async fn favouriting_is_idempotent_and_counted_for_the_caller() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let slug = jake.publish("Liked", &[]).await;
    let favorite = || {
        authed(
            TestRequest::post().uri(&format!("/api/articles/{slug}/favorite")),
            &jane.token,
        )
    };
    let unfavorite = || {
        authed(
            TestRequest::delete().uri(&format!("/api/articles/{slug}/favorite")),
            &jane.token,
        )
    };

    for (request, favorited, count) in [
        (favorite(), true, 1),
        (favorite(), true, 1),
        (unfavorite(), false, 0),
        (unfavorite(), false, 0),
    ] {
        let reply = send(&state, request).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            (
                &reply.body["article"]["favorited"],
                &reply.body["article"]["favoritesCount"]
            ),
            (&json!(favorited), &json!(count))
        );
    }
    let missing = send(
        &state,
        authed(
            TestRequest::post().uri("/api/articles/nope/favorite"),
            &jane.token,
        ),
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[actix_web::test]
async fn lists_carry_no_body_count_every_match_and_filter() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let rust = jake.publish("Rust", &["rust"]).await;
    let web = jake.publish("Web", &["web"]).await;
    jane.publish("Janes", &["rust"]).await;
    send(
        &state,
        authed(
            TestRequest::post().uri(&format!("/api/articles/{web}/favorite")),
            &jane.token,
        ),
    )
    .await;

    let all = send(&state, TestRequest::get().uri("/api/articles?limit=2")).await;
    let filtered = send(
        &state,
        TestRequest::get().uri("/api/articles?tag=rust&author=jake"),
    )
    .await;
    let favorited = send(
        &state,
        TestRequest::get().uri("/api/articles?favorited=jane"),
    )
    .await;

    assert_eq!(all.status, 200);
    assert_eq!(all.body["articlesCount"], json!(3));
    assert_eq!(slugs(&all.body).len(), 2);
    assert!(
        all.body["articles"][0].get("body").is_none(),
        "{}",
        all.body
    );
    assert_eq!(slugs(&filtered.body), [rust]);
    assert_eq!(slugs(&favorited.body), [web]);
}

#[actix_web::test]
async fn bad_paging_is_a_422_naming_the_parameter() {
    let state = Ports::default().state();

    let reply = send(
        &state,
        TestRequest::get().uri("/api/articles?limit=0&offset=-1"),
    )
    .await;
    let feed = send(&state, TestRequest::get().uri("/api/articles?limit=abc")).await;

    assert_eq!(reply.status, 422);
    assert!(reply.body["errors"]["limit"].is_array(), "{}", reply.body);
    assert!(reply.body["errors"]["offset"].is_array(), "{}", reply.body);
    assert_eq!(feed.status, 422);
}

#[actix_web::test]
async fn the_feed_shows_followed_authors() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let followed = jake.publish("Followed", &[]).await;
    jane.publish("Own", &[]).await;
    send(
        &state,
        authed(
            TestRequest::post().uri("/api/profiles/jake/follow"),
            &jane.token,
        ),
    )
    .await;

    let reply = send(
        &state,
        authed(TestRequest::get().uri("/api/articles/feed"), &jane.token),
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(slugs(&reply.body), [followed]);
    assert_eq!(reply.body["articlesCount"], json!(1));
    assert_eq!(
        reply.body["articles"][0]["author"]["following"],
        json!(true)
    );
}

#[actix_web::test]
async fn tags_list_the_tags_in_use() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    jake.publish("One", &["rust", "web"]).await;
    jake.publish("Two", &["rust"]).await;

    let reply = send(&state, TestRequest::get().uri("/api/tags")).await;

    assert_eq!(
        (reply.status, reply.body),
        (200, json!({"tags": ["rust", "web"]}))
    );
}

#[actix_web::test]
async fn a_store_failure_on_a_list_is_an_opaque_500() {
    let mut articles = MockArticleRepository::new();
    articles.expect_list().returning(|_, _, _| {
        Err(StoreError::Unavailable(
            "relation \"articles\" does not exist".into(),
        ))
    });
    let state = Ports {
        articles: Arc::new(articles),
        ..Ports::default()
    }
    .state();

    let reply = send(&state, TestRequest::get().uri("/api/articles")).await;

    assert_eq!(
        (reply.status, reply.body),
        (500, json!({"errors": {"server": ["something went wrong"]}}))
    );
}
