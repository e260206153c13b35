//! What a store answers when it cannot do what was asked.

/// A field whose value must be unique across users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueField {
    Username,
    Email,
    /// An article's slug.
    Slug,
}

impl UniqueField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Slug => "slug",
        }
    }
}

/// Why a store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; nothing was written.
    #[error("{} is already taken", .field.as_str())]
    Conflict { field: UniqueField },
    /// What the write refers to is gone (an article deleted while a favourite or a comment of it
    /// was being written); nothing was written. Names the kind of resource, as
    /// [`ResourceError::NotFound`](crate::errors::ResourceError::NotFound) does.
    #[error("{0} is gone")]
    Gone(&'static str),
    /// The store failed; the context is for logs, never for clients.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store could not be reached or did not answer in time (down, restarting, out of
    /// connections, a statement over its timeout): the same request may succeed shortly. The
    /// context is for logs.
    #[error("store unreachable: {0}")]
    Unreachable(String),
}
