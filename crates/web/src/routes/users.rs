//! Users and authentication: `POST /users`, `POST /users/login`, `GET /user`, `PUT /user`, and
//! the session extensions `POST /users/refresh`, `POST /users/logout`, `POST /users/logout-all`.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use conduit_domain::sessions::Authenticated;

use crate::auth::{CurrentUser, bearer_token};
use crate::dto::GenericErrorModel;
use crate::dto::users::{
    LoginUserRequest, NewUserRequest, RefreshRequest, UpdateUserRequest, User, UserResponse,
};
use crate::validated::Validated;
use crate::{ApiError, AppState, TrustedProxies};

const TAG: &str = "User and Authentication";

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
        .json(UserResponse {
            user: User::from(user),
        })
}

/// Register a new user; the answer carries an access token and a refresh token.
#[utoipa::path(post, path = "/users", tag = TAG, operation_id = "CreateUser",
    request_body = NewUserRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 201, description = "Registered and logged in", body = UserResponse),
        (status = 409, description = "Username or e-mail taken", body = GenericErrorModel),
        (status = 422, description = "Invalid input", body = GenericErrorModel),
        (status = 503, description = "The breached-password check could not answer", body = GenericErrorModel),
    ))]
pub(crate) async fn register(
    state: web::Data<AppState>,
    body: Validated<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let registered = state
        .accounts
        .register(body.into_inner().user.into())
        .await?;
    Ok(user_response(HttpResponse::Created(), registered))
}

/// Log in; the answer carries an access token and a refresh token.
#[utoipa::path(post, path = "/users/login", tag = TAG, operation_id = "Login",
    request_body = LoginUserRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 200, description = "Logged in", body = UserResponse),
        (status = 401, description = "Unknown e-mail or wrong password", body = GenericErrorModel),
        (status = 422, description = "Invalid input", body = GenericErrorModel),
        (status = 429, description = "Too many failed logins; see Retry-After", body = GenericErrorModel),
    ))]
pub(crate) async fn login(
    state: web::Data<AppState>,
    proxies: web::Data<TrustedProxies>,
    request: HttpRequest,
    body: Validated<LoginUserRequest>,
) -> Result<HttpResponse, ApiError> {
    // Throttling keys on the client's address, read through the trusted proxies.
    let client = proxies
        .client_of(&request)
        .map(|address| address.to_string());
    let authenticated = state
        .accounts
        .login(body.into_inner().user.into(), client.as_deref())
        .await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

/// Exchange a refresh token for a new access token and a new refresh token. A used refresh token
/// presented again revokes its whole session.
#[utoipa::path(post, path = "/users/refresh", tag = TAG, operation_id = "RefreshSession",
    request_body = RefreshRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 200, description = "A new token pair", body = UserResponse),
        (status = 401, description = "Unknown, used, expired or revoked refresh token", body = GenericErrorModel),
        (status = 422, description = "Invalid input", body = GenericErrorModel),
    ))]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    body: Validated<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let refreshed = state
        .sessions
        .refresh(&body.into_inner().refresh_token)
        .await?;
    Ok(user_response(HttpResponse::Ok(), refreshed))
}

/// End the caller's session: its refresh tokens stop working.
#[utoipa::path(post, path = "/users/logout", tag = TAG, operation_id = "Logout",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    caller: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    state.sessions.logout(caller.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of the caller's user.
#[utoipa::path(post, path = "/users/logout-all", tag = TAG, operation_id = "LogoutEverywhere",
    responses(
        (status = 204, description = "Logged out everywhere"),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn logout_all(
    state: web::Data<AppState>,
    caller: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    state.sessions.logout_everywhere(caller.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The current user, with a fresh access token.
#[utoipa::path(get, path = "/user", tag = TAG, operation_id = "GetCurrentUser",
    responses(
        (status = 200, description = "The current user", body = UserResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 422, description = "Unexpected error", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn current_user(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // Not the `CurrentUser` extractor: its session check and the read of the user are one
    // lookup here.
    let token = bearer_token(&request).map_err(ApiError::Unauthorized)?;
    let authenticated = state.accounts.current_user(token.as_deref()).await?;
    Ok(user_response(HttpResponse::Ok(), authenticated))
}

/// Update the current user. A new password ends every other session.
#[utoipa::path(put, path = "/user", tag = TAG, operation_id = "UpdateCurrentUser",
    request_body = UpdateUserRequest,
    responses(
        (status = 400, description = "The body is not JSON", body = GenericErrorModel),
        (status = 413, description = "The body is larger than 256 KiB", body = GenericErrorModel),
        (status = 415, description = "The body is not sent as application/json", body = GenericErrorModel),
        (status = 200, description = "The updated user", body = UserResponse),
        (status = 401, description = "Unauthorized", body = GenericErrorModel),
        (status = 422, description = "Invalid input, or a username or e-mail taken", body = GenericErrorModel),
        (status = 503, description = "The breached-password check could not answer", body = GenericErrorModel),
    ),
    security(("Token" = [])))]
pub(crate) async fn update_user(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: Validated<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let updated = state
        .accounts
        .update(caller.caller, body.into_inner().user.into())
        .await?;
    Ok(user_response(HttpResponse::Ok(), updated))
}
