//! Bodies of the comments routes (`routes/comments.rs`), as the contract spells them.

use conduit_domain::articles;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::profiles::Profile;

/// The contract's `Comment`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    id: i64,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    body: String,
    author: Profile,
}

impl From<articles::Comment> for Comment {
    fn from(comment: articles::Comment) -> Self {
        Self {
            id: comment.id.0,
            created_at: comment.created_at.to_string(),
            updated_at: comment.updated_at.to_string(),
            body: comment.body.to_string(),
            author: comment.author.profile.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SingleCommentResponse {
    pub(crate) comment: Comment,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MultipleCommentsResponse {
    pub(crate) comments: Vec<Comment>,
}

/// `{"comment": {...}}`. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCommentRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) comment: NewComment,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewComment {
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub(crate) body: String,
}
