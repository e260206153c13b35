//! The OpenAPI 3.1 document of the whole API, generated from the handlers' `#[utoipa::path]`
//! annotations and the DTOs' schemas, served at `GET /api/openapi.json` and browsable at `/docs`
//! (Swagger UI, its assets vendored into the binary: no network needed).
//!
//! Its request schemas are the ones [`crate::validated::Validated`] checks bodies against: both
//! come from the request types' own `ToSchema`.

use std::sync::LazyLock;

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::dto::GenericErrorModel;
use crate::dto::articles::{
    Article, ArticleListItem, MultipleArticlesResponse, NewArticle, NewArticleRequest,
    SingleArticleResponse, UpdateArticle, UpdateArticleRequest,
};
use crate::dto::comments::{
    Comment, MultipleCommentsResponse, NewComment, NewCommentRequest, SingleCommentResponse,
};
use crate::dto::profiles::{Profile, ProfileResponse};
use crate::dto::tags::TagsResponse;
use crate::dto::users::{
    LoginUser, LoginUserRequest, NewUser, NewUserRequest, RefreshRequest, UpdateUser,
    UpdateUserRequest, User, UserResponse,
};
use crate::routes::{articles, comments, profiles, tags, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conduit API",
        description = "The RealWorld Conduit API, and Conduit's extensions to it: refresh tokens, \
                       logout and logout-all, login throttling (429), breached-password checks, \
                       and live updates over a WebSocket (below).",
        version = env!("CARGO_PKG_VERSION"),
    ),
    servers((url = "/api")),
    paths(
        users::login,
        users::register,
        users::current_user,
        users::update_user,
        users::refresh,
        users::logout,
        users::logout_all,
        profiles::get_profile,
        profiles::follow,
        profiles::unfollow,
        articles::feed,
        articles::list,
        articles::create,
        articles::get_article,
        articles::update,
        articles::delete,
        articles::favorite,
        articles::unfavorite,
        comments::list,
        comments::create,
        comments::delete,
        tags::tags,
    ),
    components(schemas(
        NewUserRequest, NewUser, LoginUserRequest, LoginUser, UpdateUserRequest,
        UpdateUser, RefreshRequest, UserResponse, User, ProfileResponse, Profile,
        NewArticleRequest, NewArticle, UpdateArticleRequest, UpdateArticle,
        SingleArticleResponse, Article, MultipleArticlesResponse, ArticleListItem, NewCommentRequest,
        NewComment, SingleCommentResponse, MultipleCommentsResponse, Comment, TagsResponse,
        GenericErrorModel,
    )),
    modifiers(&TokenScheme, &LiveProtocol),
    tags(
        (name = "User and Authentication"),
        (name = "Profile"),
        (name = "Articles"),
        (name = "Comments"),
        (name = "Favorites"),
        (name = "Tags"),
    ),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The contract's `Token` security scheme: `Authorization: Token <jwt>` (`Bearer` works too).
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "Token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <jwt>` or `Bearer <jwt>`, the access token of a login or registration",
            ))),
        );
    }
}

/// The live-updates protocol (`GET /api/live`), which OpenAPI cannot describe as an operation:
/// in the document's description, as in docs/live.md.
pub(crate) const LIVE_PROTOCOL: &str = include_str!("live/protocol.md");

struct LiveProtocol;

impl Modify for LiveProtocol {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let description = openapi.info.description.get_or_insert_with(String::new);
        description.push_str("\n\n");
        description.push_str(LIVE_PROTOCOL);
    }
}

/// The document as JSON, made once.
static DOCUMENT: LazyLock<serde_json::Value> =
    LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default());

/// The paths served outside the document's `/api` operations, all `GET` only.
const OTHER_GET_PATHS: [&str; 5] = [
    "/api/live",
    "/api/openapi.json",
    "/docs",
    "/health/live",
    "/health/ready",
];

/// The methods the API serves on `path` (a request path, `/api/...`), as the document lists them,
/// in the document's order; empty for a path it does not serve.
pub(crate) fn allowed_methods(path: &str) -> Vec<&'static str> {
    if OTHER_GET_PATHS.contains(&path) {
        return vec!["GET"];
    }
    let Some(path) = path.strip_prefix("/api") else {
        return Vec::new();
    };
    let Some(paths) = DOCUMENT["paths"].as_object() else {
        return Vec::new();
    };
    let matches = |template: &str| {
        let (mut wanted, mut given) = (template.split('/'), path.split('/'));
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (Some(wanted), Some(given))
                    if wanted == given || (wanted.starts_with('{') && !given.is_empty()) => {}
                _ => return false,
            }
        }
    };
    // A literal path (`/articles/feed`) is not also the template that would match it
    // (`/articles/{slug}`): the router tries it first.
    let literal = paths.keys().any(|template| *template == path);
    let mut allowed: Vec<&'static str> = Vec::new();
    for (_, operations) in paths
        .iter()
        .filter(|(template, _)| matches(template) && (!literal || *template == path))
    {
        for (method, name) in [
            ("get", "GET"),
            ("post", "POST"),
            ("put", "PUT"),
            ("delete", "DELETE"),
        ] {
            if operations.get(method).is_some() && !allowed.contains(&name) {
                allowed.push(name);
            }
        }
    }
    allowed
}

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/api/openapi.json", web::get().to(document))
        .route("/docs", web::get().to(to_docs))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
        );
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}

/// `/docs`, and `/docs/` once its trailing slash is trimmed, lead to the page itself: its assets
/// are relative (`./swagger-ui.css`), so it must be read from a URL under `/docs/`. Redirecting
/// to `/docs/` would come back here, trimmed, for ever.
async fn to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/index.html"))
        .finish()
}

#[cfg(test)]
mod tests {
    use conduit_domain::accounts::{Bio, Email, ImageUrl, Password, Username};
    use conduit_domain::articles::{ArticleBody, CommentBody, Description, Title};

    use super::*;

    /// The schemas repeat the domain's length limits (utoipa takes literals only); they must not
    /// drift apart.
    #[test]
    fn schema_length_limits_are_the_domains() {
        let max_length = |schema: &str, property: &str| {
            DOCUMENT["components"]["schemas"][schema]["properties"][property]["maxLength"].as_u64()
        };
        let as_u64 = |limit: usize| u64::try_from(limit).ok();

        for (schema, property, limit) in [
            ("NewUser", "username", Username::MAX_CHARS),
            ("NewUser", "email", Email::MAX_CHARS),
            ("NewUser", "password", Password::MAX_CHARS),
            ("LoginUser", "email", Email::MAX_CHARS),
            ("LoginUser", "password", Password::MAX_CHARS),
            ("UpdateUser", "username", Username::MAX_CHARS),
            ("UpdateUser", "email", Email::MAX_CHARS),
            ("UpdateUser", "password", Password::MAX_CHARS),
            ("UpdateUser", "bio", Bio::MAX_CHARS),
            ("UpdateUser", "image", ImageUrl::MAX_CHARS),
            ("NewArticle", "title", Title::MAX_CHARS),
            ("NewArticle", "description", Description::MAX_CHARS),
            ("NewArticle", "body", ArticleBody::MAX_CHARS),
            ("UpdateArticle", "title", Title::MAX_CHARS),
            ("UpdateArticle", "description", Description::MAX_CHARS),
            ("UpdateArticle", "body", ArticleBody::MAX_CHARS),
            ("NewComment", "body", CommentBody::MAX_CHARS),
        ] {
            assert_eq!(
                max_length(schema, property),
                as_u64(limit),
                "{schema}.{property}"
            );
        }
    }
}
