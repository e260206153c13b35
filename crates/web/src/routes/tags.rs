//! `GET /tags`.

use actix_web::{HttpResponse, web};

use crate::dto::GenericErrorModel;
use crate::dto::tags::TagsResponse;
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.route("/tags", web::get().to(tags));
}

/// The tags in use, the most used first.
#[utoipa::path(get, path = "/tags", tag = "Tags", operation_id = "GetTags",
    responses(
        (status = 200, description = "Tags", body = TagsResponse),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ))]
pub(crate) async fn tags(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tags = state.articles.tags().await?;
    Ok(HttpResponse::Ok().json(TagsResponse::from(tags)))
}
