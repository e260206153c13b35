//! Reading the access token from `Authorization: Token <jwt>` (the contract) or `Bearer <jwt>`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use conduit_domain::accounts::UserId;
use conduit_domain::ports::{Caller, TokenError};
use std::future::Future;
use std::pin::Pin;

use crate::{ApiError, AppState};

/// The authenticated caller. Extracting it answers 401 for a missing or unusable token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurrentUser {
    pub(crate) id: UserId,
    /// The user and the session the token was issued in.
    pub(crate) caller: Caller,
}

/// The token in the `Authorization` header: `Ok(None)` when there is no header.
pub(crate) fn bearer_token(request: &HttpRequest) -> Result<Option<String>, TokenError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| TokenError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(TokenError::Malformed)?;
    let token = token.trim();
    let known_scheme =
        scheme.eq_ignore_ascii_case("Token") || scheme.eq_ignore_ascii_case("Bearer");
    if !known_scheme || token.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok(Some(token.to_owned()))
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer_token(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            let token = token.map_err(ApiError::Unauthorized)?;
            let caller = state.sessions.authenticate(token.as_deref()).await?;
            Ok(Self {
                id: caller.user,
                caller,
            })
        })
    }
}

/// The caller that a genuine, unexpired token names, before anyone has asked whether its
/// session is live: 401 for a missing or unusable token, like [`CurrentUser`]. Only for a handler
/// whose write checks the session in its own statement (`POST /api/articles`), which spares the
/// request a round trip to the database; everything else takes [`CurrentUser`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdentifiedCaller(pub(crate) Caller);

impl FromRequest for IdentifiedCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(identify(request).map(Self))
    }
}

fn identify(request: &HttpRequest) -> Result<Caller, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))?;
    let token = bearer_token(request).map_err(ApiError::Unauthorized)?;
    Ok(state.sessions.identify(token.as_deref())?)
}

/// The caller when a token is optional: anonymous without an `Authorization` header, but a header
/// that is there must hold a valid token (401 otherwise), so a client never silently loses its
/// identity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaybeUser(Option<UserId>);

impl MaybeUser {
    pub(crate) fn id(self) -> Option<UserId> {
        self.0
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if request.headers().get(header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(Self(None)) });
        }
        let current = CurrentUser::from_request(request, payload);
        Box::pin(async move { Ok(Self(Some(current.await?.id))) })
    }
}
