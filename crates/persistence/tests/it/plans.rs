//! Every article list query is served by indexes on PostgreSQL, so its cost follows the page and
//! the matches, not the size of the table: `EXPLAIN` on 100,000 articles finds no sequential scan.
//!
//! The plans are printed (`--no-capture`) and kept in docs/query-plans.md.

use conduit_domain::accounts::Username;
use conduit_domain::articles::{ArticleFilter, Tag};
use conduit_persistence::queries::{self, ListStatements};
use conduit_test_support::TestDb;
use sqlx::PgPool;

/// 10,000 users who follow 10 others each; 100,000 articles a minute apart by 1,000 authors; a
/// rare tag on every 500th article and a popular one on every third; 100,000 favourites.
const SEED: &str = "
    INSERT INTO users (username, username_key, email, password_hash, created_at, updated_at)
    SELECT 'user' || n, 'user' || n, 'user' || n || '@example.com', 'x', now(), now()
    FROM generate_series(1, 10000) AS n;

    INSERT INTO articles (slug, author_id, title, description, body, tag_list, created_at, updated_at)
    SELECT 'article-' || n, 1 + n % 1000, 'Article ' || n, 'd', 'b', '[]',
           timestamptz '2026-01-01' + n * interval '1 minute',
           timestamptz '2026-01-01' + n * interval '1 minute'
    FROM generate_series(1, 100000) AS n;

    INSERT INTO article_tags (tag, article_id)
    SELECT 'tag' || (id % 500), id FROM articles;
    INSERT INTO article_tags (tag, article_id)
    SELECT 'popular', id FROM articles WHERE id % 3 = 0;

    -- As a running instance does after its writes.
    SELECT counts_fold();

    INSERT INTO favorites (user_id, article_id)
    SELECT 1 + (id * 7) % 10000, id FROM articles;

    INSERT INTO follows (follower_id, followee_id)
    SELECT u, 1 + (u + k * 97) % 1000
    FROM generate_series(1, 10000) AS u, generate_series(1, 10) AS k
    WHERE 1 + (u + k * 97) % 1000 <> u
    ON CONFLICT DO NOTHING;

    ANALYZE;
";

/// Whether a plan reads a whole table that grows with the articles. The maintained counts
/// (`tag_counts`, `author_counts`) have a row per tag or author, and their changes not yet folded
/// (`tag_count_changes`, `author_count_changes`) a handful: the planner may scan them.
fn scans_growing_table(plan: &str) -> bool {
    let growing = [
        "articles",
        "article_tags",
        "favorites",
        "follows",
        "users",
        "comments",
    ];
    plan.lines()
        .filter_map(|line| line.split("Seq Scan on ").nth(1))
        .filter_map(|scanned| scanned.split_whitespace().next())
        .any(|table| growing.contains(&table))
}

async fn plan(pool: &PgPool, sql: &str, binds: &[Bind]) -> String {
    let explain = format!("EXPLAIN (COSTS OFF) {sql}");
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(explain));
    for bind in binds {
        query = match bind {
            Bind::Int(value) => query.bind(*value),
            Bind::Text(value) => query.bind(value.clone()),
        };
    }
    query
        .fetch_all(pool)
        .await
        .unwrap_or_else(|error| panic!("cannot explain {sql}: {error}"))
        .join("\n")
}

#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

/// The plans of a list's page (viewer: user 1, 20 from the start) and of its count.
async fn plans(pool: &PgPool, statements: &ListStatements, feed: bool) -> (String, String) {
    let values: Vec<Bind> = statements.values.iter().cloned().map(Bind::Text).collect();
    let mut page_binds = vec![Bind::Int(1)];
    page_binds.extend(values.iter().cloned());
    page_binds.extend([Bind::Int(20), Bind::Int(0)]);
    if statements.binds_page_end {
        page_binds.push(Bind::Int(20));
    }
    let count_binds = if feed { vec![Bind::Int(1)] } else { values };
    (
        plan(pool, &statements.page, &page_binds).await,
        plan(pool, &statements.count, &count_binds).await,
    )
}

fn username(name: &str) -> Option<Username> {
    Some(Username::parse(name).expect("valid"))
}

fn tag(name: &str) -> Option<Tag> {
    Some(Tag::parse(name).expect("valid"))
}

#[tokio::test]
async fn every_list_query_uses_indexes_on_a_hundred_thousand_articles() {
    let database = TestDb::new().await;
    sqlx::raw_sql(SEED)
        .execute(database.pool())
        .await
        .expect("seeds");
    // (name, selective, filter): a count reads every match, so counting a third of the table
    // may well scan it; counting a selective filter must not.
    let cases = [
        ("no filter", false, ArticleFilter::default()),
        (
            "a rare tag",
            true,
            ArticleFilter {
                tag: tag("tag7"),
                ..Default::default()
            },
        ),
        (
            "a popular tag",
            false,
            ArticleFilter {
                tag: tag("popular"),
                ..Default::default()
            },
        ),
        (
            "an author",
            true,
            ArticleFilter {
                author: username("user5"),
                ..Default::default()
            },
        ),
        (
            "favourited by",
            true,
            ArticleFilter {
                favorited_by: username("user9"),
                ..Default::default()
            },
        ),
        (
            "all three",
            true,
            ArticleFilter {
                tag: tag("popular"),
                author: username("user5"),
                favorited_by: username("user36"),
            },
        ),
    ];

    let mut scans = Vec::new();
    for (name, selective, filter) in &cases {
        let (page, count) = plans(database.pool(), &queries::article_list(filter), false).await;
        eprintln!("## GET /api/articles, {name}: page\n\n{page}\n\n## count\n\n{count}\n");
        if scans_growing_table(&page) {
            scans.push(format!("{name}: page"));
        }
        if *selective && scans_growing_table(&count) {
            scans.push(format!("{name}: count"));
        }
    }
    let (page, count) = plans(database.pool(), &queries::feed(), true).await;
    eprintln!("## GET /api/articles/feed: page\n\n{page}\n\n## count\n\n{count}\n");
    if scans_growing_table(&page) || scans_growing_table(&count) {
        scans.push("feed".to_owned());
    }

    assert!(
        scans.is_empty(),
        "sequential scans in: {scans:?} (plans above)"
    );
}
