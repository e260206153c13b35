//! Articles and comments: their entities, their value types, and the paging and filtering rules
//! of article lists.
//!
//! Value types follow the pattern of [`crate::accounts`]: a private field, one `parse`
//! constructor, read access through `as_str`.

use std::fmt;

use crate::Timestamp;

use crate::accounts::{UserId, Username};
use crate::profiles::Author;
use crate::validation::{InvalidValue, ValidationErrors, checked_text};

/// The store's identifier of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArticleId(pub i64);

/// The store's identifier of a comment; clients see it as the comment's `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommentId(pub i64);

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, max = $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Any text without NUL characters that is not blank and not longer than
            /// [`Self::MAX_CHARS`] characters; kept exactly as written.
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                checked_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// An article's title; its slug is made from it.
    Title,
    max = 200
);
text_type!(
    /// An article's one-paragraph summary.
    Description,
    max = 1_000
);
text_type!(
    /// An article's body, in Markdown.
    ArticleBody,
    max = 50_000
);
text_type!(
    /// A comment's text.
    CommentBody,
    max = 5_000
);

/// A tag, matched exactly (case and all) by the `tag` filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 40;
    /// The most tags one article may carry.
    pub const MAX_PER_ARTICLE: usize = 10;

    /// Surrounding whitespace is trimmed; what is left must be 1 to 40 characters with no control
    /// characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let tag = checked_text(raw.trim(), Self::MAX_CHARS)?;
        if tag.chars().any(char::is_control) {
            return Err(InvalidValue::Malformed);
        }
        Ok(Self(tag.to_owned()))
    }

    /// An article's tag list: each tag parsed, duplicates dropped (the first one stays, so the
    /// author's order is kept), at most [`Self::MAX_PER_ARTICLE`].
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>, InvalidValue> {
        let mut tags: Vec<Self> = Vec::with_capacity(raw.len());
        for tag in raw {
            let tag = Self::parse(tag)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX_PER_ARTICLE {
            return Err(InvalidValue::Rule("may hold at most 10 tags"));
        }
        // Alphabetical, as the RealWorld reference implementation answers and its conformance
        // collection checks: `["training", "dragons"]` is listed `["dragons", "training"]`.
        tags.sort();
        Ok(tags)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An article's address: lower-case ASCII letters and digits in words joined by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 120;
    /// The slug of a title that has no letters or digits in any script (only emoji, say).
    pub const FALLBACK: &'static str = "article";

    /// The slug of a title. Letters of every script are transliterated to ASCII (`Déjà vu` gives
    /// `deja-vu`); composed and decomposed forms of the same text give the same slug; the result
    /// is never empty and at most [`Self::MAX_CHARS`] long, cut at a word boundary when it can be.
    pub fn from_title(title: &Title) -> Self {
        let mut slug = slug::slugify(title.as_str());
        if slug.len() > Self::MAX_CHARS {
            // slugify never starts a slug with a hyphen: a hyphen found is past the start.
            let cut = slug[..=Self::MAX_CHARS]
                .rfind('-')
                .unwrap_or(Self::MAX_CHARS);
            slug.truncate(cut);
            while slug.ends_with('-') {
                slug.pop();
            }
        }
        if slug.is_empty() {
            slug = Self::FALLBACK.to_owned();
        }
        Self(slug)
    }

    /// A slug as it appears in a URL. Anything that [`Slug::from_title`] could not have made is
    /// refused, so that it can be answered with a 404 without asking the store.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An article as lists show it: everything but the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSummary {
    pub id: ArticleId,
    pub slug: Slug,
    pub title: Title,
    pub description: Description,
    /// In the order the author gave them.
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub author: Author,
    /// Whether the caller has favourited it; always `false` for an anonymous caller.
    pub favorited: bool,
    pub favorites_count: u64,
}

/// A whole article, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub summary: ArticleSummary,
    pub body: ArticleBody,
}

/// What the store needs to create an article; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    pub author: UserId,
    pub slug: Slug,
    pub title: Title,
    pub description: Description,
    pub body: ArticleBody,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
}

