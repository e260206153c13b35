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

/// A fold of the counts' changes reads the counts it changes, not the tables: with 100,000
/// authors and tags counted, a fold of three changes each (one up, one down to 0, one new)
/// reads no row by a sequential scan of `author_counts` or `tag_counts`, and still deletes the
/// total that reached 0. Before, every fold ended by scanning both whole for totals of 0.
#[tokio::test]
async fn a_fold_reads_only_the_counts_it_changes() {
    const COUNTED: &str = "
        INSERT INTO author_counts (author_id, articles) SELECT n, 1 FROM generate_series(1, 100000) n;
        INSERT INTO tag_counts (tag, articles) SELECT 'tag' || n, 1 FROM generate_series(1, 100000) n;
        ANALYZE author_counts, tag_counts;
        INSERT INTO author_count_changes (author_id, delta) VALUES (5, 1), (7, -1), (200000, 1);
        INSERT INTO tag_count_changes (tag, delta) VALUES ('tag5', 1), ('tag7', -1), ('new', 1);
    ";
    const SCANNED: &str = "
        SELECT COALESCE(SUM(seq_tup_read), 0)::BIGINT FROM pg_stat_xact_user_tables
        WHERE relname IN ('author_counts', 'tag_counts')";
    let database = TestDb::new().await;
    let pool = database.pool();
    sqlx::raw_sql(COUNTED).execute(pool).await.expect("seeds");

    // The transaction's own statistics: exact, and unaffected by any other session.
    let mut tx = pool.begin().await.expect("begins");
    let before: i64 = sqlx::query_scalar(SCANNED)
        .fetch_one(&mut *tx)
        .await
        .expect("reads");
    sqlx::query("SELECT counts_fold()")
        .execute(&mut *tx)
        .await
        .expect("folds");
    let after: i64 = sqlx::query_scalar(SCANNED)
        .fetch_one(&mut *tx)
        .await
        .expect("reads");
    tx.commit().await.expect("commits");
    assert_eq!(after - before, 0, "rows a fold read by sequential scans");

    let totals: Vec<(String, i64)> = sqlx::query_as(
        "SELECT author_id::TEXT, articles FROM author_counts WHERE author_id IN (5, 7, 200000)
         UNION ALL
         SELECT tag, articles FROM tag_counts WHERE tag IN ('tag5', 'tag7', 'new')
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("reads");
    let expected = [("200000", 1), ("5", 2), ("new", 1), ("tag5", 2)]
        .map(|(key, articles)| (key.to_owned(), articles));
    assert_eq!(totals, expected);
}
