//! Users and authentication: `POST /users`, `POST /users/login`, `GET /user`, `PUT /user`, and
//! the session extensions `POST /users/refresh`, `POST /users/logout`, `POST /users/logout-all`.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use conduit_domain::users::Authenticated;

use crate::auth::CurrentUser;
use crate::dto::{LoginBody, NewUserBody, RefreshBody, UpdateUserBody, UserBody, UserEnvelope};
use crate::{ApiError, AppState};

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/users", web::post().to(register))
        .route("/users/login", web::post().to(login))
        .route("/users/refresh", web::post().to(refresh))
        .route("/users/logout", web::post().to(logout))
        .route("/users/logout-all", web::post().to(logout_all))
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

/// The client's address, for login throttling: the connection's peer. Behind a reverse proxy
/// that is the proxy, so the per-address limit then applies to all its clients together.
fn client_address(request: &HttpRequest) -> Option<String> {
    request.peer_addr().map(|address| address.ip().to_string())
}

async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<UserEnvelope<LoginBody>>,
) -> Result<HttpResponse, ApiError> {
    let client = client_address(&request);
    let authenticated = state
        .users
        .login(body.into_inner().user.into(), client.as_deref())
        .await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let refreshed = state.users.refresh(&body.refresh_token).await?;
    Ok(user_response(HttpResponse::Ok(), refreshed))
}

async fn logout(state: web::Data<AppState>, caller: CurrentUser) -> Result<HttpResponse, ApiError> {
    state.users.logout(caller.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout_all(
    state: web::Data<AppState>,
    caller: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    state.users.logout_everywhere(caller.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn current_user(
    state: web::Data<AppState>,
    caller: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let authenticated = state.users.current(caller.caller).await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

async fn update_user(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: web::Json<UserEnvelope<UpdateUserBody>>,
) -> Result<HttpResponse, ApiError> {
    let updated = state
        .users
        .update(caller.caller, body.into_inner().user.into())
        .await?;
    Ok(user_response(HttpResponse::Ok(), updated))
}
