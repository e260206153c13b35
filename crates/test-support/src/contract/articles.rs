//! The contract of [`ArticleRepository`](conduit_domain::ports::ArticleRepository): articles, tags,
//! favourites, lists and the feed.

use std::sync::Arc;

use conduit_domain::accounts::Username;
use conduit_domain::articles::{
    ArticleChanges, ArticleFilter, ArticleId, ArticleSummary, Page, Slug, Tag, Title,
};
use conduit_domain::ports::{NewSession, RefreshTokenHash, SessionId, StoreError, UniqueField};
use time::Duration;
use time::macros::datetime;

use super::{
    ContractStore, T0, article, author_and_follower, comment_on, insert_article, live_session,
    slugs, user,
};
use crate::builders::{NewArticleBuilder, unique};
use conduit_domain::articles::{CommentBody, NewComment};

fn by_tag(tag: &str) -> ArticleFilter {
    ArticleFilter {
        tag: Some(Tag::parse(tag).expect("valid tag")),
        ..ArticleFilter::default()
    }
}

pub async fn an_inserted_article_reads_back_by_slug_with_its_tags_in_order(store: &ContractStore) {
    let (author, author_name) = user(store).await;
    let new = NewArticleBuilder::new(author)
        .tags(["zebra", "apple", "mango"])
        .created_at(datetime!(2026-02-18 03:22:56.000 UTC))
        .build();

    let inserted = insert_article(store, new.clone()).await.expect("inserts");
    let found = store
        .articles
        .find_by_slug(&new.slug, None)
        .await
        .expect("reads")
        .expect("found");

    assert_eq!(found, inserted);
    let summary = &found.summary;
    assert_eq!((&summary.slug, &summary.title), (&new.slug, &new.title));
    assert_eq!(found.body, new.body);
    assert_eq!(summary.tags, new.tags);
    assert_eq!(
        (summary.created_at, summary.updated_at),
        (new.created_at, new.created_at)
    );
    assert_eq!(summary.author.id, author);
    assert_eq!(summary.author.profile.username, author_name);
    assert_eq!((summary.favorited, summary.favorites_count), (false, 0));
}

/// A new article's session check is part of its write: in a revoked session, an expired one,
/// another user's or none at all, nothing is written (no article, no tag, no count); in a live one
/// of its author, the same article is.
pub async fn an_article_is_written_only_in_a_live_session_of_its_author(store: &ContractStore) {
    let (author, author_name) = user(store).await;
    let (other, _) = user(store).await;
    let revoked = live_session(store, author).await;
    store.sessions.revoke(revoked, T0).await.expect("revokes");
    let expired = store
        .sessions
        .start(NewSession {
            user: author,
            token: RefreshTokenHash(format!("hash-{}", unique())),
            created_at: T0 - Duration::days(2),
            token_expires_at: T0 - Duration::days(1),
            expires_at: T0,
        })
        .await
        .expect("starts a session");
    let others = live_session(store, other).await;
    let unknown = SessionId(i64::MAX);
    let tag = format!("if-live-{}", unique());
    let new = || {
        NewArticleBuilder::new(author)
            .title(format!("Only if live {tag}"))
            .tags([tag.as_str()])
            .created_at(T0)
            .build()
    };

    for session in [revoked, expired, others, unknown] {
        let refused = store.articles.insert(new(), session).await;
        assert_eq!(refused, Ok(None), "{session:?}");
    }
    let by_author = ArticleFilter {
        author: Some(author_name),
        ..ArticleFilter::default()
    };
    let listed = store
        .articles
        .list(&by_author, Page::first(10), None)
        .await
        .expect("lists");
    let tags = store.articles.tags(1000).await.expect("reads the tags");
    assert_eq!((listed.total, listed.articles), (0, Vec::new()));
    assert!(
        !tags.iter().any(|listed| listed.as_str() == tag),
        "{tags:?}"
    );

    let live = live_session(store, author).await;
    let written = store
        .articles
        .insert(new(), live)
        .await
        .expect("writes")
        .expect("in a live session");
    assert_eq!(written.summary.slug, new().slug);
    assert_eq!(written.summary.tags, new().tags);
}

