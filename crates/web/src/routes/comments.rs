//! Comments: `GET` and `POST /articles/{slug}/comments`, `DELETE /articles/{slug}/comments/{id}`.

use actix_web::{HttpResponse, web};
use conduit_domain::article::CommentId;

use crate::auth::{CurrentUser, MaybeUser};
use crate::content_dto::{CommentEnvelope, CommentRequest, CommentsEnvelope};
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/articles/{slug}/comments", web::get().to(list))
        .route("/articles/{slug}/comments", web::post().to(create))
        .route("/articles/{slug}/comments/{id}", web::delete().to(delete));
}

async fn list(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comments = state.articles.comments(&slug, caller.id()).await?;
    Ok(HttpResponse::Ok().json(CommentsEnvelope {
        comments: comments.into_iter().map(Into::into).collect(),
    }))
}

async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
    body: web::Json<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let comment = state
        .articles
        .add_comment(caller.id, &slug, &body.comment.body)
        .await?;
    Ok(HttpResponse::Created().json(CommentEnvelope {
        comment: comment.into(),
    }))
}

async fn delete(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    // An id that is not a number names no comment.
    let id = id
        .parse()
        .map(CommentId)
        .map_err(|_| ApiError::NotFound("comment"))?;
    state.articles.delete_comment(caller.id, &slug, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
