//! [`Validated`]: a JSON body checked against its JSON Schema (draft 2020-12) before it is
//! deserialised and handed to a handler.
//!
//! Each validator is compiled, once, from the request type's own schema (`ToSchema`, with the
//! schemas it references): only the types listed in [`request_bodies!`] can be validated, so a
//! body without a validator fails to compile, and a test compiles every listed one.
//!
//! Violations answer 422 in the contract's envelope, keyed by the contract's plain field name
//! (`{"errors":{"title":["can't be blank"]}}`, not `article.title`): the last field of the path to
//! the offending value, or the missing or unexpected property itself. Messages never repeat the
//! value that was sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::ApiError;
use crate::dto::articles::{NewArticleRequest, UpdateArticleRequest};
use crate::dto::comments::NewCommentRequest;
use crate::dto::users::{LoginUserRequest, NewUserRequest, RefreshRequest, UpdateUserRequest};

/// A request body with a JSON Schema validator of its own: the only types [`Validated`] takes.
pub(crate) trait RequestBody: DeserializeOwned + ToSchema + 'static {
    /// This type's schema, compiled on first use; an error names what would not compile.
    fn validator() -> Result<&'static jsonschema::Validator, &'static str>;
}

/// Makes each listed type a [`RequestBody`], with a validator of its own made once, and lists
/// them all in [`all_validators`] for the test that compiles every one.
macro_rules! request_bodies {
    ($($body:ty),* $(,)?) => {
        $(
            impl RequestBody for $body {
                fn validator() -> Result<&'static jsonschema::Validator, &'static str> {
                    static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> =
                        LazyLock::new(compile::<$body>);
                    VALIDATOR.as_ref().map_err(String::as_str)
                }
            }
        )*

        /// Every request body's schema name and validator (or why it would not compile).
        #[cfg(test)]
        pub(crate) fn all_validators(
        ) -> Vec<(String, Result<&'static jsonschema::Validator, &'static str>)> {
            vec![$((<$body as ToSchema>::name().into_owned(), <$body>::validator())),*]
        }
    };
}

request_bodies!(
    NewUserRequest,
    LoginUserRequest,
    UpdateUserRequest,
    RefreshRequest,
    NewArticleRequest,
    UpdateArticleRequest,
    NewCommentRequest,
);

/// Compiles `T`'s schema, with the schemas it references under `components/schemas`, where its
/// `$ref`s point (as in the OpenAPI document).
fn compile<T: ToSchema>() -> Result<jsonschema::Validator, String> {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    let schemas: serde_json::Map<String, serde_json::Value> = referenced
        .into_iter()
        .map(|(name, schema)| Ok((name, serde_json::to_value(schema)?)))
        .collect::<Result<_, serde_json::Error>>()
        .map_err(|error| error.to_string())?;
    let mut root = serde_json::to_value(T::schema()).map_err(|error| error.to_string())?;
    let object = root
        .as_object_mut()
        .ok_or_else(|| format!("the schema of {} is not an object", T::name()))?;
    object.insert(
        "$schema".to_owned(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    object.insert(
        "components".to_owned(),
        serde_json::json!({ "schemas": schemas }),
    );
    jsonschema::draft202012::new(&root).map_err(|error| format!("{}: {error}", T::name()))
}

/// At most this many violations are listed. A body can break a rule once for each key it
/// holds: 29,000 unknown keys in 256 KiB were answered with 750 KB, logged in one line of
/// 800 KB, and took 1.7 s of a worker to list (each entry was compared with every one before
/// it). Now what a body costs to answer does not grow with what it holds.
pub(crate) const MAX_VIOLATIONS: usize = 16;

/// The violations of `value` against `T`'s schema, as envelope entries, the first
/// [`MAX_VIOLATIONS`] of them; empty when valid.
pub(crate) fn violations<T: RequestBody>(
    value: &serde_json::Value,
) -> Result<Vec<(String, String)>, ApiError> {
    let validator = T::validator().map_err(|error| ApiError::Internal(error.to_owned()))?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for entry in validator
        .iter_errors(value)
        .flat_map(|error| envelope_entry(&error))
    {
        // A blank value breaks both `minLength` and `pattern`: say so once.
        if !entries.contains(&entry) {
            entries.push(entry);
            if entries.len() == MAX_VIOLATIONS {
                break;
            }
        }
    }
    Ok(entries)
}

/// A request body that has passed its schema: `Validated<NewUserRequest>`.
#[derive(Debug)]
pub(crate) struct Validated<T>(pub(crate) T);

impl<T> Validated<T> {
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

impl<T: RequestBody> FromRequest for Validated<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size, content type and syntax are checked (and answered) by the JSON extractor.
        let json = web::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            let violations = violations::<T>(&value)?;
            if !violations.is_empty() {
                return Err(ApiError::Unprocessable(violations).into());
            }
            serde_json::from_value(value).map(Validated).map_err(|_| {
                ApiError::Unprocessable(vec![(
                    "body".to_owned(),
                    "does not have the expected shape".to_owned(),
                )])
                .into()
            })
        })
    }
}

/// One schema violation as an envelope entry: (field, message).
fn envelope_entry(error: &jsonschema::ValidationError<'_>) -> Vec<(String, String)> {
    let last_field = || {
        error
            .instance_path()
            .as_str()
            .split('/')
            .rev()
            .find(|segment| !segment.is_empty() && segment.parse::<usize>().is_err())
            .map_or_else(|| "body".to_owned(), unescape)
    };
    match error.kind() {
        ValidationErrorKind::Required { property } => vec![(
            property.as_str().map_or_else(last_field, str::to_owned),
            "can't be blank".to_owned(),
        )],
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .take(MAX_VIOLATIONS)
            .map(|name| (name.clone(), "is not allowed".to_owned()))
            .collect(),
        ValidationErrorKind::MinLength { limit: 1 } => {
            vec![(last_field(), "can't be blank".to_owned())]
        }
        ValidationErrorKind::MinLength { limit } => vec![(
            last_field(),
            format!("is too short (minimum is {limit} characters)"),
        )],
        ValidationErrorKind::MaxLength { limit } => vec![(
            last_field(),
            format!("is too long (maximum is {limit} characters)"),
        )],
        ValidationErrorKind::MaxItems { limit } => {
            vec![(last_field(), format!("may hold at most {limit} items"))]
        }
        // The patterns are the domain's rules; a blank value breaks them as "blank" does.
        ValidationErrorKind::Pattern { .. }
            if error
                .instance()
                .as_str()
                .is_some_and(|text| text.trim().is_empty()) =>
        {
            vec![(last_field(), "can't be blank".to_owned())]
        }
        ValidationErrorKind::Type { kind } => {
            vec![(last_field(), format!("must be {}", type_name(kind)))]
        }
        _ => vec![(last_field(), "is invalid".to_owned())],
    }
}

fn type_name(kind: &TypeKind) -> String {
    let article = |name: String| {
        let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
        format!("{} {name}", if vowel { "an" } else { "a" })
    };
    match kind {
        TypeKind::Single(single) => article(single.to_string()),
        TypeKind::Multiple(set) => {
            // "a string or null": each type with its article, and `null` last, bare.
            let (nulls, others): (Vec<String>, Vec<String>) = set
                .iter()
                .map(|name| name.to_string())
                .partition(|name| name == "null");
            let mut names: Vec<String> = others.into_iter().map(article).collect();
            names.extend(nulls);
            names.join(" or ")
        }
    }
}

/// JSON Pointer escapes (`~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests;