pub async fn a_taken_slug_is_a_conflict_and_writes_nothing(store: &ContractStore) {
    let (author, _) = user(store).await;
    let first = article(
        store,
        NewArticleBuilder::new(author)
            .title("Same title")
            .tags(["a"]),
    )
    .await;

    let second = insert_article(
        store,
        NewArticleBuilder::new(author)
            .title("Same Title!")
            .tags(["only-on-the-second"])
            .build(),
    )
    .await;

    assert_eq!(
        second.map(|article| article.summary.slug),
        Err(StoreError::Conflict {
            field: UniqueField::Slug
        })
    );
    assert_eq!(
        store.articles.tags(100).await,
        Ok(vec![Tag::parse("a").expect("valid")])
    );
    let page = store
        .articles
        .list(&ArticleFilter::default(), Page::default(), None)
        .await
        .expect("lists");
    assert_eq!(slugs(&page.articles), [first.slug.as_str()]);
}

pub async fn an_update_changes_only_what_it_names(store: &ContractStore) {
    let (author, _) = user(store).await;
    let original = article(store, NewArticleBuilder::new(author).tags(["kept"])).await;
    let title = Title::parse("A brand new title").expect("valid");
    let changes = ArticleChanges {
        title: Some((title.clone(), Slug::from_title(&title))),
        ..ArticleChanges::default()
    };
    let later = original.created_at + Duration::minutes(5);

    let updated = store
        .articles
        .update(original.id, changes, later, author)
        .await
        .expect("updates")
        .expect("found");

    assert_eq!(updated.summary.slug.as_str(), "a-brand-new-title");
    assert_eq!(updated.summary.title, title);
    assert_eq!(updated.summary.description, original.description);
    assert_eq!(updated.summary.tags, original.tags);
    assert_eq!(
        (updated.summary.created_at, updated.summary.updated_at),
        (original.created_at, later)
    );
    let old_slug = store.articles.find_by_slug(&original.slug, None).await;
    assert_eq!(old_slug, Ok(None));
}

pub async fn an_update_to_a_taken_slug_is_a_conflict_and_changes_nothing(store: &ContractStore) {
    let (author, _) = user(store).await;
    let taken = article(store, NewArticleBuilder::new(author)).await;
    let mine = article(store, NewArticleBuilder::new(author)).await;
    let changes = ArticleChanges {
        title: Some((taken.title.clone(), taken.slug.clone())),
        ..ArticleChanges::default()
    };

    let outcome = store.articles.update(mine.id, changes, T0, author).await;

    assert_eq!(
        outcome.map(|article| article.map(|article| article.summary.slug)),
        Err(StoreError::Conflict {
            field: UniqueField::Slug
        })
    );
    let unchanged = store.articles.find_by_slug(&mine.slug, None).await;
    assert_eq!(
        unchanged.expect("reads").map(|article| article.summary),
        Some(mine)
    );
}

pub async fn an_update_or_delete_of_an_unknown_article_finds_nothing(store: &ContractStore) {
    let (author, _) = user(store).await;
    let changes = ArticleChanges {
        body: Some(conduit_domain::articles::ArticleBody::parse("x").expect("valid")),
        ..ArticleChanges::default()
    };

    let updated = store
        .articles
        .update(ArticleId(i64::MAX), changes, T0, author)
        .await;
    let deleted = store.articles.delete(ArticleId(i64::MAX)).await;

    assert_eq!(updated, Ok(None));
    assert_eq!(deleted, Ok(false));
}

pub async fn deleting_an_article_takes_its_tags_favourites_and_comments(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (reader, _) = user(store).await;
    let doomed = article(store, NewArticleBuilder::new(author).tags(["doomed"])).await;
    store
        .articles
        .favorite(&doomed.slug, reader)
        .await
        .expect("favourites");
    let comment = comment_on(store, doomed.id, reader, T0).await;

    assert_eq!(store.articles.delete(doomed.id).await, Ok(true));

    assert_eq!(
        store.articles.find_by_slug(&doomed.slug, None).await,
        Ok(None)
    );
    assert_eq!(store.articles.tags(100).await, Ok(vec![]));
    assert_eq!(store.comments.find(comment, None).await, Ok(None));
    let favorited = ArticleFilter {
        favorited_by: Some(doomed.author.profile.username.clone()),
        ..ArticleFilter::default()
    };
    let page = store.articles.list(&favorited, Page::default(), None).await;
    assert_eq!(page.map(|page| page.total), Ok(0));
}

