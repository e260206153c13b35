//! [`Validated`]: a JSON body checked against its JSON Schema (draft 2020-12) before it is
//! deserialised and handed to a handler.
//!
//! Violations answer 422 in the contract's envelope, keyed by the contract's plain field name
//! (`{"errors":{"title":["can't be blank"]}}`, not `article.title`): the last field of the path to
//! the offending value, or the missing or unexpected property itself. Messages never repeat the
//! value that was sent.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::ApiError;

/// A request body that has passed its schema: `Validated<NewUserRequest>`.
#[derive(Debug)]
pub(crate) struct Validated<T>(pub(crate) T);

impl<T> Validated<T> {
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Validated<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size, content type and syntax are checked (and answered) by the JSON extractor.
        let json = web::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            let violations = crate::openapi::violations(&T::name(), &value)?;
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
pub(crate) fn envelope_entry(error: &jsonschema::ValidationError<'_>) -> Vec<(String, String)> {
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
            let names: Vec<String> = set
                .iter()
                .filter(|name| name.to_string() != "null")
                .map(|name| article(name.to_string()))
                .collect();
            let mut text = names.join(" or ");
            if set.iter().any(|name| name.to_string() == "null") {
                text.push_str(" or null");
            }
            text
        }
    }
}

/// JSON Pointer escapes (`~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
