//! The SQL of the article lists, built from the filters present, so that each shape of query gets
//! a plan of its own (docs/query-plans.md).

use conduit_domain::articles::ArticleFilter;

use crate::articles::article_view;
use crate::db::Dialect;

/// No filter needs the author's row, so the count does without the join.
const COUNT: &str = "SELECT COUNT(*) FROM articles a";
/// Every article: the sum of the authors' counts (migration `list_counts`) and of the changes
/// not yet folded into them (migration `count_changes`).
const COUNT_ALL: &str = "SELECT CAST(COALESCE((SELECT SUM(articles) FROM author_counts), 0)
    + COALESCE((SELECT SUM(delta) FROM author_count_changes), 0) AS BIGINT)";
/// The articles with the tag `$1`: its count and its changes not yet folded.
const COUNT_TAGGED: &str =
    "SELECT CAST(COALESCE((SELECT articles FROM tag_counts WHERE tag = $1), 0)
    + COALESCE((SELECT SUM(delta) FROM tag_count_changes WHERE tag = $1), 0) AS BIGINT)";
/// The articles by the author `$1`: their count and its changes not yet folded.
const COUNT_BY_AUTHOR: &str = "WITH au AS (SELECT id FROM users WHERE username_key = $1)
    SELECT CAST(COALESCE((SELECT c.articles FROM author_counts c
            WHERE c.author_id = (SELECT id FROM au)), 0)
        + COALESCE((SELECT SUM(d.delta) FROM author_count_changes d
            WHERE d.author_id = (SELECT id FROM au)), 0) AS BIGINT)";
/// The feed of the reader `$1`: the sum of the followed authors' counts and changes.
const COUNT_FEED: &str = "SELECT CAST(COALESCE((SELECT SUM(c.articles) FROM author_counts c
        WHERE c.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)), 0)
    + COALESCE((SELECT SUM(d.delta) FROM author_count_changes d
        WHERE d.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)), 0)
    AS BIGINT)";
/// Most recent first; among articles of the same instant, the later-created first.
const ORDER: &str = " ORDER BY a.created_at DESC, a.id DESC";

/// A list query for one combination of filters: two statements, the page (viewer `$1`, the
/// filter values, then limit and offset) and the count (the filter values from `$1`, or for the
/// feed the reader as `$1`), with the filter values in binding order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListSql {
    pub(crate) page: String,
    pub(crate) count: String,
    pub(crate) values: Vec<String>,
    /// Whether the count also takes the viewer as `$1` (the feed's reader).
    pub(crate) count_by_viewer: bool,
    /// Whether the page also takes, after limit and offset, where the page ends (limit plus
    /// offset, computed without overflow: an offset may be as large as `i64::MAX`).
    pub(crate) binds_page_end: bool,
}

impl ListSql {
    pub(crate) fn new(filter: &ArticleFilter) -> Self {
        let mut conditions: Vec<&str> = Vec::new();
        let mut values = Vec::new();
        // Each filter narrows `a.id` or `a.author_id` by a subquery the planner can run first,
        // from an index, so a selective filter never walks the whole table.
        if let Some(tag) = &filter.tag {
            conditions.push("a.id IN (SELECT t.article_id FROM article_tags t WHERE t.tag = ?)");
            values.push(tag.as_str().to_owned());
        }
        if let Some(author) = &filter.author {
            conditions.push("a.author_id = (SELECT au.id FROM users au WHERE au.username_key = ?)");
            values.push(author.canonical());
        }
        if let Some(reader) = &filter.favorited_by {
            conditions.push(
                "a.id IN (SELECT ff.article_id FROM favorites ff WHERE ff.user_id =
                          (SELECT fu.id FROM users fu WHERE fu.username_key = ?))",
            );
            values.push(reader.canonical());
        }
        let filtered = |first: usize| {
            let mut sql = String::new();
            for (n, condition) in conditions.iter().enumerate() {
                sql.push_str(if n == 0 { " WHERE " } else { " AND " });
                sql.push_str(&condition.replace('?', &format!("${}", first + n)));
            }
            sql
        };
        let after_filters = values.len() + 2;
        Self {
            page: format!(
                "{}{}{ORDER} LIMIT ${after_filters} OFFSET ${}",
                article_view("NULL"),
                filtered(2),
                after_filters + 1
            ),
            // One filter, or none, is answered from the maintained counts, whose cost does not
            // grow with the articles; several filters are selective, so counting rows is cheap.
            count: match (&filter.tag, &filter.author, &filter.favorited_by) {
                (None, None, None) => COUNT_ALL.to_owned(),
                (Some(_), None, None) => COUNT_TAGGED.to_owned(),
                (None, Some(_), None) => COUNT_BY_AUTHOR.to_owned(),
                _ => format!("{COUNT}{}", filtered(1)),
            },
            values,
            count_by_viewer: false,
            binds_page_end: false,
        }
    }

    /// The feed of the reader `$1`: articles by the authors they follow.
    ///
    /// The page picks its candidates first, so that its cost follows the number of followed
    /// authors and the page's end (`$4`, limit plus offset), not the number of articles:
    /// - PostgreSQL takes the newest `$4` (where the page ends) of each followed author from
    ///   `articles_author_recent` (a `LATERAL` join), then the newest `$4` of those;
    /// - SQLite, which has no `LATERAL`, walks `articles_recent` newest first and keeps the
    ///   followed authors' articles until it has `$4`.
    pub(crate) fn feed(dialect: Dialect) -> Self {
        let candidates = match dialect {
            Dialect::Postgres => {
                "SELECT x.id FROM follows f CROSS JOIN LATERAL (
                    SELECT fa.id, fa.created_at FROM articles fa
                    WHERE fa.author_id = f.followee_id
                    ORDER BY fa.created_at DESC, fa.id DESC LIMIT $4) x
                 WHERE f.follower_id = $1
                 ORDER BY x.created_at DESC, x.id DESC LIMIT $4"
            }
            Dialect::Sqlite => {
                "SELECT fa.id FROM articles fa INDEXED BY articles_recent
                 WHERE fa.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)
                 ORDER BY fa.created_at DESC, fa.id DESC LIMIT $4"
            }
        };
        Self {
            page: format!(
                "{} WHERE a.id IN ({candidates}){ORDER} LIMIT $2 OFFSET $3",
                article_view("NULL")
            ),
            count: COUNT_FEED.to_owned(),
            values: Vec::new(),
            count_by_viewer: true,
            binds_page_end: true,
        }
    }
}
