//! Users and authentication: `POST /users`, `POST /users/login`, `GET /user`, `PUT /user`.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use conduit_domain::users::Authenticated;

use crate::auth::CurrentUser;
use crate::dto::{LoginBody, NewUserBody, UpdateUserBody, UserBody, UserEnvelope};
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/users", web::post().to(register))
        .route("/users/login", web::post().to(login))
        .route("/user", web::get().to(current_user))
        .route("/user", web::put().to(update_user));
}

/// Every users response carries a token and personal data: never cached anywhere.
fn user_response(
    mut response: actix_web::HttpResponseBuilder,
    user: Authenticated,
) -> HttpResponse {
    response
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(UserEnvelope {
            user: UserBody::from(user),
        })
}

async fn register(
    state: web::Data<AppState>,
    body: web::Json<UserEnvelope<NewUserBody>>,
) -> Result<HttpResponse, ApiError> {
    let registered = state.users.register(body.into_inner().user.into()).await?;
    Ok(user_response(HttpResponse::Created(), registered))
}

async fn login(
    state: web::Data<AppState>,
    body: web::Json<UserEnvelope<LoginBody>>,
) -> Result<HttpResponse, ApiError> {
    let authenticated = state.users.login(body.into_inner().user.into()).await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

async fn current_user(
    state: web::Data<AppState>,
    caller: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let authenticated = state.users.current(caller.id).await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

async fn update_user(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: web::Json<UserEnvelope<UpdateUserBody>>,
) -> Result<HttpResponse, ApiError> {
    let updated = state
        .users
        .update(caller.id, body.into_inner().user.into())
        .await?;
    Ok(user_response(HttpResponse::Ok(), updated))
}
