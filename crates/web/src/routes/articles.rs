//! Articles: list, feed, create, read, update, delete, favourite.

use actix_web::{HttpResponse, web};

use crate::auth::{CurrentUser, MaybeUser};
use crate::content_dto::{
    ArticleEnvelope, ArticleRequest, ArticlesEnvelope, ListParams, NewArticleBody,
    UpdateArticleBody,
};
use crate::{ApiError, AppState};

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

async fn list(
    state: web::Data<AppState>,
    caller: MaybeUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .articles
        .list(params.into_inner().into(), caller.id())
        .await?;
    Ok(HttpResponse::Ok().json(ArticlesEnvelope::from(page)))
}

async fn feed(
    state: web::Data<AppState>,
    caller: CurrentUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .articles
        .feed(caller.id, params.limit.as_deref(), params.offset.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(ArticlesEnvelope::from(page)))
}

async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: web::Json<ArticleRequest<NewArticleBody>>,
) -> Result<HttpResponse, ApiError> {
    let article = state
        .articles
        .create(caller.id, body.into_inner().article.into())
        .await?;
    Ok(HttpResponse::Created().json(ArticleEnvelope::from(article)))
}

async fn get_article(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.get(&slug, caller.id()).await?;
    Ok(HttpResponse::Ok().json(ArticleEnvelope::from(article)))
}

async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
    body: web::Json<ArticleRequest<UpdateArticleBody>>,
) -> Result<HttpResponse, ApiError> {
    let article = state
        .articles
        .update(caller.id, &slug, body.into_inner().article.into())
        .await?;
    Ok(HttpResponse::Ok().json(ArticleEnvelope::from(article)))
}

async fn delete(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.articles.delete(caller.id, &slug).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn favorite(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.favorite(caller.id, &slug).await?;
    Ok(HttpResponse::Ok().json(ArticleEnvelope::from(article)))
}

async fn unfavorite(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let article = state.articles.unfavorite(caller.id, &slug).await?;
    Ok(HttpResponse::Ok().json(ArticleEnvelope::from(article)))
}