pub async fn lists_are_most_recent_first_with_a_stable_tie_break(store: &ContractStore) {
    let (author, _) = user(store).await;
    // Inserted out of time order; two share an instant, one falls on a whole second.
    let middle = article(
        store,
        NewArticleBuilder::new(author).created_at(T0 + Duration::milliseconds(500)),
    )
    .await;
    let oldest = article(store, NewArticleBuilder::new(author).created_at(T0)).await;
    let tie_first = article(
        store,
        NewArticleBuilder::new(author).created_at(T0 + Duration::seconds(1)),
    )
    .await;
    let tie_second = article(
        store,
        NewArticleBuilder::new(author).created_at(T0 + Duration::seconds(1)),
    )
    .await;

    let page = store
        .articles
        .list(&ArticleFilter::default(), Page::default(), None)
        .await
        .expect("lists");

    assert_eq!(
        slugs(&page.articles),
        [
            tie_second.slug.as_str(),
            tie_first.slug.as_str(),
            middle.slug.as_str(),
            oldest.slug.as_str()
        ]
    );
    assert_eq!(page.total, 4);
}

pub async fn pages_are_cut_by_limit_and_offset_and_count_every_match(store: &ContractStore) {
    let (author, _) = user(store).await;
    let mut newest_first = Vec::new();
    for n in 0..5 {
        let created = T0 + Duration::minutes(n);
        newest_first.insert(
            0,
            article(store, NewArticleBuilder::new(author).created_at(created)).await,
        );
    }

    let second_page = store
        .articles
        .list(&ArticleFilter::default(), Page::first(2).skipping(2), None)
        .await
        .expect("lists");
    let past_the_end = store
        .articles
        .list(&ArticleFilter::default(), Page::first(2).skipping(10), None)
        .await
        .expect("lists");

    assert_eq!(slugs(&second_page.articles), slugs(&newest_first[2..4]));
    assert_eq!(second_page.total, 5);
    assert!(past_the_end.articles.is_empty());
    assert_eq!(past_the_end.total, 5);
}

pub async fn filters_match_exactly_and_combine(store: &ContractStore) {
    let (jake, jake_name) = user(store).await;
    let (jane, jane_name) = user(store).await;
    let rust_by_jake = article(store, NewArticleBuilder::new(jake).tags(["rust", "web"])).await;
    let web_by_jake = article(store, NewArticleBuilder::new(jake).tags(["web"])).await;
    let rust_by_jane = article(store, NewArticleBuilder::new(jane).tags(["Rust"])).await;
    store
        .articles
        .favorite(&web_by_jake.slug, jane)
        .await
        .expect("favourites");
    store
        .articles
        .favorite(&rust_by_jake.slug, jane)
        .await
        .expect("favourites");
    let list = |filter: ArticleFilter| {
        let articles = Arc::clone(&store.articles);
        async move {
            let page = articles
                .list(&filter, Page::default(), None)
                .await
                .expect("lists");
            assert_eq!(page.total, page.articles.len() as u64);
            let mut found: Vec<String> = slugs(&page.articles)
                .into_iter()
                .map(str::to_owned)
                .collect();
            found.sort();
            found
        }
    };
    let sorted = |articles: &[&ArticleSummary]| {
        let mut slugs: Vec<String> = articles
            .iter()
            .map(|a| a.slug.as_str().to_owned())
            .collect();
        slugs.sort();
        slugs
    };

    assert_eq!(list(by_tag("rust")).await, sorted(&[&rust_by_jake]));
    assert_eq!(list(by_tag("Rust")).await, sorted(&[&rust_by_jane]));
    let by_jake = ArticleFilter {
        author: Some(jake_name.clone()),
        ..ArticleFilter::default()
    };
    assert_eq!(list(by_jake).await, sorted(&[&rust_by_jake, &web_by_jake]));
    let favorited_by_jane = ArticleFilter {
        favorited_by: Some(jane_name.clone()),
        ..ArticleFilter::default()
    };
    assert_eq!(
        list(favorited_by_jane).await,
        sorted(&[&rust_by_jake, &web_by_jake])
    );
    let all_three = ArticleFilter {
        tag: Some(Tag::parse("rust").expect("valid")),
        author: Some(jake_name),
        favorited_by: Some(jane_name.clone()),
    };
    assert_eq!(list(all_three).await, sorted(&[&rust_by_jake]));
    let none = ArticleFilter {
        author: Some(jane_name),
        tag: Some(Tag::parse("web").expect("valid")),
        ..ArticleFilter::default()
    };
    assert!(list(none).await.is_empty());
    let nobody = ArticleFilter {
        author: Some(Username::parse("nobody-at-all").expect("valid")),
        ..ArticleFilter::default()
    };
    assert!(list(nobody).await.is_empty());
}

