use reqwest::Method;
use serde_json::{Value, json};

use conduit_e2e::{Conduit, TestApp, TestUser, slugs};

#[tokio::test]
async fn the_publishing_journey_on_sqlite() {
    publishing_journey(TestApp::on_sqlite().await).await;
}

#[tokio::test]
async fn the_publishing_journey_on_postgres() {
    publishing_journey(TestApp::on_postgres().await).await;
}

#[tokio::test]
async fn twelve_parallel_favourites_count_once_on_sqlite() {
    parallel_favourites(TestApp::on_sqlite().await).await;
}

#[tokio::test]
async fn twelve_parallel_favourites_count_once_on_postgres() {
    parallel_favourites(TestApp::on_postgres().await).await;
}

fn article(title: &str, tags: &[&str]) -> Option<Value> {
    Some(json!({"article": {
        "title": title, "description": format!("About {title}"), "body": format!("All about {title}."),
        "tagList": tags
    }}))
}

/// Jake writes, Jane follows him, favourites, comments, reads her feed and pages through lists
/// with every filter; each tries the other's articles and comments.
async fn publishing_journey(app: TestApp) {
    let TestUser {
        token: jake,
        username: jake_name,
        ..
    } = app.register("jake").await;
    let TestUser {
        token: jane,
        username: jane_name,
        ..
    } = app.register("jane").await;
    let suffix = conduit_test_support::unique();

    // Jake writes three articles a second apart; Jane writes one.
    let mut jakes = Vec::new();
    for (n, tags) in [
        ["dragons", "intro"],
        ["dragons", "advanced"],
        ["cooking", "intro"],
    ]
    .iter()
    .enumerate()
    {
        app.clock.advance(time::Duration::seconds(1));
        let (status, body) = app
            .send(
                Method::POST,
                "/api/articles",
                Some(&jake),
                article(&format!("Jake {n} {suffix}"), tags),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let mut alphabetical = tags.to_vec();
        alphabetical.sort_unstable();
        assert_eq!(body["article"]["tagList"], json!(alphabetical));
        jakes.push(body["article"]["slug"].as_str().expect("a slug").to_owned());
    }
    app.clock.advance(time::Duration::seconds(1));
    let (status, janes) = app
        .send(
            Method::POST,
            "/api/articles",
            Some(&jane),
            article(&format!("Jane {suffix}"), &["intro"]),
        )
        .await;
    assert_eq!(status, 201, "{janes}");
    let janes = janes["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();

    // The same title again is a conflict.
    let (status, conflict) = app
        .send(
            Method::POST,
            "/api/articles",
            Some(&jane),
            article(&format!("Jane {suffix}"), &[]),
        )
        .await;
    assert_eq!(
        (status, conflict),
        (409, json!({"errors": {"slug": ["has already been taken"]}}))
    );

    // Jane follows Jake; her feed holds his articles, newest first.
    let (status, profile) = app
        .send(
            Method::POST,
            &format!("/api/profiles/{jake_name}/follow"),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(
        (status, &profile["profile"]["following"]),
        (200, &json!(true))
    );
    let (status, feed) = app
        .send(Method::GET, "/api/articles/feed", Some(&jane), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        slugs(&feed),
        [jakes[2].clone(), jakes[1].clone(), jakes[0].clone()]
    );
    assert_eq!(feed["articlesCount"], json!(3));
    let (_, paged_feed) = app
        .send(
            Method::GET,
            "/api/articles/feed?limit=1&offset=1",
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(
        (slugs(&paged_feed), &paged_feed["articlesCount"]),
        (vec![jakes[1].clone()], &json!(3))
    );

    // Lists: most recent first, paged, counted, filtered; no bodies.
    let (status, all) = app
        .send(Method::GET, "/api/articles?limit=2", None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(slugs(&all), [janes.clone(), jakes[2].clone()]);
    assert_eq!(all["articlesCount"], json!(4));
    assert!(all["articles"][0].get("body").is_none());
    let (_, rest) = app
        .send(Method::GET, "/api/articles?limit=2&offset=2", None, None)
        .await;
    assert_eq!(slugs(&rest), [jakes[1].clone(), jakes[0].clone()]);
    let (_, intro) = app
        .send(Method::GET, "/api/articles?tag=intro", None, None)
        .await;
    assert_eq!(
        slugs(&intro),
        [janes.clone(), jakes[2].clone(), jakes[0].clone()]
    );
    let (_, by_jake) = app
        .send(
            Method::GET,
            &format!("/api/articles?author={jake_name}&tag=intro"),
            None,
            None,
        )
        .await;
    assert_eq!(slugs(&by_jake), [jakes[2].clone(), jakes[0].clone()]);
    assert_eq!(by_jake["articlesCount"], json!(2));
    let (status, bad) = app
        .send(Method::GET, "/api/articles?limit=-1", None, None)
        .await;
    assert_eq!(status, 422, "{bad}");

    // Favourites: counted, shown to the one who gave them, filterable.
    let favorite = format!("/api/articles/{}/favorite", jakes[0]);
    let (status, liked) = app.send(Method::POST, &favorite, Some(&jane), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            &liked["article"]["favorited"],
            &liked["article"]["favoritesCount"]
        ),
        (&json!(true), &json!(1))
    );
    let (_, seen_by_jake) = app
        .send(
            Method::GET,
            &format!("/api/articles/{}", jakes[0]),
            Some(&jake),
            None,
        )
        .await;
    assert_eq!(seen_by_jake["article"]["favorited"], json!(false));
    assert_eq!(seen_by_jake["article"]["favoritesCount"], json!(1));
    let (_, favorited) = app
        .send(
            Method::GET,
            &format!("/api/articles?favorited={jane_name}&author={jake_name}&tag=dragons"),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(slugs(&favorited), [jakes[0].clone()]);
    assert_eq!(favorited["articles"][0]["favorited"], json!(true));
    assert_eq!(favorited["articles"][0]["author"]["following"], json!(true));

    // Comments: Jane comments on Jake's article; Jake may not delete her comment.
    let comments = format!("/api/articles/{}/comments", jakes[0]);
    let (status, comment) = app
        .send(
            Method::POST,
            &comments,
            Some(&jane),
            Some(json!({"comment": {"body": "Great read"}})),
        )
        .await;
    assert_eq!(status, 201, "{comment}");
    let id = comment["comment"]["id"].as_i64().expect("an id");
    let (status, listed) = app.send(Method::GET, &comments, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["comments"][0]["body"], json!("Great read"));
    assert_eq!(
        listed["comments"][0]["author"]["username"],
        json!(jane_name)
    );
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("{comments}/{id}"),
            Some(&jake),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/articles/{}/comments/{id}", jakes[1]),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(
        status, 404,
        "a comment is reached through its own article only"
    );

    // Jane may not change or delete Jake's article.
    let (status, forbidden) = app
        .send(
            Method::PUT,
            &format!("/api/articles/{}", jakes[0]),
            Some(&jane),
            Some(json!({"article": {"body": "Mine now"}})),
        )
        .await;
    assert_eq!(
        (status, forbidden),
        (403, json!({"errors": {"article": ["forbidden"]}}))
    );
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/articles/{}", jakes[0]),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // Jake retitles it: a new slug, the old one is gone.
    app.clock.advance(time::Duration::seconds(1));
    let (status, retitled) = app
        .send(
            Method::PUT,
            &format!("/api/articles/{}", jakes[0]),
            Some(&jake),
            Some(json!({"article": {"title": format!("Renamed {suffix}")}})),
        )
        .await;
    assert_eq!(status, 200, "{retitled}");
    let renamed = retitled["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();
    assert_eq!(renamed, format!("renamed-{suffix}"));
    assert_ne!(
        retitled["article"]["updatedAt"],
        retitled["article"]["createdAt"]
    );
    let (status, _) = app
        .send(
            Method::GET,
            &format!("/api/articles/{}", jakes[0]),
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Tags in use, most used first.
    let (_, tags) = app.send(Method::GET, "/api/tags", None, None).await;
    assert_eq!(
        tags,
        json!({"tags": ["intro", "dragons", "advanced", "cooking"]})
    );

    // Jake deletes it: its comments and favourites go with it.
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/articles/{renamed}"),
            Some(&jake),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .send(
            Method::GET,
            &format!("/api/articles/{renamed}/comments"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, favorited) = app
        .send(
            Method::GET,
            &format!("/api/articles?favorited={jane_name}"),
            None,
            None,
        )
        .await;
    assert_eq!(favorited["articlesCount"], json!(0));

    // Unfollowing empties the feed.
    let (status, profile) = app
        .send(
            Method::DELETE,
            &format!("/api/profiles/{jake_name}/follow"),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(
        (status, &profile["profile"]["following"]),
        (200, &json!(false))
    );
    let (_, feed) = app
        .send(Method::GET, "/api/articles/feed", Some(&jane), None)
        .await;
    assert_eq!((slugs(&feed).len(), &feed["articlesCount"]), (0, &json!(0)));
}

/// Twelve favourites of one article by one user, sent at once, count once.
async fn parallel_favourites(app: TestApp) {
    let TestUser { token: jake, .. } = app.register("jake").await;
    let TestUser { token: jane, .. } = app.register("jane").await;
    let (_, created) = app
        .send(
            Method::POST,
            "/api/articles",
            Some(&jake),
            article(&format!("Popular {}", conduit_test_support::unique()), &[]),
        )
        .await;
    let slug = created["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();
    let url = format!("{}/api/articles/{slug}/favorite", app.address);

    let requests: Vec<_> = (0..12)
        .map(|_| {
            let request = app
                .client
                .post(&url)
                .header("authorization", format!("Token {jane}"))
                .send();
            tokio::spawn(request)
        })
        .collect();
    for request in requests {
        let response = request
            .await
            .expect("task completes")
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 200);
    }

    let (_, article) = app
        .send(
            Method::GET,
            &format!("/api/articles/{slug}"),
            Some(&jane),
            None,
        )
        .await;
    assert_eq!(article["article"]["favoritesCount"], json!(1));
    assert_eq!(article["article"]["favorited"], json!(true));
}
