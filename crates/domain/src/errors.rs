//! [`ResourceError`]: why a profiles, articles or comments use case refused.

use crate::ports::{StoreError, UniqueField};
use crate::validation::ValidationErrors;

/// Why a use case about profiles, articles or comments refused. The `&'static str`s name the kind
/// of resource (`"profile"`, `"article"`, `"comment"`), the key of the contract's error envelope.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The input broke a rule; the errors name the fields.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may not do this to someone else's resource.
    #[error("{0} forbidden")]
    Forbidden(&'static str),
    /// The caller's session ended (logout, revocation, expiry) before a write that checks it in
    /// the same statement: refused as an unusable token is, and nothing is written.
    #[error("session ended")]
    SessionEnded,
    /// A new article's slug is in use.
    #[error("{} has already been taken", .0.as_str())]
    Taken(UniqueField),
    /// A store failed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A store could not be reached in time; the same request may succeed shortly.
    #[error("unreachable: {0}")]
    Unreachable(String),
}

impl From<StoreError> for ResourceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field } => Self::Taken(field),
            StoreError::Gone(kind) => Self::NotFound(kind),
            StoreError::Unavailable(context) => Self::Unavailable(context),
            StoreError::Unreachable(context) => Self::Unreachable(context),
        }
    }
}

impl ResourceError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors::single(field, message))
    }
}