pub async fn the_feed_holds_followed_authors_only(store: &ContractStore) {
    let (reader, _) = user(store).await;
    let (followed, _) = user(store).await;
    let (stranger, _) = user(store).await;
    store
        .profiles
        .follow(reader, followed)
        .await
        .expect("follows");
    let older = article(store, NewArticleBuilder::new(followed).created_at(T0)).await;
    article(store, NewArticleBuilder::new(stranger).created_at(T0)).await;
    let newer = article(
        store,
        NewArticleBuilder::new(followed).created_at(T0 + Duration::hours(1)),
    )
    .await;
    article(store, NewArticleBuilder::new(reader).created_at(T0)).await;

    let feed = store
        .articles
        .feed(reader, Page::default())
        .await
        .expect("feed");
    let nothing = store
        .articles
        .feed(stranger, Page::default())
        .await
        .expect("feed");

    assert_eq!(
        slugs(&feed.articles),
        [newer.slug.as_str(), older.slug.as_str()]
    );
    assert_eq!(feed.total, 2);
    assert!(
        feed.articles
            .iter()
            .all(|article| article.author.profile.following)
    );
    assert_eq!((nothing.articles.len(), nothing.total), (0, 0));
}

pub async fn favourites_count_once_and_show_for_the_viewer_only(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (fan, _) = user(store).await;
    let (other, _) = user(store).await;
    let liked = article(store, NewArticleBuilder::new(author)).await;

    store
        .articles
        .favorite(&liked.slug, fan)
        .await
        .expect("favourites");
    store
        .articles
        .favorite(&liked.slug, fan)
        .await
        .expect("favourites again");
    store
        .articles
        .favorite(&liked.slug, other)
        .await
        .expect("favourites");
    let seen = |viewer| {
        let articles = Arc::clone(&store.articles);
        let slug = liked.slug.clone();
        async move {
            let article = articles
                .find_by_slug(&slug, viewer)
                .await
                .expect("reads")
                .expect("found");
            (article.summary.favorited, article.summary.favorites_count)
        }
    };

    assert_eq!(seen(Some(fan)).await, (true, 2));
    assert_eq!(seen(Some(author)).await, (false, 2));
    assert_eq!(seen(None).await, (false, 2));
    store
        .articles
        .unfavorite(&liked.slug, fan)
        .await
        .expect("unfavourites");
    store
        .articles
        .unfavorite(&liked.slug, fan)
        .await
        .expect("unfavourites again");
    assert_eq!(seen(Some(fan)).await, (false, 1));
}

pub async fn twelve_concurrent_favourites_by_one_user_count_once_and_each_answer_says_so(
    store: &ContractStore,
) {
    let (author, _) = user(store).await;
    let (fan, _) = user(store).await;
    let liked = article(store, NewArticleBuilder::new(author)).await;

    let attempts: Vec<_> = (0..12)
        .map(|_| {
            let articles = Arc::clone(&store.articles);
            let slug = liked.slug.clone();
            tokio::spawn(async move { articles.favorite(&slug, fan).await })
        })
        .collect();
    for attempt in attempts {
        let answered = attempt
            .await
            .expect("task completes")
            .expect("favourites")
            .expect("the article");
        // Each answer as the user sees it after: theirs, once, whoever got there first.
        assert_eq!(
            (answered.summary.favorited, answered.summary.favorites_count),
            (true, 1)
        );
    }

    let found = store
        .articles
        .find_by_slug(&liked.slug, Some(fan))
        .await
        .expect("reads")
        .expect("found");
    assert_eq!(
        (found.summary.favorited, found.summary.favorites_count),
        (true, 1)
    );
}

