//! `GET /profiles/{username}`, `POST` and `DELETE /profiles/{username}/follow`.

use actix_web::{HttpResponse, web};

use crate::auth::{CurrentUser, MaybeUser};
use crate::dto::GenericErrorModel;
use crate::dto::profiles::ProfileResponse;
use crate::{ApiError, AppState};

const TAG: &str = "Profile";

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/profiles/{username}", web::get().to(get_profile))
        .route("/profiles/{username}/follow", web::post().to(follow))
        .route("/profiles/{username}/follow", web::delete().to(unfollow));
}

fn profile_response(profile: conduit_domain::profiles::Profile) -> HttpResponse {
    HttpResponse::Ok().json(ProfileResponse {
        profile: profile.into(),
    })
}

/// A profile; `following` is the caller's relation to it (`false` when anonymous).
#[utoipa::path(get, path = "/profiles/{username}", tag = TAG, operation_id = "GetProfileByUsername",
    params(("username" = String, Path, description = "Username of the profile to get")),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
        (status = 401, description = "A token was sent and is unusable", body = GenericErrorModel),
        (status = 404, description = "No such user", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security((), ("Token" = [])))]
pub(crate) async fn get_profile(
    state: web::Data<AppState>,
    caller: MaybeUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.get(&username, caller.id()).await?;
    Ok(profile_response(profile))
}

/// Follow a user; idempotent.
#[utoipa::path(post, path = "/profiles/{username}/follow", tag = TAG, operation_id = "FollowUserByUsername",
    params(("username" = String, Path, description = "Username of the profile to follow")),
    responses(
        (status = 200, description = "The profile, followed", body = ProfileResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 404, description = "No such user", body = GenericErrorModel),
        (status = 422, description = "Following yourself", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn follow(
    state: web::Data<AppState>,
    caller: CurrentUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.follow(caller.id, &username).await?;
    Ok(profile_response(profile))
}

/// Stop following a user; idempotent.
#[utoipa::path(delete, path = "/profiles/{username}/follow", tag = TAG, operation_id = "UnfollowUserByUsername",
    params(("username" = String, Path, description = "Username of the profile to unfollow")),
    responses(
        (status = 200, description = "The profile, not followed", body = ProfileResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 404, description = "No such user", body = GenericErrorModel),
        (status = 422, description = "Unfollowing yourself", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn unfollow(
    state: web::Data<AppState>,
    caller: CurrentUser,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let profile = state.profiles.unfollow(caller.id, &username).await?;
    Ok(profile_response(profile))
}
