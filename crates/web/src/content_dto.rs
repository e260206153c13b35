//! Request and response bodies of profiles, articles, comments and tags, as the contract spells
//! them. Times are RFC 3339 in UTC with milliseconds: `2026-02-18T03:22:56.637Z`.

use conduit_domain::articles::{Article, ArticlePage, ArticleSummary, Comment, Tag};
use conduit_domain::articles::{ArticleDraft, ArticleEdit, ListQuery};
use conduit_domain::profiles::Profile;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The contract's `Profile`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Profile)]
pub(crate) struct ProfileBody {
    username: String,
    bio: Option<String>,
    image: Option<String>,
    following: bool,
}

impl From<Profile> for ProfileBody {
    fn from(profile: Profile) -> Self {
        Self {
            username: profile.username.to_string(),
            bio: profile.bio.map(|bio| bio.to_string()),
            image: profile.image.map(|image| image.to_string()),
            following: profile.following,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProfileResponse)]
pub(crate) struct ProfileEnvelope {
    pub(crate) profile: ProfileBody,
}

/// An article in a list: the contract's `Article` without `body`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ArticleListItem)]
pub(crate) struct ArticleItem {
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
    author: ProfileBody,
}

impl From<ArticleSummary> for ArticleItem {
    fn from(article: ArticleSummary) -> Self {
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
#[schema(as = Article)]
pub(crate) struct ArticleBodyOut {
    #[serde(flatten)]
    item: ArticleItem,
    body: String,
}

impl From<Article> for ArticleBodyOut {
    fn from(article: Article) -> Self {
        Self {
            body: article.body.to_string(),
            item: article.summary.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SingleArticleResponse)]
pub(crate) struct ArticleEnvelope {
    pub(crate) article: ArticleBodyOut,
}

impl From<Article> for ArticleEnvelope {
    fn from(article: Article) -> Self {
        Self {
            article: article.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MultipleArticlesResponse)]
pub(crate) struct ArticlesEnvelope {
    articles: Vec<ArticleItem>,
    articles_count: u64,
}

impl From<ArticlePage> for ArticlesEnvelope {
    fn from(page: ArticlePage) -> Self {
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
    pub(crate) article: NewArticleBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewArticle)]
pub(crate) struct NewArticleBody {
    #[schema(max_length = 200)]
    title: String,
    #[schema(max_length = 1000)]
    description: String,
    #[schema(max_length = 50000)]
    body: String,
    /// Up to 10 tags of up to 40 characters each (checked by the domain, after trimming).
    #[serde(default)]
    tag_list: Option<Vec<String>>,
}

/// `{"article": {...}}` of an update. Fields this API does not know (a `tagList`, the whole
/// article sent back) are ignored rather than refused, as some frontends send them.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateArticleRequest {
    pub(crate) article: UpdateArticleBody,
}

impl From<NewArticleBody> for ArticleDraft {
    fn from(body: NewArticleBody) -> Self {
        Self {
            title: body.title,
            description: body.description,
            body: body.body,
            tag_list: body.tag_list.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpdateArticle)]
pub(crate) struct UpdateArticleBody {
    #[schema(max_length = 200)]
    title: Option<String>,
    #[schema(max_length = 1000)]
    description: Option<String>,
    #[schema(max_length = 50000)]
    body: Option<String>,
}

impl From<UpdateArticleBody> for ArticleEdit {
    fn from(body: UpdateArticleBody) -> Self {
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
    /// Page size: at least 1, default 20, larger values clamped to 100.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub(crate) limit: Option<String>,
    /// Articles to skip: at least 0, default 0.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub(crate) offset: Option<String>,
}

/// The query string of `GET /articles/feed`: paging only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// Page size: at least 1, default 20, larger values clamped to 100.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub(crate) limit: Option<String>,
    /// Articles to skip: at least 0, default 0.
    #[param(value_type = Option<u64>, minimum = 0)]
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

/// The contract's `Comment`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Comment)]
pub(crate) struct CommentOut {
    id: i64,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    body: String,
    author: ProfileBody,
}

impl From<Comment> for CommentOut {
    fn from(comment: Comment) -> Self {
        Self {
            id: comment.id.0,
            created_at: comment.created_at.to_string(),
            updated_at: comment.updated_at.to_string(),
            body: comment.body.to_string(),
            author: comment.author.profile.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SingleCommentResponse)]
pub(crate) struct CommentEnvelope {
    pub(crate) comment: CommentOut,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MultipleCommentsResponse)]
pub(crate) struct CommentsEnvelope {
    pub(crate) comments: Vec<CommentOut>,
}

/// `{"comment": {...}}`. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCommentRequest)]
pub(crate) struct CommentRequest {
    pub(crate) comment: NewCommentBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewComment)]
pub(crate) struct NewCommentBody {
    #[schema(max_length = 5000)]
    pub(crate) body: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TagsResponse)]
pub(crate) struct TagsEnvelope {
    tags: Vec<String>,
}

impl From<Vec<Tag>> for TagsEnvelope {
    fn from(tags: Vec<Tag>) -> Self {
        Self {
            tags: tags.iter().map(|tag| tag.as_str().to_owned()).collect(),
        }
    }
}
