//! `GET /profiles/{username}`, `POST` and `DELETE /profiles/{username}/follow`.

use actix_web::{HttpResponse, web};

use crate::auth::{CurrentUser, MaybeUser};
use crate::content_dto::ProfileEnvelope;
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/profiles/{username}", web::get().to(get_profile))
        .route("/profiles/{username}/follow", web::post().to(follow))
        .route("/profiles/{username}/follow", web::delete().to(unfollow));
}

fn profile_response(profile: conduit_domain::article::Profile) -> HttpResponse {
    HttpResponse::Ok().json(ProfileEnvelope {
        profile: profile.into(),
    })
}

async fn get_profile(
    state: web::Data<AppState>,
    caller: MaybeUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.get(&username, caller.id()).await?;
    Ok(profile_response(profile))
}

async fn follow(
    state: web::Data<AppState>,
    caller: CurrentUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.follow(caller.id, &username).await?;
    Ok(profile_response(profile))
}

async fn unfollow(
    state: web::Data<AppState>,
    caller: CurrentUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.unfollow(caller.id, &username).await?;
    Ok(profile_response(profile))
}