/// Thirty-two writers at once, each writing an article with tags, a favourite and a comment:
/// every write succeeds. On SQLite this is the check that writers wait their turn for the one
/// write lock rather than fail with "database is locked".
pub async fn thirty_two_concurrent_writers_all_succeed(store: &ContractStore) {
    let (author, author_name) = user(store).await;
    let target = article(store, NewArticleBuilder::new(author)).await;
    let session = live_session(store, author).await;
    let mut writers = Vec::new();
    for _ in 0..32 {
        writers.push(user(store).await.0);
    }

    let tasks: Vec<_> = writers
        .into_iter()
        .map(|writer| {
            let articles = Arc::clone(&store.articles);
            let comments = Arc::clone(&store.comments);
            let new = NewArticleBuilder::new(author)
                .tags(["busy", "write"])
                .build();
            let (slug, id) = (target.slug.clone(), target.id);
            tokio::spawn(async move {
                articles.insert(new, session).await?;
                articles.favorite(&slug, writer).await?;
                comments
                    .insert(NewComment {
                        article: id,
                        author: writer,
                        body: CommentBody::parse("Me too").expect("valid"),
                        created_at: T0,
                    })
                    .await?;
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("task completes")
            .expect("every write succeeds");
    }

    let by_author = ArticleFilter {
        author: Some(author_name),
        ..ArticleFilter::default()
    };
    let page = store
        .articles
        .list(&by_author, Page::first(100), None)
        .await
        .expect("reads");
    let found = store
        .articles
        .find_by_slug(&target.slug, None)
        .await
        .expect("reads")
        .expect("found");
    let comments = store.comments.list(target.id, None).await.expect("reads");
    assert_eq!(
        (page.total, found.summary.favorites_count, comments.len()),
        (33, 32, 32)
    );
}

pub async fn tags_are_listed_most_used_first(store: &ContractStore) {
    let (author, _) = user(store).await;
    article(
        store,
        NewArticleBuilder::new(author).tags(["rare", "common"]),
    )
    .await;
    article(
        store,
        NewArticleBuilder::new(author).tags(["common", "also-rare"]),
    )
    .await;

    let tags = store.articles.tags(100).await.expect("reads");

    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["common", "also-rare", "rare"]);
}

pub async fn tags_are_capped_at_the_limit_keeping_the_most_used(store: &ContractStore) {
    let (author, _) = user(store).await;
    for tags in [["a", "c"], ["c", "d"], ["b", "c"], ["a", "b"]] {
        article(store, NewArticleBuilder::new(author).tags(tags)).await;
    }

    let tags = store.articles.tags(2).await.expect("reads");

    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["c", "a"]);
}

pub async fn tags_follow_deletes_and_a_tag_on_no_article_is_not_listed(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (other, _) = user(store).await;
    let first = article(store, NewArticleBuilder::new(author).tags(["gone", "kept"])).await;
    article(
        store,
        NewArticleBuilder::new(author).tags(["kept", "thinned"]),
    )
    .await;
    let doomed = article(
        store,
        NewArticleBuilder::new(other).tags(["thinned", "gone"]),
    )
    .await;
    article(store, NewArticleBuilder::new(author).tags(["thinned"])).await;

    store.articles.delete(first.id).await.expect("deletes");
    store.articles.delete(doomed.id).await.expect("deletes");
    let tags = store.articles.tags(100).await.expect("reads");

    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["thinned", "kept"]);
}

