use serde_json::{Value, json};

use conduit_e2e::{Call, Conduit, TestApp, TestUser, slugs};

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

fn article(title: &str, tags: &[&str]) -> Value {
    json!({"article": {
        "title": title, "description": format!("About {title}"), "body": format!("All about {title}."),
        "tagList": tags
    }})
}

/// Jake writes, Jane follows him, favourites, comments, reads her feed and pages through lists
/// with every filter; each tries the other's articles and comments. Each step starts where the
/// one before left the shelf.
async fn publishing_journey(app: TestApp) {
    let shelf = four_articles_a_second_apart(&app).await;
    the_same_title_again_is_a_conflict(&shelf).await;
    a_follower_s_feed_holds_the_followed_newest_first(&shelf).await;
    lists_are_newest_first_paged_counted_and_filtered(&shelf).await;
    favourites_are_counted_shown_to_their_giver_and_filterable(&shelf).await;
    a_comment_is_deleted_by_its_author_through_its_article_only(&shelf).await;
    only_the_author_changes_an_article_and_a_new_title_is_a_new_slug(&shelf).await;
    unfollowing_empties_the_feed(&shelf).await;
}

/// Jake and Jane, Jake's three articles (oldest first) and Jane's one, and the suffix that makes
/// their titles unique.
struct Shelf<'a> {
    jake: TestUser<'a, TestApp>,
    jane: TestUser<'a, TestApp>,
    jakes: Vec<String>,
    janes: String,
    suffix: String,
}

async fn four_articles_a_second_apart(app: &TestApp) -> Shelf<'_> {
    let jake = app.register("jake").await;
    let jane = app.register("jane").await;
    let suffix = conduit_test_support::unique();
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
        let body = jake
            .call(Call::post(
                "/api/articles",
                article(&format!("Jake {n} {suffix}"), tags),
            ))
            .await
            .expect(201);
        let mut alphabetical = tags.to_vec();
        alphabetical.sort_unstable();
        assert_eq!(body["article"]["tagList"], json!(alphabetical));
        jakes.push(body["article"]["slug"].as_str().expect("a slug").to_owned());
    }
    app.clock.advance(time::Duration::seconds(1));
    let janes = jane
        .call(Call::post(
            "/api/articles",
            article(&format!("Jane {suffix}"), &["intro"]),
        ))
        .await
        .expect(201);
    let janes = janes["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();
    Shelf {
        jake,
        jane,
        jakes,
        janes,
        suffix,
    }
}

async fn the_same_title_again_is_a_conflict(shelf: &Shelf<'_>) {
    let conflict = shelf
        .jane
        .call(Call::post(
            "/api/articles",
            article(&format!("Jane {}", shelf.suffix), &[]),
        ))
        .await;
    assert_eq!(
        (conflict.status, conflict.body),
        (409, json!({"errors": {"slug": ["has already been taken"]}}))
    );
}

async fn a_follower_s_feed_holds_the_followed_newest_first(shelf: &Shelf<'_>) {
    let Shelf {
        jake, jane, jakes, ..
    } = shelf;
    jane.follow(&jake.username).await;
    let feed = jane.get("/api/articles/feed").await.expect(200);
    assert_eq!(
        slugs(&feed),
        [jakes[2].clone(), jakes[1].clone(), jakes[0].clone()]
    );
    assert_eq!(feed["articlesCount"], json!(3));
    let paged_feed = jane.get("/api/articles/feed?limit=1&offset=1").await.body;
    assert_eq!(
        (slugs(&paged_feed), &paged_feed["articlesCount"]),
        (vec![jakes[1].clone()], &json!(3))
    );
}

