//! The OpenAPI 3.1 document of the whole API, generated from the handlers' `#[utoipa::path]`
//! annotations and the DTOs' schemas, served at `GET /api/openapi.json` and browsable at `/docs/`
//! (Swagger UI, its assets vendored into the binary: no network needed).
//!
//! The request schemas in it are also what [`crate::validated::Validated`] checks bodies against:
//! one schema per request type, in one place.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::ApiError;
use crate::content_dto::{
    ArticleBodyOut, ArticleEnvelope, ArticleItem, ArticlesEnvelope, CommentEnvelope, CommentOut,
    CommentRequest, CommentsEnvelope, NewArticleBody, NewArticleRequest, NewCommentBody,
    ProfileBody, ProfileEnvelope, TagsEnvelope, UpdateArticleBody, UpdateArticleRequest,
};
use crate::dto::{
    GenericErrorModel, LoginBody, LoginUserRequest, NewUserBody, NewUserRequest, RefreshRequest,
    UpdateUserBody, UpdateUserRequest, UserBody, UserResponse,
};
use crate::routes::{articles, comments, profiles, tags, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conduit API",
        description = "The RealWorld Conduit API, and Conduit's extensions to it: refresh tokens, \
                       logout and logout-all, login throttling (429), breached-password checks.",
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
        NewUserRequest, NewUserBody, LoginUserRequest, LoginBody, UpdateUserRequest,
        UpdateUserBody, RefreshRequest, UserResponse, UserBody, ProfileEnvelope, ProfileBody,
        NewArticleRequest, NewArticleBody, UpdateArticleRequest, UpdateArticleBody,
        ArticleEnvelope, ArticleBodyOut, ArticlesEnvelope, ArticleItem, CommentRequest,
        NewCommentBody, CommentEnvelope, CommentsEnvelope, CommentOut, TagsEnvelope,
        GenericErrorModel,
    )),
    modifiers(&TokenScheme),
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

/// The document as JSON, made once.
static DOCUMENT: LazyLock<serde_json::Value> =
    LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default());

/// A compiled validator per request schema, made once: `$ref` into the document's components,
/// which travel along so that every reference resolves.
static VALIDATORS: LazyLock<HashMap<String, jsonschema::Validator>> = LazyLock::new(|| {
    let schemas = DOCUMENT["components"]["schemas"].clone();
    let names: Vec<String> = schemas
        .as_object()
        .map(|schemas| schemas.keys().cloned().collect())
        .unwrap_or_default();
    names
        .into_iter()
        .filter_map(|name| {
            let root = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": { "schemas": schemas },
            });
            jsonschema::draft202012::new(&root)
                .ok()
                .map(|validator| (name, validator))
        })
        .collect()
});

/// The violations of `value` against the schema `name`, as envelope entries; empty when valid.
pub(crate) fn violations(
    name: &str,
    value: &serde_json::Value,
) -> Result<Vec<(String, String)>, ApiError> {
    let validator = VALIDATORS
        .get(name)
        .ok_or_else(|| ApiError::Internal(format!("no schema named {name}")))?;
    Ok(validator
        .iter_errors(value)
        .flat_map(|error| crate::validated::envelope_entry(&error))
        .collect())
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

async fn to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

#[cfg(test)]
mod tests {
    use conduit_domain::accounts::{Bio, Email, ImageUrl, Password, Username};
    use conduit_domain::articles::{ArticleBody, CommentBody, Description, Title};

    use proptest::prelude::*;

    use super::*;

    /// Any JSON at all: scalars, and arrays and objects of them, nested.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "\\PC{0,40}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("user".to_owned()),
                        Just("article".to_owned()),
                        Just("email".to_owned()),
                        Just("title".to_owned()),
                        Just("tagList".to_owned()),
                        "[a-z/~]{1,8}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever a client sends, validation answers (never panics), and every violation has
        /// a field and a message.
        #[test]
        fn no_body_panics_the_validator(body in any_json()) {
            for name in ["NewUserRequest", "LoginUserRequest", "UpdateUserRequest", "RefreshRequest",
                         "NewArticleRequest", "UpdateArticleRequest", "NewCommentRequest"] {
                let violations = violations(name, &body).map_err(|error| TestCaseError::fail(error.to_string()))?;
                for (field, message) in violations {
                    prop_assert!(!field.is_empty() && !message.is_empty());
                }
            }
        }
    }

    #[test]
    fn every_schema_compiles_into_a_validator() {
        let schemas = DOCUMENT["components"]["schemas"]
            .as_object()
            .map_or(0, serde_json::Map::len);

        assert!(schemas > 20, "{schemas} schemas");
        assert_eq!(VALIDATORS.len(), schemas);
    }

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