/// The feed's page picks candidates per followed author (PostgreSQL) or from the newest
/// articles (SQLite): whichever way, its pages are the slices of one order across authors.
pub async fn feed_pages_interleave_authors_in_one_order(store: &ContractStore) {
    let (reader, _) = user(store).await;
    let mut expected = Vec::new();
    for n in 0..3_i64 {
        let (author, _) = user(store).await;
        store
            .profiles
            .follow(reader, author)
            .await
            .expect("follows");
        for k in 0..3_i64 {
            let at = T0 + Duration::minutes(k * 3 + n);
            let written = article(store, NewArticleBuilder::new(author).created_at(at)).await;
            expected.push((at, written.slug));
        }
    }
    expected.sort_by_key(|(at, _)| std::cmp::Reverse(*at));

    let mut paged = Vec::new();
    for offset in [0, 2, 4, 6, 8] {
        let page = store
            .articles
            .feed(reader, Page::first(2).skipping(offset))
            .await
            .expect("feed");
        assert_eq!(page.total, 9);
        paged.extend(page.articles.into_iter().map(|article| article.slug));
    }

    let expected: Vec<_> = expected.into_iter().map(|(_, slug)| slug).collect();
    assert_eq!(paged, expected);
}

/// The largest offset a client may send is `i64::MAX`: the feed's page, whose SQL adds the limit
/// to the offset, must answer an empty page, not overflow.
pub async fn the_feed_at_the_largest_offset_is_an_empty_page(store: &ContractStore) {
    let (author, reader) = author_and_follower(store).await;
    article(store, NewArticleBuilder::new(author)).await;

    let page = store
        .articles
        .feed(
            reader,
            Page::first(Page::MAX_LIMIT).skipping(Page::MAX_OFFSET),
        )
        .await
        .expect("an empty page, not an error");

    assert_eq!((page.articles.len(), page.total), (0, 1));
}

pub async fn a_favourite_answers_the_article_as_its_user_then_sees_it(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (fan, _) = user(store).await;
    let (other, _) = user(store).await;
    let liked = article(store, NewArticleBuilder::new(author)).await;
    let seen = |article: Option<conduit_domain::articles::Article>| {
        let article = article.expect("the article");
        assert_eq!(article.summary.slug, liked.slug);
        (article.summary.favorited, article.summary.favorites_count)
    };

    let first = store.articles.favorite(&liked.slug, other).await;
    let given = store.articles.favorite(&liked.slug, fan).await;
    let again = store.articles.favorite(&liked.slug, fan).await;
    let taken = store.articles.unfavorite(&liked.slug, fan).await;
    let taken_again = store.articles.unfavorite(&liked.slug, fan).await;
    let unknown = Slug::parse("no-such-article").expect("a slug");

    assert_eq!(seen(first.expect("favourites")), (true, 1));
    assert_eq!(seen(given.expect("favourites")), (true, 2));
    assert_eq!(seen(again.expect("favourites again")), (true, 2));
    assert_eq!(seen(taken.expect("unfavourites")), (false, 1));
    assert_eq!(seen(taken_again.expect("unfavourites again")), (false, 1));
    assert_eq!(store.articles.favorite(&unknown, fan).await, Ok(None));
    assert_eq!(store.articles.unfavorite(&unknown, fan).await, Ok(None));
}

pub async fn articles_are_found_by_ids_as_the_viewer_sees_them(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (fan, _) = user(store).await;
    let first = article(store, NewArticleBuilder::new(author)).await;
    let second = article(store, NewArticleBuilder::new(author)).await;
    store
        .articles
        .favorite(&second.slug, fan)
        .await
        .expect("favourites");

    let mut found = store
        .articles
        .find_by_ids(&[second.id, ArticleId(i64::MAX), first.id], Some(fan))
        .await
        .expect("reads");
    let none = store.articles.find_by_ids(&[], None).await;

    found.sort_by_key(|article| article.summary.id);
    let seen: Vec<_> = found
        .iter()
        .map(|article| (article.summary.id, article.summary.favorited))
        .collect();
    assert_eq!(seen, [(first.id, false), (second.id, true)]);
    assert_eq!(
        found[1].body.as_str(),
        second_body(store, &second.slug).await
    );
    assert_eq!(none, Ok(Vec::new()));
}

async fn second_body(store: &ContractStore, slug: &Slug) -> String {
    store
        .articles
        .find_by_slug(slug, None)
        .await
        .expect("reads")
        .expect("found")
        .body
        .as_str()
        .to_owned()
}

