//! Articles: list, feed, create, read, update, delete, favourite.

use actix_web::{HttpResponse, web};

use crate::auth::{CurrentUser, IdentifiedCaller, MaybeUser};
use crate::dto::GenericErrorModel;
use crate::dto::articles::{
    ListParams, MultipleArticlesResponse, NewArticleRequest, PageParams, SingleArticleResponse,
    UpdateArticleRequest,
};
use crate::validated::Validated;
use crate::{ApiError, AppState};

const TAG: &str = "Articles";

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        // Before `/articles/{slug}`, which would otherwise take "feed" for a slug.
        .route("/articles/feed", web::get().to(feed))
        .route("/articles", web::get().to(list))
        .route("/articles", web::post().to(create))
        .route("/articles/{slug}", web::get().to(get_article))
        .route("/articles/{slug}", web::put().to(update))
        .route("/articles/{slug}", web::delete().to(delete))
        .route("/articles/{slug}/favorite", web::post().to(favorite))
        .route("/articles/{slug}/favorite", web::delete().to(unfavorite));
}

/// Articles, most recent first, filtered and paged. List items carry no `body`.
#[utoipa::path(get, path = "/articles", tag = TAG, operation_id = "GetArticles",
    params(ListParams),
    responses(
        (status = 200, description = "A page of articles and the number of matches", body = MultipleArticlesResponse),
        (status = 401, description = "A token was sent and is unusable", body = GenericErrorModel),
        (status = 422, description = "Invalid paging", body = GenericErrorModel),
    ),
    security((), ("Token" = [])))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: MaybeUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .articles
        .list(params.into_inner().into(), caller.id())
        .await?;
    Ok(HttpResponse::Ok().json(MultipleArticlesResponse::from(page)))
}

/// Articles by the authors the caller follows, most recent first.
#[utoipa::path(get, path = "/articles/feed", tag = TAG, operation_id = "GetArticlesFeed",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the feed", body = MultipleArticlesResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 422, description = "Invalid paging", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn feed(
    state: web::Data<AppState>,
    caller: CurrentUser,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .articles
        .feed(caller.id, params.limit.as_deref(), params.offset.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(MultipleArticlesResponse::from(page)))
}

/// Publish an article; its slug comes from the title.
#[utoipa::path(post, path = "/articles", tag = TAG, operation_id = "CreateArticle",
    request_body = NewArticleRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 201, description = "The new article", body = SingleArticleResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 409, description = "An article has this title's slug", body = GenericErrorModel),
        (status = 422, description = "Invalid input", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: IdentifiedCaller,
    body: Validated<NewArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    let article = state
        .articles
        .create(caller.0, body.into_inner().article.into())
        .await?;
    Ok(HttpResponse::Created().json(SingleArticleResponse::from(article)))
}

/// An article.
#[utoipa::path(get, path = "/articles/{slug}", tag = TAG, operation_id = "GetArticle",
    params(("slug" = String, Path, description = "Slug of the article")),
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        (status = 401, description = "A token was sent and is unusable", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security((), ("Token" = [])))]
pub(crate) async fn get_article(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.get(&slug, caller.id()).await?;
    Ok(HttpResponse::Ok().json(SingleArticleResponse::from(article)))
}

/// Change an article; only its author may. A new title moves it to a new slug.
#[utoipa::path(put, path = "/articles/{slug}", tag = TAG, operation_id = "UpdateArticle",
    params(("slug" = String, Path, description = "Slug of the article")),
    request_body = UpdateArticleRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 200, description = "The updated article", body = SingleArticleResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 403, description = "Not the author", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Invalid input, or the new slug is taken", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
    body: Validated<UpdateArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    let article = state
        .articles
        .update(caller.id, &slug, body.into_inner().article.into())
        .await?;
    Ok(HttpResponse::Ok().json(SingleArticleResponse::from(article)))
}

/// Delete an article with its comments and favourites; only its author may.
#[utoipa::path(delete, path = "/articles/{slug}", tag = TAG, operation_id = "DeleteArticle",
    params(("slug" = String, Path, description = "Slug of the article")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 403, description = "Not the author", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.articles.delete(caller.id, &slug).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Favourite an article; idempotent.
#[utoipa::path(post, path = "/articles/{slug}/favorite", tag = "Favorites", operation_id = "CreateArticleFavorite",
    params(("slug" = String, Path, description = "Slug of the article")),
    responses(
        (status = 200, description = "The article, favourited", body = SingleArticleResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn favorite(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.favorite(caller.id, &slug).await?;
    Ok(HttpResponse::Ok().json(SingleArticleResponse::from(article)))
}

/// Take a favourite back; idempotent.
#[utoipa::path(delete, path = "/articles/{slug}/favorite", tag = "Favorites", operation_id = "DeleteArticleFavorite",
    params(("slug" = String, Path, description = "Slug of the article")),
    responses(
        (status = 200, description = "The article, not favourited", body = SingleArticleResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn unfavorite(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.unfavorite(caller.id, &slug).await?;
    Ok(HttpResponse::Ok().json(SingleArticleResponse::from(article)))
}