/// A partial update of an article: `None` leaves a field as it is. A new title comes with its slug.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleChanges {
    pub title: Option<(Title, Slug)>,
    pub description: Option<Description>,
    pub body: Option<ArticleBody>,
}

impl ArticleChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A comment, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub article: ArticleId,
    pub body: CommentBody,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub author: Author,
}

/// What the store needs to create a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub article: ArticleId,
    pub author: UserId,
    pub body: CommentBody,
    pub created_at: Timestamp,
}

/// One page of a list: `limit` items after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u32,
    offset: u64,
}

impl Page {
    pub const DEFAULT_LIMIT: u32 = 20;
    /// Larger limits are clamped to this, so one request cannot ask for the whole table.
    pub const MAX_LIMIT: u32 = 100;
    /// Limits beyond this are refused rather than clamped: the API document declares `limit` a
    /// 32-bit integer.
    pub const MAX_REQUESTED_LIMIT: u64 = i32::MAX as u64;
    /// Offsets beyond this are refused: no store could skip that far, and a signed 64-bit SQL
    /// integer must hold it.
    pub const MAX_OFFSET: u64 = i64::MAX as u64;

    /// The page that `limit` and `offset` query parameters ask for. Absent means the default;
    /// `limit` must be a whole number of at least 1 (above [`Self::MAX_LIMIT`] it is clamped),
    /// `offset` a whole number of at least 0.
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let limit = match limit.map(str::trim).filter(|raw| !raw.is_empty()) {
            None => Some(Self::DEFAULT_LIMIT),
            Some(raw) => match whole_number(raw) {
                Some(0) | None => {
                    errors.add("limit", "must be a whole number of at least 1");
                    None
                }
                Some(n) if n > Self::MAX_REQUESTED_LIMIT => {
                    errors.add("limit", "is too large");
                    None
                }
                Some(n) => Some(
                    u32::try_from(n.min(u64::from(Self::MAX_LIMIT))).unwrap_or(Self::MAX_LIMIT),
                ),
            },
        };
        let offset = match offset.map(str::trim).filter(|raw| !raw.is_empty()) {
            None => Some(0),
            Some(raw) => match whole_number(raw) {
                Some(n) if n <= Self::MAX_OFFSET => Some(n),
                Some(_) => {
                    errors.add("offset", "is too large");
                    None
                }
                None => {
                    errors.add("offset", "must be a whole number of at least 0");
                    None
                }
            },
        };
        match (limit, offset) {
            (Some(limit), Some(offset)) => Ok(Self { limit, offset }),
            _ => Err(errors),
        }
    }

    /// The first page of `limit` items (clamped to 1..=[`Self::MAX_LIMIT`]).
    pub fn first(limit: u32) -> Self {
        Self {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            offset: 0,
        }
    }

    /// This page's size, skipping `offset` items (clamped to [`Self::MAX_OFFSET`]).
    pub fn skipping(self, offset: u64) -> Self {
        Self {
            offset: offset.min(Self::MAX_OFFSET),
            ..self
        }
    }

    pub fn limit(self) -> u32 {
        self.limit
    }

    pub fn offset(self) -> u64 {
        self.offset
    }
}

/// A string of ASCII digits as a number (saturating at `u64::MAX`); `None` for anything else,
/// signs and fractions included.
fn whole_number(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(raw.parse::<u64>().unwrap_or(u64::MAX))
}

impl Default for Page {
    fn default() -> Self {
        Self::first(Self::DEFAULT_LIMIT)
    }
}

/// Which articles a list shows. Every filter is an exact match; filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    pub tag: Option<Tag>,
    /// Articles written by this user.
    pub author: Option<Username>,
    /// Articles this user has favourited.
    pub favorited_by: Option<Username>,
}

/// One page of articles and how many match in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticlePage {
    pub articles: Vec<ArticleSummary>,
    /// The number of articles that match, on every page together.
    pub total: u64,
}

#[cfg(test)]
mod tests;
