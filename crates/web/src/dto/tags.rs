//! The body of the tags route (`routes/tags.rs`).

use conduit_domain::articles;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TagsResponse {
    tags: Vec<String>,
}

impl From<Vec<articles::Tag>> for TagsResponse {
    fn from(tags: Vec<articles::Tag>) -> Self {
        Self {
            tags: tags.iter().map(|tag| tag.as_str().to_owned()).collect(),
        }
    }
}
