//! The SQL of the article lists, built from the filters present, so that each shape of query gets
//! a plan of its own (docs/query-plans.md).

use conduit_domain::articles::ArticleFilter;

use crate::articles::article_view;

/// No filter needs the author's row, so the count does without the join.
const COUNT: &str = "SELECT COUNT(*) FROM articles a";
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
            count: format!("{COUNT}{}", filtered(1)),
            values,
            count_by_viewer: false,
        }
    }

    /// The feed of the reader `$1`: articles by the authors they follow.
    pub(crate) fn feed() -> Self {
        let following =
            " WHERE a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)";
        Self {
            page: format!(
                "{}{following}{ORDER} LIMIT $2 OFFSET $3",
                article_view("NULL")
            ),
            count: format!("{COUNT}{following}"),
            values: Vec::new(),
            count_by_viewer: true,
        }
    }
}
