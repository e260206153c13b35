//! Bodies and query strings of the articles routes (`routes/articles.rs`), as the contract
//! spells them. Times are RFC 3339 in UTC with milliseconds: `2026-02-18T03:22:56.637Z`.

use conduit_domain::articles::{self, ArticleDraft, ArticleEdit, ListQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::profiles::Profile;

/// An article in a list: the contract's `Article` without `body`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArticleListItem {
    slug: String,
    title: String,
    description: String,
    tag_list: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    favorited: bool,
    favorites_count: u64,
    author: Profile,
}

impl From<articles::ArticleSummary> for ArticleListItem {
    fn from(article: articles::ArticleSummary) -> Self {
        Self {
            slug: article.slug.to_string(),
            title: article.title.to_string(),
            description: article.description.to_string(),
            tag_list: article
                .tags
                .iter()
                .map(|tag| tag.as_str().to_owned())
                .collect(),
            created_at: article.created_at.to_string(),
            updated_at: article.updated_at.to_string(),
            favorited: article.favorited,
            favorites_count: article.favorites_count,
            author: article.author.profile.into(),
        }
    }
}

/// The contract's `Article`: a list item with its body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Article {
    #[serde(flatten)]
    item: ArticleListItem,
    body: String,
}

impl From<articles::Article> for Article {
    fn from(article: articles::Article) -> Self {
        Self {
            body: article.body.to_string(),
            item: article.summary.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SingleArticleResponse {
    pub(crate) article: Article,
}

impl From<articles::Article> for SingleArticleResponse {
    fn from(article: articles::Article) -> Self {
        Self {
            article: article.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MultipleArticlesResponse {
    articles: Vec<ArticleListItem>,
    articles_count: u64,
}

impl From<articles::ArticlePage> for MultipleArticlesResponse {
    fn from(page: articles::ArticlePage) -> Self {
        Self {
            articles: page.articles.into_iter().map(Into::into).collect(),
            articles_count: page.total,
        }
    }
}

/// `{"article": {...}}` of a new article. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewArticleRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) article: NewArticle,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewArticle {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    title: String,
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    description: String,
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    body: String,
    /// Up to 10 tags; each is trimmed, then 1 to 40 characters with no control character.
    #[serde(default)]
    #[schema(value_type = Option<Vec<TagName>>, max_items = 10)]
    tag_list: Option<Vec<String>>,
}

/// `{"article": {...}}` of an update. Fields this API does not know (a `tagList`, the whole
/// article sent back) are ignored rather than refused, as some frontends send them.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateArticleRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) article: UpdateArticle,
}

/// A tag as a client sends it: the schema of each item of `tagList`.
#[derive(ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 40,
    pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
#[allow(dead_code)] // Only its schema is used.
pub(crate) struct TagName(String);

impl From<NewArticle> for ArticleDraft {
    fn from(body: NewArticle) -> Self {
        Self {
            title: body.title,
            description: body.description,
            body: body.body,
            tag_list: body.tag_list.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateArticle {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    title: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    description: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    body: Option<String>,
}

impl From<UpdateArticle> for ArticleEdit {
    fn from(body: UpdateArticle) -> Self {
        Self {
            title: body.title,
            description: body.description,
            body: body.body,
        }
    }
}

/// The query string of `GET /articles`. Every value is read as text, so that the domain answers
/// a bad `limit` with a field-keyed 422.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Articles with this tag.
    tag: Option<String>,
    /// Articles by this user.
    author: Option<String>,
    /// Articles favourited by this user.
    favorited: Option<String>,
    /// Page size: at least 1, default 20; values above 100 are read as 100.
    #[param(value_type = Option<i32>, minimum = 1, maximum = 2147483647)]
    pub(crate) limit: Option<String>,
    /// Articles to skip: at least 0, default 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub(crate) offset: Option<String>,
}

/// The query string of `GET /articles/feed`: paging only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// Page size: at least 1, default 20; values above 100 are read as 100.
    #[param(value_type = Option<i32>, minimum = 1, maximum = 2147483647)]
    pub(crate) limit: Option<String>,
    /// Articles to skip: at least 0, default 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub(crate) offset: Option<String>,
}

impl From<ListParams> for ListQuery {
    fn from(params: ListParams) -> Self {
        Self {
            tag: params.tag,
            author: params.author,
            favorited: params.favorited,
            limit: params.limit,
            offset: params.offset,
        }
    }
}