/// What the maintained counts answer: every tag most used first, the first two, and the totals
/// of every article, of the tag `c`, of each of two authors, and of `reader`'s feed.
async fn counted(
    store: &ContractStore,
    authors: [&Username; 2],
    reader: conduit_domain::accounts::UserId,
) -> (Vec<String>, Vec<String>, [u64; 5]) {
    let names = |tags: Vec<Tag>| tags.iter().map(|tag| tag.as_str().to_owned()).collect();
    let all = names(store.articles.tags(100).await.expect("reads"));
    let first_two = names(store.articles.tags(2).await.expect("reads"));
    let total = |filter: ArticleFilter| {
        let articles = Arc::clone(&store.articles);
        async move {
            articles
                .list(&filter, Page::first(1), None)
                .await
                .expect("lists")
                .total
        }
    };
    let by = |author: &Username| ArticleFilter {
        author: Some(author.clone()),
        ..ArticleFilter::default()
    };
    let feed = store
        .articles
        .feed(reader, Page::first(1))
        .await
        .expect("reads the feed")
        .total;
    (
        all,
        first_two,
        [
            total(ArticleFilter::default()).await,
            total(by_tag("c")).await,
            total(by(authors[0])).await,
            total(by(authors[1])).await,
            feed,
        ],
    )
}

/// PostgreSQL's writers leave changes that a fold adds into the counts later, and readers add the
/// changes not yet folded: the answers are exact before the fold and the same after it, even
/// when the changes reorder the most used tags.
pub async fn counts_and_tags_read_the_same_before_and_after_a_fold(store: &ContractStore) {
    let (first, first_name) = user(store).await;
    let (second, second_name) = user(store).await;
    let (reader, _) = user(store).await;
    store
        .profiles
        .follow(reader, second)
        .await
        .expect("follows");
    let mut tagged_a = Vec::new();
    for _ in 0..2 {
        tagged_a.push(article(store, NewArticleBuilder::new(first).tags(["a", "b"])).await);
    }
    tagged_a.push(article(store, NewArticleBuilder::new(first).tags(["a"])).await);
    article(store, NewArticleBuilder::new(first).tags(["d"])).await;
    (store.fold_counts)().await;
    // Folded: a 3, b 2, d 1. Then c gains three and a and b lose all theirs, so that d, which
    // has no change, moves up into the first two.
    for _ in 0..3 {
        article(store, NewArticleBuilder::new(second).tags(["c"])).await;
    }
    for doomed in &tagged_a {
        store.articles.delete(doomed.id).await.expect("deletes");
    }
    let authors = [&first_name, &second_name];

    let before = counted(store, authors, reader).await;
    (store.fold_counts)().await;
    let after = counted(store, authors, reader).await;

    let expected = (
        vec!["c".to_owned(), "d".to_owned()],
        vec!["c".to_owned(), "d".to_owned()],
        [4, 3, 1, 3, 3],
    );
    assert_eq!(before, expected);
    assert_eq!(after, expected);
}

/// Folds running while 32 writers add tagged articles, and 8 of them delete one, lose no change
/// and count none twice.
pub async fn counts_stay_exact_when_folds_run_among_writers(store: &ContractStore) {
    let (author, author_name) = user(store).await;
    let mut doomed = Vec::new();
    for _ in 0..8 {
        doomed.push(article(store, NewArticleBuilder::new(author).tags(["c", "gone"])).await);
    }

    let session = live_session(store, author).await;
    let mut tasks = Vec::new();
    for n in 0..32 {
        let articles = Arc::clone(&store.articles);
        let removed = doomed.get(n).map(|article| article.id);
        let new = NewArticleBuilder::new(author).tags(["c", "kept"]).build();
        tasks.push(tokio::spawn(async move {
            articles.insert(new, session).await?;
            if let Some(id) = removed {
                articles.delete(id).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    let fold = Arc::clone(&store.fold_counts);
    let folding = tokio::spawn(async move {
        for _ in 0..20 {
            fold().await;
            tokio::task::yield_now().await;
        }
    });
    for task in tasks {
        task.await
            .expect("task completes")
            .expect("every write succeeds");
    }
    folding.await.expect("folds");

    let unchanged = counted(store, [&author_name, &author_name], author).await;
    (store.fold_counts)().await;
    let folded = counted(store, [&author_name, &author_name], author).await;

    assert_eq!(unchanged, folded);
    assert_eq!(folded.1, ["c", "kept"]);
    assert_eq!(folded.2, [32, 32, 32, 32, 0]);
}
