use actix_web::test::TestRequest;
use insta::assert_json_snapshot;
use serde_json::json;

use crate::support::{Conduit, Ports, authed, send};

fn comment(slug: &str, token: &str, body: &str) -> TestRequest {
    authed(
        TestRequest::post().uri(&format!("/api/articles/{slug}/comments")),
        token,
    )
    .set_json(json!({"comment": {"body": body}}))
}

#[actix_web::test]
async fn a_comment_answers_201_in_the_contracts_shape() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let slug = jake.publish("Dragons", &[]).await;

    let reply = send(&state, comment(&slug, &jake.token, "First!")).await;

    assert_eq!(reply.status, 201);
    assert_json_snapshot!(reply.body, {
        ".comment.createdAt" => "[time]", ".comment.updatedAt" => "[time]"
    }, @r#"
    {
      "comment": {
        "author": {
          "bio": null,
          "following": false,
          "image": null,
          "username": "jake"
        },
        "body": "First!",
        "createdAt": "[time]",
        "id": 1,
        "updatedAt": "[time]"
      }
    }
    "#);
}

#[actix_web::test]
async fn comments_are_listed_for_anyone_oldest_first() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let slug = jake.publish("Dragons", &[]).await;
    send(&state, comment(&slug, &jake.token, "one")).await;
    send(&state, comment(&slug, &jake.token, "two")).await;

    let reply = send(
        &state,
        TestRequest::get().uri(&format!("/api/articles/{slug}/comments")),
    )
    .await;

    assert_eq!(reply.status, 200);
    let bodies: Vec<&str> = reply.body["comments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|comment| comment["body"].as_str())
        .collect();
    assert_eq!(bodies, ["one", "two"]);
}

#[actix_web::test]
async fn commenting_needs_a_token_a_body_and_an_article() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let slug = jake.publish("Dragons", &[]).await;

    let anonymous = send(
        &state,
        TestRequest::post()
            .uri(&format!("/api/articles/{slug}/comments"))
            .set_json(json!({"comment": {"body": "hi"}})),
    )
    .await;
    let blank = send(&state, comment(&slug, &jake.token, "  ")).await;
    let nowhere = send(&state, comment("no-such-article", &jake.token, "hi")).await;

    assert_eq!(anonymous.status, 401);
    assert_eq!(
        (blank.status, blank.body),
        (422, json!({"errors": {"body": ["can't be blank"]}}))
    );
    assert_eq!(
        (nowhere.status, nowhere.body),
        (404, json!({"errors": {"article": ["not found"]}}))
    );
}

#[actix_web::test]
async fn only_a_comments_author_deletes_it_and_other_articles_do_not_reach_it() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;
    let jane = state.register("jane").await;
    let slug = jake.publish("Dragons", &[]).await;
    let other = jake.publish("Other", &[]).await;
    let id = send(&state, comment(&slug, &jane.token, "mine")).await.body["comment"]["id"].clone();
    let delete = |slug: &str, id: &serde_json::Value, token: &str| {
        authed(
            TestRequest::delete().uri(&format!("/api/articles/{slug}/comments/{id}")),
            token,
        )
    };

    let by_jake = send(&state, delete(&slug, &id, &jake.token)).await;
    let via_other = send(&state, delete(&other, &id, &jane.token)).await;
    let not_a_number = send(&state, delete(&slug, &json!("abc"), &jane.token)).await;
    let by_jane = send(&state, delete(&slug, &id, &jane.token)).await;
    let again = send(&state, delete(&slug, &id, &jane.token)).await;

    assert_eq!(
        (by_jake.status, by_jake.body),
        (403, json!({"errors": {"comment": ["forbidden"]}}))
    );
    assert_eq!(
        (via_other.status, via_other.body),
        (404, json!({"errors": {"comment": ["not found"]}}))
    );
    assert_eq!(not_a_number.status, 404);
    assert_eq!(by_jane.status, 204);
    assert_eq!(again.status, 404);
}
