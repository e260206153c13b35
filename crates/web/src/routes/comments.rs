//! Comments: `GET` and `POST /articles/{slug}/comments`, `DELETE /articles/{slug}/comments/{id}`.

use actix_web::{HttpResponse, web};
use conduit_domain::articles::CommentId;

use crate::auth::{CurrentUser, MaybeUser};
use crate::dto::GenericErrorModel;
use crate::dto::comments::{MultipleCommentsResponse, NewCommentRequest, SingleCommentResponse};
use crate::validated::Validated;
use crate::{ApiError, AppState};

const TAG: &str = "Comments";

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/articles/{slug}/comments", web::get().to(list))
        .route("/articles/{slug}/comments", web::post().to(create))
        .route("/articles/{slug}/comments/{id}", web::delete().to(delete));
}

/// An article's comments, oldest first.
#[utoipa::path(get, path = "/articles/{slug}/comments", tag = TAG, operation_id = "GetArticleComments",
    params(("slug" = String, Path, description = "Slug of the article")),
    responses(
        (status = 200, description = "The comments", body = MultipleCommentsResponse),
        (status = 401, description = "A token was sent and is unusable", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security((), ("Token" = [])))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comments = state.articles.comments(&slug, caller.id()).await?;
    Ok(HttpResponse::Ok().json(MultipleCommentsResponse {
        comments: comments.into_iter().map(Into::into).collect(),
    }))
}

/// Comment on an article.
#[utoipa::path(post, path = "/articles/{slug}/comments", tag = TAG, operation_id = "CreateArticleComment",
    params(("slug" = String, Path, description = "Slug of the article")),
    request_body = NewCommentRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 201, description = "The new comment", body = SingleCommentResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 404, description = "No such article", body = GenericErrorModel),
        (status = 422, description = "Invalid input", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    slug: web::Path<String>,
    body: Validated<NewCommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let comment = state
        .articles
        .add_comment(caller.id, &slug, &body.into_inner().comment.body)
        .await?;
    Ok(HttpResponse::Created().json(SingleCommentResponse {
        comment: comment.into(),
    }))
}

/// Delete a comment; only its author may.
#[utoipa::path(delete, path = "/articles/{slug}/comments/{id}", tag = TAG, operation_id = "DeleteArticleComment",
    params(
        ("slug" = String, Path, description = "Slug of the article"),
        ("id" = i64, Path, description = "Id of the comment"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 403, description = "Not the comment's author", body = GenericErrorModel),
        (status = 404, description = "No such article, or no such comment on it", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn delete(
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
