//! `GET /tags`.

use actix_web::{HttpResponse, web};

use crate::content_dto::TagsEnvelope;
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.route("/tags", web::get().to(tags));
}

async fn tags(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tags = state.articles.tags().await?;
    Ok(HttpResponse::Ok().json(TagsEnvelope::from(tags)))
}
