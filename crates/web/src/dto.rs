//! Request and response bodies, exactly as the contract spells them, one module per module of
//! `routes`. Domain types stay inside: everything is converted here, at the edge.
//!
//! Each type is named as its schema is in the OpenAPI document (`NewUserRequest`, `User`...), and
//! its `ToSchema` is its JSON Schema: the same schema validates requests before they reach a
//! handler (`validated.rs`) and is published in the document. Length limits repeat the domain's
//! (`Username::MAX_CHARS`...); a test in `openapi.rs` keeps them equal.

pub(crate) mod articles;
pub(crate) mod comments;
pub(crate) mod live;
pub(crate) mod profiles;
pub(crate) mod tags;
pub(crate) mod users;

use serde::Serialize;
use utoipa::ToSchema;

/// The contract's error envelope: `{"errors": {"<field>": ["<message>", ...]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GenericErrorModel {
    errors: std::collections::BTreeMap<String, Vec<String>>,
}
