//! The SQL of the article lists, as the stores run it: for `EXPLAIN`, for review, and for the
//! test that keeps every list query on an index (`tests/it/plans.rs`).

use conduit_domain::articles::ArticleFilter;

use crate::db::Dialect;
use crate::list_query::ListSql;

/// The two statements of one list request and their parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListStatements {
    /// The page: the viewer's id (or NULL) is `$1`, then the filter values, then limit and offset.
    pub page: String,
    /// The total: the filter values from `$1` (for the feed, the reader's id).
    pub count: String,
    /// The filter values, in binding order.
    pub values: Vec<String>,
    /// Whether the page takes one more value after limit and offset: limit plus offset.
    pub binds_page_end: bool,
}

impl From<ListSql> for ListStatements {
    fn from(sql: ListSql) -> Self {
        Self {
            page: sql.page,
            count: sql.count,
            values: sql.values,
            binds_page_end: sql.binds_page_end,
        }
    }
}

/// `GET /api/articles` with these filters.
pub fn article_list(filter: &ArticleFilter) -> ListStatements {
    ListSql::new(filter).into()
}

/// `GET /api/articles/feed`, as PostgreSQL runs it.
pub fn feed() -> ListStatements {
    ListSql::feed(Dialect::Postgres).into()
}