/// Most recent first, paged, counted, filtered; no bodies.
async fn lists_are_newest_first_paged_counted_and_filtered(shelf: &Shelf<'_>) {
    let Shelf {
        jake, jakes, janes, ..
    } = shelf;
    let app = jake.app;
    let all = app
        .call(Call::get("/api/articles?limit=2"))
        .await
        .expect(200);
    assert_eq!(slugs(&all), [janes.clone(), jakes[2].clone()]);
    assert_eq!(all["articlesCount"], json!(4));
    assert!(all["articles"][0].get("body").is_none());
    let rest = app.call(Call::get("/api/articles?limit=2&offset=2")).await;
    assert_eq!(slugs(&rest.body), [jakes[1].clone(), jakes[0].clone()]);
    let intro = app.call(Call::get("/api/articles?tag=intro")).await;
    assert_eq!(
        slugs(&intro.body),
        [janes.clone(), jakes[2].clone(), jakes[0].clone()]
    );
    let by_jake = app
        .call(Call::get(format!(
            "/api/articles?author={}&tag=intro",
            jake.username
        )))
        .await
        .body;
    assert_eq!(slugs(&by_jake), [jakes[2].clone(), jakes[0].clone()]);
    assert_eq!(by_jake["articlesCount"], json!(2));
    let bad = app.call(Call::get("/api/articles?limit=-1")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
}

async fn favourites_are_counted_shown_to_their_giver_and_filterable(shelf: &Shelf<'_>) {
    let Shelf {
        jake, jane, jakes, ..
    } = shelf;
    let liked = jane.favorite(&jakes[0]).await;
    assert_eq!(liked["article"]["favoritesCount"], json!(1));
    let seen_by_jake = jake.get(&format!("/api/articles/{}", jakes[0])).await.body;
    assert_eq!(seen_by_jake["article"]["favorited"], json!(false));
    assert_eq!(seen_by_jake["article"]["favoritesCount"], json!(1));
    let favorited = jane
        .get(&format!(
            "/api/articles?favorited={}&author={}&tag=dragons",
            jane.username, jake.username
        ))
        .await
        .body;
    assert_eq!(slugs(&favorited), [jakes[0].clone()]);
    assert_eq!(favorited["articles"][0]["favorited"], json!(true));
    assert_eq!(favorited["articles"][0]["author"]["following"], json!(true));
}

/// Jane comments on Jake's article; Jake may not delete her comment, nor she through another
/// article.
async fn a_comment_is_deleted_by_its_author_through_its_article_only(shelf: &Shelf<'_>) {
    let Shelf {
        jake, jane, jakes, ..
    } = shelf;
    let comments = format!("/api/articles/{}/comments", jakes[0]);
    let id = jane.comment(&jakes[0], "Great read").await;
    let listed = jake.app.call(Call::get(&comments)).await.expect(200);
    assert_eq!(listed["comments"][0]["body"], json!("Great read"));
    assert_eq!(
        listed["comments"][0]["author"]["username"],
        json!(jane.username)
    );
    let by_jake = jake.call(Call::delete(format!("{comments}/{id}"))).await;
    assert_eq!(by_jake.status, 403);
    let elsewhere = jane
        .call(Call::delete(format!(
            "/api/articles/{}/comments/{id}",
            jakes[1]
        )))
        .await;
    assert_eq!(
        elsewhere.status, 404,
        "a comment is reached through its own article only"
    );
}

/// Jane may not change or delete Jake's article; Jake retitles it (a new slug, the old one
/// gone), the tags in use are counted, and Jake deletes it with its comments and favourites.
async fn only_the_author_changes_an_article_and_a_new_title_is_a_new_slug(shelf: &Shelf<'_>) {
    let Shelf {
        jake,
        jane,
        jakes,
        suffix,
        ..
    } = shelf;
    let app = jake.app;
    let first = format!("/api/articles/{}", jakes[0]);
    let forbidden = jane
        .call(Call::put(&first, json!({"article": {"body": "Mine now"}})))
        .await;
    assert_eq!(
        (forbidden.status, forbidden.body),
        (403, json!({"errors": {"article": ["forbidden"]}}))
    );
    assert_eq!(jane.call(Call::delete(&first)).await.status, 403);

    app.clock.advance(time::Duration::seconds(1));
    let retitled = jake
        .call(Call::put(
            &first,
            json!({"article": {"title": format!("Renamed {suffix}")}}),
        ))
        .await
        .expect(200);
    let renamed = retitled["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();
    assert_eq!(renamed, format!("renamed-{suffix}"));
    assert_ne!(
        retitled["article"]["updatedAt"],
        retitled["article"]["createdAt"]
    );
    assert_eq!(app.call(Call::get(&first)).await.status, 404);

    // Tags in use, most used first.
    let tags = app.call(Call::get("/api/tags")).await.body;
    assert_eq!(
        tags,
        json!({"tags": ["intro", "dragons", "advanced", "cooking"]})
    );

    jake.call(Call::delete(format!("/api/articles/{renamed}")))
        .await
        .expect(204);
    let comments = app
        .call(Call::get(format!("/api/articles/{renamed}/comments")))
        .await;
    assert_eq!(comments.status, 404);
    let favorited = app
        .call(Call::get(format!(
            "/api/articles?favorited={}",
            jane.username
        )))
        .await
        .body;
    assert_eq!(favorited["articlesCount"], json!(0));
}

async fn unfollowing_empties_the_feed(shelf: &Shelf<'_>) {
    let Shelf { jake, jane, .. } = shelf;
    let profile = jane
        .call(Call::delete(format!(
            "/api/profiles/{}/follow",
            jake.username
        )))
        .await
        .expect(200);
    assert_eq!(profile["profile"]["following"], json!(false));
    let feed = jane.get("/api/articles/feed").await.body;
    assert_eq!((slugs(&feed).len(), &feed["articlesCount"]), (0, &json!(0)));
}

/// Twelve favourites of one article by one user, sent at once, count once.
async fn parallel_favourites(app: TestApp) {
    let jake = app.register("jake").await;
    let jane = app.register("jane").await;
    let slug = jake
        .publish(&format!("Popular {}", conduit_test_support::unique()), &[])
        .await;
    let url = format!("{}/api/articles/{slug}/favorite", app.address);

    let requests: Vec<_> = (0..12)
        .map(|_| {
            let request = app
                .client
                .post(&url)
                .header("authorization", format!("Token {}", jane.token))
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

    let article = jane.get(&format!("/api/articles/{slug}")).await.body;
    assert_eq!(article["article"]["favoritesCount"], json!(1));
    assert_eq!(article["article"]["favorited"], json!(true));
}
