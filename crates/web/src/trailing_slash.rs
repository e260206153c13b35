//! One trailing slash is ignored: `POST /api/articles/` is `POST /api/articles`, for every route
//! and method, without a redirect (a redirected `POST` loses its body in some clients, and a
//! browser pays a CORS round trip for it).
//!
//! actix-web's `NormalizePath` with `TrailingSlash::Trim` was the alternative, rejected because
//! it also merges repeated slashes: `/api/profiles//follow` (an empty username, a 404) would
//! become `/api/profiles/follow`, the profile of a user named `follow`.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

/// Middleware: routes the request as if its path had no trailing slash. The request's span and
/// log lines, set up outside it, keep the path as it was sent.
pub(crate) async fn trim_trailing_slash(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(uri) = without_trailing_slash(request.uri()) {
        request.match_info_mut().get_mut().update(&uri);
        request.head_mut().uri = uri;
    }
    next.call(request).await
}

/// The path a request is routed by: `path` without the one slash that ends it, if any (`/` alone
/// stays).
pub(crate) fn routed_path(path: &str) -> &str {
    path.strip_suffix('/')
        .filter(|path| !path.is_empty())
        .unwrap_or(path)
}

/// `uri` without the one slash that ends its path, query kept; `None` when its path does not end
/// in a slash, or is `/` alone.
fn without_trailing_slash(uri: &Uri) -> Option<Uri> {
    let path = routed_path(uri.path());
    if path == uri.path() {
        return None;
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests;
